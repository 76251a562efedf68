/**
 * The one wait/notify layer under every primitive: time-outs, deadlines and bounded spinning live here
 * once, instead of a hand-rolled `Atomics.wait` loop in each file.
 *
 * A primitive parks on one of its words "while it still holds the value I saw". The futex contract
 * (`Atomics.wait` compares and enqueues atomically with respect to `Atomics.notify`) is what makes every
 * wake-up in this library impossible to lose: a waker always changes the word *before* it notifies, so a
 * thread that has not yet parked sees the new value and does not sleep, and a thread that has parked is on
 * the queue when the notify comes.
 */
import { fail } from './errors.js';

export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/** Sleeps while `words[index] === expected`, for at most `timeoutMs` (Infinity: no limit). */
export function park(words: Int32Array, index: number, expected: number, timeoutMs = Infinity): ParkResult {
  return Atomics.wait(words, index, expected, timeoutMs);
}

/** Bounds of the adaptive spin before a hand-off wait sleeps, in reads of the word. */
const SPIN_MIN = 64;
const SPIN_MAX = 10_000;
/**
 * This thread's current spin budget. It grows while spinning pays off (the awaited change arrived while
 * spinning) and halves each time it did not (the thread had to sleep anyway), so a thread that shares its
 * core with the thread it waits for soon stops wasting time. At most SPIN_MAX reads, about 10-20 us: never
 * an unbounded spin.
 */
let spinBudget = 1000;

/**
 * As {@link park}, but first re-reads the word a bounded, adaptive number of times: a hand-off from a
 * thread running on another core usually lands within a microsecond or two, far sooner than a sleep and a
 * kernel wake-up (tens of microseconds). Returns 'not-equal' if the word changed while spinning.
 */
export function parkAfterSpin(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs = Infinity,
): ParkResult {
  for (let i = spinBudget; i > 0; i--) {
    if (Atomics.load(words, index) !== expected) {
      spinPaidOff();
      return 'not-equal';
    }
  }
  spinWasted();
  return Atomics.wait(words, index, expected, timeoutMs);
}

/** The calling thread's current spin budget, in reads (see {@link parkAfterSpin}). */
export function currentSpinBudget(): number {
  return spinBudget;
}

/** Records that a spin saw the awaited change: spin a little longer next time. */
export function spinPaidOff(): void {
  spinBudget = Math.min(SPIN_MAX, spinBudget + (spinBudget >> 2) + 16);
}

/** Records that a spin ended in a sleep anyway: spin half as long next time. */
export function spinWasted(): void {
  spinBudget = Math.max(SPIN_MIN, spinBudget >> 1);
}

/** Wakes up to `count` threads parked on `words[index]`; returns how many were woken. */
export function wake(words: Int32Array, index: number, count: number): number {
  return Atomics.notify(words, index, count);
}

/** Validates a relative time-out in milliseconds: finite and not negative, else EINVAL. */
export function checkTimeout(ms: unknown, func: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    fail('EINVAL', func, `the time-out must be a finite number of milliseconds >= 0, got ${String(ms)}`);
  }
  return ms;
}

/** A monotonic clock in milliseconds. */
export function now(): number {
  return performance.now();
}

/** The absolute deadline (on {@link now}'s clock) for a relative time-out. */
export function deadlineAfter(ms: number): number {
  return now() + ms;
}

/** Milliseconds left until `deadline` (0 once it has passed). */
export function remainingUntil(deadline: number): number {
  const left = deadline - now();
  return left > 0 ? left : 0;
}
