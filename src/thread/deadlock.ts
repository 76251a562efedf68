/**
 * Deadlock detection for mutexes: threads blocked on each other's mutexes in a cycle (lock-order
 * inversion, including a cond wait's relock) are found, and one of them gets EDEADLK naming the cycle,
 * instead of everyone hanging.
 *
 * State: per thread (slot = thread id modulo SLOTS, in shared memory): the mutex it is blocked on (0: none),
 * the owner it saw in that mutex's word, when it saw it (`checkedAt`), and when its current lock call
 * started waiting (`since`, unchanged while it re-parks). A blocked locker re-reads its mutex's word and
 * refreshes its entry every time it wakes (mutex.ts parks in slices of OWNER_CHECK_MS).
 *
 * Why a reported cycle is real: follow T -> owner(T) -> owner(owner(T)) ... back to T. Each edge X -> Y was
 * read from the lock word at `checkedAt[X]`, at which time Y held the mutex; if Y has been blocked in one
 * lock call since a time before that (`since[Y] <= checkedAt[X]`) and still is, Y cannot have released
 * anything in between (a blocked thread runs no code), so it still holds that mutex, and X still waits for
 * it. When every edge of the cycle passes that test, every member waits for the next forever. Entries are
 * only trusted when they name the thread they belong to, so slot collisions cannot invent an edge.
 * Only the member with the smallest thread id reports, so one thread gets EDEADLK and the others stay
 * blocked until it gives up a lock.
 *
 * Cost: nothing on the fast paths; a blocked locker runs the check at most once per wake-up after it has
 * waited CHECK_AFTER_MS, reading a few shared words per cycle member.
 */
import { platform } from '../platform/index.js';

const SLOTS = 1 << 14;
const INTS = 3;
const I_TID = 0;
const I_MUTEX = 1;
const I_OWNER = 2;
const FLOATS = 2;
const F_CHECKED = 0;
const F_SINCE = 1;
const buffer = platform.processShared('qemu-thread.deadlock', SLOTS * (INTS * 4 + FLOATS * 8));
const ints = new Int32Array(buffer, 0, SLOTS * INTS);
const floats = new Float64Array(buffer, SLOTS * INTS * 4, SLOTS * FLOATS);

/** How long a locker waits before it looks for a cycle. */
export const CHECK_AFTER_MS = 300;
const MAX_CYCLE = 64;

const me = platform.threadId;
const mySlot = me & (SLOTS - 1);

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Records that the calling thread is blocked on mutex `mutexId`, whose word names `ownerTid`. */
export function noteBlocked(mutexId: number, ownerTid: number, firstTime: boolean): void {
  const t = now();
  const i = mySlot * INTS;
  const f = mySlot * FLOATS;
  if (firstTime) floats[f + F_SINCE] = t;
  floats[f + F_CHECKED] = t;
  Atomics.store(ints, i + I_OWNER, ownerTid);
  Atomics.store(ints, i + I_TID, me);
  Atomics.store(ints, i + I_MUTEX, mutexId);
}

/** Records that the calling thread is no longer blocked on a mutex. */
export function noteUnblocked(): void {
  Atomics.store(ints, mySlot * INTS + I_MUTEX, 0);
}

/** How long the calling thread has been blocked in its current lock call, in ms. */
export function blockedFor(): number {
  return now() - floats[mySlot * FLOATS + F_SINCE];
}

/** One member of a cycle: the thread, and the mutex it waits for. */
export interface CycleLink {
  threadId: number;
  mutexId: number;
}

/**
 * The deadlock cycle through the calling thread, if there is one and this thread is the one to report it
 * (the smallest thread id in it); null otherwise.
 */
export function findCycle(): CycleLink[] | null {
  const cycle: CycleLink[] = [];
  let tid = me;
  for (let step = 0; step < MAX_CYCLE; step++) {
    const slot = tid & (SLOTS - 1);
    const i = slot * INTS;
    if (Atomics.load(ints, i + I_TID) !== tid) return null;
    const mutexId = Atomics.load(ints, i + I_MUTEX);
    if (mutexId === 0) return null;
    const owner = Atomics.load(ints, i + I_OWNER);
    const checkedAt = floats[slot * FLOATS + F_CHECKED];
    cycle.push({ threadId: tid, mutexId });
    if (owner === me) return Math.min(...cycle.map((c) => c.threadId)) === me ? cycle : null;
    const o = (owner & (SLOTS - 1)) * INTS;
    if (Atomics.load(ints, o + I_TID) !== owner || Atomics.load(ints, o + I_MUTEX) === 0) return null;
    // The owner must have been blocked since before the edge was read: then it still holds that mutex.
    if (floats[(owner & (SLOTS - 1)) * FLOATS + F_SINCE] > checkedAt) return null;
    if (cycle.some((c) => c.threadId === owner)) return null;
    tid = owner;
  }
  return null;
}
