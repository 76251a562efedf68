/**
 * Which threads have ended, for robust mutexes: a lock held by a thread that has ended is handed to the
 * next locker with EOWNERDEAD instead of leaving everyone waiting forever.
 *
 * State: a process-wide Int32Array in shared memory (platform.processShared), indexed by thread id modulo
 * SLOTS: `tid + 1` while that thread is alive, `-(tid + 1)` once its worker is gone, FINISHED(tid) (below
 * every other value) once it has finished all it will ever do but hand its result to a joiner, 0 if
 * unknown. A thread
 * claims its slot when it loads the library, with a compareExchange that never takes a slot from a live
 * thread; so a thread can be reported dead only by its own id, and never by a collision (a thread whose
 * slot was taken is simply never reported dead by the table: no false EOWNERDEAD).
 *
 * What "ended" means: the thread's worker has ended (its runtime exited, it was terminated, or its creator
 * ended and took it along), not merely its function: a worker runs on after its function returns while
 * timers or messages keep it busy, and a lock such a callback takes is held, not abandoned. A worker that
 * has nothing left to run but a large result to hand over (parked in the result pipe until its joiner
 * reads) has ended too as far as its locks go (FINISHED): it will never run code that could release them.
 * The result pipe asks the stricter question, whether the worker is gone ({@link isGone}).
 *
 * Who reports an end: the thread itself as its runtime exits; its creator when the worker is gone without
 * a word (terminated), or as the creator itself ends.
 *
 * Import order: the table reaches threads through their creators (environment data on Node), so a worker
 * that loaded the library before the main thread did has a table of its own, which the rest of the process
 * never reads. Such a thread, and the threads it creates, also announce every end on a broadcast channel
 * (platform.announceEnded); a thread that finds a thread unknown in its own table looks there. That
 * reaches every thread that had loaded the library by the time of the end (an end announced before a
 * thread loaded the library is not seen by it: that thread then waits on such a lock as on a live one).
 */
import { platform } from '../platform/index.js';

const KEY = 'qemu-thread.liveness';
const SLOTS = 1 << 14;
const table = new Int32Array(platform.processShared(KEY, SLOTS * 4));
const slotOf = (tid: number) => tid & (SLOTS - 1);
/** This thread's table is its own (see above): its ends must be announced to the others too. */
const privateTable = !platform.isMainThread && platform.madeShared(KEY);

/** Ends announced on the channel, as seen by this thread; and when it last looked (ms). */
const announcedEnds = new Set<number>();
let lastLook = Number.NEGATIVE_INFINITY;
/** The channel is read at most this often: a locker asks on every slow-path round. */
const LOOK_EVERY_MS = 5;

function claim(tid: number): void {
  const slot = slotOf(tid);
  for (;;) {
    const seen = Atomics.load(table, slot);
    if (seen > 0 && seen !== tid + 1) return;
    if (Atomics.compareExchange(table, slot, seen, tid + 1) === seen) return;
  }
}

/** The value of a thread that has FINISHED (see above): below every `-(tid + 1)`. */
const finished = (tid: number) => -(tid + 1) - 2 ** 30;

/** Records that thread `tid`'s worker is gone (in the table only if it holds its slot). */
export function markEnded(tid: number): void {
  const slot = slotOf(tid);
  if (Atomics.compareExchange(table, slot, finished(tid), -(tid + 1)) === finished(tid)) return;
  Atomics.compareExchange(table, slot, tid + 1, -(tid + 1));
  if (privateTable) platform.announceEnded(tid);
}

/** Records that thread `tid` will run no more code but the hand-over of its result (see FINISHED above). */
export function markFinished(tid: number): void {
  Atomics.compareExchange(table, slotOf(tid), tid + 1, finished(tid));
  if (privateTable) platform.announceEnded(tid);
}

/** True only if thread `tid`'s worker is known to be gone. */
export function isGone(tid: number): boolean {
  return Atomics.load(table, slotOf(tid)) === -(tid + 1);
}

/** True only if thread `tid` is known to have ended: gone, or FINISHED. */
export function hasEnded(tid: number): boolean {
  const v = Atomics.load(table, slotOf(tid));
  if (v === -(tid + 1) || v === finished(tid)) return true;
  if (v === tid + 1) return false;
  // Unknown here: it may be a thread whose table is not this one's.
  const now = performance.now();
  if (now - lastLook >= LOOK_EVERY_MS) {
    lastLook = now;
    for (const ended of platform.takeAnnouncedEnds()) announcedEnds.add(ended);
  }
  return announcedEnds.has(tid);
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
// Listen from now on (the first look opens the channel).
platform.takeAnnouncedEnds();
if (!platform.isMainThread) platform.beforeThisThreadEnds(() => markEnded(platform.threadId));
