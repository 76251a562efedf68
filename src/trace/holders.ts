/**
 * Who waits for what, and since when: the data behind QemuMutex.holder()/waiters() and the demo machine's
 * `info locks`, for the hours spent on "who holds this lock, and why is everyone waiting".
 *
 * State: one process-wide block in shared memory (platform.processShared), indexed by thread id modulo
 * SLOTS: WAITING_FOR, the number of the mutex (positive) or cond (negative) the thread is parked on, 0 when
 * it is not parked; WAIT_SINCE, when it parked; and HELD_SINCE, indexed by mutex number modulo SLOTS, when
 * the current holder took the mutex.
 *
 * Cost: a thread records its waits only on the slow path, just before it sleeps, where a kernel wake-up
 * costs far more; so waiters are always known. Holding times cost a clock read on every lock, so they are
 * recorded only while tracing or the profiler is on (HELD_SINCE is 0 otherwise).
 */
import { platform } from '../platform/index.js';

const SLOTS = 1 << 14;
const buffer = platform.processShared('qemu-thread.holders', SLOTS * 4 + SLOTS * 8 * 2);
const waitingFor = new Int32Array(buffer, 0, SLOTS);
const waitSince = new Float64Array(buffer, SLOTS * 4, SLOTS);
const heldSince = new Float64Array(buffer, SLOTS * 4 + SLOTS * 8, SLOTS);

const slotOf = (n: number) => n & (SLOTS - 1);
const MY_SLOT = slotOf(platform.threadId);

/** Milliseconds since the epoch, comparable between threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Records that the calling thread is about to sleep waiting for mutex `id` (or cond `-id`). */
export function noteWaiting(id: number): void {
  waitSince[MY_SLOT] = epochMs();
  Atomics.store(waitingFor, MY_SLOT, id);
}

/** Records that the calling thread has woken up. */
export function noteAwake(): void {
  Atomics.store(waitingFor, MY_SLOT, 0);
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

/** A thread parked on a mutex or cond. */
export interface Waiter {
  /** The waiting thread's id. */
  threadId: number;
  /** When it went to sleep, in ms since the epoch. */
  since: number;
}

/**
 * The threads parked on mutex `id` (or cond `-id`) now. Thread ids are known modulo SLOTS, which is exact
 * for the first 16384 threads of a process and for any set of threads whose ids differ by less than that.
 */
export function waitersOf(id: number, threadIds: Iterable<number> = allSlots()): Waiter[] {
  const out: Waiter[] = [];
  for (const tid of threadIds) {
    const slot = slotOf(tid);
    if (Atomics.load(waitingFor, slot) === id) out.push({ threadId: tid, since: waitSince[slot] });
  }
  return out;
}

/**
 * Every thread parked on a mutex or cond now, with what it waits for (`on`: a mutex's number, or minus a
 * cond's), for inspection of a whole process (a test's watchdog). Thread ids as in {@link waitersOf}.
 */
export function allWaiting(): (Waiter & { on: number })[] {
  const out: (Waiter & { on: number })[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    const on = Atomics.load(waitingFor, slot);
    if (on !== 0) out.push({ threadId: slot, on, since: waitSince[slot] });
  }
  return out;
}

function* allSlots(): Iterable<number> {
  for (let i = 0; i < SLOTS; i++) yield i;
}
