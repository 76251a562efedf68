/**
 * Which threads have ended, for robust mutexes: a lock held by a thread that has ended is handed to the
 * next locker with EOWNERDEAD instead of leaving everyone waiting forever.
 *
 * State: a process-wide Int32Array in shared memory (platform.processShared), indexed by thread id modulo
 * SLOTS: `tid + 1` while that thread is alive, `-(tid + 1)` once it has ended, 0 if unknown. A thread
 * claims its slot when it loads the library, with a compareExchange that never takes a slot from a live
 * thread; so a thread can be reported dead only by its own id, and never by a collision (a thread whose
 * slot was taken is simply never reported dead: no false EOWNERDEAD, at worst no detection).
 *
 * Who reports an end: the thread itself when its function is over (returned, threw, qemu_thread_exit) and
 * when its runtime exits (process.exit in a worker); its creator when the worker is gone without a word.
 */
import { platform } from '../platform/index.js';

const SLOTS = 1 << 14;
const table = new Int32Array(platform.processShared('qemu-thread.liveness', SLOTS * 4));
const slotOf = (tid: number) => tid & (SLOTS - 1);

function claim(tid: number): void {
  const slot = slotOf(tid);
  for (;;) {
    const seen = Atomics.load(table, slot);
    if (seen > 0 && seen !== tid + 1) return;
    if (Atomics.compareExchange(table, slot, seen, tid + 1) === seen) return;
  }
}

/** Records that thread `tid` has ended (a no-op unless it holds its slot). */
export function markEnded(tid: number): void {
  Atomics.compareExchange(table, slotOf(tid), tid + 1, -(tid + 1));
}

/** True only if thread `tid` is known to have ended. */
export function hasEnded(tid: number): boolean {
  return Atomics.load(table, slotOf(tid)) === -(tid + 1);
}

/** The ids of the threads that have loaded the library and not ended, for inspection (a test's watchdog). */
export function liveThreadIds(): number[] {
  const ids: number[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    const v = Atomics.load(table, slot);
    if (v > 0) ids.push(v - 1);
  }
  return ids;
}

claim(platform.threadId);
if (!platform.isMainThread) platform.beforeThisThreadEnds(() => markEnded(platform.threadId));
