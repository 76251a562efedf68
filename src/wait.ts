/**
 * A primitive's slow path, written once for its blocking and its async call: a {@link Protocol} whose
 * `step` looks at the primitive's words and answers DONE (the wait is over), AGAIN (look again), SPIN
 * or SLEEP (with the word value to spin or sleep on). {@link waitBlocking} runs it with Atomics.wait,
 * {@link waitAsync} with Atomics.waitAsync; the two drivers are the only places that sleep for a
 * primitive, so the blocking and the async form of a wait cannot drift apart.
 *
 * What every wait shares lives in the drivers, once: the bounded spin before the first sleep (blocking
 * waits only: an async waiter's thread has other work), the refusal to block on a thread that may not,
 * deadlines and slices, cancelling, counting the waiter in the waits table, and the instrumentation
 * hooks around each sleep (hooks.ts). A step may fail (a QemuThreadError): the driver then undoes what it
 * did, in `finally` blocks, and the error propagates.
 *
 * Why no wake-up is lost is each primitive's business (see each file's header); the drivers keep the
 * futex contract they rely on: a step that answers SLEEP has made sure that a waker will change the word
 * from the value it returns, and the driver sleeps only while the word still holds that value.
 */
import { hooks } from './hooks.js';
import {
  abortReason,
  type ParkResult,
  park,
  parkAsync,
  refuseToBlock,
  remainingUntil,
  spinPolicy,
  spinWhile,
} from './park.js';
import { platform } from './platform/index.js';

/** Whether this thread may block (not a browser's window thread): else a wait refuses before it sleeps. */
const canBlock = platform.canBlock;

/** A step's answers. */
export const DONE = 0;
export const AGAIN = 1;
export const SPIN = 2;
export const SLEEP = 3;

/** Step flags: this call has slept at least once. */
export const SLEPT = 1;
/** Step flags: the step may answer SPIN (a blocking wait whose spin budget is not spent). */
export const MAY_SPIN = 2;

/**
 * The word value of a SPIN or SLEEP answer. A step sets it through {@link spinOn} or {@link sleepOn} and
 * the driver reads it at once, before it calls anything else: so nested waits (a hook that takes a lock)
 * and interleaved async waits never see each other's value, and no answer needs an allocation.
 */
let answered = 0;

/** The step's answer SPIN: spin while the word holds `value` (a change is worth a new look). */
export function spinOn(value: number): number {
  answered = value;
  return SPIN;
}

/**
 * The step's answer SLEEP: sleep while the word holds `value`. The step has made sure that whoever ends
 * the wait changes the word from `value` and notifies.
 */
export function sleepOn(value: number): number {
  answered = value;
  return SLEEP;
}

/** A wait, for the drivers. All protocols have this one shape (the drivers' property loads stay fast). */
export interface Protocol {
  /** What waits (hooks.ts KIND_*), for the instrumentation. */
  readonly kind: number;
  /** The index of the word that waiters spin and sleep on. */
  readonly index: number;
  /** The index of the word that holds the object's number. */
  readonly idIndex: number;
  /**
   * The longest sleep before the step looks again, in ms (Infinity: until woken or the deadline). A lock
   * sleeps in slices to notice a holder that ended, and to look for deadlocks.
   */
  readonly sliceMs: number;
  /** The async call's name for a refusal to block, after the blocking call's (`_async`), or null. */
  readonly asyncSuffix: string | null;
  /**
   * One look. `flags`: SLEPT, MAY_SPIN; `arg`: what the caller passed to the driver (a cond's sequence
   * number). Returns DONE, AGAIN, or {@link spinOn}/{@link sleepOn}'s answer; may fail.
   */
  step(w: Int32Array, func: string, flags: number, arg: number): number;
  /**
   * After every SLEEP answer, whether the driver slept or not (the deadline had passed) and however the
   * sleep ended: undoes what the step did to be woken (a cond's waiter uncounts itself as parked), or null.
   */
  readonly afterSleep: ((w: Int32Array) => void) | null;
  /**
   * For a waiter the object counts in its own words (semaphore, event): counts the calling thread in, or
   * null. The driver records it in the waits table first and erases the record after `leave`.
   */
  readonly enter: ((w: Int32Array) => void) | null;
  readonly leave: ((w: Int32Array) => void) | null;
  /** The call's result when the deadline passed (a wait that is over returns true). */
  timedOut(w: Int32Array): boolean;
}

/**
 * Runs `p` for the calling thread, blocking it: true once a step answers DONE, `p.timedOut` once
 * `deadline` (performance.now() clock; Infinity: none) has passed.
 */
export function waitBlocking(
  p: Protocol,
  w: Int32Array,
  func: string,
  arg: number,
  deadline: number,
): boolean {
  const record = p.enter === null ? -1 : hooks.arrive(w[p.idIndex]);
  if (p.enter !== null) p.enter(w);
  let budget = spinPolicy.budget();
  let spun = 0;
  let flags = budget > 0 ? MAY_SPIN : 0;
  try {
    for (;;) {
      const answer = p.step(w, func, flags, arg);
      if (answer === DONE) {
        if (spun > 0) spinPolicy.paidOff(spun);
        return true;
      }
      if (answer === AGAIN) continue;
      const value = answered;
      if (answer === SPIN) {
        // Every SPIN answer costs at least one unit, so that a word that keeps changing cannot keep a
        // waiter spinning past its budget.
        const reads = spinWhile(w, p.index, value, budget);
        if (reads >= 0) {
          spun += reads + 1;
          budget -= reads + 1;
        }
        if (reads < 0 || budget <= 0) {
          // Spent: the next look prepares to sleep.
          spinPolicy.wasted();
          budget = 0;
          flags &= ~MAY_SPIN;
        }
        continue;
      }
      const left = deadline === Number.POSITIVE_INFINITY ? deadline : remainingUntil(deadline);
      if (left === 0) return timedOut(p, w);
      const result = sleep(p, w, func, value, Math.min(left, p.sliceMs), flags);
      flags = SLEPT;
      if (result === 'timed-out') {
        if (left <= p.sliceMs) return p.timedOut(w);
        hooks.stillBlocked(p.kind, w, w[p.idIndex], func, false);
      }
    }
  } finally {
    if (flags & SLEPT) hooks.waitEnded(p.kind);
    if (p.leave !== null) {
      p.leave(w);
      hooks.depart(record);
    }
  }
}

/** The deadline passed before a SLEEP answer could sleep: undo the answer's preparation, and say so. */
function timedOut(p: Protocol, w: Int32Array): boolean {
  if (p.afterSleep !== null) p.afterSleep(w);
  return p.timedOut(w);
}

/** One sleep of a blocking wait, with the hooks around it. */
function sleep(
  p: Protocol,
  w: Int32Array,
  func: string,
  value: number,
  ms: number,
  flags: number,
): ParkResult {
  let token = -1;
  try {
    if ((flags & SLEPT) === 0 && !canBlock) {
      refuseToBlock(func, p.asyncSuffix === null ? undefined : `${func}${p.asyncSuffix}`);
    }
    token = hooks.beforeSleep(p.kind, w[p.idIndex], value, (flags & SLEPT) === 0);
    return park(w, p.index, value, ms);
  } finally {
    hooks.afterWake(token);
    if (p.afterSleep !== null) p.afterSleep(w);
  }
}

/**
 * As {@link waitBlocking}, without blocking the calling thread (park.ts: parkAsync). Rejects with
 * `signal.reason` if the signal aborts it first; never spins.
 */
export async function waitAsync(
  p: Protocol,
  w: Int32Array,
  func: string,
  arg: number,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const record = p.enter === null ? -1 : hooks.arrive(w[p.idIndex]);
  if (p.enter !== null) p.enter(w);
  let flags = 0;
  try {
    for (;;) {
      const answer = p.step(w, func, flags, arg);
      if (answer === DONE) return true;
      if (answer === AGAIN) continue;
      const value = answered;
      const left = deadline === Number.POSITIVE_INFINITY ? deadline : remainingUntil(deadline);
      if (left === 0) return timedOut(p, w);
      let result: Awaited<ReturnType<typeof parkAsync>>;
      const token = hooks.beforeSleep(p.kind, w[p.idIndex], value, (flags & SLEPT) === 0);
      try {
        result = await parkAsync(w, p.index, value, Math.min(left, p.sliceMs), signal);
      } finally {
        hooks.afterWake(token);
        if (p.afterSleep !== null) p.afterSleep(w);
      }
      flags = SLEPT;
      if (result === 'aborted') throw abortReason(signal);
      if (result === 'timed-out') {
        if (left <= p.sliceMs) return p.timedOut(w);
        hooks.stillBlocked(p.kind, w, w[p.idIndex], func, true);
      }
    }
  } finally {
    if (flags & SLEPT) hooks.waitEnded(p.kind);
    if (p.leave !== null) {
      p.leave(w);
      hooks.depart(record);
    }
  }
}
