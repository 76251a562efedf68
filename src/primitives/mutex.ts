/**
 * QemuMutex: a non-recursive, error-checking mutex in one 32-bit word.
 *
 * State (two Int32): the lock word (see owner.ts): UNINIT 0, FREE 1, DESTROYED 2, NOTRECOVERABLE 3, or
 * the owner's code `(tid + 2) << 2` with bit 0 (CONTENDED) set when a thread may be parked on the word and
 * bit 1 (INCONSISTENT) set when the owner took it from a thread that had ended; and the mutex's number,
 * given at init, which names it in trace output (trace/trace.ts). This is Drepper's three-state
 * "mutex2" (free / locked / locked-with-waiters) with the owner's identity folded into the locked states,
 * so that unlock by a non-owner (EPERM) and relock by the owner (EDEADLK) are detected in every thread
 * at no cost to the fast path.
 *
 * Fast paths: lock is one compareExchange FREE -> SELF; unlock is one compareExchange SELF -> FREE. Anything
 * else (held by someone, contended, uninitialized, destroyed, not ours) goes to a separate slow path.
 *
 * Why no wake-up is lost: a locker parks only on the value `owner | CONTENDED`, which it (or another
 * waiter) stored with a compareExchange while the lock was held. The owner's unlock fast path fails on that
 * value, so the slow unlock stores FREE and then notifies one parked thread. A thread that was about to
 * park sees FREE (not the value it parks on) and returns at once; a parked one is on the queue when the
 * notify comes. A woken thread cannot know whether others still sleep, so it takes the lock with
 * CONTENDED set, and its own unlock passes the wake-up on. All Atomics operations are sequentially
 * consistent, which gives lock acquire / unlock release ordering for the data the mutex protects.
 *
 * Robust: a locker that finds the lock held by a thread that has ended (thread/liveness.ts) takes it over
 * with a compareExchange from the value it saw, marked INCONSISTENT, and fails with EOWNERDEAD while holding
 * it; `consistent()` clears the mark, and an unlock with the mark still set leaves NOTRECOVERABLE. A parked
 * locker sleeps at most OWNER_CHECK_MS at a time, so it notices a holder that ended while it slept.
 */
import { fail } from '../errors.js';
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
import {
  abortReason,
  nextSpinBudget,
  park,
  parkAsync,
  refuseToBlock,
  relax,
  SPIN_STEP,
  signalOf,
  spinPaidOff,
  spinWasted,
  type WaitOptions,
  wake,
} from '../park.js';
import { blockedFor, CHECK_AFTER_MS, findCycle, noteBlocked, noteUnblocked } from '../thread/deadlock.js';
import { hasEnded } from '../thread/liveness.js';
import {
  forgetWaitSite,
  noteTakenSite,
  noteWaitSite,
  takenSiteOf,
  waitSiteOf,
} from '../thread/lock-sites.js';
import { describeThread } from '../thread/names.js';
import {
  heldSinceMs,
  noteAwake,
  noteHeld,
  noteReleased,
  noteWaiting,
  type Waiter,
  waitersOf,
} from '../trace/holders.js';
import { type QspType, qspRecord } from '../trace/qsp.js';
import {
  callSite,
  nextObjectId,
  QSP_BIT,
  traceControl,
  traceLock,
  traceLocked,
  traceUnlock,
} from '../trace/trace.js';

/** Index of the lock word inside a mutex's storage (a recursive mutex keeps its depth after it). */
const LOCK = 0;
/**
 * Module-local copies of imported constants used on the fast paths: V8 reads a module's own constant
 * faster than an imported binding (which it must check for initialization on every read). Measured on
 * lock + unlock: about 3 ns of 22 (the bench's workload 1).
 */
const FREE = FREE_VALUE;
const SELF = SELF_VALUE;
const TRACE = traceControl;
/** The mutex's number for trace output (a recursive mutex keeps it at the same index). */
export const MUTEX_ID = 1;

/**
 * Locks the word at index 0 of `w` for the calling thread; `func` names the caller in errors. With
 * tracing on, emits qemu_mutex_lock before and qemu_mutex_locked after.
 */
export function lockWord(w: Int32Array, func: string): void {
  if (TRACE[0] !== 0) {
    lockWordTraced(w, func);
    return;
  }
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) lockWordSlow(w, func);
}

function lockWordTraced(w: Int32Array, func: string): void {
  const id = w[MUTEX_ID];
  const site = callSite();
  traceLock(id, site);
  if (TRACE[0] & QSP_BIT) {
    const start = performance.now();
    lockWordUntraced(w, func);
    qspRecord(qspTypeOf(func), id, site, (performance.now() - start) * 1e6, true);
  } else {
    lockWordUntraced(w, func);
  }
  noteHeld(id);
  noteTakenSite(id, site);
  traceLocked(id, site);
}

function qspTypeOf(func: string): QspType {
  return func.startsWith('qemu_rec_mutex') ? 'rec_mutex' : 'mutex';
}

/** As {@link lockWord}, without trace events (a cond wait's relock emits its own). */
export function lockWordUntraced(w: Int32Array, func: string): void {
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) lockWordSlow(w, func);
}

function lockWordSlow(w: Int32Array, func: string): void {
  try {
    lockWordBlocking(w, func);
  } finally {
    // However the call ends, this thread is no longer blocked: the deadlock check must never see it so.
    noteUnblocked();
  }
}

function lockWordBlocking(w: Int32Array, func: string): void {
  if (spinForLock(w)) return;
  // Once this thread has parked it must take the lock as contended: it cannot know who else sleeps.
  let mine = SELF;
  let siteNoted = false;
  try {
    for (;;) {
      const next = lockStep(w, func, mine);
      if (next === TAKEN) return;
      if (next === LOOK_AGAIN) continue;
      if (mine === SELF) refuseToBlock(func, `${func}_async`);
      noteWaiting(w[MUTEX_ID]);
      noteBlocked(w[MUTEX_ID], ownerThread(next), mine === SELF);
      // Never an unbounded sleep on a holder that may have ended: every OWNER_CHECK_MS the sleeper wakes to
      // look, which costs nothing while the holder lets go sooner.
      const result = park(w, LOCK, next, OWNER_CHECK_MS);
      noteAwake();
      mine = SELF | CONTENDED;
      if (result !== 'timed-out') continue;
      // Stuck for a while: now a stack capture costs nothing that matters, and names the code in a report.
      if (!siteNoted) noteWaitSite(callSite());
      siteNoted = true;
      if (blockedFor() >= CHECK_AFTER_MS) refuseDeadlock(w, func);
    }
  } finally {
    if (siteNoted) forgetWaitSite();
  }
}

/**
 * Spins (bounded and adaptive, see park.ts) while another thread holds the lock, since a holder on another
 * core usually lets go soon; true if it took the lock. Leaves every error to {@link lockStep}.
 */
function spinForLock(w: Int32Array): boolean {
  const budget = nextSpinBudget();
  for (let i = 0; i < budget; i += SPIN_STEP) {
    const v = Atomics.load(w, LOCK);
    if (v === FREE) {
      if (Atomics.compareExchange(w, LOCK, FREE, SELF) === FREE) {
        spinPaidOff(i);
        return true;
      }
    } else if (v < HELD_MIN || (v & ~OWNER_FLAGS) === SELF) {
      return false;
    }
    relax();
  }
  spinWasted();
  return false;
}

/** {@link lockStep}'s answers besides a value to park on (which is always >= HELD_MIN). */
const TAKEN = 0;
const LOOK_AGAIN = 1;

/**
 * One look at the lock word by a locker that has stopped spinning, shared by the blocking and the async
 * lock: takes the lock as `mine` (TAKEN), finds that the word moved under it (LOOK_AGAIN), or returns the
 * value to park on, `owner | CONTENDED`, having made sure the word holds it. Fails for an unusable word,
 * for the caller's own lock (EDEADLK), and with EOWNERDEAD (holding the lock) for a dead owner.
 */
function lockStep(w: Int32Array, func: string, mine: number): number {
  const v = Atomics.load(w, LOCK);
  if (v === FREE) return Atomics.compareExchange(w, LOCK, FREE, mine) === FREE ? TAKEN : LOOK_AGAIN;
  if (v < HELD_MIN) unusable(v, func);
  if ((v & ~OWNER_FLAGS) === SELF) fail('EDEADLK', func, 'the calling thread already holds this mutex');
  if (hasEnded(ownerThread(v))) {
    takeFromDeadOwner(w, v, func);
    return LOOK_AGAIN;
  }
  if ((v & CONTENDED) === 0 && Atomics.compareExchange(w, LOCK, v, v | CONTENDED) !== v) return LOOK_AGAIN;
  return v | CONTENDED;
}

/**
 * The async lock: as {@link lockWord}, but waits with Atomics.waitAsync (park.ts), so the calling thread's
 * event loop keeps running. The lock belongs to the thread, as every QemuMutex does: two async tasks of
 * one thread do not exclude each other, and the second one's lock fails with EDEADLK.
 */
export async function lockWordAsync(w: Int32Array, func: string, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  const traced = TRACE[0] !== 0;
  const id = w[MUTEX_ID];
  const site = traced ? callSite() : '';
  if (traced) traceLock(id, site);
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) await lockWordAsyncSlow(w, func, signal);
  if (traced) {
    noteHeld(id);
    noteTakenSite(id, site);
    traceLocked(id, site);
  }
}

/** As {@link lockWordAsync}, without trace events (an async cond wait's relock emits its own). */
export async function lockWordAsyncUntraced(
  w: Int32Array,
  func: string,
  signal?: AbortSignal,
): Promise<void> {
  if (Atomics.compareExchange(w, LOCK, FREE, SELF) !== FREE) await lockWordAsyncSlow(w, func, signal);
}

async function lockWordAsyncSlow(w: Int32Array, func: string, signal?: AbortSignal): Promise<void> {
  let mine = SELF;
  try {
    for (;;) {
      const next = lockStep(w, func, mine);
      if (next === TAKEN) return;
      if (next === LOOK_AGAIN) continue;
      // Recorded as the blocking lock records itself, so that the waiter shows in waiters() and a cycle
      // through it is found. Its thread runs other tasks meanwhile, and one of them could still unlock what
      // the thread holds: a cycle through an async lock is reported once it has lasted CHECK_AFTER_MS, as a
      // lock-order inversion that holds it up, which is what it is even if a later unlock would have ended it.
      noteWaiting(w[MUTEX_ID]);
      noteBlocked(w[MUTEX_ID], ownerThread(next), mine === SELF);
      const result = await parkAsync(w, LOCK, next, OWNER_CHECK_MS, signal);
      noteAwake();
      if (result === 'aborted') throw abortReason(signal);
      mine = SELF | CONTENDED;
      if (result === 'timed-out' && blockedFor() >= CHECK_AFTER_MS) refuseDeadlock(w, func);
    }
  } finally {
    noteUnblocked();
  }
}

/** EDEADLK if this thread is the one to report a deadlock cycle it is part of (thread/deadlock.ts). */
function refuseDeadlock(w: Int32Array, func: string): void {
  // Refresh this thread's own edge from the word first, so the check reads what holds now.
  const v = Atomics.load(w, LOCK);
  if (v < HELD_MIN || (v & ~OWNER_FLAGS) === SELF) return;
  noteBlocked(w[MUTEX_ID], ownerThread(v), false);
  const cycle = findCycle();
  if (cycle === null) return;
  // Where each lock was taken is known only while tracing records it (thread/lock-sites.ts).
  const traced = TRACE[0] !== 0;
  const at = (site: string | null) => (site === null ? '' : ` at ${site}`);
  const path = cycle.map(
    (c) => `${describeThread(c.threadId)} waits for mutex #${c.mutexId}${at(waitSiteOf(c.threadId))}`,
  );
  const next = cycle.map((c, i) => {
    const taken = traced ? takenSiteOf(c.mutexId) : null;
    const holder = describeThread(cycle[(i + 1) % cycle.length].threadId);
    return `mutex #${c.mutexId} is held by ${holder}${taken === null ? '' : ` (taken at ${taken})`}`;
  });

  fail('EDEADLK', func, `deadlock: ${path.join(', ')}; ${next.join(', ')}`);
}

/** How often a thread parked on a mutex checks whether the holder has ended. */
const OWNER_CHECK_MS = 100;

/** EINVAL for a word that is not a usable mutex, ENOTRECOVERABLE for one that a dead owner ruined. */
function unusable(v: number, func: string): never {
  if (v === NOTRECOVERABLE) fail('ENOTRECOVERABLE', func, describeUnusable(v));
  fail('EINVAL', func, describeUnusable(v));
}

/**
 * The holder recorded in `v` has ended: takes the lock from it, marked INCONSISTENT (and CONTENDED, since
 * others may be parked), and fails with EOWNERDEAD while holding it, as POSIX robust mutexes do. Returns
 * only if another thread changed the word first (the caller then looks again).
 */
function takeFromDeadOwner(w: Int32Array, v: number, func: string): void {
  if (Atomics.compareExchange(w, LOCK, v, SELF | CONTENDED | INCONSISTENT) !== v) return;
  fail(
    'EOWNERDEAD',
    func,
    `thread ${ownerThread(v)} ended while holding it; the calling thread now holds it: repair what it ` +
      'protects, then call qemu_mutex_consistent before unlocking',
  );
}

/** Unlocks the word at index 0 of `w`, which the calling thread must hold; traced as qemu_mutex_unlock. */
export function unlockWord(w: Int32Array, func: string): void {
  if (TRACE[0] !== 0 && heldBySelf(w)) {
    traceUnlock(w[MUTEX_ID]);
    noteReleased(w[MUTEX_ID]);
  }
  if (Atomics.compareExchange(w, LOCK, SELF, FREE) !== SELF) unlockWordSlow(w, func);
}

/** As {@link unlockWord}, without the trace event (a cond wait emits its own). */
export function unlockWordUntraced(w: Int32Array, func: string): void {
  if (Atomics.compareExchange(w, LOCK, SELF, FREE) !== SELF) unlockWordSlow(w, func);
}

function unlockWordSlow(w: Int32Array, func: string): void {
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

/** Marks a mutex taken with EOWNERDEAD usable again; the caller must hold it. */
export function makeConsistent(w: Int32Array, func: string): void {
  const v = Atomics.load(w, LOCK);
  if ((v & ~OWNER_FLAGS) !== SELF) notHeldBySelf(v, func);
  if ((v & INCONSISTENT) === 0) fail('EINVAL', func, 'it is not inconsistent: its owner did not die');
  Atomics.and(w, LOCK, ~INCONSISTENT);
}

/** Fails with the error for a lock word that the calling thread does not hold. */
export function notHeldBySelf(v: number, func: string): never {
  if (v === FREE) fail('EPERM', func, 'it is not locked');
  if (v < HELD_MIN) unusable(v, func);
  fail('EPERM', func, `it is held by ${describeThread(ownerThread(v))}, not by the calling thread`);
}

/** 0 if the lock was taken, -16 (-EBUSY) if it is held by anyone (the caller included). */
export function tryLockWord(w: Int32Array, func: string): number {
  if (TRACE[0] !== 0) return tryLockWordTraced(w, func);
  const v = Atomics.compareExchange(w, LOCK, FREE, SELF);
  if (v === FREE) return 0;
  return tryLockFailed(w, v, func);
}

/** -16 (-EBUSY) for a held lock; the error for an unusable one; EOWNERDEAD (holding it) for a dead owner. */
function tryLockFailed(w: Int32Array, v: number, func: string): number {
  if (v < HELD_MIN) unusable(v, func);
  if ((v & ~OWNER_FLAGS) !== SELF && hasEnded(ownerThread(v))) {
    takeFromDeadOwner(w, v, func);
    return tryLockWord(w, func);
  }
  return -16;
}

function tryLockWordTraced(w: Int32Array, func: string): number {
  const id = w[MUTEX_ID];
  const site = callSite();
  const start = performance.now();
  const v = Atomics.compareExchange(w, LOCK, FREE, SELF);
  if (TRACE[0] & QSP_BIT) qspRecord(qspTypeOf(func), id, site, (performance.now() - start) * 1e6, v === FREE);
  if (v === FREE) {
    noteHeld(id);
    noteTakenSite(id, site);
    traceLocked(id, site);
    return 0;
  }
  return tryLockFailed(w, v, func);
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
    makeConsistent(this.words, 'qemu_mutex_consistent');
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
      since: heldSinceMs(this.words[MUTEX_ID]),
    };
  }

  /** The threads parked waiting for this mutex now, with when each went to sleep. */
  waiters(): Waiter[] {
    return waitersOf(this.words[MUTEX_ID]);
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
