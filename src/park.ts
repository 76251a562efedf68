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

/** How many times a slow path re-reads a word before parking. Bounded: no unbounded spin anywhere. */
export const SPIN_LIMIT = 100;

export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/** Sleeps while `words[index] === expected`, for at most `timeoutMs` (Infinity: no limit). */
export function park(words: Int32Array, index: number, expected: number, timeoutMs = Infinity): ParkResult {
  return Atomics.wait(words, index, expected, timeoutMs);
}

/** Wakes up to `count` threads parked on `words[index]`; returns how many were woken. */
export function wake(words: Int32Array, index: number, count: number): number {
  return Atomics.notify(words, index, count);
}

/** Re-reads `words[index]` up to {@link SPIN_LIMIT} times; returns the first value that differs. */
export function spinWhile(words: Int32Array, index: number, value: number): number {
  for (let i = 0; i < SPIN_LIMIT; i++) {
    const now = Atomics.load(words, index);
    if (now !== value) return now;
  }
  return value;
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
