/**
 * QemuSpin: QEMU's spinlock, test-and-test-and-set on one word, with the owner recorded.
 *
 * State (one Int32, encoded as a mutex word, see owner.ts): UNINIT 0, FREE 1, DESTROYED 2, or the
 * owner's code. QEMU's spinlock keeps no owner; keeping it costs nothing here and turns a relock by the
 * holder (which would spin forever) into EDEADLK and an unlock by someone else into EPERM.
 *
 * lock: compareExchange FREE -> SELF; on failure re-read the word until it looks FREE, then try again.
 * Between reads the waiter relaxes (park.ts relax(): `Atomics.pause`, QEMU's `cpu_relax`, where the
 * engine has it), and after a bounded burst of reads it sleeps on the word for up to 1 ms at a time;
 * unlock is a compareExchange SELF -> FREE (for the owner check) with no notify, as in QEMU, so a holder
 * never pays for waiters. A spinlock is for short critical sections: use QemuMutex for anything that may block.
 *
 * The naps are a spinner's backoff, not waits: like QEMU, which instruments no spinlock, they call no hooks
 * (a napping locker shows in no waiter list, and no trace event or profiler row is made).
 */
import { fail } from '../errors.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { DESTROYED, describeUnusable, FREE, HELD_MIN, ownerThread, SELF } from '../owner.js';
import { park, refuseToBlock, relax, SPIN_STEP } from '../park.js';
import { ownerEnded, takeOver } from '../robust.js';
import { describeThread } from '../thread/names.js';
import { describeWord, MutexGuard, notHeldBySelf } from './mutex.js';

const WORD = 0;
const KIND = 'QemuSpin';
/** How many reads a waiter makes between naps (in plain reads: see park.ts SPIN_STEP). */
const SPIN_READS = 1000;
/** How long a waiter sleeps between bursts of reads, in milliseconds. */
const NAP_MS = 1;

/**
 * A QEMU spinlock (`QemuSpin`), for very short critical sections: a waiter re-reads the lock word rather
 * than sleeping at once (after a burst of reads it naps 1 ms at a time, since a JS thread cannot yield its core), and
 * an unlock never pays for waiters. The owner is recorded, so a relock is `EDEADLK` and a foreign unlock
 * `EPERM` instead of a hang. Use {@link QemuMutex} for anything that may take long.
 *
 * Note QEMU's inverted convention in the functional face: {@link qemu_spin_trylock} returns true when it
 * FAILED; the method {@link QemuSpin.tryLock} returns true when it took the lock.
 *
 * @example
 * ```ts
 * import { QemuSpin, qemu_spin_trylock } from 'qemu-thread';
 *
 * const s = QemuSpin.create();
 * s.lock();
 * console.log(s.isLocked(), qemu_spin_trylock(s)); // true true
 * s.unlock();
 * console.log(s.tryLock()); // true
 * s.unlock();
 * ```
 */
export class QemuSpin extends SharedStorage {
  /** Bytes of shared memory one QemuSpin occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 4;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuSpin.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuSpin.BYTES, buffer, byteOffset);
  }

  /** A new, initialized QemuSpin: the constructor followed by `init`. */
  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuSpin {
    const s = new QemuSpin(buffer, byteOffset);
    s.init();
    return s;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuSpin.from'): QemuSpin {
    if (value instanceof QemuSpin) return value;
    return reviveAs(value, KIND, (c) => new QemuSpin(c.buffer, c.byteOffset), func);
  }

  /** Makes the spinlock usable and unlocked (`qemu_spin_init`). `EBUSY` if a thread holds it. */
  init(): void {
    const v = Atomics.load(this.words, WORD);
    if (v >= HELD_MIN) fail('EBUSY', 'qemu_spin_init', 'it is held');
    Atomics.store(this.words, WORD, FREE);
  }

  /** Ends its use (`qemu_spin_destroy`). `EBUSY` while it is held. */
  destroy(): void {
    const v = Atomics.compareExchange(this.words, WORD, FREE, DESTROYED);
    if (v === FREE) return;
    if (v >= HELD_MIN) fail('EBUSY', 'qemu_spin_destroy', 'it is held');
    fail('EINVAL', 'qemu_spin_destroy', describeUnusable(v));
  }

  /**
   * Takes the spinlock (`qemu_spin_lock`). `EDEADLK` if the calling thread holds it; `EPERM` on a thread
   * that may not block, when it would have to wait (spin with {@link tryLock} there).
   */
  lock(): void {
    const w = this.words;
    if (Atomics.compareExchange(w, WORD, FREE, SELF) === FREE) return;
    for (;;) {
      let v = Atomics.load(w, WORD);
      if (v < HELD_MIN && v !== FREE) fail('EINVAL', 'qemu_spin_lock', describeUnusable(v));
      if (v === SELF) fail('EDEADLK', 'qemu_spin_lock', 'the calling thread already holds this spinlock');
      for (let i = 0; i < SPIN_READS && v !== FREE; i += SPIN_STEP) {
        relax();
        v = Atomics.load(w, WORD);
      }
      if (v === FREE) {
        if (Atomics.compareExchange(w, WORD, FREE, SELF) === FREE) return;
        continue;
      }
      refuseToBlock('qemu_spin_lock', 'qemu_spin_trylock');
      park(w, WORD, v, NAP_MS);
      takeFromDeadOwner(w, v);
    }
  }

  /** Takes the lock if it is free; true on success (the functional `qemu_spin_trylock` is inverted). */
  tryLock(): boolean {
    const v = Atomics.compareExchange(this.words, WORD, FREE, SELF);
    if (v === FREE) return true;
    if (v < HELD_MIN) fail('EINVAL', 'qemu_spin_trylock', describeUnusable(v));
    return false;
  }

  /** Releases the spinlock (`qemu_spin_unlock`). `EPERM` unless the calling thread holds it. */
  unlock(): void {
    const v = Atomics.compareExchange(this.words, WORD, SELF, FREE);
    if (v !== SELF) notHeldBySelf(v, 'qemu_spin_unlock');
  }

  /** Whether anyone holds it now. */
  isLocked(): boolean {
    const v = Atomics.load(this.words, WORD);
    if (v < HELD_MIN && v !== FREE) fail('EINVAL', 'qemu_spin_locked', describeUnusable(v));
    return v >= HELD_MIN;
  }

  /** Locks and returns a guard whose disposal unlocks: `using _ = s.guard();`. */
  guard(): Disposable {
    this.lock();
    return new MutexGuard(this);
  }

  override toString(): string {
    return `QemuSpin { ${describeWord(Atomics.load(this.words, WORD))} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * A spinlock whose holder has ended would make every locker spin for ever: QEMU's C threads cannot die
 * alone, but a JS thread can be terminated. So a locker whose nap saw the word unchanged checks the holder,
 * and takes the lock over from a holder that has ended, failing with EOWNERDEAD while holding it (robust.ts;
 * a spinlock has no consistent(): the caller repairs, then unlocks).
 */
function takeFromDeadOwner(w: Int32Array, v: number): void {
  if (v < HELD_MIN || Atomics.load(w, WORD) !== v || !ownerEnded(v) || !takeOver(w, WORD, v, SELF)) return;
  fail(
    'EOWNERDEAD',
    'qemu_spin_lock',
    `${describeThread(ownerThread(v))} ended while holding it; the calling thread now holds it: repair what ` +
      'it protects, then unlock it',
  );
}

registerKind(KIND, (c: StorageClone) => new QemuSpin(c.buffer, c.byteOffset));
