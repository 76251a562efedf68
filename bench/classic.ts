/**
 * The classic JS baseline: what a careful user writes without a library, in the style of Mozilla's
 * parlib-simple. Each primitive is a shared Int32Array of its own words; no owner checks, no spinning.
 *
 * Mutex: Drepper's "mutex2" ("Futexes Are Tricky", 2004): 0 unlocked, 1 locked, 2 locked and somebody may
 * be parked. lock: compareExchange 0 -> 1; on failure mark the word 2 and park while it is 2, retaking it
 * as 2 (a woken thread cannot know whether others still sleep). unlock: subtract 1; if the old value was
 * not 1 (so it was 2) store 0 and wake one.
 *
 * Condition variable: one sequence counter. wait reads it under the mutex, unlocks, parks while it still
 * holds that value, relocks. signal / broadcast add 1 and then wake one / all. A signal that lands between
 * the read and the park changes the word, so the park returns at once: no lost wake-up. Broadcast wakes
 * every waiter at once and they all race for the mutex (no requeue).
 *
 * Semaphore and event: built from that mutex and cond, as a C program would from pthread_mutex_t and
 * pthread_cond_t (see native/pthread-bench.c).
 */

export type ClassicMutex = Int32Array;
export type ClassicCond = Int32Array;

export interface ClassicSem {
  m: ClassicMutex;
  c: ClassicCond;
  /** [count] */
  v: Int32Array;
}

export interface ClassicEvent {
  m: ClassicMutex;
  c: ClassicCond;
  /** [flag] */
  v: Int32Array;
}

const words = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

export const classicMutex = (): ClassicMutex => words(1);
export const classicCond = (): ClassicCond => words(1);
export const classicSem = (): ClassicSem => ({ m: words(1), c: words(1), v: words(1) });
export const classicEvent = (): ClassicEvent => ({ m: words(1), c: words(1), v: words(1) });

export function classicLock(m: ClassicMutex): void {
  let c = Atomics.compareExchange(m, 0, 0, 1);
  if (c === 0) return;
  do {
    if (c === 2 || Atomics.compareExchange(m, 0, 1, 2) !== 0) Atomics.wait(m, 0, 2);
  } while ((c = Atomics.compareExchange(m, 0, 0, 2)) !== 0);
}

export function classicUnlock(m: ClassicMutex): void {
  if (Atomics.sub(m, 0, 1) !== 1) {
    Atomics.store(m, 0, 0);
    Atomics.notify(m, 0, 1);
  }
}

export function classicWait(c: ClassicCond, m: ClassicMutex): void {
  const seq = Atomics.load(c, 0);
  classicUnlock(m);
  Atomics.wait(c, 0, seq);
  classicLock(m);
}

export function classicSignal(c: ClassicCond): void {
  Atomics.add(c, 0, 1);
  Atomics.notify(c, 0, 1);
}

export function classicBroadcast(c: ClassicCond): void {
  Atomics.add(c, 0, 1);
  Atomics.notify(c, 0);
}

export function classicSemPost(s: ClassicSem): void {
  classicLock(s.m);
  s.v[0]++;
  classicSignal(s.c);
  classicUnlock(s.m);
}

export function classicSemWait(s: ClassicSem): void {
  classicLock(s.m);
  while (s.v[0] === 0) classicWait(s.c, s.m);
  s.v[0]--;
  classicUnlock(s.m);
}

export function classicEventSet(e: ClassicEvent): void {
  classicLock(e.m);
  e.v[0] = 1;
  classicBroadcast(e.c);
  classicUnlock(e.m);
}

export function classicEventReset(e: ClassicEvent): void {
  classicLock(e.m);
  e.v[0] = 0;
  classicUnlock(e.m);
}

export function classicEventWait(e: ClassicEvent): void {
  classicLock(e.m);
  while (e.v[0] === 0) classicWait(e.c, e.m);
  classicUnlock(e.m);
}
