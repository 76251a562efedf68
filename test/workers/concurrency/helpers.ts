/**
 * Helpers shared by the concurrency tests (main thread) and their thread functions (workers).
 *
 * Liveness rule of these tests: nothing may hang. A thread function reports that it has finished through
 * a shared `done` word ({@link markDone}); the main thread never calls qemu_thread_join before every thread
 * has reported (see {@link joinAll}), so a thread stuck in a lost wake-up turns into a clear failure
 * (after an optional rescue) instead of a main thread blocked forever where node:test's own timeout cannot
 * fire. No side effects at import: node --test may load this file as a test file.
 */
import { writeSync } from 'node:fs';
import { QEMU_THREAD_JOINABLE, QemuThread, qemu_thread_create, qemu_thread_join } from 'qemu-thread';

/** A shared Int32Array of `n` zeroed words. */
export function sharedWords(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

const napWord = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for about `ms` milliseconds (shapes a scenario; never decides pass/fail). */
export function sleep(ms: number): void {
  Atomics.wait(napWord, 0, 0, ms);
}

/** Called by a thread function when it finishes (in a `finally`). */
export function markDone(done: Int32Array): void {
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
}

/**
 * A start line: each of `n` threads calls this with the same word and returns once all `n` have arrived,
 * so that their loops really overlap instead of running one after another as the workers boot.
 * Bounded: throws after `ms` (a thread that never arrives is a bug elsewhere, not a reason to hang).
 */
export function startLine(word: Int32Array, n: number, ms = 20_000): void {
  Atomics.add(word, 0, 1);
  Atomics.notify(word, 0);
  const deadline = performance.now() + ms;
  for (let v = Atomics.load(word, 0); v < n; v = Atomics.load(word, 0)) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`startLine: only ${v} of ${n} threads arrived within ${ms} ms`);
    Atomics.wait(word, 0, v, left);
  }
}

/** Unbuffered diagnostics from any thread (a worker's console.log is not printed while main blocks). */
export function trace(text: string): void {
  writeSync(2, `${text}\n`);
}

/** Starts a joinable thread running `fn(arg)`. */
export function spawn(name: string, fn: URL, arg: unknown): QemuThread {
  const t = new QemuThread();
  qemu_thread_create(t, name, fn, arg, QEMU_THREAD_JOINABLE);
  return t;
}

/** Wakes every thread parked on any word of a primitive: last-resort rescue after a detected stall. */
export function notifyAllWords(...prims: { words: Int32Array }[]): void {
  for (const p of prims) {
    for (let i = 0; i < p.words.length; i++) Atomics.notify(p.words, i, Number.POSITIVE_INFINITY);
  }
}

export interface JoinOptions {
  /** Names the scenario in failure messages. */
  what: string;
  /** A number that changes while the threads make progress (default: the done count). */
  progress?: () => number;
  /** Fail when `progress` has not changed for this long (default 15 s). */
  stallMs?: number;
  /** Called (repeatedly) after a stall, to wake stuck threads (stop flags, posts, notifies) so they end. */
  rescue?: () => void;
  /** Extra state for the stall message. */
  describe?: () => string;
  /**
   * What the main thread's own part of the scenario threw, if anything: joinAll still ends and joins
   * every thread (waiting at most 5 s without progress), then throws this first, with any later problem
   * appended to its message.
   */
  mainError?: unknown;
}

/**
 * Waits until all `threads` have called {@link markDone} on `done`, then joins them all and returns their
 * results. If progress stops for `stallMs`, runs the rescue, waits up to 10 s more for the threads to end,
 * joins them and fails (a thread's own error, if one threw, wins: it is the more precise one). If even the
 * rescue cannot end them, arms a forced exit of this process so the test run cannot hang.
 */
export function joinAll(threads: QemuThread[], done: Int32Array, opts: JoinOptions): unknown[] {
  if (opts.mainError === undefined) return joinAllThreads(threads, done, opts);
  const mainError = opts.mainError;
  try {
    joinAllThreads(threads, done, { ...opts, stallMs: Math.min(opts.stallMs ?? 5_000, 5_000) });
  } catch (later) {
    if (mainError instanceof Error) {
      mainError.message += ` [then: ${later instanceof Error ? later.message : String(later)}]`;
    }
  }
  throw mainError;
}

function joinAllThreads(threads: QemuThread[], done: Int32Array, opts: JoinOptions): unknown[] {
  const n = threads.length;
  const stallMs = opts.stallMs ?? 15_000;
  const progress = opts.progress ?? (() => Atomics.load(done, 0));
  let last = progress();
  let lastChange = performance.now();
  let stalled = '';
  for (;;) {
    const d = Atomics.load(done, 0);
    if (d >= n) break;
    Atomics.wait(done, 0, d, 50);
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) {
      stalled =
        `${opts.what}: no progress for ${stallMs} ms (a lost wake-up?): ${Atomics.load(done, 0)}/${n} ` +
        `threads finished, progress ${p}${opts.describe ? `, ${opts.describe()}` : ''}`;
      break;
    }
  }
  if (stalled) {
    // Rescue again and again: a broken primitive may lose the wake-ups that one rescue starts.
    const deadline = performance.now() + 10_000;
    for (let d = Atomics.load(done, 0); d < n && performance.now() < deadline; d = Atomics.load(done, 0)) {
      opts.rescue?.();
      Atomics.wait(done, 0, d, 20);
    }
    if (Atomics.load(done, 0) < n) {
      forceExitSoon(`${stalled}; the rescue did not end the threads`);
      throw new Error(`${stalled}; the rescue did not end the threads`);
    }
  }
  const results: unknown[] = [];
  let firstError: unknown;
  let failed = false;
  for (const t of threads) {
    try {
      results.push(qemu_thread_join(t));
    } catch (error) {
      if (!failed) firstError = error;
      failed = true;
      results.push(undefined);
    }
  }
  if (failed) {
    if (stalled && firstError instanceof Error) firstError.message += ` [main: ${stalled}]`;
    throw firstError;
  }
  if (stalled) throw new Error(stalled);
  return results;
}

/** Threads that cannot be ended would keep this process alive forever: exit it shortly, loudly. */
export function forceExitSoon(why: string): void {
  setTimeout(() => {
    trace(`concurrency test: forcing exit, threads left running: ${why}`);
    process.exit(1);
  }, 2_000).unref();
}
