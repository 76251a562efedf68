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

/** "not initialized" / "destroyed" for a word below HELD_MIN that is not FREE. */
export function describeUnusable(word: number): string {
  if (word === NOTRECOVERABLE) return 'its owner died and it was unlocked without qemu_mutex_consistent';
  return word === DESTROYED ? 'it was destroyed' : 'it was never initialized';
}
