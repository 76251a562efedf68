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
/** While the budget is this low, every PROBE_EVERY-th spin tries the full SPIN_MAX once. */
const PROBE_BELOW = 1024;
const PROBE_EVERY = 32;
/**
 * This thread's current spin budget. It halves each time a spin ended in a sleep anyway, so a thread that
 * shares its core with the thread it waits for soon stops wasting time, and it grows when a spin pays off,
 * to at least twice what that spin needed. Since a small budget rarely pays off, it could stay small after
 * the load that shrank it has gone: so while it is small, one spin in PROBE_EVERY tries the full SPIN_MAX,
 * and a probe that pays off brings the budget back at once. At most SPIN_MAX reads, about 10-20 us: never
 * an unbounded spin.
 */
let spinBudget = 1000;
let spinsSinceProbe = 0;

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
  if (!spinning) return false;
  const budget = nextSpinBudget();
  for (let i = 0; i < budget; i++) {
    if (Atomics.load(words, index) !== expected) {
      spinPaidOff(i);
      return true;
    }
  }
  spinWasted();
  return false;
}

/** How many reads the calling thread's next spin may make (see {@link spinUntilChanged}). */
export function nextSpinBudget(): number {
  if (!spinning) return 0;
  if (spinBudget < PROBE_BELOW && ++spinsSinceProbe >= PROBE_EVERY) {
    spinsSinceProbe = 0;
    return SPIN_MAX;
  }
  return spinBudget;
}

/** False while spinning is off for the calling thread (see {@link setSpinning}). */
let spinning = true;

/**
 * Turns the calling thread's spinning off (every wait parks at once) or back on. For the model checker
 * (test/model), where each spin read would be one more scheduling point; spinning never changes what a
 * primitive does, only how soon it sleeps.
 */
export function setSpinning(enabled: boolean): void {
  spinning = enabled;
}

/** Records that a spin saw the awaited change after `used` reads: spin at least twice that next time. */
export function spinPaidOff(used: number): void {
  spinBudget = Math.min(SPIN_MAX, Math.max(spinBudget + (spinBudget >> 2) + 16, 2 * used));
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
