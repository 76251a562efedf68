/**
 * QemuEvent: QEMU's manual-reset event (util/event.c), on one futex word.
 *
 * State (four Int32): STATE (lifecycle.ts); VALUE, with QEMU's encoding: SET 0, FREE 1, BUSY -1 (free,
 * and somebody may be parked); WAITERS, the number of threads inside wait (only for the EBUSY check of
 * init and destroy: VALUE can stay BUSY after a waiter timed out, which is harmless, so it cannot tell);
 * and ID, the event's number in the waits table (thread/waits.ts). Transitions: FREE -> SET and BUSY -> SET (set), SET -> FREE (reset), FREE -> BUSY
 * (a waiter announces itself). BUSY -> FREE cannot happen because reset ORs in 1, which leaves -1 alone.
 *
 * set: if VALUE is not SET, exchange in SET, and if the old value was BUSY notify every parked thread.
 * wait: SET returns; FREE is first turned into BUSY by compareExchange (if that finds SET, return); then
 * park while VALUE is BUSY, and loop.
 *
 * Why no wake-up is lost: a waiter parks only on BUSY, which it or another waiter stored. A set that
 * happens after that store sees BUSY in its exchange and notifies everyone; a set that happened before it
 * made VALUE SET, so the waiter's compareExchange or park sees something other than the value it expects.
 * The idiom that makes this useful, as in QEMU: the waiter does `reset(); if (!done) wait();` and the setter
 * makes `done` true before `set()`.
 */
import { KIND_EVENT, nextObjectId } from '../hooks.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { checkReady, markDestroyed, markReady, stateName } from '../lifecycle.js';
import { READY_EVENT } from '../owner.js';
import { checkTimeout, deadlineAfter, refuseToBlock, signalOf, type WaitOptions, wake } from '../park.js';
import { refuseWhileWaited } from '../robust.js';
import { DONE, MAY_SPIN, type Protocol, sleepOn, spinOn, waitAsync, waitBlocking } from '../wait.js';

const VALUE = 1;
const WAITERS = 2;
/** The event's number, given at init, for the waits table (thread/waits.ts). */
const ID = 3;
const EV_SET = 0;
const EV_FREE = 1;
const EV_BUSY = -1;
/** Word 0 of a usable event (owner.ts: each kind has its own). */
const READY = READY_EVENT;
const KIND = 'QemuEvent';

/**
 * One look of a waiter, shared by the blocking and the async wait: the event is set (DONE), or spin while
 * VALUE stays as it is, or make sure VALUE is BUSY (so a set will notify) and sleep on it. Re-checks the
 * lifecycle every round: a destroy that ran before this waiter counted itself saw no waiter.
 */
function eventStep(w: Int32Array, func: string, flags: number): number {
  checkReady(w, READY, func);
  const v = Atomics.load(w, VALUE);
  if (v === EV_SET) return DONE;
  if (flags & MAY_SPIN) return spinOn(v);
  if (v === EV_FREE && Atomics.compareExchange(w, VALUE, EV_FREE, EV_BUSY) === EV_SET) return DONE;
  return sleepOn(EV_BUSY);
}

/** The event's wait; one that times out reports whether the event is set by then. */
const EVENT_WAIT: Protocol = {
  kind: KIND_EVENT,
  index: VALUE,
  idIndex: ID,
  sliceMs: Number.POSITIVE_INFINITY,
  asyncSuffix: '_async',
  step: eventStep,
  afterSleep: null,
  // Counted in WAITERS, for the EBUSY check of init and destroy (the driver records it in the waits table).
  enter: (w) => {
    Atomics.add(w, WAITERS, 1);
  },
  leave: (w) => {
    Atomics.sub(w, WAITERS, 1);
  },
  timedOut: (w) => Atomics.load(w, VALUE) === EV_SET,
};

/**
 * A QEMU event (`QemuEvent`): a manual-reset flag that threads wait on. {@link QemuEvent.set} wakes every
 * waiter and the event stays set until {@link QemuEvent.reset}. QEMU's idiom is that only the waiter
 * resets: reset, check the condition, then wait.
 *
 * @example
 * ```ts
 * import { QemuEvent } from 'qemu-thread';
 *
 * const done = QemuEvent.create(); // not set
 * console.log(done.timedWait(0)); // false
 * done.set(); // wakes every waiter; stays set
 * done.wait(); // returns at once
 * done.reset();
 * console.log(done.isSet()); // false
 * ```
 */
export class QemuEvent extends SharedStorage {
  /** Bytes of shared memory one QemuEvent occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 16;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuEvent.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuEvent.BYTES, buffer, byteOffset);
  }

  /** A new event, initially set if `set` is true: the constructor followed by `init(set)`. */
  static create(set = false, buffer?: SharedArrayBuffer, byteOffset = 0): QemuEvent {
    const e = new QemuEvent(buffer, byteOffset);
    e.init(set);
    return e;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuEvent.from'): QemuEvent {
    if (value instanceof QemuEvent) return value;
    return reviveAs(value, KIND, (c) => new QemuEvent(c.buffer, c.byteOffset), func);
  }

  /** Makes the event usable, set or not (`qemu_event_init`). `EBUSY` while threads wait on it. */
  init(set: boolean): void {
    const w = this.words;
    this.#refuseWhileWaited('qemu_event_init');
    Atomics.store(w, VALUE, set ? EV_SET : EV_FREE);
    Atomics.store(w, WAITERS, 0);
    Atomics.store(w, ID, nextObjectId());
    markReady(w, READY);
  }

  /**
   * Ends its use (`qemu_event_destroy`): any later call is `EINVAL` until `init`. `EBUSY` while threads
   * wait on it.
   */
  destroy(): void {
    this.#refuseWhileWaited('qemu_event_destroy');
    markDestroyed(this.words, READY, 'qemu_event_destroy');
    wake(this.words, VALUE, Number.POSITIVE_INFINITY);
  }

  /** EBUSY while a live thread waits (a waiter terminated in the middle of a wait does not count). */
  #refuseWhileWaited(func: string): void {
    const w = this.words;
    const counted = stateName(w, READY) === null ? Atomics.load(w, WAITERS) : 0;
    refuseWhileWaited(w[ID], counted, func);
  }

  /** Sets the event, waking every waiter. Setting a set event does nothing. */
  set(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_event_set');
    if (Atomics.load(w, VALUE) !== EV_SET && Atomics.exchange(w, VALUE, EV_SET) === EV_BUSY) {
      wake(w, VALUE, Number.POSITIVE_INFINITY);
    }
  }

  /** Clears the event (SET -> FREE); a free event stays as it is. */
  reset(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_event_reset');
    Atomics.or(w, VALUE, EV_FREE);
  }

  /** Returns once the event is set. */
  wait(): void {
    this.#wait(Number.POSITIVE_INFINITY, 'qemu_event_wait');
  }

  /** As {@link wait}, for at most `ms` milliseconds; false if and only if it timed out. */
  timedWait(ms: number): boolean {
    return this.#wait(checkTimeout(ms, 'qemu_event_timedwait'), 'qemu_event_timedwait');
  }

  #wait(ms: number, func: string): boolean {
    const w = this.words;
    checkReady(w, READY, func);
    if (Atomics.load(w, VALUE) === EV_SET) return true;
    if (ms === 0) return false;
    refuseToBlock(func, `${func}_async`);
    return waitBlocking(EVENT_WAIT, w, func, 0, deadlineAfter(ms));
  }

  /** As {@link wait}, without blocking the calling thread. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    await this.#waitAsync(
      Number.POSITIVE_INFINITY,
      'qemu_event_wait',
      signalOf(options, 'qemu_event_wait_async'),
    );
  }

  /** As {@link timedWait}, without blocking the calling thread; resolves false if and only if it timed out. */
  async timedWaitAsync(ms: number, options?: WaitOptions): Promise<boolean> {
    return this.#waitAsync(
      checkTimeout(ms, 'qemu_event_timedwait'),
      'qemu_event_timedwait',
      signalOf(options, 'qemu_event_timedwait_async'),
    );
  }

  /** The async wait: the blocking one, with the async driver (park.ts covers async waiters). */
  async #waitAsync(ms: number, func: string, signal?: AbortSignal): Promise<boolean> {
    const w = this.words;
    checkReady(w, READY, func);
    if (Atomics.load(w, VALUE) === EV_SET) return true;
    if (ms === 0) return false;
    return waitAsync(EVENT_WAIT, w, func, 0, deadlineAfter(ms), signal);
  }

  /** Whether the event is set now (a racy snapshot). */
  isSet(): boolean {
    // Zero-filled storage reads as SET (QEMU's encoding), so only an initialized event can be set.
    return stateName(this.words, READY) === null && Atomics.load(this.words, VALUE) === EV_SET;
  }

  override toString(): string {
    const state = stateName(this.words, READY);
    return `QemuEvent { ${state ?? (this.isSet() ? 'set' : 'free')} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuEvent(c.buffer, c.byteOffset));
