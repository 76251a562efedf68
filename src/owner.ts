/**
 * How a thread is named inside a lock word.
 *
 * Mutex-like words hold their owner: the value is `(threadId + 2) << 2`, with bit 0 left for the
 * "contended" flag and bit 1 for "inconsistent" (the previous owner died holding it; see robust.ts). The
 * `+ 2` keeps every owner code at 8 or above, so the small values 0, 1, 2 and 3 can mean "never
 * initialized", "free", "destroyed" and "not recoverable" in the same word. That makes the initialized check free:
 * the fast path compares against FREE and anything unexpected falls to the slow path, which tells the cases
 * apart.
 */
import { platform } from './platform/index.js';

/** Zero-filled storage: init was never called. */
export const UNINIT = 0;
/** Initialized and not held. */
export const FREE = 1;
/** Destroyed: like UNINIT, any use is EINVAL until the next init. */
export const DESTROYED = 2;
/** A robust mutex whose owner died and which was unlocked without being made consistent: unusable. */
export const NOTRECOVERABLE = 3;
/** The smallest owner code; every value at or above it means "held". */
export const HELD_MIN = 8;
/** Bit 0 of an owner code: somebody may be parked waiting for this lock. */
export const CONTENDED = 1;
/** Bit 1 of an owner code: the owner took it from a thread that died holding it, and has not yet called
 * consistent(). */
export const INCONSISTENT = 2;
/** The bits of an owner code that are flags, not the owner. */
export const OWNER_FLAGS = CONTENDED | INCONSISTENT;

/** The owner code of the calling thread. */
export const SELF = ownerCode(platform.threadId);

export function ownerCode(threadId: number): number {
  return (threadId + 2) << 2;
}

/** The thread id held in an owner code (the flag bits are ignored). */
export function ownerThread(code: number): number {
  return (code >> 2) - 2;
}

/** The calling thread's id, as the runtime numbers it (0 for Node's main thread). */
export const SELF_THREAD_ID = platform.threadId;

/**
 * Word 0 of the primitives that have no lock word (cond, semaphore, event, lockcnt) is a state word
 * (lifecycle.ts) whose "ready" value differs per kind, and falls in the gap between NOTRECOVERABLE and
 * the smallest owner code. So word 0 tells every initialized primitive's kind apart from the others' (the
 * mutex-like ones among themselves excepted, whose words mean the same): a primitive taken at the wrong
 * place, or from a forged clone that names another kind's memory, is refused instead of corrupting it.
 */
export const READY_COND = 4;
export const READY_SEMAPHORE = 5;
export const READY_EVENT = 6;
export const READY_LOCKCNT = 7;

const KIND_OF_READY: Record<number, string> = {
  [FREE]: 'a QemuMutex, QemuRecMutex or QemuSpin',
  [READY_COND]: 'a QemuCond',
  [READY_SEMAPHORE]: 'a QemuSemaphore',
  [READY_EVENT]: 'a QemuEvent',
  [READY_LOCKCNT]: 'a QemuLockCnt',
};

/** Why a word 0 that is not the expected kind's usable value makes the primitive unusable. */
export function describeUnusable(word: number): string {
  if (word === NOTRECOVERABLE) return 'its owner died and it was unlocked without qemu_mutex_consistent';
  if (word === DESTROYED) return 'it was destroyed';
  if (word === UNINIT) return 'it was never initialized';
  return `its memory holds ${whatWord0Holds(word)}: the primitive was placed over another one`;
}

/** What kind of primitive a word 0 shows ('a QemuCond', 'a held lock', ...), for error messages. */
export function whatWord0Holds(word: number): string {
  return KIND_OF_READY[word] ?? (word >= HELD_MIN ? 'a held lock' : `the value ${word}`);
}

/**
 * Whether `word` (word 0) can belong to a primitive of `kind`: any lock word value for the mutex-like
 * kinds, never initialized or destroyed or that kind's own ready value for the others. Other kinds
 * (QemuThread) are not checked.
 */
export function plausibleWord0(kind: string, word: number): boolean {
  switch (kind) {
    case 'QemuMutex':
    case 'QemuRecMutex':
    case 'QemuSpin':
      return word <= NOTRECOVERABLE || word >= HELD_MIN;
    case 'QemuCond':
      return word === UNINIT || word === DESTROYED || word === READY_COND;
    case 'QemuSemaphore':
      return word === UNINIT || word === DESTROYED || word === READY_SEMAPHORE;
    case 'QemuEvent':
      return word === UNINIT || word === DESTROYED || word === READY_EVENT;
    case 'QemuLockCnt':
      return word === UNINIT || word === DESTROYED || word === READY_LOCKCNT;
    default:
      return true;
  }
}
