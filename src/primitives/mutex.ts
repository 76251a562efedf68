/**
 * QemuMutex: a non-recursive, error-checking mutex in one 32-bit word.
 *
 * State (two Int32): the lock word (see owner.ts): UNINIT 0, FREE 1, DESTROYED 2, NOTRECOVERABLE 3, or
 * the owner's code `(tid + 2) << 2` with bit 0 (CONTENDED) set when a thread may be parked on the word and
 * bit 1 (INCONSISTENT) set when the owner took it from a thread that had ended; and the mutex's number,
 * given at init, which names it in trace output and waiter records. This is Drepper's three-state
 * "mutex2" (free / locked / locked-with-waiters) with the owner's identity folded into the locked states,
 * so that unlock by a non-owner (EPERM) and relock by the owner (EDEADLK) are detected in every thread
 * at no cost to the fast path.
 *
 * Fast paths: lock is one compareExchange FREE -> SELF; unlock is one compareExchange SELF -> FREE. Each
 * first reads the instrumentation switch (hooks.ts), one branch while tracing and the profiler are off.
 * Anything else (held by someone, contended, uninitialized, destroyed, not ours) goes to a slow path:
 * {@link lockStep}, which the park layer's drivers (wait.ts) run for the blocking and the async lock.
 *
 * Why no wake-up is lost: a locker sleeps only on the value `owner | CONTENDED`, which it (or another
 * waiter) stored with a compareExchange while the lock was held. The owner's unlock fast path fails on that
 * value, so the slow unlock stores FREE and then notifies one parked thread. A thread that was about to
 * park sees FREE (not the value it parks on) and returns at once; a parked one is on the queue when the
 * notify comes. A woken thread cannot know whether others still sleep, so it takes the lock with
 * CONTENDED set, and its own unlock passes the wake-up on. All Atomics operations are sequentially
 * consistent, which gives lock acquire / unlock release ordering for the data the mutex protects.
 *
 * Robust (robust.ts): a locker that finds the lock held by a thread that has ended takes it over with a
 * compareExchange from the value it saw, marked INCONSISTENT, and fails with EOWNERDEAD while holding it;
 * `consistent()` clears the mark, and an unlock with the mark still set leaves NOTRECOVERABLE. A locker
 * sleeps at most OWNER_CHECK_MS at a time, so it notices a holder that ended while it slept.
 */
import { fail } from '../errors.js';
import {
  CONTROL_ENABLED,
  control,
  hooks,
  instrumentedLock,
  instrumentedLockAsync,
  KIND_MUTEX,
  nextObjectId,
  TRYING,
  type Waiter,
} from '../hooks.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import {
  CONTENDED,
  DESTROYED,
  describeUnusable,
  FREE as FREE_VALUE,
  HELD_MIN,
  INCONSISTENT,
  NOTRECOVERABLE,
  OWNER_FLAGS,
  ownerThread,
  SELF as SELF_VALUE,
  UNINIT,
} from '../owner.js';
import { abortReason, signalOf, type WaitOptions, wake } from '../park.js';
import { makeConsistent, ownerEnded, takeOver } from '../robust.js';
import { describeThread } from '../thread/names.js';
import {
  AGAIN,
  DONE,
  MAY_SPIN,
  type Protocol,
  SLEPT,
  sleepOn,
  spinOn,
  waitAsync,
  waitBlocking,
} from '../wait.js';

/** Index of the lock word inside a mutex's storage (a recursive mutex keeps its depth after it). */
const LOCK = 0;
/**
 * Module-local copies of imported constants used on the fast paths: V8 reads a module's own constant
 * faster than an imported binding (which it must check for initialization on every read). Measured on
 * lock + unlock: about 3 ns of 22 (the bench's workload 1).
 */
const FREE = FREE_VALUE;
const SELF = SELF_VALUE;
const SWITCH = control;
const ENABLED = CONTROL_ENABLED;
/** The mutex's number for trace output (a recursive mutex keeps it at the same index). */
export const MUTEX_ID = 1;
/** How often a thread parked on a mutex checks whether the holder has ended. */
const OWNER_CHECK_MS = 100;

/**
 * Locks the word at index 0 of `w` for the calling thread; `func` names the caller in errors. With
 * instrumentation on, the call hooks (hooks.ts) run around it.
 */
export function lockWord(w: Int32Array, func: string): void {
  if (SWITCH[ENABLED] !== 0) {
    instrumentedLock(KIND_MUTEX, w[MUTEX_ID], 0, lockWordPlain, w, func);
    return;
  }
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) lockSlow(w, func);
}

/** As {@link lockWord}, without the call hooks (a cond wait's relock, which reports itself). */
export function lockWordPlain(w: Int32Array, func: string): void {
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) lockSlow(w, func);
}

function lockSlow(w: Int32Array, func: string): void {
  waitBlocking(LOCK_WAIT, w, func, 0, Number.POSITIVE_INFINITY);
}

/**
 * One look at the lock word by a locker, shared by the blocking and the async lock: takes the lock
 * (DONE; as `SELF | CONTENDED` once this call has slept, since it cannot know who else sleeps), finds
 * that the word moved under it (AGAIN), asks to spin while the holder keeps it, or answers SLEEP on
 * `owner | CONTENDED`, having made sure the word holds it. Fails for an unusable word, for the caller's own
 * lock (EDEADLK), and with EOWNERDEAD (holding the lock) for a holder that ended.
 */
function lockStep(w: Int32Array, func: string, flags: number): number {
  const v = Atomics.load(w, LOCK);
  if (v === FREE) {
    const mine = flags & SLEPT ? SELF | CONTENDED : SELF;
    return Atomics.compareExchange(w, LOCK, FREE, mine) === FREE ? DONE : AGAIN;
  }
  if (v < HELD_MIN) unusable(v, func);
  if ((v & ~OWNER_FLAGS) === SELF) fail('EDEADLK', func, 'the calling thread already holds this mutex');
  if (ownerEnded(v)) {
    if (takeOver(w, LOCK, v, SELF | CONTENDED | INCONSISTENT)) ownerDied(v, func);
    return AGAIN;
  }
  // A holder on another core usually lets go soon: spin while it holds the lock (bounded, see park.ts).
  if (flags & MAY_SPIN) return spinOn(v);
  if ((v & CONTENDED) === 0 && Atomics.compareExchange(w, LOCK, v, v | CONTENDED) !== v) return AGAIN;
  return sleepOn(v | CONTENDED);
}

/**
 * The lock's wait. It sleeps in slices of OWNER_CHECK_MS, never unbounded on a holder that may have
 * ended; a slice that ends with the lock still held is also where the deadlock check runs (hooks.ts).
 */
const LOCK_WAIT: Protocol = {
  kind: KIND_MUTEX,
  index: LOCK,
  idIndex: MUTEX_ID,
  sliceMs: OWNER_CHECK_MS,
  asyncSuffix: '_async',
  step: lockStep,
  afterSleep: null,
  enter: null,
  leave: null,
  timedOut: () => false,
};

/**
 * The async lock: as {@link lockWord}, but waits with Atomics.waitAsync (wait.ts), so the calling thread's
 * event loop keeps running. The lock belongs to the thread, as every QemuMutex does: two async tasks of
 * one thread do not exclude each other, and the second one's lock fails with EDEADLK.
 */
export async function lockWordAsync(w: Int32Array, func: string, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  if (SWITCH[ENABLED] !== 0) {
    return instrumentedLockAsync(KIND_MUTEX, w[MUTEX_ID], 0, lockWordAsyncPlain, w, func, signal);
  }
  return lockWordAsyncPlain(w, func, signal);
}

/** As {@link lockWordAsync}, without the call hooks (an async cond wait's relock reports itself). */
export async function lockWordAsyncPlain(w: Int32Array, func: string, signal?: AbortSignal): Promise<void> {
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) {
    await waitAsync(LOCK_WAIT, w, func, 0, Number.POSITIVE_INFINITY, signal);
  }
}

/** EINVAL for a word that is not a usable mutex, ENOTRECOVERABLE for one that a dead owner ruined. */
function unusable(v: number, func: string): never {
  if (v === NOTRECOVERABLE) fail('ENOTRECOVERABLE', func, describeUnusable(v));
  fail('EINVAL', func, describeUnusable(v));
}

/**
 * EOWNERDEAD, for a lock the calling thread took over (marked INCONSISTENT) from owner `v`, which ended: as
 * POSIX robust mutexes fail, holding the lock.
 */
function ownerDied(v: number, func: string): never {
  fail(
    'EOWNERDEAD',
    func,
    `thread ${ownerThread(v)} ended while holding it; the calling thread now holds it: repair what it ` +
      'protects, then call qemu_mutex_consistent before unlocking',
  );
}

/** Unlocks the word at index 0 of `w`, which the calling thread must hold; with the call hooks. */
export function unlockWord(w: Int32Array, func: string): void {
  if (SWITCH[ENABLED] !== 0 && heldBySelf(w)) hooks.released(w[MUTEX_ID], 0);
  if (Atomics.compareExchange(w, LOCK, SELF, FREE) !== SELF) unlockSlow(w, func);
}

/** As {@link unlockWord}, without the call hooks (a cond wait reports its own). */
export function unlockWordPlain(w: Int32Array, func: string): void {
  if (Atomics.compareExchange(w, LOCK, SELF, FREE) !== SELF) unlockSlow(w, func);
}

function unlockSlow(w: Int32Array, func: string): void {
  const v = Atomics.load(w, LOCK);
  // Only the owner moves the word away from an owned value, and waiters only add CONTENDED, which is
  // already set here: the store cannot overwrite anyone's change.
  if (v === (SELF | CONTENDED)) {
    Atomics.store(w, LOCK, FREE);
    wake(w, LOCK, 1);
    return;
  }
  if ((v & ~OWNER_FLAGS) === SELF && v & INCONSISTENT) {
    // Unlocked without qemu_mutex_consistent: the state it protects is lost for good (POSIX robust rule).
    Atomics.store(w, LOCK, NOTRECOVERABLE);
    wake(w, LOCK, Number.POSITIVE_INFINITY);
    return;
  }
  notHeldBySelf(v, func);
}

/** Fails with the error for a lock word that the calling thread does not hold. */
export function notHeldBySelf(v: number, func: string): never {
  if (v === FREE) fail('EPERM', func, 'it is not locked');
  if (v < HELD_MIN) unusable(v, func);
  fail('EPERM', func, `it is held by ${describeThread(ownerThread(v))}, not by the calling thread`);
}

/** 0 if the lock was taken, -16 (-EBUSY) if it is held by anyone (the caller included). */
export function tryLockWord(w: Int32Array, func: string, kind = KIND_MUTEX): number {
  if (SWITCH[ENABLED] !== 0) {
    const probe = hooks.lockBegin(kind, w[MUTEX_ID], TRYING);
    const v = Atomics.compareExchange(w, LOCK, FREE, SELF);
    hooks.acquired(probe, v === FREE);
    return v === FREE ? 0 : tryLockFailed(w, v, func, kind);
  }
  const v = Atomics.compareExchange(w, LOCK, FREE, SELF);
  if (v === FREE) return 0;
  return tryLockFailed(w, v, func, kind);
}

/** -16 (-EBUSY) for a held lock; the error for an unusable one; EOWNERDEAD (holding it) for a dead owner. */
function tryLockFailed(w: Int32Array, v: number, func: string, kind: number): number {
  if (v < HELD_MIN) unusable(v, func);
  if ((v & ~OWNER_FLAGS) !== SELF && ownerEnded(v)) {
    if (takeOver(w, LOCK, v, SELF | CONTENDED | INCONSISTENT)) ownerDied(v, func);
    return tryLockWord(w, func, kind);
  }
  return -16;
}

/** Makes the word FREE; refuses (EBUSY) to reset a lock somebody holds. */
export function initWord(w: Int32Array, func: string): void {
  const v = Atomics.load(w, LOCK);
  if (v >= HELD_MIN) fail('EBUSY', func, `it is held by thread ${ownerThread(v)}`);
  Atomics.store(w, MUTEX_ID, nextObjectId());
  Atomics.store(w, LOCK, FREE);
}

/** Moves a FREE word to DESTROYED: EBUSY while held, EINVAL if it was never usable. */
export function destroyWord(w: Int32Array, func: string): void {
  const v = Atomics.compareExchange(w, LOCK, FREE, DESTROYED);
  if (v === FREE) {
    // A thread woken by the last unlock may have left others parked: wake them all, so each sees
    // DESTROYED and fails with EINVAL instead of sleeping forever.
    wake(w, LOCK, Number.POSITIVE_INFINITY);
    return;
  }
  if (v >= HELD_MIN) fail('EBUSY', func, `it is held by thread ${ownerThread(v)}`);
  // A mutex ruined by a dead owner can still be destroyed (and initialized again).
  if (v === NOTRECOVERABLE && Atomics.compareExchange(w, LOCK, v, DESTROYED) === v) return;
  fail('EINVAL', func, describeUnusable(v));
}

/** True when the calling thread holds the lock word. */
export function heldBySelf(w: Int32Array): boolean {
  return (Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF;
}

/** A short description of a lock word's state, for inspection. */
export function describeWord(v: number): string {
  if (v === UNINIT) return 'uninitialized';
  if (v === DESTROYED) return 'destroyed';
  if (v === FREE) return 'unlocked';
  if (v === NOTRECOVERABLE) return 'not recoverable';
  const flags = `${v & CONTENDED ? ', contended' : ''}${v & INCONSISTENT ? ', inconsistent' : ''}`;
  return `locked by ${describeThread(ownerThread(v))}${flags}`;
}

const KIND = 'QemuMutex';

/**
 * A QEMU mutex (`QemuMutex`): not recursive, with owner checks. It lives in shared memory: pass it to
 * another thread (in a thread's `arg`, by `postMessage` or `workerData`) and it is the same lock there.
 *
 * The functional face is {@link qemu_mutex_lock}, {@link qemu_mutex_unlock} and the rest; both accept an
 * instance or a structured clone of one. Locking a mutex the calling thread holds is `EDEADLK`, unlocking
 * one it does not hold `EPERM`, and a lock whose holder ended goes to the next locker with `EOWNERDEAD`
 * (see {@link QemuMutex.consistent}).
 *
 * @example
 * ```ts
 * import { QemuMutex } from 'qemu-thread';
 *
 * const m = QemuMutex.create(); // new QemuMutex() + init()
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 *
 * m.lock();
 * try {
 *   counter[0]++;
 * } finally {
 *   m.unlock();
 * }
 * {
 *   using _ = m.guard(); // unlocked at the end of the block
 *   counter[0]++;
 * }
 * console.log(counter[0], m.tryLock(), m.tryLock()); // 2 true false
 * ```
 */
export class QemuMutex extends SharedStorage {
  /** Bytes of shared memory one QemuMutex occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 8;

  /** Allocates its own storage, or places it at `byteOffset` (a multiple of 4) of `buffer`. */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuMutex.BYTES, buffer, byteOffset);
  }

  /** A new, initialized mutex: the constructor followed by {@link init}. */
  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuMutex {
    const m = new QemuMutex(buffer, byteOffset);
    m.init();
    return m;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuMutex.from'): QemuMutex {
    if (value instanceof QemuMutex) return value;
    return reviveAs(value, KIND, (c) => new QemuMutex(c.buffer, c.byteOffset), func);
  }

  /** Makes the mutex usable and unlocked (`qemu_mutex_init`). `EBUSY` if a thread holds it. */
  init(): void {
    initWord(this.words, 'qemu_mutex_init');
  }

  /**
   * Ends the mutex's use (`qemu_mutex_destroy`): any later call is `EINVAL` until `init`. `EBUSY` while
   * it is held.
   */
  destroy(): void {
    destroyWord(this.words, 'qemu_mutex_destroy');
  }

  /**
   * Takes the mutex, spinning briefly and then sleeping while another thread holds it (`qemu_mutex_lock`).
   *
   * `EDEADLK` if the calling thread holds it already, or when waiting would close a cycle of threads waiting
   * for each other's mutexes (reported after about 300 ms, with the cycle in the message); `EOWNERDEAD`, now
   * holding it, if its holder ended while holding it; `ENOTRECOVERABLE` if such a mutex was unlocked without
   * {@link consistent}; `EPERM` on a thread that may not block (use {@link lockAsync}).
   */
  lock(): void {
    lockWord(this.words, 'qemu_mutex_lock');
  }

  /**
   * As {@link lock}, without blocking the calling thread (for a browser's window thread, or any event loop).
   * Resolves holding the lock; rejects with the same errors, or with `signal.reason` if cancelled first.
   */
  async lockAsync(options?: WaitOptions): Promise<void> {
    return lockWordAsync(this.words, 'qemu_mutex_lock', signalOf(options, 'qemu_mutex_lock_async'));
  }

  /** Takes the lock if it is free; true on success (the functional `qemu_mutex_trylock` returns 0 / -16). */
  tryLock(): boolean {
    return tryLockWord(this.words, 'qemu_mutex_trylock') === 0;
  }

  /**
   * Releases the mutex (`qemu_mutex_unlock`) and wakes one sleeping locker, if any. `EPERM` unless the
   * calling thread holds it.
   */
  unlock(): void {
    unlockWord(this.words, 'qemu_mutex_unlock');
  }

  /**
   * After a lock that failed with EOWNERDEAD (the caller holds the mutex; its previous owner ended while
   * holding it): declares the protected state repaired, so the mutex works normally again. Unlocking
   * without this makes the mutex ENOTRECOVERABLE for everyone.
   */
  consistent(): void {
    makeConsistent(this.words, 'qemu_mutex_consistent', notHeldBySelf);
  }

  /** The number this mutex got at init, which names it in trace lines and profiler reports. */
  objectId(): number {
    return this.words[MUTEX_ID];
  }

  /**
   * Who holds this mutex now: the thread's id, whether others may be parked on it, and since when it has
   * held it (ms since the epoch; known only if tracing or the profiler was on when it was taken). Null when
   * it is not held.
   */
  holder(): {
    /** The holding thread's id (as in trace lines and `QemuThread.threadId()`). */
    threadId: number;
    /** Whether other threads may be parked waiting for it. */
    contended: boolean;
    /** When it was taken, in ms since the epoch; null unless tracing or the profiler was on then. */
    since: number | null;
  } | null {
    const v = Atomics.load(this.words, LOCK);
    if (v < HELD_MIN) return null;
    return {
      threadId: ownerThread(v),
      contended: (v & CONTENDED) !== 0,
      since: hooks.heldSince(this.words[MUTEX_ID]),
    };
  }

  /** The threads parked waiting for this mutex now, with when each went to sleep. */
  waiters(): Waiter[] {
    return hooks.waitersOf(this.words[MUTEX_ID]);
  }

  /** Whether the calling thread holds this mutex. */
  isHeldBySelf(): boolean {
    return heldBySelf(this.words);
  }

  /** Locks and returns a guard whose disposal unlocks: `using _ = m.guard();`. */
  guard(): Disposable {
    this.lock();
    return new MutexGuard(this);
  }

  override toString(): string {
    return `QemuMutex #${this.words[MUTEX_ID]} { ${describeWord(Atomics.load(this.words, LOCK))} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The scope guard returned by `guard()`: unlocks once, on dispose. */
export class MutexGuard implements Disposable {
  #lock: { unlock(): void } | null;

  constructor(lock: { unlock(): void }) {
    this.#lock = lock;
  }

  [Symbol.dispose](): void {
    const lock = this.#lock;
    if (lock === null) return;
    this.#lock = null;
    lock.unlock();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuMutex(c.buffer, c.byteOffset));
