/**
 * Thread functions for fuzz-regressions.test.ts: deterministic replays of interleavings the free-running
 * fuzz found. Each reports through shared words (STARTED, OUTCOME / ACQUIRED) so the main thread never
 * has to join a thread before it knows the thread has finished.
 */
import {
  type QemuLockCnt,
  QemuThreadError,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
} from 'qemu-thread';
import { publishOsThread } from '../../support/os-thread.js';

/** Words of RegressArg.flags. A_STARTED and B_STARTED hold the thread's kernel id (os-thread.ts). */
export const A_STARTED = 0;
/** The dec_and_lock's outcome: OUT_EINVAL, OUT_TRUE, OUT_FALSE or OUT_OTHER. */
export const A_OUTCOME = 1;
export const B_STARTED = 2;
export const B_ACQUIRED = 3;
export const FLAG_WORDS = 4;
export const OUT_EINVAL = 1;
export const OUT_TRUE = 2;
export const OUT_FALSE = 3;
export const OUT_OTHER = 4;

export interface RegressArg {
  l: QemuLockCnt;
  flags: Int32Array;
}

function set(flags: Int32Array, index: number, value: number): void {
  Atomics.store(flags, index, value);
  Atomics.notify(flags, index);
}

/** Thread A: qemu_lockcnt_dec_and_lock, which must wait for the lock the main thread holds. */
export function decAndLockWaiter(arg: RegressArg): void {
  publishOsThread(arg.flags, A_STARTED);
  let outcome = OUT_OTHER;
  try {
    outcome = qemu_lockcnt_dec_and_lock(arg.l) ? OUT_TRUE : OUT_FALSE;
    if (outcome === OUT_TRUE) qemu_lockcnt_unlock(arg.l);
  } catch (e) {
    if (e instanceof QemuThreadError && e.code === 'EINVAL') outcome = OUT_EINVAL;
  } finally {
    set(arg.flags, A_OUTCOME, outcome);
  }
}

/** Thread B: a plain qemu_lockcnt_lock / unlock, parked behind thread A. */
export function lockWaiter(arg: RegressArg): void {
  publishOsThread(arg.flags, B_STARTED);
  qemu_lockcnt_lock(arg.l);
  set(arg.flags, B_ACQUIRED, 1);
  qemu_lockcnt_unlock(arg.l);
}
