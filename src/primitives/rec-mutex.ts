/**
 * QemuRecMutex: a recursive mutex. The owner may lock it again; each lock needs its unlock.
 *
 * State: words 0-1 are a QemuMutex (lock word with owner code and CONTENDED bit, and the number that names
 * it in traces; see mutex.ts), word 2 the nesting depth. The depth is written only by the thread that
 * holds word 0 (and read by others only for toString), so it needs no atomicity of its own: the lock
 * word's ordering publishes it to the next owner.
 *
 * Instrumented as QEMU's rec-mutex, whose lock, trylock and unlock go through the mutex's every time:
 * a nested lock or unlock emits its trace events and a nested lock or trylock its profiler row (type
 * rec_mutex), like the outermost one; only the holder records (since when, where taken) stay the
 * outermost lock's.
 */
import {
  CONTROL_ENABLED,
  control,
  hooks,
  instrumentedLock,
  instrumentedLockAsync,
  KIND_REC_MUTEX,
  NESTED,
  TRYING,
} from '../hooks.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { HELD_MIN, OWNER_FLAGS, SELF } from '../owner.js';
import { abortReason, signalOf, type WaitOptions } from '../park.js';
import { makeConsistent } from '../robust.js';
import {
  describeWord,
  destroyWord,
  initWord,
  lockWordAsyncPlain,
  lockWordPlain,
  MUTEX_ID,
  MutexGuard,
  notHeldBySelf,
  tryLockWord,
  unlockWord,
} from './mutex.js';

const LOCK = 0;
/** After the lock word and the mutex's number (mutex.ts). */
const DEPTH = 2;
const KIND = 'QemuRecMutex';
/** Module-local names for the instrumentation switch (see mutex.ts). */
const SWITCH = control;
const ENABLED = CONTROL_ENABLED;
const TRYING_NESTED = TRYING | NESTED;

function heldBySelf(w: Int32Array): boolean {
  return (Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF;
}

/** NESTED if the calling thread holds the mutex already (for the call hooks). */
function nestedFlag(w: Int32Array): number {
  return heldBySelf(w) ? NESTED : 0;
}

/** The lock, uninstrumented: nests for the holder, else takes the lock word. */
function recLock(w: Int32Array, func: string): void {
  if (heldBySelf(w)) {
    w[DEPTH]++;
    return;
  }
  try {
    lockWordPlain(w, func);
  } finally {
    // Also when the lock came with EOWNERDEAD: the caller then holds it once.
    if (heldBySelf(w)) w[DEPTH] = 1;
  }
}

/** As {@link recLock}, waiting without blocking. */
async function recLockAsync(w: Int32Array, func: string, signal?: AbortSignal): Promise<void> {
  if (heldBySelf(w)) {
    w[DEPTH]++;
    return;
  }
  if (signal?.aborted) throw abortReason(signal);
  try {
    await lockWordAsyncPlain(w, func, signal);
  } finally {
    if (heldBySelf(w)) w[DEPTH] = 1;
  }
}

/**
 * A QEMU recursive mutex (`QemuRecMutex`): the thread that holds it may lock it again, and each lock needs
 * its unlock. Otherwise as {@link QemuMutex}, robust owner death included.
 *
 * @example
 * ```ts
 * import { QemuRecMutex } from 'qemu-thread';
 *
 * const m = QemuRecMutex.create();
 * m.lock();
 * m.lock(); // the owner nests
 * console.log(m.depthHeldBySelf()); // 2
 * m.unlock();
 * m.unlock(); // the last unlock releases it
 * console.log(m.depthHeldBySelf()); // 0
 * ```
 */
export class QemuRecMutex extends SharedStorage {
  /** Bytes of shared memory one QemuRecMutex occupies: what to reserve when placing it in your own buffer. */
  static readonly BYTES = 12;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. Initialize it before use: `init`, or {@link QemuRecMutex.create}
   * instead. A buffer that is not shared is a `TypeError`; a misaligned offset or a buffer too small, a
   * `RangeError`.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuRecMutex.BYTES, buffer, byteOffset);
  }

  /** A new, initialized QemuRecMutex: the constructor followed by `init`. */
  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuRecMutex {
    const m = new QemuRecMutex(buffer, byteOffset);
    m.init();
    return m;
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from(value: unknown, func = 'QemuRecMutex.from'): QemuRecMutex {
    if (value instanceof QemuRecMutex) return value;
    return reviveAs(value, KIND, (c) => new QemuRecMutex(c.buffer, c.byteOffset), func);
  }

  /** Makes the mutex usable and unlocked (`qemu_rec_mutex_init`). `EBUSY` if a thread holds it. */
  init(): void {
    initWord(this.words, 'qemu_rec_mutex_init');
    this.words[DEPTH] = 0;
  }

  /** Ends the mutex's use (`qemu_rec_mutex_destroy`). `EBUSY` while it is held. */
  destroy(): void {
    destroyWord(this.words, 'qemu_rec_mutex_destroy');
  }

  /**
   * Takes the mutex, or nests it if the calling thread holds it (`qemu_rec_mutex_lock`). Errors as
   * {@link QemuMutex.lock}, apart from the relock.
   */
  lock(): void {
    const w = this.words;
    if (SWITCH[ENABLED] !== 0) {
      instrumentedLock(KIND_REC_MUTEX, w[MUTEX_ID], nestedFlag(w), recLock, w, 'qemu_rec_mutex_lock');
      return;
    }
    recLock(w, 'qemu_rec_mutex_lock');
  }

  /** As {@link lock}, without blocking the calling thread (see QemuMutex.lockAsync). */
  async lockAsync(options?: WaitOptions): Promise<void> {
    const signal = signalOf(options, 'qemu_rec_mutex_lock_async');
    const w = this.words;
    if (SWITCH[ENABLED] !== 0) {
      const flags = nestedFlag(w);
      return instrumentedLockAsync(
        KIND_REC_MUTEX,
        w[MUTEX_ID],
        flags,
        recLockAsync,
        w,
        'qemu_rec_mutex_lock',
        signal,
      );
    }
    return recLockAsync(w, 'qemu_rec_mutex_lock', signal);
  }

  /** Takes (or nests) the lock if possible; true on success. */
  tryLock(): boolean {
    const w = this.words;
    if (heldBySelf(w)) {
      if (SWITCH[ENABLED] !== 0) {
        hooks.acquired(hooks.lockBegin(KIND_REC_MUTEX, w[MUTEX_ID], TRYING_NESTED), true);
      }
      w[DEPTH]++;
      return true;
    }
    try {
      if (tryLockWord(w, 'qemu_rec_mutex_trylock', KIND_REC_MUTEX) !== 0) return false;
    } finally {
      if (heldBySelf(w)) w[DEPTH] = 1;
    }
    return true;
  }

  /** As QemuMutex.consistent, after a lock that failed with EOWNERDEAD. */
  consistent(): void {
    makeConsistent(this.words, 'qemu_rec_mutex_consistent', notHeldBySelf);
  }

  /**
   * Undoes one lock (`qemu_rec_mutex_unlock`); the last one releases the mutex. `EPERM` unless the calling
   * thread holds it.
   */
  unlock(): void {
    const w = this.words;
    const v = Atomics.load(w, LOCK);
    if ((v & ~OWNER_FLAGS) !== SELF) notHeldBySelf(v, 'qemu_rec_mutex_unlock');
    if (--w[DEPTH] > 0) {
      if (SWITCH[ENABLED] !== 0) hooks.released(w[MUTEX_ID], NESTED);
      return;
    }
    unlockWord(w, 'qemu_rec_mutex_unlock');
  }

  /** The number this mutex got at init, which names it in trace lines and profiler reports. */
  objectId(): number {
    return this.words[MUTEX_ID];
  }

  /** How many times the calling thread has locked it (0 if it does not hold it). */
  depthHeldBySelf(): number {
    return heldBySelf(this.words) ? this.words[DEPTH] : 0;
  }

  /** Locks (or nests) and returns a guard whose disposal unlocks once: `using _ = m.guard();`. */
  guard(): Disposable {
    this.lock();
    return new MutexGuard(this);
  }

  override toString(): string {
    const v = Atomics.load(this.words, LOCK);
    const depth = v >= HELD_MIN ? `, depth ${this.words[DEPTH]}` : '';
    return `QemuRecMutex { ${describeWord(v)}${depth} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuRecMutex(c.buffer, c.byteOffset));
