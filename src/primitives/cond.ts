/**
 * QemuCond: a condition variable on a sequence counter, with waiter counts and herd-free broadcast.
 *
 * State (five Int32): STATE (lifecycle.ts); SEQ, bumped by every signal and broadcast that finds a waiter;
 * COUNTS, the threads inside wait (low 16 bits) and, of those, the ones parked or about to park in
 * `Atomics.wait` (high 16 bits); OWED, the wake-ups that broadcasts still have to hand out; ID, the cond's
 * number in profiler reports and the waits table.
 *
 * wait(m): with `m` held, read SEQ and count itself a waiter; unlock `m`; spin briefly and then park while
 * SEQ still holds the value read, counted as parked while it does (a step that the blocking and the async
 * driver of wait.ts both run); if OWED > 0, take one unit and, if units remain, wake one more thread; lock
 * `m` again; stop counting itself. A timed wait of 0 ms unlocks and locks again without parking, as QEMU's.
 * signal: if there is a waiter, add 1 to SEQ, and notify one thread if one is parked. A signal with no
 * waiter costs two atomic loads (the state check and COUNTS); one whose waiter is still spinning costs no
 * notify either.
 *
 * Why no wake-up is lost (the bug of waiting on a word that never changes): the waiter reads SEQ and
 * announces itself while it holds `m`. A signaller that changed the predicate under `m` did so either
 * before that (and the waiter saw the predicate true and did not wait) or after the waiter released `m`,
 * so its load of COUNTS, ordered after its own lock of `m`, sees the announcement, and its increment of
 * SEQ comes after the waiter's read. A waiter counts itself parked before `Atomics.wait` compares SEQ;
 * the signaller bumps SEQ before it reads the parked count. With sequentially consistent atomics, either
 * the signaller sees the waiter parked and notifies, or the waiter's compare sees the new SEQ and it does
 * not sleep. A signal from a thread that does not hold `m` (QEMU's `qemu_cpu_kick` does this) is ordered
 * the same way as long as the predicate itself was written under `m`. Only 2^32 signals landing between
 * one waiter's read and its park could fool it.
 *
 * Broadcast without a thundering herd: waking every waiter at once would make them all fight for `m`.
 * Instead broadcast bumps SEQ, adds the parked count P to OWED and wakes K = min(P, cores) threads; each
 * waiter that returns while OWED > 0 (woken, timed out, or not parked after all) takes one unit and, if
 * at least K units remain, wakes the next before it re-takes `m`: the waiters reach `m` one after another, a wake-up latency
 * apart, rather than all at once, and each one's wake-up overlaps the previous one's critical section. Why every
 * thread parked before the broadcast still wakes: P counts each of them (the same ordering argument as
 * above); `Atomics.notify` wakes in FIFO order, so while any of them is parked each notify reaches one of
 * them; every unit taken except the last K issues a notify and the broadcaster issued K, so P units give
 * P notifies (overlapping broadcasts give more, never fewer); and the chains cannot stall while units
 * remain, because every notify wakes a thread that will take a unit. A unit taken by a thread that was not parked only moves a notify to
 * another thread, which makes at worst a spurious wake-up.
 *
 * Wake-ups may be spurious, as QEMU allows: callers loop on their predicate.
 */
import { CONTROL_ENABLED, control, hooks, KIND_COND, nextObjectId, type Waiter } from '../hooks.js';
import { describeValue, registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { checkReady, markDestroyed, markReady, STATE, stateName } from '../lifecycle.js';
import { OWNER_FLAGS, READY_COND, SELF } from '../owner.js';
import {
  abortReason,
  checkTimeout,
  deadlineAfter,
  refuseToBlock,
  remainingUntil,
  signalOf,
  type WaitOptions,
  wake,
} from '../park.js';
import { platform } from '../platform/index.js';
import { refuseWhileWaited } from '../robust.js';
import { DONE, MAY_SPIN, type Protocol, SLEPT, sleepOn, spinOn, waitAsync, waitBlocking } from '../wait.js';
import {
  lockWordAsyncPlain,
  lockWordPlain,
  MUTEX_ID,
  notHeldBySelf,
  QemuMutex,
  unlockWordPlain,
} from './mutex.js';

const SEQ = 1;
/** Two counts in one word, so that signal reads both at once: waiters (low 16 bits), parked (high 16). */
const COUNTS = 2;
const OWED = 3;
/** The cond's number, given at init, for the profiler's reports and the waits table. */
const ID = 4;
const WAITER = 1;
const PARKED = 1 << 16;
const WAITER_MASK = 0xffff;
/** Module-local names for the instrumentation switch (see mutex.ts). */
const SWITCH = control;
const ENABLED = CONTROL_ENABLED;
/**
 * How many chains a broadcast starts: one per core, so that wake-ups proceed in parallel as far as the
 * machine can run them, and no more threads than it has cores are woken at once.
 */
const BROADCAST_WIDTH = Math.max(1, platform.cores);
const canBlock = platform.canBlock;

/**
 * Takes one unit of a broadcast's wake-up debt and, if any is left, wakes the next waiter. Called by each
 * waiter as it returns from its wait, before it re-takes the mutex.
 */
function passBroadcastOn(w: Int32Array): void {
  let owed = Atomics.load(w, OWED);
  while (owed > 0) {
    const seen = Atomics.compareExchange(w, OWED, owed, owed - 1);
    if (seen === owed) {
      if (owed > BROADCAST_WIDTH) wake(w, SEQ, 1);
      return;
    }
    owed = seen;
  }
}

/** The words of `mutex` after a wait's checks: the cond is usable and the caller holds the mutex. */
function heldMutexWords(w: Int32Array, mutex: QemuMutex, func: string): Int32Array {
  checkReady(w, READY, func);
  const mw = (mutex instanceof QemuMutex ? mutex : QemuMutex.from(mutex, func)).words;
  const owner = Atomics.load(mw, 0);
  if ((owner & ~OWNER_FLAGS) !== SELF) notHeldBySelf(owner, func);
  return mw;
}

/**
 * The sleep of a wait, for both drivers: over once SEQ has moved from the value the waiter read under the
 * mutex (`seen`, the driver's argument), or once it has slept. Before it sleeps the waiter counts itself
 * parked, so that a signal notifies it (see the note at the top); after, it uncounts itself.
 */
function condStep(w: Int32Array, _func: string, flags: number, seen: number): number {
  if (flags & SLEPT || Atomics.load(w, SEQ) !== seen) return DONE;
  if (flags & MAY_SPIN) return spinOn(seen);
  Atomics.add(w, COUNTS, PARKED);
  return sleepOn(seen);
}

const COND_WAIT: Protocol = {
  kind: KIND_COND,
  index: SEQ,
  idIndex: ID,
  sliceMs: Number.POSITIVE_INFINITY,
  asyncSuffix: '_async',
  step: condStep,
  afterSleep: (w) => {
    Atomics.sub(w, COUNTS, PARKED);
  },
  // The waiter counts itself with the mutex held, before the driver runs (see arrive).
  enter: null,
  leave: null,
  timedOut: () => false,
};

/**
 * The first half of a wait, with the mutex held: counts the calling thread a waiter of the cond (recorded
 * in the waits table first, through the hooks) and returns the record for {@link depart}.
 */
function arrive(w: Int32Array): number {
  const record = hooks.arrive(w[ID]);
  Atomics.add(w, COUNTS, WAITER);
  return record;
}

/** Uncounts the waiter once it holds the mutex again: until then destroy must not succeed (it uses OWED). */
function depart(w: Int32Array, record: number): void {
  Atomics.sub(w, COUNTS, WAITER);
  hooks.depart(record);
}

/** Word 0 of a usable cond (owner.ts: each kind has its own). */
const READY = READY_COND;
const KIND = 'QemuCond';

/**
 * A QEMU condition variable (`QemuCond`). A thread waits on it holding a {@link QemuMutex}, which the wait
 * releases while it sleeps and takes again before it returns; {@link QemuCond.signal} and
 * {@link QemuCond.broadcast} may be called with or without the mutex.
 *
 * No wake-up is lost: a waiter sleeps on a sequence number that every signal changes, so a signal that comes
 * between its unlock and its sleep still wakes it. Wake-ups may be spurious, as in POSIX: always wait in a
 * loop on the condition (or use {@link QemuCond.waitFor}).
 *
 * @example
 * ```ts
 * // announce.ts: the thread's module
 * import type { QemuCond, QemuMutex } from 'qemu-thread';
 *
 * export function announce(s: { m: QemuMutex; c: QemuCond; ready: Int32Array }): void {
 *   s.m.lock();
 *   s.ready[0] = 1; // under the mutex, so the waiter's loop cannot miss it
 *   s.c.signal();
 *   s.m.unlock();
 * }
 * ```
 * ```ts
 * import { QemuCond, QemuMutex, QemuThread } from 'qemu-thread';
 *
 * const s = { m: QemuMutex.create(), c: QemuCond.create(), ready: new Int32Array(new SharedArrayBuffer(4)) };
 * const t = QemuThread.create('announcer', new URL('./announce.js#announce', import.meta.url), s);
 * s.m.lock();
 * while (!s.ready[0]) s.c.wait(s.m); // always loop: wake-ups may be spurious
 * s.m.unlock();
 * t.join();
 * console.log('ready'); // ready
 * ```
 */
export class QemuCond extends SharedStorage {
  /** Bytes of shared memory one QemuCond occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 20;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuCond.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuCond.BYTES, buffer, byteOffset);
  }

  /** A new, initialized QemuCond: the constructor followed by `init`. */
  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuCond {
    const c = new QemuCond(buffer, byteOffset);
    c.init();
    return c;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuCond.from'): QemuCond {
    if (value instanceof QemuCond) return value;
    return reviveAs(value, KIND, (c) => new QemuCond(c.buffer, c.byteOffset), func);
  }

  /** Makes the condition variable usable (`qemu_cond_init`). `EBUSY` while threads wait on it. */
  init(): void {
    const w = this.words;
    refuseWhileWaited(w[ID], this.#counted(), 'qemu_cond_init');
    Atomics.store(w, SEQ, 0);
    Atomics.store(w, COUNTS, 0);
    Atomics.store(w, OWED, 0);
    Atomics.store(w, ID, nextObjectId());
    markReady(w, READY);
  }

  /**
   * Ends its use (`qemu_cond_destroy`): any later call is `EINVAL` until `init`. `EBUSY` while threads
   * wait on it.
   */
  destroy(): void {
    refuseWhileWaited(this.words[ID], this.#counted(), 'qemu_cond_destroy');
    markDestroyed(this.words, READY, 'qemu_cond_destroy');
  }

  /** Wakes one waiter, if any. */
  signal(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_cond_signal');
    if ((Atomics.load(w, COUNTS) & WAITER_MASK) === 0) return;
    Atomics.add(w, SEQ, 1);
    if (Atomics.load(w, COUNTS) >>> 16 !== 0) wake(w, SEQ, 1);
  }

  /**
   * Wakes every waiter: a few at once (one per core), and each woken waiter wakes the next as it returns,
   * before it takes the mutex again, so that they reach the mutex one after another.
   */
  broadcast(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_cond_broadcast');
    if ((Atomics.load(w, COUNTS) & WAITER_MASK) === 0) return;
    Atomics.add(w, SEQ, 1);
    const parked = Atomics.load(w, COUNTS) >>> 16;
    if (parked > 0) {
      Atomics.add(w, OWED, parked);
      wake(w, SEQ, Math.min(parked, BROADCAST_WIDTH));
    }
  }

  /** Releases `mutex`, sleeps until signalled (or spuriously woken), and takes `mutex` again. */
  wait(mutex: QemuMutex): void {
    this.#wait(mutex, Number.POSITIVE_INFINITY, 'qemu_cond_wait');
  }

  /**
   * As {@link wait}, for at most `ms` milliseconds. Returns false if and only if it timed out; true means
   * signalled or spurious, so re-check the predicate (and the time left). With `ms = 0` it releases the
   * mutex and takes it back without sleeping, and returns false, as QEMU's does.
   */
  timedWait(mutex: QemuMutex, ms: number): boolean {
    checkTimeout(ms, 'qemu_cond_timedwait');
    return this.#wait(mutex, ms, 'qemu_cond_timedwait');
  }

  /** As {@link wait}, without blocking the calling thread: resolves (or rejects) holding `mutex`. */
  async waitAsync(mutex: QemuMutex, options?: WaitOptions): Promise<void> {
    const signal = signalOf(options, 'qemu_cond_wait_async');
    await this.#waitAsync(mutex, Number.POSITIVE_INFINITY, 'qemu_cond_wait', signal);
  }

  /** As {@link timedWait}, without blocking the calling thread; resolves false if and only if it timed out. */
  async timedWaitAsync(mutex: QemuMutex, ms: number, options?: WaitOptions): Promise<boolean> {
    checkTimeout(ms, 'qemu_cond_timedwait');
    const signal = signalOf(options, 'qemu_cond_timedwait_async');
    return this.#waitAsync(mutex, ms, 'qemu_cond_timedwait', signal);
  }

  /**
   * Waits until `predicate()` returns true, re-checking it after every wake-up, with `mutex` held on entry
   * and on return. With `ms`, gives up after that many milliseconds in all and returns the predicate's last
   * value (false on time-out); without it, returns true.
   */
  waitFor(mutex: QemuMutex, predicate: () => boolean, ms?: number): boolean {
    // Checked before the predicate runs, even when it is already true: it must run under the mutex.
    heldMutexWords(this.words, mutex, 'QemuCond.waitFor');
    if (typeof predicate !== 'function') {
      throw new TypeError(`QemuCond.waitFor: expected a predicate function, got ${describeValue(predicate)}`);
    }
    if (ms === undefined) {
      while (!predicate()) this.wait(mutex);
      return true;
    }
    const deadline = deadlineAfter(checkTimeout(ms, 'qemu_cond_timedwait'));
    while (!predicate()) {
      const left = remainingUntil(deadline);
      if (left === 0 || !this.#wait(mutex, left, 'qemu_cond_timedwait')) return predicate();
    }
    return true;
  }

  /**
   * The blocking wait: with the mutex held, read SEQ and count itself a waiter; release the mutex; let the
   * driver spin and sleep (COND_WAIT); pass a broadcast on; take the mutex again; uncount itself. A
   * time-out of 0 does all of it but the sleep, as QEMU's timed wait with a deadline already past does:
   * the mutex is released and taken again, and traced so.
   */
  #wait(mutex: QemuMutex, ms: number, func: string): boolean {
    const w = this.words;
    const mw = heldMutexWords(w, mutex, func);
    if (ms !== 0) refuseToBlock(func, `${func}_async`);
    // A thread that may not block could not always take the mutex back: it keeps it, and times out.
    else if (!canBlock) return false;
    const probe = SWITCH[ENABLED] !== 0 ? hooks.condWaitBegin(w[ID], mw[MUTEX_ID]) : null;
    const seen = Atomics.load(w, SEQ);
    const record = arrive(w);
    let woken = false;
    try {
      unlockWordPlain(mw, func);
      if (ms !== 0) woken = waitBlocking(COND_WAIT, w, func, seen, deadlineAfter(ms));
      // Pass a broadcast on before re-taking the mutex: the next waiter's kernel wake-up then overlaps this
      // thread's critical section instead of following it.
      if (Atomics.load(w, OWED) > 0) passBroadcastOn(w);
      lockWordPlain(mw, func);
    } finally {
      depart(w, record);
    }
    if (probe !== null) hooks.condWaitEnd(probe);
    return woken;
  }

  /**
   * The async wait: the blocking wait's steps, with the async driver and the async relock (park.ts
   * explains why neither a pending nor a cancelled async waiter can swallow a wake-up). It resolves, and
   * also rejects (cancelled, or an error of the relock), holding the mutex, as the blocking wait returns
   * and throws holding it.
   */
  async #waitAsync(mutex: QemuMutex, ms: number, func: string, signal?: AbortSignal): Promise<boolean> {
    const w = this.words;
    const mw = heldMutexWords(w, mutex, func);
    if (signal?.aborted) throw abortReason(signal);
    const probe = SWITCH[ENABLED] !== 0 ? hooks.condWaitBegin(w[ID], mw[MUTEX_ID]) : null;
    const seen = Atomics.load(w, SEQ);
    const record = arrive(w);
    let woken = false;
    let cancelled = false;
    let reason: unknown;
    try {
      unlockWordPlain(mw, func);
      try {
        if (ms !== 0) woken = await waitAsync(COND_WAIT, w, func, seen, deadlineAfter(ms), signal);
      } catch (error) {
        // Cancelled: reported, like every error of a wait, once the mutex is held again.
        cancelled = true;
        reason = error;
      }
      if (Atomics.load(w, OWED) > 0) passBroadcastOn(w);
      await lockWordAsyncPlain(mw, func);
    } finally {
      depart(w, record);
    }
    if (probe !== null) hooks.condWaitEnd(probe);
    if (cancelled) throw reason;
    return woken;
  }

  /** The threads asleep in a wait on this cond now, with when each went to sleep. */
  parkedThreads(): Waiter[] {
    return hooks.waitersOf(-this.words[ID]);
  }

  /** This cond's number in profiler reports. */
  objectId(): number {
    return this.words[ID];
  }

  /** The counted waiters, while the cond is usable (for the EBUSY checks of init and destroy). */
  #counted(): number {
    const w = this.words;
    return Atomics.load(w, STATE) === READY ? Atomics.load(w, COUNTS) & WAITER_MASK : 0;
  }

  /** How many threads are waiting now (a racy snapshot, for inspection). */
  waiters(): number {
    return Atomics.load(this.words, COUNTS) & WAITER_MASK;
  }

  override toString(): string {
    const state = stateName(this.words, READY);
    return `QemuCond { ${state ?? `waiters: ${this.waiters()}`} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuCond(c.buffer, c.byteOffset));
