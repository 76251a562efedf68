/**
 * QemuRecMutex: a recursive mutex. The owner may lock it again; each lock needs its unlock.
 *
 * State: words 0-1 are a QemuMutex (lock word with owner code and CONTENDED bit, and the number that names
 * it in traces; see mutex.ts), word 2 the nesting depth. The depth is written only by the thread that holds word 0 (and read by others only for
 * toString), so it needs no atomicity of its own: the lock word's ordering publishes it to the next owner.
 */
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { HELD_MIN, OWNER_FLAGS, SELF } from '../owner.js';
import type { WaitOptions } from '../park.js';
import {
  describeWord,
  destroyWord,
  initWord,
  lockWord,
  lockWordAsync,
  MutexGuard,
  makeConsistent,
  notHeldBySelf,
  tryLockWord,
  unlockWord,
} from './mutex.js';

const LOCK = 0;
/** After the lock word and the mutex's number (mutex.ts). */
const DEPTH = 2;
const KIND = 'QemuRecMutex';

/**
 * A QEMU recursive mutex.
 *
 * @example
 * ```ts
 * const m = QemuRecMutex.create();
 * m.lock(); m.lock();     // nests
 * m.unlock(); m.unlock(); // released by the second unlock
 * ```
 */
export class QemuRecMutex extends SharedStorage {
  static readonly BYTES = 12;

  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuRecMutex.BYTES, buffer, byteOffset);
  }

  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuRecMutex {
    const m = new QemuRecMutex(buffer, byteOffset);
    m.init();
    return m;
  }

  static from(value: unknown, func = 'QemuRecMutex.from'): QemuRecMutex {
    if (value instanceof QemuRecMutex) return value;
    return reviveAs(value, KIND, (c) => new QemuRecMutex(c.buffer, c.byteOffset), func);
  }

  init(): void {
    initWord(this.words, 'qemu_rec_mutex_init');
    this.words[DEPTH] = 0;
  }

  destroy(): void {
    destroyWord(this.words, 'qemu_rec_mutex_destroy');
  }

  lock(): void {
    const w = this.words;
    if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) {
      w[DEPTH]++;
      return;
    }
    try {
      lockWord(w, 'qemu_rec_mutex_lock');
    } finally {
      // Also when the lock came with EOWNERDEAD: the caller then holds it once.
      if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) w[DEPTH] = 1;
    }
  }

  /** As {@link lock}, without blocking the calling thread (see QemuMutex.lockAsync). */
  async lockAsync(options?: WaitOptions): Promise<void> {
    const w = this.words;
    if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) {
      w[DEPTH]++;
      return;
    }
    try {
      await lockWordAsync(w, 'qemu_rec_mutex_lock', options?.signal);
    } finally {
      if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) w[DEPTH] = 1;
    }
  }

  /** Takes (or nests) the lock if possible; true on success. */
  tryLock(): boolean {
    const w = this.words;
    if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) {
      w[DEPTH]++;
      return true;
    }
    try {
      if (tryLockWord(w, 'qemu_rec_mutex_trylock') !== 0) return false;
    } finally {
      if ((Atomics.load(w, LOCK) & ~OWNER_FLAGS) === SELF) w[DEPTH] = 1;
    }
    return true;
  }

  /** As QemuMutex.consistent, after a lock that failed with EOWNERDEAD. */
  consistent(): void {
    makeConsistent(this.words, 'qemu_rec_mutex_consistent');
  }

  unlock(): void {
    const w = this.words;
    const v = Atomics.load(w, LOCK);
    if ((v & ~OWNER_FLAGS) !== SELF) notHeldBySelf(v, 'qemu_rec_mutex_unlock');
    if (--w[DEPTH] > 0) return;
    unlockWord(w, 'qemu_rec_mutex_unlock');
  }

  /** How many times the calling thread has locked it (0 if it does not hold it). */
  depthHeldBySelf(): number {
    return (Atomics.load(this.words, LOCK) & ~OWNER_FLAGS) === SELF ? this.words[DEPTH] : 0;
  }

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
