/**
 * The init/destroy state word that primitives without a lock word keep at index 0 (cond, semaphore,
 * event, lockcnt). Values match owner.ts: 0 never initialized, 2 destroyed, and a "ready" value of the
 * primitive's own kind (owner.ts: READY_COND, ...), so zero-filled storage is unusable until init, as in
 * QEMU, use after destroy is caught, and so is a primitive of one kind placed over another's words.
 */
import { fail } from './errors.js';
import { DESTROYED, describeUnusable } from './owner.js';

export const STATE = 0;

/** EINVAL unless the primitive was initialized (as the kind whose ready value is `ready`) and not destroyed. */
export function checkReady(w: Int32Array, ready: number, func: string): void {
  const s = Atomics.load(w, STATE);
  if (s !== ready) fail('EINVAL', func, describeUnusable(s));
}

export function markReady(w: Int32Array, ready: number): void {
  Atomics.store(w, STATE, ready);
}

/** ready -> DESTROYED, or EINVAL if it was not ready (a double destroy included). */
export function markDestroyed(w: Int32Array, ready: number, func: string): void {
  const s = Atomics.compareExchange(w, STATE, ready, DESTROYED);
  if (s !== ready) fail('EINVAL', func, describeUnusable(s));
}

/** null while ready; else 'destroyed', 'uninitialized' or 'not this kind of primitive'. */
export function stateName(w: Int32Array, ready: number): string | null {
  const s = Atomics.load(w, STATE);
  if (s === ready) return null;
  if (s === DESTROYED) return 'destroyed';
  return s === 0 ? 'uninitialized' : 'not this kind of primitive';
}
