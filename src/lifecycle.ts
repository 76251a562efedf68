/**
 * The init/destroy state word that primitives without a lock word keep at index 0 (cond, semaphore,
 * event, lockcnt, thread). Values match owner.ts: 0 never initialized, 1 ready, 2 destroyed, so zero-filled
 * storage is unusable until init, as in QEMU, and use after destroy is caught.
 */
import { fail } from './errors.js';
import { DESTROYED, describeUnusable, FREE as READY_VALUE } from './owner.js';

export const STATE = 0;
export const READY = READY_VALUE;

/** EINVAL unless the primitive was initialized and not destroyed. */
export function checkReady(w: Int32Array, func: string): void {
  const s = Atomics.load(w, STATE);
  if (s !== READY) fail('EINVAL', func, describeUnusable(s));
}

export function markReady(w: Int32Array): void {
  Atomics.store(w, STATE, READY);
}

/** READY -> DESTROYED, or EINVAL if it was not ready (a double destroy included). */
export function markDestroyed(w: Int32Array, func: string): void {
  const s = Atomics.compareExchange(w, STATE, READY, DESTROYED);
  if (s !== READY) fail('EINVAL', func, describeUnusable(s));
}

export function stateName(w: Int32Array): string | null {
  const s = Atomics.load(w, STATE);
  if (s === READY) return null;
  return s === DESTROYED ? 'destroyed' : 'uninitialized';
}
