/**
 * The one wait/notify layer under every primitive: futex parks and wakes, time-outs and deadlines, the
 * spinning policy, async waits, and the library's one internal lock. Primitives do not loop on
 * `Atomics.wait` themselves: their slow paths are protocols that wait.ts drives, blocking or async, with
 * the instrumentation hooks (hooks.ts) around each sleep.
 *
 * A primitive parks on one of its words "while it still holds the value I saw". The futex contract
 * (`Atomics.wait` compares and enqueues atomically with respect to `Atomics.notify`) is what makes every
 * wake-up in this library impossible to lose: a waker changes the word *before* it notifies, so a
 * thread that has not yet parked sees the new value and does not sleep, and a thread that has parked is on
 * the queue when the notify comes. (One deliberate exception: the links of a cond's broadcast chain notify
 * without changing the word, and rely instead on `Atomics.notify` waking in FIFO order; see cond.ts.)
 * Every notify of the library goes through {@link wake}.
 */
import { fail } from './errors.js';
import { platform } from './platform/index.js';

export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * The longest a thread sleeps in one `Atomics.wait` before it compares its word again. A single wake-up
 * (`notify(..., 1)`) can reach a thread that is then terminated before it acts on it: woken, it has left
 * the queue, and nobody will notify the others for it. Comparing again every RECHECK_MS bounds that loss:
 * a sleeper whose word changed while it slept (the post's count, the signal's sequence number) returns
 * within RECHECK_MS whether or not the notify reached it, and every primitive treats such a return as the
 * wake-up it is (or as a spurious one, which all of them tolerate). A sleeper whose word did not change
 * sleeps on. The cost is one futex round trip per sleeper per RECHECK_MS, nothing on any hand-off.
 */
export const RECHECK_MS = 250;

/**
 * Sleeps while `words[index] === expected`, for at most `timeoutMs` (Infinity: no limit), comparing the
 * word again at least every {@link RECHECK_MS}. Returns 'timed-out' only once `timeoutMs` has passed.
 */
export function park(words: Int32Array, index: number, expected: number, timeoutMs = Infinity): ParkResult {
  stats.parks++;
  if (timeoutMs <= RECHECK_MS) return Atomics.wait(words, index, expected, timeoutMs);
  const deadline = deadlineAfter(timeoutMs);
  for (;;) {
    const left = remainingUntil(deadline);
    const result = Atomics.wait(words, index, expected, Math.min(left, RECHECK_MS));
    if (result !== 'timed-out' || left <= RECHECK_MS) return result;
  }
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

/** Sets the calling thread's futex operation counts back to zero. */
export function resetParkStats(): void {
  stats.parks = 0;
  stats.wakes = 0;
  stats.woken = 0;
}

/**
 * How long a waiter spins before it sleeps: the one spinning policy of the library, for every blocking
 * wait (wait.ts asks it, the primitives never do). A budget is in units of one read of the word (see
 * {@link SPIN_STEP}); a spin never runs past it.
 */
export interface SpinPolicy {
  /** How many units the calling thread's next wait may spin (0: sleep at once). */
  budget(): number;
  /** A wait's spin saw the awaited change after `used` units: the wait ended without sleeping. */
  paidOff(used: number): void;
  /** A wait spent its budget and will sleep. */
  wasted(): void;
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
/** False while spinning is off for the calling thread (see {@link setSpinning}). */
let spinning = true;
/** While not 0, every spin of the calling thread makes exactly this many reads (see {@link setSpinning}). */
let fixedSpin = 0;

/** The adaptive policy above: the calling thread's policy unless {@link setSpinPolicy} replaced it. */
const adaptiveSpin: SpinPolicy = {
  budget() {
    if (!spinning) return 0;
    if (fixedSpin > 0) return fixedSpin;
    if (spinBudget < PROBE_BELOW && ++spinsSinceProbe >= PROBE_EVERY) {
      spinsSinceProbe = 0;
      return SPIN_MAX;
    }
    return spinBudget;
  },
  paidOff(used) {
    spinBudget = Math.min(SPIN_MAX, Math.max(spinBudget + (spinBudget >> 2) + 16, 2 * used));
  },
  wasted() {
    spinBudget = Math.max(SPIN_MIN, spinBudget >> 1);
  },
};

/** The calling thread's spinning policy (read by wait.ts before each blocking wait). */
export let spinPolicy: SpinPolicy = adaptiveSpin;

/** Replaces the calling thread's spinning policy (null: back to the adaptive one). */
export function setSpinPolicy(policy: SpinPolicy | null): void {
  spinPolicy = policy ?? adaptiveSpin;
}

/**
 * Turns the calling thread's spinning off (every wait parks at once) or back on; with `reads` > 0, each
 * spin then makes exactly that many reads instead of the adaptive budget. For the model checker
 * (test/model), where each spin read is one more scheduling point: it needs spins that are short and the
 * same in every run; and for the bench's no-spin column. Spinning never changes what a primitive does,
 * only how soon it sleeps.
 */
export function setSpinning(enabled: boolean, reads = 0): void {
  spinning = enabled;
  fixedSpin = reads;
}

/**
 * The one spin loop: re-reads `words[index]` while it holds `seen`, for at most `budget` units, relaxing
 * between reads. Returns the units spent once the word changed, or -1 if the budget ran out first.
 */
export function spinWhile(words: Int32Array, index: number, seen: number, budget: number): number {
  for (let i = 0; i < budget; i += SPIN_STEP) {
    if (Atomics.load(words, index) !== seen) return i;
    relax();
  }
  return -1;
}

/**
 * `Atomics.pause` (ES2026: Node 24+, Deno 2, Bun), typed here since the library compiles against an older
 * lib. Taken once: the model checker (test/model) swaps `globalThis.Atomics` for its own, which has no
 * pause (a hint to the CPU, not a memory operation: nothing to model).
 */
const atomicsPause = (Atomics as { pause?: () => void }).pause;
const HAS_PAUSE = typeof atomicsPause === 'function';

/**
 * Between two reads of a spin: `Atomics.pause()` where the engine has it (the CPU's spin-wait hint: x86
 * `pause`, Arm `yield`, which leaves the core's resources to its sibling hyperthread and spares the
 * pipeline flush when the spin ends), nothing elsewhere. QEMU's `cpu_relax()`.
 */
export function relax(): void {
  if (HAS_PAUSE) atomicsPause!();
}

/**
 * What one read and its relax() count for in a spin budget, in plain reads: a pause costs about as much as
 * four reads (x86 `pause` is 30-40 ns on current AMD and Intel cores, a read of the word 6-7 ns), so that
 * a budget bounds a spin's time alike with and without Atomics.pause. Counted as 1, the spins would last
 * five times longer: hand-offs on a busy 2-core machine got 2-3x slower.
 */
export const SPIN_STEP = HAS_PAUSE ? 5 : 1;

/** Wakes up to `count` threads parked on `words[index]`; returns how many were woken. */
export function wake(words: Int32Array, index: number, count: number): number {
  // A single wake-up could land on an async waiter (see parkAsync) whose thread is too busy, or blocked
  // elsewhere, to act on it soon, while the thread it was meant for sleeps on. While any async wait is
  // pending in the process, wake everyone instead: every waiter here re-checks its word and sleeps again
  // if it has nothing to do, so the worst case is spurious wake-ups, never a lost one.
  if (count === 1 && Atomics.load(asyncWaits, 0) !== 0) count = Number.POSITIVE_INFINITY;
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

/**
 * Async waits: `Atomics.waitAsync` where the engine has it, polling where it does not.
 *
 * Two traps of `Atomics.waitAsync` (Node 20, and other engines) are closed here, once for every primitive:
 * - A pending `waitAsync` does not keep Node's event loop alive: the process (or worker) would exit in the
 *   middle of an `await`. Each pending wait holds the thread open (platform.holdOpen) until it settles.
 * - An async waiter sits in the same FIFO queue as blocked threads, and `Atomics.notify(..., 1)` wakes
 *   whichever is first. A waiter that was abandoned, or whose thread is busy, would absorb a wake-up meant
 *   for a blocked thread. So every async wait is counted, process-wide, from before it is queued until its
 *   promise has settled in its own thread, and {@link wake} turns a single wake-up into a wake-all while
 *   the count is not zero. Counting before queueing makes this airtight: a waker changes its word before
 *   it reads the count (all these operations are sequentially consistent), so an async waiter queued
 *   early enough to take its wake-up was counted by then; one queued later compared the word after the
 *   change and waits for a later one.
 * Cancelling (AbortSignal) cannot take a waiter out of the engine's queue. Instead the abort wakes every
 * thread parked on that word, the cancelled waiter included: the others see a spurious wake-up, which
 * every primitive tolerates (each re-checks its word), and no wake-up is lost, whether it reached the
 * cancelled waiter before or after the abort.
 *
 * A thread terminated with async waits pending never takes them off the count, which would turn every
 * single wake-up in the process into a wake-all for good. So each thread also counts its own, in a slot of
 * a second block (thread id modulo ASYNC_SLOTS) that holds its `tid + 1` and its count, and once its
 * worker is gone its creator takes what is left of that count off the total ({@link forgetAsyncWaits}).
 * A thread whose slot another thread holds counts in the total only: its leftovers stay, which costs
 * spurious wake-ups, never a lost one. Each thread adds to the total before its own count and takes off
 * its own first, so the total is never below the sum of the counts a creator may subtract. (The total is
 * a block of its own, one word, which the model checker models; the per-thread slots are bookkeeping.)
 */
const asyncWaits = new Int32Array(platform.processShared('qemu-thread.async-waits', 4));
const ASYNC_SLOTS = 1 << 13;
const asyncWaiters = new Int32Array(platform.processShared('qemu-thread.async-waiters', 2 * ASYNC_SLOTS * 4));
const asyncSlotOf = (tid: number) => 2 * (tid & (ASYNC_SLOTS - 1));
/** Where this thread's own count is (the word after its slot's owner word); -1: another holds the slot. */
let myAsyncCount = -2;

function countAsyncWait(delta: 1 | -1): void {
  if (delta === 1) Atomics.add(asyncWaits, 0, 1);
  if (myAsyncCount === -2) {
    const slot = asyncSlotOf(platform.threadId);
    const owner = Atomics.compareExchange(asyncWaiters, slot, 0, platform.threadId + 1);
    myAsyncCount = owner === 0 || owner === platform.threadId + 1 ? slot + 1 : -1;
  }
  if (myAsyncCount >= 0) Atomics.add(asyncWaiters, myAsyncCount, delta);
  if (delta === -1) Atomics.sub(asyncWaits, 0, 1);
}

/**
 * Called by a thread's creator once the thread's worker is gone: the async waits it left pending will
 * never settle, so they stop counting (and its slot is free for the next thread that maps to it).
 */
export function forgetAsyncWaits(tid: number): void {
  const slot = asyncSlotOf(tid);
  if (Atomics.load(asyncWaiters, slot) !== tid + 1) return;
  const left = Atomics.exchange(asyncWaiters, slot + 1, 0);
  if (left !== 0) Atomics.sub(asyncWaits, 0, left);
  Atomics.store(asyncWaiters, slot, 0);
}
/** `Atomics.waitAsync` (ES2024), typed here since the library compiles against an older lib. */
interface AtomicsWithWaitAsync {
  waitAsync?(
    words: Int32Array,
    index: number,
    expected: number,
    timeoutMs: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}
const hasWaitAsync = typeof (Atomics as AtomicsWithWaitAsync).waitAsync === 'function';

/** A park's outcome, or 'aborted' if the AbortSignal fired first. */
export type AsyncParkResult = ParkResult | 'aborted';

/**
 * As {@link park}, without blocking the calling thread: resolves once `words[index]` no longer holds
 * `expected` (or a notify came, or the time-out passed, or `signal` aborted). Never rejects.
 */
export async function parkAsync(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs = Number.POSITIVE_INFINITY,
  signal?: AbortSignal,
): Promise<AsyncParkResult> {
  if (signal?.aborted) return 'aborted';
  stats.parks++;
  if (!hasWaitAsync) return pollWhileEqual(words, index, expected, timeoutMs, signal);
  // In slices of RECHECK_MS, as park() sleeps, for the same reason.
  const deadline = deadlineAfter(timeoutMs);
  for (;;) {
    const left = remainingUntil(deadline);
    const result = await waitAsyncOnce(words, index, expected, Math.min(left, RECHECK_MS), signal);
    if (result !== 'timed-out' || left <= RECHECK_MS) return result;
  }
}

/** One `Atomics.waitAsync`, counted process-wide and holding the thread open while it is pending. */
function waitAsyncOnce(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AsyncParkResult> {
  if (signal?.aborted) return Promise.resolve('aborted');
  countAsyncWait(1);
  let pending: ReturnType<NonNullable<AtomicsWithWaitAsync['waitAsync']>>;
  try {
    pending = (Atomics as AtomicsWithWaitAsync).waitAsync!(words, index, expected, timeoutMs);
  } catch (error) {
    countAsyncWait(-1);
    throw error;
  }
  if (!pending.async) {
    countAsyncWait(-1);
    return Promise.resolve(pending.value);
  }
  const release = platform.holdOpen();
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    wake(words, index, Number.POSITIVE_INFINITY);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return pending.value.then((result) => {
    countAsyncWait(-1);
    release();
    signal?.removeEventListener('abort', onAbort);
    return aborted ? 'aborted' : result;
  });
}

/** The longest pause between two looks of a polling wait. */
const POLL_MAX_MS = 8;

/**
 * The fallback where `Atomics.waitAsync` does not exist: looks at the word after pauses that double up to
 * POLL_MAX_MS. A polling waiter is in no queue, so it can absorb nobody's wake-up; it notices a change of
 * the word, not a notify alone, which is all the primitives need of an async waiter: each wakes its
 * waiters by changing the word (the links of a cond's broadcast chain, which do not, are for threads that
 * are parked, after a broadcast that did change it).
 */
async function pollWhileEqual(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AsyncParkResult> {
  if (Atomics.load(words, index) !== expected) return 'not-equal';
  const deadline = deadlineAfter(timeoutMs);
  for (let pause = 0.25; ; pause = Math.min(2 * pause, POLL_MAX_MS)) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, remainingUntil(deadline))));
    if (signal?.aborted) return 'aborted';
    if (Atomics.load(words, index) !== expected) return 'ok';
    if (remainingUntil(deadline) === 0) return 'timed-out';
  }
}

/**
 * The AbortSignal of an async wait's options, checked: options may be omitted, and `signal` must be an
 * AbortSignal if given. A TypeError otherwise, which an async wait turns into a rejection: a typo'd
 * option must not be a wait that silently cannot be cancelled.
 */
export function signalOf(options: WaitOptions | undefined, func: string): AbortSignal | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') {
    throw new TypeError(`${func}: expected an options object like { signal }, got ${typeof options}`);
  }
  const signal = (options as { signal?: unknown }).signal;
  if (signal === undefined) return undefined;
  const s = signal as { aborted?: unknown; addEventListener?: unknown } | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.aborted !== 'boolean' ||
    typeof s.addEventListener !== 'function'
  ) {
    throw new TypeError(
      `${func}: options.signal must be an AbortSignal, got ${s === null ? 'null' : typeof s}`,
    );
  }
  return signal as AbortSignal;
}

/** What an aborted async call rejects with: the signal's reason, as `fetch` and timers do. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** The optional last argument of every async wait. */
export interface WaitOptions {
  /** Cancels the wait: its promise then rejects with `signal.reason` (an `AbortError` by default). */
  signal?: AbortSignal;
}

const canBlock = platform.canBlock;

/**
 * EPERM for a wait on a thread that may not block (a browser's window thread), naming the call to use
 * instead. Called where a blocking call would go to sleep, before anything else has changed.
 */
export function refuseToBlock(func: string, instead?: string): void {
  if (canBlock) return;
  const what = instead ? `use ${instead}, or call it from a worker` : 'call it from a worker';
  fail(
    'EPERM',
    func,
    `this thread cannot block (a browser's window thread may not call Atomics.wait); ${what}`,
  );
}

/**
 * A wait written once for both worlds, as a generator that yields the parks it needs: {@link runBlocking}
 * performs them with Atomics.wait, {@link runAsync} with {@link parkAsync}. For the thread join, a cold
 * path where a generator's cost does not matter and whose steps read best in sequence; the primitives'
 * waits, which are hot, are step protocols (wait.ts) instead, with no allocation per wait.
 */
export interface ParkRequest {
  words: Int32Array;
  index: number;
  expected: number;
  /** Whether an AbortSignal may cancel this park (false once cancelling would break a protocol). */
  abortable: boolean;
  /** How long to sleep at most (default: no limit); the generator receives 'timed-out' after it. */
  timeoutMs?: number;
}

export function runBlocking<T>(steps: Generator<ParkRequest, T, ParkResult>): T {
  let next = steps.next();
  while (!next.done) {
    const { words, index, expected, timeoutMs } = next.value;
    next = steps.next(park(words, index, expected, timeoutMs));
  }
  return next.value;
}

/** As {@link runBlocking}; on abort, ends the generator (its `finally` blocks run) and rejects. */
export async function runAsync<T>(
  steps: Generator<ParkRequest, T, ParkResult>,
  signal?: AbortSignal,
): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const { words, index, expected, abortable, timeoutMs } = next.value;
    const result = await parkAsync(words, index, expected, timeoutMs, abortable ? signal : undefined);
    if (result === 'aborted') {
      steps.return(undefined as T);
      throw abortReason(signal);
    }
    next = steps.next(result);
  }
  return next.value;
}

/**
 * The library's one internal lock, for its own shared tables (the profiler's): a word that is 0 (free),
 * 1 (held) or 2 (held, and a thread may be parked on it), Drepper's "mutex2" without owner, error checks
 * or instrumentation, so that the instrumentation itself can take it inside its hooks. A thread that may
 * not block (a browser's window thread) spins instead of sleeping: the sections it guards are a few
 * microseconds of table work. Why no wake-up is lost: a locker parks only on 2, which it stored itself
 * with an exchange that found the lock held; the unlock's exchange then sees 2 and wakes one sleeper, who
 * takes the lock as 2 again since it cannot know whether others sleep.
 */
export function lockInternal(words: Int32Array, index: number): void {
  let v = Atomics.compareExchange(words, index, 0, 1);
  if (v === 0) return;
  if (v !== 2) v = Atomics.exchange(words, index, 2);
  while (v !== 0) {
    if (canBlock) park(words, index, 2);
    else relax();
    v = Atomics.exchange(words, index, 2);
  }
}

/** Releases {@link lockInternal}'s lock, waking one sleeper if there may be one. */
export function unlockInternal(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, 0) === 2) wake(words, index, 1);
}
