/**
 * Which primitives each thread is inside a wait of, so that waiter counts left behind by threads that died
 * in the middle of a wait (terminated) do not make `destroy` and `init` fail with EBUSY for ever.
 *
 * A cond, a semaphore and an event count their waiters in their own words, for their EBUSY checks (and the
 * cond also to know whom to wake). A thread that is terminated inside a wait never takes itself off that
 * count. The count cannot tell a dead waiter from a live one; this table can: it records, per thread, the
 * number of each primitive it is waiting on, and {@link liveWaitersOf} counts only threads that have not
 * ended (thread/liveness.ts).
 *
 * State: a process-wide Int32Array (platform.processShared), ENTRIES slots per thread (thread id modulo
 * SLOTS): each slot holds the waiting thread's `tid + 1` and the primitive's object number, or 0s; and per
 * thread an OVERFLOW count, of its waits that found every slot taken (a thread with many async waits pending
 * at once). A wait that could not be recorded cannot be told apart, so while a live thread has one, every
 * primitive with counted waiters counts as waited on by a live thread: destroy stays EBUSY (as it would
 * have been without this table), never wrongly allowed.
 *
 * The order that makes the check sound: a waiter records itself here before it adds itself to the
 * primitive's count, and erases the record after it has taken itself off the count. So while a live thread
 * is counted, its record is here; a count above the number of live records is made of dead threads.
 */
import { platform } from '../platform/index.js';
import { hasEnded } from './liveness.js';

const SLOTS = 1 << 13;
const ENTRIES = 4;
const INTS = 2;
const RECORDS = SLOTS * ENTRIES * INTS;
/** The records, then per thread slot its `tid + 1` and its OVERFLOW count. */
const table = new Int32Array(platform.processShared('qemu-thread.waits', (RECORDS + SLOTS * 2) * 4));
const me = platform.threadId;
const myBase = (me & (SLOTS - 1)) * ENTRIES * INTS;
const myOverflow = RECORDS + (me & (SLOTS - 1)) * 2;
/** leaveWait's argument for a wait that had no free slot. */
const OVERFLOWED = -1;

/**
 * Records that the calling thread is about to count itself a waiter of primitive `id`; returns the
 * record to pass to {@link leaveWait} (-1 if none was free).
 */
export function enterWait(id: number): number {
  for (let e = 0; e < ENTRIES; e++) {
    const at = myBase + e * INTS;
    if (Atomics.load(table, at) !== me + 1) {
      Atomics.store(table, at + 1, id);
      Atomics.store(table, at, me + 1);
      return at;
    }
  }
  Atomics.store(table, myOverflow, me + 1);
  Atomics.add(table, myOverflow + 1, 1);
  return OVERFLOWED;
}

/** Erases a record made by {@link enterWait}, once the thread no longer counts itself a waiter. */
export function leaveWait(record: number): void {
  if (record >= 0) Atomics.store(table, record, 0);
  else Atomics.sub(table, myOverflow + 1, 1);
}

/**
 * How many threads that have not ended are recorded waiting on primitive `id`. Reads the whole table: for
 * the EBUSY checks of destroy and init, and only when the primitive's own count is not zero.
 */
export function liveWaitersOf(id: number): number {
  let live = 0;
  for (let at = 0; at < RECORDS; at += INTS) {
    const tag = Atomics.load(table, at);
    if (tag !== 0 && Atomics.load(table, at + 1) === id && !hasEnded(tag - 1)) live++;
  }
  if (live > 0) return live;
  // Unrecorded waits of a live thread may be on this primitive: count one (see OVERFLOW above).
  for (let at = RECORDS; at < table.length; at += 2) {
    const tag = Atomics.load(table, at);
    if (tag !== 0 && Atomics.load(table, at + 1) > 0 && !hasEnded(tag - 1)) return 1;
  }
  return 0;
}
