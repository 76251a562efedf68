/**
 * Waiter counts the library keeps in a primitive's words but has no method for: how many threads are
 * inside a wait on a semaphore or an event now (a waiter counts itself just before it parks, and the
 * count is what decides whether a post or a set notifies). For tests that must wait until a thread has
 * reached a wait; mutexes and conds have methods for that (waiters(), parkedThreads()).
 */
import type { QemuEvent, QemuSemaphore } from 'qemu-thread';

/** The WAITERS word of both (src/primitives/semaphore.ts and event.ts: STATE, then COUNT or VALUE, then WAITERS). */
const WAITERS = 2;

/** How many threads are inside a wait on `s` now (blocking and async waits alike). */
export function semaphoreWaiters(s: QemuSemaphore): number {
  return Atomics.load(s.words, WAITERS);
}

/** How many threads are inside a wait on `e` now. */
export function eventWaiters(e: QemuEvent): number {
  return Atomics.load(e.words, WAITERS);
}
