/**
 * QemuSemaphore: a counting semaphore with an unsigned 32-bit count.
 *
 * State (four Int32): STATE (lifecycle.ts), COUNT (read as unsigned: `>>> 0`), WAITERS (threads that
 * announced they will park on COUNT) and ID, the semaphore's number, which names it in the waits table.
 *
 * QEMU builds its semaphore from a mutex, a cond and a count; here the count itself is the futex word,
 * which gives the same observable behaviour (post wakes one waiter, wait takes one unit, timed wait with a
 * deadline fixed up front, `ms = 0` is a pure try, a time-out never takes a unit) with one
 * compareExchange and a few loads per uncontended operation, and no lock.
 *
 * post: compareExchange COUNT -> COUNT + 1 (EINVAL at 4294967295), then notify one thread if WAITERS > 0.
 * wait: take a unit with compareExchange COUNT -> COUNT - 1 while COUNT > 0; otherwise add 1 to WAITERS
 * and, until a unit is taken, park while COUNT is 0 and retry; then subtract 1.
 *
 * Why no wake-up is lost (the bug of notifying only on the 0 -> 1 transition): every post that sees a
 * waiter notifies, however large the count. A waiter announces itself before it parks on COUNT == 0, and a
 * poster increments COUNT before it reads WAITERS; with sequentially consistent atomics either the poster
 * sees the announcement and notifies, or the waiter's park sees COUNT != 0 and returns at once.
 */
import { fail } from '../errors.js';
import { KIND_SEMAPHORE, nextObjectId } from '../hooks.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { checkReady, markDestroyed, markReady, STATE, stateName } from '../lifecycle.js';
import { READY_SEMAPHORE } from '../owner.js';
import { checkTimeout, deadlineAfter, refuseToBlock, signalOf, type WaitOptions, wake } from '../park.js';
import { refuseWhileWaited } from '../robust.js';
import { DONE, MAY_SPIN, type Protocol, sleepOn, spinOn, waitAsync, waitBlocking } from '../wait.js';

const COUNT = 1;
const WAITERS = 2;
/** The semaphore's number, given at init, for the waits table (thread/waits.ts). */
const ID = 3;
/** Word 0 of a usable semaphore (owner.ts: each kind has its own). */
const READY = READY_SEMAPHORE;
const KIND = 'QemuSemaphore';
/** The largest count, UINT_MAX, stored in an Int32 as -1. */
const COUNT_MAX = 0xffffffff;

/**
 * A QEMU counting semaphore (`QemuSemaphore`): {@link QemuSemaphore.post} adds a unit and wakes one
 * sleeper, {@link QemuSemaphore.wait} takes one, sleeping while there is none. The count is an unsigned
 * 32-bit number. Every post that finds a sleeper wakes one, so no wake-up is lost however posts and waits
 * interleave.
 *
 * @example
 * ```ts
 * import { QemuSemaphore } from 'qemu-thread';
 *
 * const slots = QemuSemaphore.create(2); // two units
 * slots.wait();
 * slots.wait();
 * console.log(slots.tryWait(), slots.timedWait(0)); // false false
 * slots.post();
 * console.log(slots.value()); // 1
 * ```
 */
export class QemuSemaphore extends SharedStorage {
  /**
   * Bytes of shared memory one QemuSemaphore occupies: what to reserve when placing it in your own buffer.
   */
  static readonly BYTES = 16;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuSemaphore.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuSemaphore.BYTES, buffer, byteOffset);
  }

  /** A new semaphore initialized with `count` units: the constructor followed by `init(count)`. */
  static create(count = 0, buffer?: SharedArrayBuffer, byteOffset = 0): QemuSemaphore {
    const s = new QemuSemaphore(buffer, byteOffset);
    s.init(count);
    return s;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuSemaphore.from'): QemuSemaphore {
    if (value instanceof QemuSemaphore) return value;
    return reviveAs(value, KIND, (c) => new QemuSemaphore(c.buffer, c.byteOffset), func);
  }

  /** Sets the count to `count`, an integer from 0 to 4294967295. */
  init(count: number): void {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > COUNT_MAX) {
      fail(
        'EINVAL',
        'qemu_sem_init',
        `the count must be an integer from 0 to ${COUNT_MAX}, got ${String(count)}`,
      );
    }
    const w = this.words;
    refuseWhileWaited(w[ID], this.#counted(), 'qemu_sem_init');
    Atomics.store(w, COUNT, count | 0);
    Atomics.store(w, WAITERS, 0);
    Atomics.store(w, ID, nextObjectId());
    markReady(w, READY);
  }

  /**
   * Ends its use (`qemu_sem_destroy`): any later call is `EINVAL` until `init`. `EBUSY` while threads
   * sleep on it.
   */
  destroy(): void {
    refuseWhileWaited(this.words[ID], this.#counted(), 'qemu_sem_destroy');
    markDestroyed(this.words, READY, 'qemu_sem_destroy');
    // A waiter that announced itself just after the check above parks on COUNT: wake it to see DESTROYED.
    wake(this.words, COUNT, Number.POSITIVE_INFINITY);
  }

  /** Adds one unit and wakes one waiter. EINVAL if the count is already 4294967295. */
  post(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_sem_post');
    let c = Atomics.load(w, COUNT);
    for (;;) {
      if (c === -1) fail('EINVAL', 'qemu_sem_post', `the count is already ${COUNT_MAX}`);
      const seen = Atomics.compareExchange(w, COUNT, c, (c + 1) | 0);
      if (seen === c) break;
      c = seen;
    }
    if (Atomics.load(w, WAITERS) > 0) wake(w, COUNT, 1);
  }

  /** Takes one unit, sleeping until one is available. */
  wait(): void {
    this.#take(Number.POSITIVE_INFINITY, 'qemu_sem_wait');
  }

  /**
   * Takes one unit, waiting at most `ms` milliseconds (0: do not sleep). True if it took a unit; false on
   * time-out, in which case no unit was taken. (The functional `qemu_sem_timedwait` returns 0 / -1.)
   */
  timedWait(ms: number): boolean {
    return this.#take(checkTimeout(ms, 'qemu_sem_timedwait'), 'qemu_sem_timedwait');
  }

  /** As {@link wait}, without blocking the calling thread. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    await this.#takeAsync(
      Number.POSITIVE_INFINITY,
      'qemu_sem_wait',
      signalOf(options, 'qemu_sem_wait_async'),
    );
  }

  /** As {@link timedWait}, without blocking the calling thread: true if it took a unit, false on time-out. */
  async timedWaitAsync(ms: number, options?: WaitOptions): Promise<boolean> {
    return this.#takeAsync(
      checkTimeout(ms, 'qemu_sem_timedwait'),
      'qemu_sem_timedwait',
      signalOf(options, 'qemu_sem_timedwait_async'),
    );
  }

  /** The blocking wait: a unit at once, or the wait (SEM_WAIT) until one is taken or the time is up. */
  #take(ms: number, func: string): boolean {
    const w = this.words;
    checkReady(w, READY, func);
    if (takeUnit(w)) return true;
    if (ms === 0) return false;
    refuseToBlock(func, `${func}_async`);
    return waitBlocking(SEM_WAIT, w, func, 0, deadlineAfter(ms));
  }

  /** The async wait: the blocking one, with the async driver (park.ts: async waiters swallow no post). */
  async #takeAsync(ms: number, func: string, signal?: AbortSignal): Promise<boolean> {
    const w = this.words;
    checkReady(w, READY, func);
    if (takeUnit(w)) return true;
    if (ms === 0) return false;
    return waitAsync(SEM_WAIT, w, func, 0, deadlineAfter(ms), signal);
  }

  /** Takes a unit if one is available, without sleeping; true if it did. */
  tryWait(): boolean {
    checkReady(this.words, READY, 'qemu_sem_trywait');
    return takeUnit(this.words);
  }

  /** The counted waiters, while the semaphore is usable (for the EBUSY checks of init and destroy). */
  #counted(): number {
    const w = this.words;
    return Atomics.load(w, STATE) === READY ? Atomics.load(w, WAITERS) : 0;
  }

  /** The current count (a racy snapshot, for inspection). */
  value(): number {
    return Atomics.load(this.words, COUNT) >>> 0;
  }

  override toString(): string {
    const state = stateName(this.words, READY);
    return `QemuSemaphore { ${state ?? `count: ${this.value()}, waiters: ${Atomics.load(this.words, WAITERS)}`} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * One look of a waiter, shared by the blocking and the async wait: takes a unit (DONE), or spins or sleeps
 * while COUNT is 0. The waiter is counted in WAITERS from before its first look (SEM_WAIT.enter), so every
 * post after that look notifies. Checks the lifecycle every round: a destroy that saw no waiter before this
 * one counted itself has happened by now, and a destroy while it slept woke it.
 */
function semStep(w: Int32Array, func: string, flags: number): number {
  checkReady(w, READY, func);
  if (takeUnit(w)) return DONE;
  return flags & MAY_SPIN ? spinOn(0) : sleepOn(0);
}

/**
 * The semaphore's wait. A time-out returns false without a last try, even if a post raced in: as QEMU's
 * timed wait, a time-out never takes a unit.
 */
const SEM_WAIT: Protocol = {
  kind: KIND_SEMAPHORE,
  index: COUNT,
  idIndex: ID,
  sliceMs: Number.POSITIVE_INFINITY,
  asyncSuffix: '_async',
  step: semStep,
  afterSleep: null,
  // Counted in WAITERS, which makes every post notify (the driver records it in the waits table first).
  enter: (w) => {
    Atomics.add(w, WAITERS, 1);
  },
  leave: (w) => {
    Atomics.sub(w, WAITERS, 1);
  },
  timedOut: () => false,
};

/** Takes one unit if the count is not zero. */
function takeUnit(w: Int32Array): boolean {
  let c = Atomics.load(w, COUNT);
  while (c !== 0) {
    const seen = Atomics.compareExchange(w, COUNT, c, (c - 1) | 0);
    if (seen === c) return true;
    c = seen;
  }
  return false;
}

registerKind(KIND, (c: StorageClone) => new QemuSemaphore(c.buffer, c.byteOffset));
