/**
 * Who waits for what, and since when: the data behind QemuMutex.holder()/waiters(), QemuCond's
 * parkedThreads() and the demo machine's `info locks`, for the hours spent on "who holds this lock, and
 * why is everyone waiting".
 *
 * State: one process-wide block in shared memory (platform.processShared). Per thread (slot = thread id
 * modulo SLOTS), ENTRIES waiting records, one per wait the thread is asleep in (a blocking one, and async
 * ones: a thread may have several async waits pending at once): TAG, `tid + 1` while the record is in use
 * (0: free); ON, the number of the mutex (positive) or cond (negative) it sleeps on; SINCE, when it went to
 * sleep. And HELD_SINCE, indexed by mutex number modulo SLOTS, when the current holder took the mutex.
 *
 * Cost: a thread records its waits only on the slow path, just before it sleeps (the park layer's
 * beforeSleep hook), where a kernel wake-up costs far more; so waiters are always known. Holding times cost
 * a clock read on every lock, so they are recorded only while tracing or the profiler is on (HELD_SINCE is
 * 0 otherwise). A thread with more than ENTRIES waits asleep at once is shown in the first ENTRIES.
 *
 * A thread that ended asleep (terminated in a wait) never erases its records: readers skip the records of
 * threads that have ended (thread/liveness.ts), so lists show live threads only; the slot is reused by
 * the next thread that maps to it.
 */
import type { Waiter } from '../hooks.js';
import { platform } from '../platform/index.js';
import { hasEnded } from '../thread/liveness.js';

const SLOTS = 1 << 14;
const ENTRIES = 4;
const INTS = 2;
const TAG = 0;
const ON = 1;
const RECORDS = SLOTS * ENTRIES;
const buffer = platform.processShared('qemu-thread.holders', RECORDS * INTS * 4 + RECORDS * 8 + SLOTS * 8);
const records = new Int32Array(buffer, 0, RECORDS * INTS);
const waitSince = new Float64Array(buffer, RECORDS * INTS * 4, RECORDS);
const heldSince = new Float64Array(buffer, RECORDS * INTS * 4 + RECORDS * 8, SLOTS);

const slotOf = (n: number) => n & (SLOTS - 1);
const me = platform.threadId;
const MY_FIRST = slotOf(me) * ENTRIES;

/** Milliseconds since the epoch, comparable between threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Records that the calling thread is about to sleep waiting for mutex `id` (or cond `-id`); returns the
 * record for {@link noteAwake}, -1 if all of the thread's records are in use.
 */
export function noteWaiting(id: number): number {
  for (let r = MY_FIRST; r < MY_FIRST + ENTRIES; r++) {
    if (Atomics.load(records, r * INTS + TAG) !== me + 1) {
      waitSince[r] = epochMs();
      Atomics.store(records, r * INTS + ON, id);
      Atomics.store(records, r * INTS + TAG, me + 1);
      return r;
    }
  }
  return -1;
}

/** Records that the sleep {@link noteWaiting} recorded is over. */
export function noteAwake(record: number): void {
  if (record >= 0) Atomics.store(records, record * INTS + TAG, 0);
}

/** Records when the calling thread took mutex `id` (called only while tracing or profiling). */
export function noteHeld(id: number): void {
  heldSince[slotOf(id)] = epochMs();
}

/** When the current holder of mutex `id` took it (ms since the epoch), or null if that was not recorded. */
export function heldSinceMs(id: number): number | null {
  const since = heldSince[slotOf(id)];
  return since === 0 ? null : since;
}

/** Clears the holding time of mutex `id` (at unlock). */
export function noteReleased(id: number): void {
  heldSince[slotOf(id)] = 0;
}

/**
 * Every record in use by a live thread now: who sleeps on what (`on`: a mutex's number, or minus a cond's),
 * since when.
 */
export function allWaiting(): (Waiter & { on: number })[] {
  const out: (Waiter & { on: number })[] = [];
  for (let r = 0; r < RECORDS; r++) {
    const tag = Atomics.load(records, r * INTS + TAG);
    if (tag === 0) continue;
    const on = Atomics.load(records, r * INTS + ON);
    const since = waitSince[r];
    // Read the tag again: a record freed or reused meanwhile is skipped, not shown half-old.
    if (Atomics.load(records, r * INTS + TAG) !== tag || on === 0 || hasEnded(tag - 1)) continue;
    out.push({ threadId: tag - 1, on, since });
  }
  return out;
}

/** The threads asleep on mutex `id` (or in a wait on cond `-id`) now, each once. */
export function waitersOf(id: number): Waiter[] {
  const seen = new Set<number>();
  const out: Waiter[] = [];
  for (const w of allWaiting()) {
    if (w.on !== id || seen.has(w.threadId)) continue;
    seen.add(w.threadId);
    out.push({ threadId: w.threadId, since: w.since });
  }
  return out;
}
