/**
 * QemuLockCnt: a count of "visitors" plus a lock, in one futex word (QEMU's util/lockcnt.c, futex variant).
 *
 * State (four Int32): STATE (lifecycle.ts); WORD, whose bits 0-1 are the lock (FREE 0, LOCKED 1,
 * WAITING 2 = locked with possible sleepers) and bits 2-31 the count, in steps of 4; OWNER, the code of
 * the thread holding the lock (owner.ts) or 0, written only by the holder, used for error checks; ID, the
 * lockcnt's number in QEMU's lockcnt_* trace events, emitted at QEMU's points through the hooks (hooks.ts).
 *
 * The rule it enforces: the count can go from 0 to 1 only while the lock is free, so a thread that holds
 * the lock with the count at 0 may free what visitors use.
 *
 * Waiting is Drepper's mutex2: a thread that finds the lock taken turns LOCKED into WAITING and parks on the
 * whole word (LOCK_FREE_WAIT, run by wait.ts); whoever clears the lock bits and saw WAITING wakes one sleeper. A woken thread has in effect
 * inherited the lock's wake-up duty: it takes the lock as WAITING (it cannot know who else sleeps), and if
 * it leaves without the lock (inc, or a dec that did not reach 0) it wakes one sleeper itself. That is
 * why no wake-up is lost: every sleeper parked on a WAITING value, and every transition out of WAITING is
 * followed by a notify, either by the unlocker or by the woken thread passing it on.
 */
import { fail } from '../errors.js';
import { CONTROL_ENABLED, control, hooks, KIND_LOCKCNT, nextObjectId } from '../hooks.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { checkReady, markDestroyed, markReady, STATE, stateName } from '../lifecycle.js';
import { ownerThread, READY_LOCKCNT, SELF } from '../owner.js';
import { wake } from '../park.js';
import { ownerEnded, takeOver } from '../robust.js';
import { describeThread } from '../thread/names.js';
import { AGAIN, DONE, type Protocol, SLEPT, sleepOn, waitBlocking } from '../wait.js';
import { MutexGuard } from './mutex.js';

const WORD = 1;
const OWNER = 2;
/** How often a thread parked for the lock checks whether its holder has ended. */
const OWNER_CHECK_MS = 100;
/** The lockcnt's number in trace lines, given at init. */
const ID = 3;
/** Module-local names for the instrumentation switch (see mutex.ts). */
const SWITCH = control;
const ENABLED = CONTROL_ENABLED;

/** Emits one of QEMU's lockcnt trace events at its point (hooks.ts); a single branch while all is off. */
function trace(w: Int32Array, name: string, a = 0, b = 0): void {
  if (SWITCH[ENABLED] !== 0) hooks.point(name, w[ID], a, b);
}
/** Word 0 of a usable lockcnt (owner.ts: each kind has its own). */
const READY = READY_LOCKCNT;
const KIND = 'QemuLockCnt';

const STATE_MASK = 3;
const L_FREE = 0;
const L_LOCKED = 1;
const L_WAITING = 2;
const COUNT_STEP = 4;
const COUNT_SHIFT = 2;

/** Set by LOCK_FREE_WAIT when it slept (blocking waits of one thread do not nest: one flag suffices). */
let sleptInWait = false;

/**
 * One look of a thread waiting for the lock to be free, QEMU's wait loop: DONE once the lock bits are
 * FREE; LOCKED is first turned into WAITING (so that the unlock will notify); then sleep on the WAITING
 * word. After a sleep: a lockcnt destroyed meanwhile passes on the wake-up this thread may have taken and
 * fails; a holder that ended is taken over (EOWNERDEAD, robust.ts).
 */
function lockFreeStep(w: Int32Array, func: string, flags: number): number {
  if (flags & SLEPT) {
    if (Atomics.load(w, STATE) !== READY) {
      wake(w, WORD, 1);
      checkReady(w, READY, func);
    }
    takeFromDeadOwner(w, func);
  }
  const v = Atomics.load(w, WORD);
  if ((v & STATE_MASK) === L_FREE) return DONE;
  if ((v & STATE_MASK) === L_LOCKED) {
    const next = v - L_LOCKED + L_WAITING;
    trace(w, 'lockcnt_futex_wait_prepare', v, next);
    Atomics.compareExchange(w, WORD, v, next);
    return AGAIN;
  }
  trace(w, 'lockcnt_futex_wait', v);
  return sleepOn(v);
}

/** The wait for a free lock, in slices of OWNER_CHECK_MS: never unbounded on a holder that may have ended. */
const LOCK_FREE_WAIT: Protocol = {
  kind: KIND_LOCKCNT,
  index: WORD,
  idIndex: ID,
  sliceMs: OWNER_CHECK_MS,
  asyncSuffix: null,
  step: lockFreeStep,
  afterSleep: (w) => {
    sleptInWait = true;
    trace(w, 'lockcnt_futex_wait_resume', Atomics.load(w, WORD));
  },
  enter: null,
  leave: null,
  timedOut: () => false,
};

/**
 * If the thread recorded as holding the lock has ended, takes the lock over (it stays locked, now by the
 * calling thread) and fails with EOWNERDEAD, as a robust mutex does: what the lock protected may be half
 * changed, and only the caller can tell.
 */
function takeFromDeadOwner(w: Int32Array, func: string): void {
  const owner = Atomics.load(w, OWNER);
  if (owner === 0 || owner === SELF || !ownerEnded(owner) || !takeOver(w, OWNER, owner, SELF)) return;
  fail(
    'EOWNERDEAD',
    func,
    `${describeThread(ownerThread(owner))} ended while holding its lock; the calling thread now holds it: ` +
      'repair what it protects, then call qemu_lockcnt_unlock',
  );
}

/** Result of {@link QemuLockCnt.casOrWait}. */
interface Attempt {
  /** The word's latest known value. */
  value: number;
  /** Set once this thread has parked: see the header comment. */
  waited: boolean;
}

/**
 * QEMU's lock-and-counter (`QemuLockCnt`, docs/devel/lockcnt.txt in QEMU): a count of "visitors" reading
 * a shared structure without a lock, plus a lock that a writer takes to change or free it. A visitor calls
 * {@link QemuLockCnt.inc} before it reads and {@link QemuLockCnt.dec} after; whoever removes an element
 * frees it only once no visitor can see it: when {@link QemuLockCnt.decAndLock} returns true (the count
 * reached 0 and it holds the lock), or under {@link QemuLockCnt.lock} while the count is 0.
 *
 * @example
 * ```ts
 * import { QemuLockCnt } from 'qemu-thread';
 *
 * const l = QemuLockCnt.create();
 * l.inc(); // a visitor starts walking the list
 * // ... read the list, without the lock ...
 * if (l.decAndLock()) {
 *   // the last visitor out, holding the lock: free what was removed from the list
 *   l.unlock();
 * }
 * console.log(l.count()); // 0
 * ```
 */
export class QemuLockCnt extends SharedStorage {
  /** Bytes of shared memory one QemuLockCnt occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 16;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuLockCnt.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuLockCnt.BYTES, buffer, byteOffset);
  }

  /** A new, initialized QemuLockCnt: the constructor followed by `init`. */
  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuLockCnt {
    const l = new QemuLockCnt(buffer, byteOffset);
    l.init();
    return l;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuLockCnt.from'): QemuLockCnt {
    if (value instanceof QemuLockCnt) return value;
    return reviveAs(value, KIND, (c) => new QemuLockCnt(c.buffer, c.byteOffset), func);
  }

  /**
   * Makes the lockcnt usable, count 0 and lock free (`qemu_lockcnt_init`). `EBUSY` while its lock is
   * held.
   */
  init(): void {
    const w = this.words;
    if (Atomics.load(w, STATE) === READY && (Atomics.load(w, WORD) & STATE_MASK) !== L_FREE) {
      fail('EBUSY', 'qemu_lockcnt_init', this.#holderDetail());
    }
    Atomics.store(w, WORD, 0);
    Atomics.store(w, OWNER, 0);
    Atomics.store(w, ID, nextObjectId());
    markReady(w, READY);
  }

  /** Ends its use (`qemu_lockcnt_destroy`). `EBUSY` while its lock is held. */
  destroy(): void {
    const w = this.words;
    if (Atomics.load(w, STATE) === READY && (Atomics.load(w, WORD) & STATE_MASK) !== L_FREE) {
      fail('EBUSY', 'qemu_lockcnt_destroy', this.#holderDetail());
    }
    markDestroyed(w, READY, 'qemu_lockcnt_destroy');
    // Threads parked for the lock would otherwise sleep forever: wake them to see it destroyed.
    wake(w, WORD, Number.POSITIVE_INFINITY);
  }

  /**
   * If the lock is free, tries once to compareExchange the word from `a.value` to `ifFree` (true on
   * success). Otherwise waits until the lock is free (LOCK_FREE_WAIT), notes in `a.waited` whether it
   * slept, and returns false without trying again, leaving the word's new value in `a.value`.
   */
  #casOrWait(a: Attempt, ifFree: number, func: string): boolean {
    const w = this.words;
    if ((a.value & STATE_MASK) === L_FREE) {
      trace(w, 'lockcnt_fast_path_attempt', a.value, ifFree);
      const seen = Atomics.compareExchange(w, WORD, a.value, ifFree);
      if (seen === a.value) {
        trace(w, 'lockcnt_fast_path_success', a.value, ifFree);
        a.value = ifFree;
        return true;
      }
      a.value = seen;
    }
    if ((a.value & STATE_MASK) !== L_FREE) {
      sleptInWait = false;
      waitBlocking(LOCK_FREE_WAIT, w, func, 0, Number.POSITIVE_INFINITY);
      if (sleptInWait) a.waited = true;
      a.value = Atomics.load(w, WORD);
    }
    return false;
  }

  /** Fails with EDEADLK if the calling thread holds the lock and `what` would wait for it forever. */
  #refuseSelfWait(func: string, what: string): void {
    if (Atomics.load(this.words, OWNER) === SELF) {
      fail('EDEADLK', func, `the calling thread holds this lockcnt's lock, and ${what}`);
    }
  }

  /** Adds a visitor. While the count is 0 this waits for the lock to be free. */
  inc(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_lockcnt_inc');
    const a: Attempt = { value: Atomics.load(w, WORD), waited: false };
    for (;;) {
      if (a.value >= COUNT_STEP) {
        const seen = Atomics.compareExchange(w, WORD, a.value, a.value + COUNT_STEP);
        if (seen === a.value) break;
        a.value = seen;
      } else {
        if ((a.value & STATE_MASK) !== L_FREE) {
          this.#refuseSelfWait('qemu_lockcnt_inc', 'the count is 0, so inc would wait for the lock');
        }
        if (this.#casOrWait(a, COUNT_STEP, 'qemu_lockcnt_inc')) break;
      }
    }
    if (a.waited) this.#wakeOne();
  }

  /** Wakes one thread parked on the word (QEMU's lockcnt_wake). */
  #wakeOne(): void {
    trace(this.words, 'lockcnt_futex_wake');
    wake(this.words, WORD, 1);
  }

  /** Removes a visitor. EINVAL if the count is already 0. */
  dec(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_lockcnt_dec');
    let v = Atomics.load(w, WORD);
    for (;;) {
      if (v < COUNT_STEP) fail('EINVAL', 'qemu_lockcnt_dec', 'the count is already 0');
      const seen = Atomics.compareExchange(w, WORD, v, v - COUNT_STEP);
      if (seen === v) return;
      v = seen;
    }
  }

  /** Removes a visitor; if the count reaches 0, returns true holding the lock. */
  decAndLock(): boolean {
    return this.#decLocking(false, 'qemu_lockcnt_dec_and_lock');
  }

  /** If the count is 1, makes it 0 and returns true holding the lock; otherwise does nothing (EINVAL at 0). */
  decIfLock(): boolean {
    return this.#decLocking(true, 'qemu_lockcnt_dec_if_lock');
  }

  #decLocking(onlyIfLast: boolean, func: string): boolean {
    const w = this.words;
    checkReady(w, READY, func);
    const a: Attempt = { value: Atomics.load(w, WORD), waited: false };
    let lockedState = L_LOCKED;
    for (;;) {
      if (a.value >= 2 * COUNT_STEP) {
        if (onlyIfLast) break;
        const seen = Atomics.compareExchange(w, WORD, a.value, a.value - COUNT_STEP);
        if (seen === a.value) break;
        a.value = seen;
        continue;
      }
      if (a.value < COUNT_STEP) {
        if (a.waited) wake(w, WORD, 1);
        fail('EINVAL', func, 'the count is already 0');
      }
      // Count 1 -> 0 takes the lock: (1, free) -> (0, locked), or (0, waiting) once this thread has slept.
      if ((a.value & STATE_MASK) !== L_FREE) {
        this.#refuseSelfWait(func, 'bringing the count to 0 would wait for the lock');
      }
      if (this.#casOrWait(a, lockedState, func)) {
        Atomics.store(w, OWNER, SELF);
        return true;
      }
      if (a.waited) lockedState = L_WAITING;
    }
    if (a.waited) this.#wakeOne();
    return false;
  }

  /** Takes the lock (the count is left as it is). */
  lock(): void {
    const w = this.words;
    checkReady(w, READY, 'qemu_lockcnt_lock');
    this.#refuseSelfWait('qemu_lockcnt_lock', 'the lock is not recursive');
    const a: Attempt = { value: Atomics.load(w, WORD), waited: false };
    let step = L_LOCKED;
    // The target only matters when the lock bits are FREE, so adding the lock state to the value is exact.
    while (!this.#casOrWait(a, a.value + step, 'qemu_lockcnt_lock')) {
      if (a.waited) step = L_WAITING;
    }
    Atomics.store(w, OWNER, SELF);
  }

  /** Releases the lock. EPERM unless the calling thread holds it. */
  unlock(): void {
    this.#release(0, 'qemu_lockcnt_unlock');
  }

  /** Adds a visitor and releases the lock, as one atomic step. */
  incAndUnlock(): void {
    this.#release(COUNT_STEP, 'qemu_lockcnt_inc_and_unlock');
  }

  #release(add: number, func: string): void {
    const w = this.words;
    checkReady(w, READY, func);
    if (Atomics.load(w, OWNER) !== SELF) fail('EPERM', func, this.#holderDetail());
    Atomics.store(w, OWNER, 0);
    let v = Atomics.load(w, WORD);
    for (;;) {
      const next = (v + add) & ~STATE_MASK;
      trace(w, 'lockcnt_unlock_attempt', v, next);
      const seen = Atomics.compareExchange(w, WORD, v, next);
      if (seen === v) {
        trace(w, 'lockcnt_unlock_success', v, next);
        break;
      }
      v = seen;
    }
    if (v & L_WAITING) this.#wakeOne();
  }

  /** The number of visitors (exact only while the lock is held). */
  count(): number {
    checkReady(this.words, READY, 'qemu_lockcnt_count');
    return Atomics.load(this.words, WORD) >>> COUNT_SHIFT;
  }

  /** Takes the lock and returns a guard whose disposal releases it: `using _ = l.guard();`. */
  guard(): Disposable {
    this.lock();
    return new MutexGuard(this);
  }

  #holderDetail(): string {
    const owner = Atomics.load(this.words, OWNER);
    if (owner === SELF) return 'the calling thread holds its lock';
    if (owner === 0) return 'its lock is not held by the calling thread';
    return `its lock is held by thread ${ownerThread(owner)}, not by the calling thread`;
  }

  override toString(): string {
    const state = stateName(this.words, READY);
    if (state !== null) return `QemuLockCnt { ${state} }`;
    const v = Atomics.load(this.words, WORD);
    const owner = Atomics.load(this.words, OWNER);
    const lock =
      (v & STATE_MASK) === L_FREE ? 'unlocked' : `locked by thread ${owner ? ownerThread(owner) : '?'}`;
    return `QemuLockCnt { count: ${v >>> COUNT_SHIFT}, ${lock} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuLockCnt(c.buffer, c.byteOffset));
