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
 *
 * An async lock (lockAsync) takes part too: its waiter records its edge like a blocked one. Its thread runs
 * other tasks meanwhile, and one of them could still unlock what the thread holds: so a cycle through an
 * async lock is reported once it has lasted CHECK_AFTER_MS, as the lock-order inversion that holds it up,
 * which is what it is even if a later unlock would have ended it. A thread keeps one edge: with several
 * waits pending (async ones, or a blocking lock beside them), the latest recorded is the one followed.
 *
 * instrument.ts calls these functions from the park layer's hooks: noteBlocked before each sleep of a lock
 * wait, refuseDeadlock when a sleep's slice ends with the lock still held, noteUnblocked when the wait ends.
 */
import { fail } from '../errors.js';
import { HELD_MIN, OWNER_FLAGS, ownerThread, SELF } from '../owner.js';
import { platform } from '../platform/index.js';
import { takenSiteOf, waitSiteOf } from './lock-sites.js';
import { describeThread } from './names.js';

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

/**
 * EDEADLK (naming `func`) if the calling thread, blocked on the mutex whose words are `w` and number `id`,
 * is in a deadlock cycle and is the one to report it. `sites`: whether lock call sites are being recorded
 * (lock-sites.ts, only while tracing or profiling), to name where each lock was taken.
 */
export function refuseDeadlock(w: Int32Array, id: number, func: string, sites: boolean): void {
  // Refresh this thread's own edge from the word first, so the check reads what holds now.
  const v = Atomics.load(w, 0);
  if (v < HELD_MIN || (v & ~OWNER_FLAGS) === SELF) return;
  noteBlocked(id, ownerThread(v), false);
  const cycle = findCycle();
  if (cycle === null) return;
  const at = (site: string | null) => (site === null ? '' : ` at ${site}`);
  const path = cycle.map(
    (c) => `${describeThread(c.threadId)} waits for mutex #${c.mutexId}${at(waitSiteOf(c.threadId))}`,
  );
  const next = cycle.map((c, i) => {
    const taken = sites ? takenSiteOf(c.mutexId) : null;
    const holder = describeThread(cycle[(i + 1) % cycle.length].threadId);
    return `mutex #${c.mutexId} is held by ${holder}${taken === null ? '' : ` (taken at ${taken})`}`;
  });
  fail('EDEADLK', func, `deadlock: ${path.join(', ')}; ${next.join(', ')}`);
}
