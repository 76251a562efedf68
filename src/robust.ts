/**
 * Robustness: what the primitives do about threads that end in the middle of using them. QEMU's C
 * threads never end alone, but a JS worker can be terminated anywhere, even asleep in a wait.
 *
 * - A lock held by a thread that has ended (thread/liveness.ts) goes to the next locker, which fails with
 *   EOWNERDEAD while holding it, as POSIX robust mutexes do: what the lock protects may be half changed,
 *   and only the caller can tell. A mutex so taken is marked INCONSISTENT (owner.ts) until
 *   {@link makeConsistent}; unlocked without it, it becomes NOTRECOVERABLE (mutex.ts). A spinlock or a
 *   lockcnt has no consistent(): its new holder repairs and unlocks.
 * - A waiter terminated inside a wait stays counted in the primitive's own words for ever. The waits table
 *   (behind the hooks, hooks.ts) knows which counted waiters are alive, so destroy and init refuse only
 *   while a live one waits ({@link refuseWhileWaited}).
 *
 * Nobody waits for ever on a dead holder: lock waits sleep in slices (wait.ts, Protocol.sliceMs) and
 * look at the holder after each one.
 */
import { fail } from './errors.js';
import { hooks } from './hooks.js';
import { INCONSISTENT, OWNER_FLAGS, ownerThread, SELF } from './owner.js';
import { hasEnded } from './thread/liveness.js';

/** Whether the thread named by owner code `code` (flag bits ignored) is known to have ended. */
export function ownerEnded(code: number): boolean {
  return hasEnded(ownerThread(code));
}

/**
 * The holder named in `seen`, the value of `words[index]`, has ended: takes the lock over with a
 * compareExchange to `mine`. True if it did: the calling thread now holds the lock, and its caller fails
 * with EOWNERDEAD (its own message: what to repair, and how to go on). False if another thread changed the
 * word first: the caller looks again.
 */
export function takeOver(words: Int32Array, index: number, seen: number, mine: number): boolean {
  return Atomics.compareExchange(words, index, seen, mine) === seen;
}

/**
 * Marks a mutex taken with EOWNERDEAD usable again (`consistent()`); the caller must hold it. `notHeld`
 * reports a word the caller does not hold.
 */
export function makeConsistent(
  w: Int32Array,
  func: string,
  notHeld: (v: number, func: string) => never,
): void {
  const v = Atomics.load(w, 0);
  if ((v & ~OWNER_FLAGS) !== SELF) notHeld(v, func);
  if ((v & INCONSISTENT) === 0) fail('EINVAL', func, 'it is not inconsistent: its owner did not die');
  Atomics.and(w, 0, ~INCONSISTENT);
}

/**
 * EBUSY while a live thread waits on object `id`, whose own words count `counted` waiters. Counted
 * waiters that are not alive (terminated in the middle of a wait) do not count: without this, one
 * terminated waiter would keep the object busy for ever.
 */
export function refuseWhileWaited(id: number, counted: number, func: string): void {
  if (counted === 0) return;
  const live = hooks.liveWaiters(id);
  if (live > 0) fail('EBUSY', func, `${live} thread(s) are waiting on it`);
}
