/**
 * The one wait/notify layer under every primitive: time-outs, deadlines and bounded spinning live here
 * once, instead of a hand-rolled `Atomics.wait` loop in each file.
 *
 * A primitive parks on one of its words "while it still holds the value I saw". The futex contract
 * (`Atomics.wait` compares and enqueues atomically with respect to `Atomics.notify`) is what makes every
 * wake-up in this library impossible to lose: a waker changes the word *before* it notifies, so a
 * thread that has not yet parked sees the new value and does not sleep, and a thread that has parked is on
 * the queue when the notify comes. (One deliberate exception: the links of a cond's broadcast chain notify
 * without changing the word, and rely instead on `Atomics.notify` waking in FIFO order; see cond.ts.)
 */
import { fail } from './errors.js';

export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/** Sleeps while `words[index] === expected`, for at most `timeoutMs` (Infinity: no limit). */
export function park(words: Int32Array, index: number, expected: number, timeoutMs = Infinity): ParkResult {
  stats.parks++;
  return Atomics.wait(words, index, expected, timeoutMs);
}

/** This thread's count of futex operations since it started (or since {@link resetParkStats}). */
export interface ParkStats {
  /** Calls to `Atomics.wait` (each one a sleep, unless the word had already changed). */
  parks: number;
  /** Calls to `Atomics.notify`. */
  wakes: number;
  /** Threads those calls woke. */
  woken: number;
}

const stats: ParkStats = { parks: 0, wakes: 0, woken: 0 };

/** A snapshot of the calling thread's futex operation counts, e.g. to see what a broadcast costs. */
export function parkStats(): ParkStats {
  return { ...stats };
}

export function resetParkStats(): void {
  stats.parks = 0;
  stats.wakes = 0;
  stats.woken = 0;
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
  return spinUntilChanged(words, index, expected) ? 'not-equal' : park(words, index, expected, timeoutMs);
}

/**
 * Re-reads `words[index]` up to the thread's adaptive spin budget; true as soon as it no longer holds
 * `expected` (the spin paid off), false if the caller should park.
 */
export function spinUntilChanged(words: Int32Array, index: number, expected: number): boolean {
  for (let i = spinBudget; i > 0; i--) {
    if (Atomics.load(words, index) !== expected) {
      spinPaidOff();
      return true;
    }
  }
  spinWasted();
  return false;
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
  const woken = Atomics.notify(words, index, count);
  stats.wakes++;
  stats.woken += woken;
  return woken;
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
