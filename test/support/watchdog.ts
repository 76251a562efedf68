/**
 * A watchdog for tests that block a thread: a test that overruns its budget fails with the test's name
 * and the states of the threads and primitives involved, instead of hanging the run.
 *
 * node:test's own `timeout` is a timer on the test's thread: it cannot fire while that thread is blocked
 * in `Atomics.wait` (a lock, a cond wait, a join that never ends), and the run then hangs until something
 * outside kills it, with no word about what was stuck. This watchdog runs in a worker of its own
 * (watchdog-worker.ts), so its timer fires whatever the test's threads are doing. When a test overruns,
 * it writes to stderr (a direct write, which needs nothing from the blocked main thread):
 *
 *   - the test's name, its budget and how long it has run;
 *   - every thread of the process that loaded the library: its id and name, and what it is parked on
 *     (a mutex or a cond, with the call site where known), from the library's process-wide tables;
 *   - each primitive the test registered (`show`): its state (toString), a mutex's holder and waiters,
 *     the threads parked in a cond, a thread's state; shared Int32Arrays (flags, counters) by value;
 *
 * and then kills the process (SIGKILL), so that node --test reports this file as failed, with the dump
 * in its output. Killing is the only way out: the blocked thread cannot be interrupted from outside.
 * After the file's last test, one more watch gives the process {@link EXIT_BUDGET_MS} to end: a thread
 * left running by a failed test would otherwise keep it alive for ever.
 *
 * Use:
 *
 *   watched('a holder and a waiter', { ms: 20_000 }, (w) => {   // or watched(name, body, options)
 *     const m = QemuMutex.create();
 *     w.show({ m });                                            // dumped if the test overruns
 *     ...
 *   });
 *
 *   test('...', () => {                                          // or a guard inside any test
 *     using w = watch('the part that blocks', { show: { m, c } });
 *     ...
 *   });
 *
 * `show` takes primitives (any QemuX, also structured clones of one), Int32Arrays on a SharedArrayBuffer,
 * arrays of those, and plain values (printed as they were when shown). Budgets are generous (a loaded
 * 2-core machine runs a test several times slower than an idle one): they bound hangs, they never time
 * anything.
 */
import { after, type TestContext, test } from 'node:test';
import { Worker } from 'node:worker_threads';
// Loaded first, so that this thread has made the library's process-wide tables before the watchdog
// thread starts and gets its copy of them (Node copies a thread's environment data into new workers).
import 'qemu-thread';
import type { WatchdogMessage } from './watchdog-worker.js';

/** The budget of a test that does not give one. */
export const DEFAULT_BUDGET_MS = 60_000;

/**
 * How long a test file's process may take to end after its last test (a thread left running keeps it
 * alive). QEMU_TEST_EXIT_BUDGET_MS changes it, for the watchdog's own test.
 */
export const EXIT_BUDGET_MS = Number(process.env.QEMU_TEST_EXIT_BUDGET_MS ?? 30_000);

export interface WatchOptions {
  /** The test's budget in milliseconds (default {@link DEFAULT_BUDGET_MS}). */
  ms?: number;
  /** Primitives, threads and shared words to dump if the test overruns, by name. */
  show?: Record<string, unknown>;
}

let worker: Worker | undefined;
let nextId = 1;

function post(message: WatchdogMessage): void {
  if (worker === undefined) {
    worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), {
      name: 'watchdog',
      workerData: { file: process.argv[1] },
    });
    // Never the reason a test process stays alive; and an error in the watchdog itself must be loud.
    worker.unref();
    worker.on('error', (error) => {
      process.stderr.write(`watchdog: the watchdog thread failed: ${String(error)}\n`);
      process.exitCode = 1;
    });
  }
  worker.postMessage(message);
}

/** A function cannot cross to the watchdog thread: say which one, rather than a bare DataCloneError. */
function checkShowable(items: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(items)) {
    if (typeof value === 'function') throw new TypeError(`watchdog: show.${name} is a function`);
  }
}

/** One armed watch: disposing of it disarms it. */
export class Watch implements Disposable {
  readonly name: string;
  readonly ms: number;
  readonly #id = nextId++;
  #armed = true;

  constructor(name: string, options: WatchOptions = {}) {
    this.name = name;
    this.ms = options.ms ?? DEFAULT_BUDGET_MS;
    const show = options.show ?? {};
    checkShowable(show);
    post({ op: 'arm', id: this.#id, name, ms: this.ms, since: Date.now(), show });
  }

  /** Adds primitives, threads or shared words to what is dumped if the test overruns. */
  show(items: Record<string, unknown>): this {
    checkShowable(items);
    if (this.#armed) post({ op: 'show', id: this.#id, show: items });
    return this;
  }

  /** Disarms the watch (the test ended in time). */
  [Symbol.dispose](): void {
    if (!this.#armed) return;
    this.#armed = false;
    post({ op: 'disarm', id: this.#id });
  }
}

/** Arms a watch for the code until the returned guard is disposed of (`using w = watch(...)`). */
export function watch(name: string, options?: WatchOptions): Watch {
  return new Watch(name, options);
}

// A thread that a test left running (or parked) can keep the process from ending after its last test, where
// no test's watch covers it: that is a hang of the file too, reported the same way, with the leftovers.
after(() => {
  watch('(after the last test: the process must end, but something keeps it alive)', { ms: EXIT_BUDGET_MS });
});

type Body = (w: Watch, t: TestContext) => unknown;

/**
 * node:test's `test(name, fn)` under the watchdog: `watched(name, body)`, `watched(name, options, body)`
 * or `watched(name, body, options)`. The body gets the watch (to `show` what it creates) and the test
 * context. Only the watchdog bounds the test: node:test's own timeout would fail it without the dump.
 */
export function watched(name: string, body: Body, options?: WatchOptions): void;
export function watched(name: string, options: WatchOptions, body: Body): void;
export function watched(name: string, a: Body | WatchOptions, b?: Body | WatchOptions): void {
  const [body, options] = typeof a === 'function' ? [a, b as WatchOptions] : [b as Body, a];
  test(name, async (t) => {
    using w = watch(name, options);
    await body(w, t);
  });
}
