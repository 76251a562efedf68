/**
 * QemuThread: QEMU's threads on the platform's workers, joined through shared memory.
 *
 * State (QemuThread.BYTES of shared memory): STATE (NONE, STARTING while a start spawns the worker,
 * RUNNING, PUBLISHING while the outcome is written, EXITED, JOINED, or IDENTITY for a storage filled by
 * qemu_thread_get_self), TID (the runtime's thread id), MODE (joinable or detached),
 * JOINER (the owner code of the thread that claimed the join), then the result pipe (result-pipe.ts).
 *
 * Lifecycle: create writes RUNNING, MODE and JOINER = 0, then spawns a worker running entry.ts, which
 * imports the thread function's module and calls it with the argument. When the function returns, throws
 * or calls qemu_thread_exit, the at-exit notifiers run, the outcome goes into the pipe, and STATE becomes
 * EXITED with a notify. join claims JOINER with a compareExchange (so a second join is EINVAL, never a
 * race), parks while STATE is RUNNING, reads the outcome and marks the storage JOINED. The normal path
 * needs no event loop: a blocked main thread can join, and so can any other thread. Only a thread that
 * dies without running its own exit code (terminated, or killed with its creator) is reported by its
 * creator, from the creator's event loop or as the creator itself ends; a thread killed together with its
 * creator's creator is not reported (known limitation).
 *
 * GENERATION (word 7) counts starts, so that the creator's late notice that an earlier worker ended (which
 * it uses to report a thread that died without a word) is never applied to a newer thread. TERMINATED_BY
 * (word 8) is `tid + 1` of the thread that called terminate(), 0 otherwise, for the joiner's error.
 *
 * A thread counts as ended (thread/liveness.ts: its locks go to their next lockers with EOWNERDEAD) when
 * its worker ends, not when its function returns: a worker may go on running callbacks (a timer, a message)
 * after that, and a lock such a callback takes is held, not abandoned.
 */
import {
  type ErrorRecord,
  errorFromRecord,
  errorToRecord,
  fail,
  getErrorMode,
  QemuThreadFailure,
  summarizeThrown,
  threadReport,
} from '../errors.js';
import { describeValue, registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { ownerThread, SELF, SELF_THREAD_ID } from '../owner.js';
import {
  abortReason,
  forgetAsyncWaits,
  type ParkRequest,
  type ParkResult,
  refuseToBlock,
  runAsync,
  runBlocking,
  signalOf,
  type WaitOptions,
  wake,
} from '../park.js';
import { platform, type SpawnedThread } from '../platform/index.js';
import { forgetFailure, recordFailure, reportUnjoinedFailure } from './failures.js';
import { hasEnded, isGone, markEnded } from './liveness.js';
import { describeThread, threadName } from './names.js';
import {
  OUTCOME,
  Outcome,
  readOutcome,
  streamRemainingChunks,
  TransferBroken,
  WINDOW_OFFSET,
  writeFirstChunk,
  writerEnded,
} from './result-pipe.js';
import { type Notifier, self } from './self.js';
import {
  parseThreadFunction,
  type QemuThreadMode,
  type ThreadFunctionFor,
  type ThreadResult,
  type ThreadStartArgs,
} from './thread-function.js';
import { findUncloneable } from './uncloneable.js';

/** A thread that must be joined ({@link qemu_thread_join}); its result waits for the join. The default. */
export const QEMU_THREAD_JOINABLE = 0 as const;
/** A thread nobody joins: its result is dropped, and joining it is `EINVAL`. */
export const QEMU_THREAD_DETACHED = 1 as const;

const STATE = 0;
const TID = 1;
const MODE = 2;
const JOINER = 3;
/** Bumped by every start, so that a late exit report about an earlier thread is recognized as such. */
const GENERATION = 7;
/** `tid + 1` of the thread that terminated this one (0: not terminated). */
const TERMINATED_BY = 8;

const NONE = 0;
const RUNNING = 1;
const EXITED = 2;
const JOINED = 3;
const IDENTITY = 4;
/** The outcome is being written (by the thread, or by its creator reporting its death): not yet readable. */
const PUBLISHING = 5;
/** A start has claimed the storage and is spawning the thread. */
const STARTING = 6;

const KIND = 'QemuThread';
const BYTES = 272;
const WINDOW_BYTES = BYTES - WINDOW_OFFSET;

/** What the new thread receives from its creator. */
export interface ThreadStart {
  thread: StorageClone;
  moduleUrl: string;
  exportName: string;
  arg: unknown;
  name: string | null;
  naming: boolean;
  errorMode: 'throw' | 'abort';
  moduleUrls: string[];
}

/**
 * A QEMU thread handle (`QemuThread`), whose state lives in shared memory: {@link qemu_thread_create} (or
 * {@link QemuThread.start}) runs a function on a new worker, and any thread that has the handle (or a
 * structured clone of it) can join it, even while blocked: the result travels through the handle's memory.
 *
 * `R` is the type {@link join} returns: inferred by {@link QemuThread.create} from a thread function named
 * with {@link threadFunction}, declared for a handle made first (`new QemuThread<number>()`), and `unknown`
 * for a function named by a plain URL. (The type is the compiler's alone: nothing checks at run time that
 * the value a thread returns has it.)
 *
 * @example
 * ```ts
 * // stats.ts: the thread's module
 * export function stats(values: number[]): { sum: number; max: number } {
 *   return { sum: values.reduce((a, b) => a + b, 0), max: Math.max(...values) };
 * }
 * ```
 * ```ts
 * import { QemuThread } from 'qemu-thread';
 *
 * const t = QemuThread.create('stats', new URL('./stats.js#stats', import.meta.url), [3, 1, 4, 1, 5]);
 * console.log(t.join()); // { sum: 14, max: 5 }
 * ```
 */
export class QemuThread<R = unknown> extends SharedStorage {
  /**
   * Bytes of shared memory one handle occupies; most of it is a window through which the result reaches
   * the joiner (a larger result is streamed through it).
   */
  static readonly BYTES = BYTES;

  /**
   * Allocates its own zeroed shared storage, or places it at `byteOffset` (a multiple of 4) of `buffer`,
   * using `BYTES` bytes there. A handle needs no `init`: {@link start} fills it.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, BYTES, buffer, byteOffset);
  }

  /**
   * The full instance for a structured clone of one (what `postMessage` or `workerData` deliver), or the
   * instance itself. Anything else is a `TypeError` naming `func`.
   */
  static from<R = unknown>(value: unknown, func = 'QemuThread.from'): QemuThread<R> {
    if (value instanceof QemuThread) return value;
    return reviveAs(value, KIND, (c) => new QemuThread<R>(c.buffer, c.byteOffset), func);
  }

  /**
   * A new handle running `fn(arg)`: `new QemuThread()` followed by {@link start} (see
   * {@link qemu_thread_create} for `fn`, `arg` and `mode`). With a typed `fn` ({@link threadFunction}),
   * `arg` is checked against the function's parameter, and the handle's {@link join} returns its result.
   */
  static create<Fn extends URL | string>(
    name: string | null,
    fn: Fn,
    ...argAndMode: ThreadStartArgs<Fn>
  ): QemuThread<ThreadResult<Fn>> {
    const t = new QemuThread<ThreadResult<Fn>>();
    const [arg, mode] = argAndMode as [unknown, QemuThreadMode | undefined];
    startThread(t, name, fn, arg, mode ?? QEMU_THREAD_JOINABLE);
    return t;
  }

  /**
   * Starts a thread that runs the export named by `fn`'s fragment (the default export without one) with
   * `arg` (QEMU's {@link qemu_thread_create}, which documents the arguments and errors). A typed `fn`
   * ({@link threadFunction}) must return this handle's `R`, and `arg` must be its parameter.
   */
  start<Fn extends ThreadFunctionFor<R>>(
    name: string | null,
    fn: Fn,
    ...argAndMode: ThreadStartArgs<Fn>
  ): void {
    const [arg, mode] = argAndMode as [unknown, QemuThreadMode | undefined];
    startThread(this, name, fn, arg, mode ?? QEMU_THREAD_JOINABLE);
  }

  /**
   * Starts `count` idle workers in the calling thread, so that its next `count` qemu_thread_create calls
   * skip the worker's boot (tens of milliseconds) and only load the thread function's module. Idle workers
   * do not keep the process alive. Threads started from the pool are not named at the worker level (the
   * name is still theirs for currentThreadName()).
   *
   * Resolves once those workers are loaded and waiting (or have failed): in a browser a worker does not
   * boot while its creator blocks, so a thread that will create threads and then block (QEMU's "create,
   * then wait until created") awaits this first. Node needs no wait; ignoring the promise is fine.
   */
  static prestart(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`QemuThread.prestart: expected a count >= 0, got ${String(count)}`);
    }
    const ready: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const idle: IdleThread = { spawned: undefined as unknown as SpawnedThread, onExit: null };
      idle.spawned = spawnThread(undefined, null, (code, error) => {
        const at = prestarted.indexOf(idle);
        if (at >= 0) prestarted.splice(at, 1);
        idle.onExit?.(code, error);
      });
      idle.spawned.unref();
      prestarted.push(idle);
      ready.push(idle.spawned.ready);
    }
    return Promise.all(ready).then(() => {});
  }

  /** How many pre-started idle workers the calling thread holds. */
  static prestarted(): number {
    return prestarted.length;
  }

  /**
   * Allows thread functions from URLs that start with one of `prefixes` (e.g. `'data:'`,
   * `'https://cdn.example.com/'`), for threads this thread creates from now on and the threads they
   * create; with no argument, allows none again. Without it a thread function must come from the
   * platform's own kind of module: a `file:` URL on Node, a URL of the page's origin (or a `blob:` URL) in a
   * browser. A thread function URL is code to run: a `node:` module, or a `data:` URL built from input,
   * runs whatever it names (`node:child_process#execSync`), so any other source needs this consent.
   */
  static allowModuleUrls(...prefixes: (string | URL)[]): void {
    const checked = prefixes.map((p) => {
      const text = p instanceof URL ? p.href : p;
      if (typeof text !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(text)) {
        throw new TypeError(
          `QemuThread.allowModuleUrls: expected URL prefixes such as 'data:' or 'https://host/', got ${describeValue(p)}`,
        );
      }
      return text;
    });
    self.moduleUrls = checked;
  }

  /**
   * Waits for the thread to end and returns its function's return value (or qemu_thread_exit's argument),
   * as a structured clone. If the thread died of an exception, or ended without returning, throws a
   * {@link QemuThreadFailure} that says which thread and how (the exception is its `cause`).
   */
  join(): R {
    const w = this.words;
    claimJoin(w, 'qemu_thread_join');
    if (isStillRunning(Atomics.load(w, STATE))) {
      try {
        refuseToBlock('qemu_thread_join', 'qemu_thread_join_async');
      } catch (error) {
        Atomics.store(w, JOINER, 0);
        throw error;
      }
    }
    return runBlocking(joinSteps(w, 'qemu_thread_join')) as R;
  }

  /**
   * As {@link join}, without blocking the calling thread. Cancelling it (AbortSignal) before the thread has
   * ended leaves the thread joinable again.
   */
  async joinAsync(options?: WaitOptions): Promise<R> {
    const signal = signalOf(options, 'qemu_thread_join_async');
    if (signal?.aborted) throw abortReason(signal);
    claimJoin(this.words, 'qemu_thread_join');
    return (await runAsync(joinSteps(this.words, 'qemu_thread_join'), signal)) as R;
  }

  /**
   * Stops the thread at once, wherever it is, even parked in a wait (as `worker.terminate()` does), and
   * resolves once it has stopped. It runs none of its own code after that (no at-exit notifiers), so: a
   * mutex it held goes to the next locker with EOWNERDEAD (robust mutexes), and a joiner gets an error
   * saying it was terminated. Only the thread that created it holds its worker, so only that thread may
   * terminate it (EPERM elsewhere); a thread that has already ended is left as it is.
   */
  async terminate(): Promise<void> {
    const func = 'QemuThread.terminate';
    const w = this.words;
    const state = Atomics.load(w, STATE);
    if (state === NONE) fail('ESRCH', func, 'this QemuThread was never started');
    if (state === IDENTITY) fail('EINVAL', func, 'this QemuThread was filled by qemu_thread_get_self');
    if (isRunningSelf(w)) fail('EDEADLK', func, 'a thread cannot terminate itself; use qemu_thread_exit');
    const child = children.get(w);
    if (child === undefined) {
      if (isStillRunning(state)) {
        fail('EPERM', func, `only the thread that created thread ${Atomics.load(w, TID)} can terminate it`);
      }
      return;
    }
    child.terminatedBy = SELF_THREAD_ID;
    Atomics.store(w, TERMINATED_BY, SELF_THREAD_ID + 1);
    await child.spawned.terminate();
  }

  /** Whether the calling thread is the one this handle refers to. */
  isSelf(): boolean {
    const state = Atomics.load(this.words, STATE);
    return state !== NONE && state !== JOINED && Atomics.load(this.words, TID) === SELF_THREAD_ID;
  }

  /** Makes this handle refer to the calling thread (QEMU's qemu_thread_get_self). */
  getSelf(): void {
    const w = this.words;
    if (isRunningSelf(w)) return;
    // A handle that still refers to another thread (running, or ended and not yet joined) is that thread's
    // only way to be joined: overwriting it would lose the thread.
    const state = Atomics.load(w, STATE);
    if (
      isStillRunning(state) ||
      (state === EXITED && Atomics.load(w, MODE) === QEMU_THREAD_JOINABLE && Atomics.load(w, JOINER) === 0)
    ) {
      fail(
        'EBUSY',
        'qemu_thread_get_self',
        `this QemuThread refers to thread ${Atomics.load(w, TID)}, which was not joined; pass a QemuThread of its own`,
      );
    }
    Atomics.store(w, TID, SELF_THREAD_ID);
    Atomics.store(w, MODE, QEMU_THREAD_JOINABLE);
    Atomics.store(w, JOINER, 0);
    Atomics.store(w, STATE, IDENTITY);
  }

  /** The runtime's id of the thread (Node's `threadId`), or -1 if this handle was never used. */
  threadId(): number {
    return Atomics.load(this.words, STATE) === NONE ? -1 : Atomics.load(this.words, TID);
  }

  override toString(): string {
    const state = Atomics.load(this.words, STATE);
    if (state === NONE) return 'QemuThread { never started }';
    const stateText = ['never started', 'running', 'exited', 'joined', 'identity', 'exiting', 'starting'][
      state
    ];
    const mode = Atomics.load(this.words, MODE) === QEMU_THREAD_DETACHED ? ', detached' : '';
    return `QemuThread { thread ${Atomics.load(this.words, TID)}, ${stateText}${mode} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * {@link QemuThread.start}, untyped (the types are checked by its callers: the class and the functional
 * face).
 */
export function startThread(
  t: QemuThread<unknown>,
  name: unknown,
  fn: unknown,
  arg: unknown,
  mode: unknown,
): void {
  const func = 'qemu_thread_create';
  if (name !== null && name !== undefined && typeof name !== 'string') {
    throw new TypeError(`${func}: expected a string or null for the name, got ${describeValue(name)}`);
  }
  if (mode !== QEMU_THREAD_JOINABLE && mode !== QEMU_THREAD_DETACHED) {
    fail(
      'EINVAL',
      func,
      `mode must be QEMU_THREAD_JOINABLE (0) or QEMU_THREAD_DETACHED (1), got ${String(mode)}`,
    );
  }
  const { moduleUrl, exportName } = parseThreadFunction(fn, func);
  const w = t.words;
  const state = Atomics.load(w, STATE);
  const busy =
    state === RUNNING ||
    state === PUBLISHING ||
    (state === EXITED && Atomics.load(w, MODE) === QEMU_THREAD_JOINABLE);
  // Claim the storage with a compareExchange: two concurrent starts on one handle must not share a pipe.
  if (busy || Atomics.compareExchange(w, STATE, state, STARTING) !== state) {
    fail(
      'EBUSY',
      func,
      `this QemuThread still refers to thread ${Atomics.load(w, TID)}, which was not joined`,
    );
  }
  Atomics.store(w, MODE, mode);
  Atomics.store(w, JOINER, 0);
  Atomics.store(w, TERMINATED_BY, 0);
  const generation = Atomics.add(w, GENERATION, 1) + 1;
  Atomics.store(w, STATE, RUNNING);
  const start: ThreadStart = {
    thread: t,
    moduleUrl,
    exportName,
    arg,
    name: name ?? null,
    naming: self.naming,
    errorMode: getErrorMode(),
    moduleUrls: self.moduleUrls,
  };
  let tid = -1;
  const threadName = (name as string | null | undefined) ?? null;
  const onExit = (code: number, error: unknown) => {
    // The worker is gone: locks it still held go to their next lockers with EOWNERDEAD.
    if (tid >= 0) markEnded(tid);
    // Async waits it left pending never settle: they must not make every later wake-up a wake-all.
    if (tid >= 0) forgetAsyncWaits(tid);
    const child = children.get(w);
    if (child?.generation === generation) children.delete(w);
    if (child?.terminatedBy !== undefined) {
      const report = threadReport(`was terminated by ${describeThread(child.terminatedBy)}`);
      reportAbnormalExit(w, generation, tid, threadName, report);
    } else {
      const report = threadReport(`ended without returning (exit code ${code})`);
      reportAbnormalExit(w, generation, tid, threadName, report, error, true);
    }
  };
  let spawned: SpawnedThread;
  try {
    spawned =
      launchPrestarted(start, onExit) ?? spawnThread(start, self.naming ? (name ?? null) : null, onExit);
  } catch (error) {
    Atomics.store(w, STATE, NONE);
    wake(w, STATE, Number.POSITIVE_INFINITY);
    fail('EINVAL', func, startFailure(error, arg));
  }
  tid = spawned.threadId;
  Atomics.store(w, TID, tid);
  watchChild(w, { generation, name: threadName, tid, spawned }, mode === QEMU_THREAD_JOINABLE);
}

/** Why a thread could not be started: its argument cannot be cloned (where, and what to do), or else. */
function startFailure(error: unknown, arg: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  if (!/could not be cloned/.test(why)) return `the thread could not be started: ${why}`;
  const canClone = (value: unknown) => {
    try {
      structuredClone(value);
      return true;
    } catch {
      return false;
    }
  };
  const where = findUncloneable(arg, 'arg', canClone) ?? why.replace(/\.$/, '');
  return (
    `arg cannot be cloned to the new thread: ${where}; pass plain data, SharedArrayBuffers and the ` +
    "library's primitives (a class instance arrives as a plain object; a function cannot be sent at all: name it " +
    'by URL, as the thread function is)'
  );
}

registerKind(KIND, (c: StorageClone) => new QemuThread(c.buffer, c.byteOffset));

/** The states in which a joiner waits. */
function isStillRunning(state: number): boolean {
  return state === RUNNING || state === PUBLISHING || state === STARTING;
}

/** A join's checks; on success the caller is the thread's one joiner (the JOINER word holds its id). */
function claimJoin(w: Int32Array, func: string): void {
  const state = Atomics.load(w, STATE);
  if (state === NONE) fail('ESRCH', func, 'this QemuThread was never started');
  if (state === IDENTITY) {
    if (Atomics.load(w, TID) === SELF_THREAD_ID) fail('EDEADLK', func, 'a thread cannot join itself');
    fail(
      'EINVAL',
      func,
      'this QemuThread was filled by qemu_thread_get_self; join the one passed to qemu_thread_create',
    );
  }
  if (Atomics.load(w, MODE) === QEMU_THREAD_DETACHED) fail('EINVAL', func, 'the thread is detached');
  if (isRunningSelf(w)) fail('EDEADLK', func, 'a thread cannot join itself');
  let claimed = Atomics.compareExchange(w, JOINER, 0, SELF);
  // A joiner that ended in the middle of its join (terminated) gives its claim up to the next one.
  if (claimed !== 0 && state !== JOINED && hasEnded(ownerThread(claimed))) {
    claimed = Atomics.compareExchange(w, JOINER, claimed, SELF) === claimed ? 0 : claimed;
  }
  if (claimed !== 0 || state === JOINED) fail('EINVAL', func, 'the thread was already joined');
}

/**
 * The rest of a join, for the blocking and the async one (park.ts: runBlocking, runAsync): waits for the
 * thread to end, reads its outcome from the pipe, and returns or throws it. Only the wait for the end can be
 * cancelled, and a cancelled join gives up its claim, so the thread can still be joined.
 */
function* joinSteps(w: Int32Array, func: string): Generator<ParkRequest, unknown, ParkResult> {
  let now = Atomics.load(w, STATE);
  try {
    while (isStillRunning(now)) {
      yield { words: w, index: STATE, expected: now, abortable: true };
      now = Atomics.load(w, STATE);
    }
  } finally {
    // Cancelled while the thread still runs: give the claim up.
    if (isStillRunning(now)) Atomics.store(w, JOINER, 0);
  }
  if (now === NONE) {
    Atomics.store(w, JOINER, 0);
    fail('ESRCH', func, 'the thread could not be started');
  }
  let read: { outcome: Outcome; bytes: Uint8Array };
  try {
    read = yield* readOutcome(w, WINDOW_BYTES, () => isGone(Atomics.load(w, TID)));
  } catch (error) {
    if (error instanceof TransferBroken) brokenTransfer(w, error, func);
    throw error;
  } finally {
    // Read, or given up half-way (cancelled, or broken off): either way the outcome is gone from the pipe.
    Atomics.store(w, STATE, JOINED);
  }
  const { outcome, bytes } = read;
  // Joined: a failure is this joiner's to handle now, not one to report as never joined.
  if (outcome !== Outcome.Returned) forgetFailure(Atomics.load(w, TID));
  if (outcome === Outcome.BadFunction) {
    fail('EINVAL', func, new TextDecoder().decode(bytes));
  }
  if (outcome !== Outcome.Returned && outcome !== Outcome.Threw) corruptOutcome(func, `outcome ${outcome}`);
  let value: unknown;
  try {
    value = platform.deserialize(bytes);
  } catch (error) {
    corruptOutcome(func, error instanceof Error ? error.message : String(error));
  }
  if (outcome === Outcome.Returned) return value;
  const record = value as ErrorRecord | null;
  if (typeof record !== 'object' || record === null || typeof record.message !== 'string') {
    corruptOutcome(func, 'the error record is not one');
  }
  throw threadFailure(w, func, record);
}

/**
 * The join's error for a thread that did not return: what it threw, as the `cause` of an error that names
 * the thread and the join, or the library's own account of its end (terminated, exited), read directly.
 */
function threadFailure(w: Int32Array, func: string, record: ErrorRecord): QemuThreadFailure {
  const tid = Atomics.load(w, TID);
  const name = record.threadName !== undefined ? record.threadName : threadName(tid);
  if (record.report) return new QemuThreadFailure(func, tid, name, record.message);
  // The first line, and not all of a very long one: the whole of it is the cause's.
  const line = summarizeThrown(record).split('\n', 1)[0];
  const summary = line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS)}…` : line;
  return new QemuThreadFailure(func, tid, name, `failed: ${summary}`, { cause: errorFromRecord(record) });
}

/** How much of the exception's first line the join's own message repeats. */
const SUMMARY_CHARS = 1000;

/**
 * EINVAL for an outcome that cannot be read back: the QemuThread's memory was written by something else
 * while the thread ran (a primitive or data placed over it), or it is not a QemuThread's memory at all.
 */
function corruptOutcome(func: string, why: string): never {
  fail(
    'EINVAL',
    func,
    `the thread's result could not be read (${why}): its QemuThread's memory was overwritten`,
  );
}

/** The error of a join whose outcome could not be read whole. */
function brokenTransfer(w: Int32Array, error: TransferBroken, func: string): never {
  const tid = Atomics.load(w, TID);
  if (error.side === 'reader') {
    fail(
      'EINVAL',
      func,
      `the result of ${describeThread(tid)} was lost: an earlier join ended in the middle of reading it`,
    );
  }
  const by = Atomics.load(w, TERMINATED_BY);
  const how = by > 0 ? `was terminated by ${describeThread(by - 1)}` : 'ended';
  throw new QemuThreadFailure(
    func,
    tid,
    threadName(tid),
    `${how} while its result was being transferred to the joiner`,
  );
}

/** True when `w` is the storage of the calling thread, which is still running. */
function isRunningSelf(w: Int32Array): boolean {
  return Atomics.load(w, STATE) === RUNNING && Atomics.load(w, TID) === SELF_THREAD_ID;
}

/**
 * Called in the creator when the worker has ended. If the thread never reported an outcome (it was
 * terminated, or its runtime died), reports one now so a joiner is not left waiting: the error the worker
 * died of, if it reported one, else the `report` of how it ended. `unexpected` says that nobody here ended
 * it on purpose: a joinable thread's end is then summarized for the report of failures never joined
 * (failures.ts).
 */
function reportAbnormalExit(
  w: Int32Array,
  generation: number,
  tid: number,
  name: string | null,
  report: ErrorRecord,
  error?: unknown,
  unexpected = false,
  workerGone = true,
): void {
  if (Atomics.load(w, GENERATION) !== generation) return;
  // Ended after publishing: if it was still streaming a large outcome, its joiner must not wait for more.
  if (Atomics.load(w, STATE) === EXITED) writerEnded(w, WINDOW_BYTES);
  // Ended in the middle of publishing (between PUBLISHING and EXITED): its outcome is half written and will
  // never be finished. Once its worker is gone nobody else writes it: publish the report over it. (Not while
  // the creator itself ends: the thread may still be running then, and finish on its own.)
  if (workerGone) Atomics.compareExchange(w, STATE, PUBLISHING, RUNNING);
  if (Atomics.load(w, STATE) !== RUNNING) return;
  const record = error !== undefined ? errorToRecord(error) : report;
  record.threadName = name;
  if (unexpected && Atomics.load(w, MODE) === QEMU_THREAD_JOINABLE) {
    const isReport = record.report === true;
    recordFailure(tid, isReport ? record.message : summarizeThrown(record), isReport);
  }
  // Nobody is left to stream further chunks, so the report must fit the first one.
  let bytes = platform.serialize(record);
  if (bytes.length > WINDOW_BYTES) bytes = platform.serialize({ ...record, stack: undefined });
  // Then as much of the message as fits (a browser's boot failure names a URL and its cause in it).
  for (let keep = record.message.length; bytes.length > WINDOW_BYTES && keep > 0; keep -= 8) {
    bytes = platform.serialize({ ...record, stack: undefined, message: record.message.slice(0, keep) });
  }
  publishOutcome(w, Outcome.Threw, bytes);
}

/**
 * Puts an outcome into the pipe, marks the thread EXITED and wakes joiners. Returns true if the outcome is
 * larger than the window, in which case the exiting thread must then call {@link streamOutcome}.
 */
export function publishOutcome(w: Int32Array, outcome: Outcome, bytes: Uint8Array): boolean {
  // The thread and its creator (reporting the thread's death) may both try: the first one wins.
  if (Atomics.compareExchange(w, STATE, RUNNING, PUBLISHING) !== RUNNING) return false;
  const more = writeFirstChunk(w, WINDOW_BYTES, outcome, bytes);
  Atomics.store(w, STATE, EXITED);
  wake(w, STATE, Number.POSITIVE_INFINITY);
  return more && Atomics.load(w, MODE) === QEMU_THREAD_JOINABLE;
}

function spawnThread(
  start: ThreadStart | undefined,
  name: string | null,
  onExit: (code: number, error: unknown) => void,
): SpawnedThread {
  return platform.spawn({ data: start, name, onExit });
}

/** A pre-started worker waiting, in its event loop, for the start data of the thread it will run. */
interface IdleThread {
  spawned: SpawnedThread;
  /** The exit handler of the thread it runs, once launched. */
  onExit: ((code: number, error: unknown) => void) | null;
}

/** This thread's idle workers (QemuThread.prestart), used first-in first-out. */
const prestarted: IdleThread[] = [];

/** Launches `start` on an idle worker if there is one; undefined otherwise. */
function launchPrestarted(
  start: ThreadStart,
  onExit: (code: number, error: unknown) => void,
): SpawnedThread | undefined {
  const idle = prestarted[0];
  if (idle === undefined) return undefined;
  idle.spawned.launch(start);
  prestarted.shift();
  idle.onExit = onExit;
  return idle.spawned;
}

/**
 * The threads this thread started that have not ended yet. The platform ends a thread's workers with it,
 * and a worker that is terminated cannot report its own end, so a thread that is about to end reports
 * each of them as dead: a joiner elsewhere must get an error, never wait forever.
 */
const children = new Map<Int32Array, Child>();
let watchingChildren = false;

interface Child {
  generation: number;
  name: string | null;
  tid: number;
  spawned: SpawnedThread;
  /** Set by terminate(), for the joiner's error message. */
  terminatedBy?: number;
}

/**
 * The joinable threads this thread started, kept until it ends, when those that failed and were never
 * joined are reported on stderr (failures.ts). Entries whose thread was joined, or whose handle was
 * reused, are dropped whenever the list has doubled.
 */
const joinable: { w: Int32Array; generation: number; tid: number; name: string | null }[] = [];
let pruneAt = 64;

function watchChild(w: Int32Array, child: Child, isJoinable: boolean): void {
  children.set(w, child);
  if (isJoinable) {
    joinable.push({ w, generation: child.generation, tid: child.tid, name: child.name });
    if (joinable.length >= pruneAt) {
      const kept = joinable.filter((j) => !joinedOrReused(j.w, j.generation));
      joinable.splice(0, joinable.length, ...kept);
      pruneAt = Math.max(64, 2 * joinable.length);
    }
  }
  if (watchingChildren) return;
  watchingChildren = true;
  platform.beforeThisThreadEnds(() => {
    // First the failures nobody joined; then the threads still running, which end with this one (their
    // joiners must learn it), and which are not failures of their own.
    for (const { w, generation, tid, name } of joinable) {
      if (failedUnjoined(w, generation)) reportUnjoinedFailure(tid, name);
    }
    for (const [child, { generation, name, tid }] of children) {
      markEnded(tid);
      const report = threadReport(
        `was ended because ${describeThread(SELF_THREAD_ID)}, which created it, ended`,
      );
      // The child may still be running (its worker is not gone yet): it may finish publishing on its own.
      reportAbnormalExit(child, generation, tid, name, report, undefined, false, false);
    }
  });
}

function joinedOrReused(w: Int32Array, generation: number): boolean {
  return Atomics.load(w, GENERATION) !== generation || Atomics.load(w, STATE) === JOINED;
}

/**
 * Whether the thread of this start ended without returning, and nobody has joined it or is joining it; a
 * thread its creator terminated on purpose is not counted.
 */
function failedUnjoined(w: Int32Array, generation: number): boolean {
  return (
    Atomics.load(w, GENERATION) === generation &&
    Atomics.load(w, STATE) === EXITED &&
    Atomics.load(w, JOINER) === 0 &&
    Atomics.load(w, TERMINATED_BY) === 0 &&
    Atomics.load(w, OUTCOME) !== Outcome.Returned
  );
}

/** Hands the rest of a large outcome to the joiner, waiting for it as long as it takes. */
export function streamOutcome(w: Int32Array, bytes: Uint8Array): void {
  streamRemainingChunks(w, WINDOW_BYTES, bytes, () => {
    const joiner = Atomics.load(w, JOINER);
    return joiner !== 0 && isGone(ownerThread(joiner));
  });
}

export function isDetached(w: Int32Array): boolean {
  return Atomics.load(w, MODE) === QEMU_THREAD_DETACHED;
}

const THREAD_EXIT = Symbol.for('qemu-thread.thread-exit');

/**
 * Thrown by qemu_thread_exit and caught by the thread's trampoline; carries the exit value. Recognized by
 * a registered-symbol brand ({@link isThreadExit}), not `instanceof`: the thread function may have been
 * given another copy of the library than the trampoline's (a bundler's chunk and a raw file).
 */
export class ThreadExit {
  readonly [THREAD_EXIT] = true;
  constructor(readonly value: unknown) {}
}

export function isThreadExit(value: unknown): value is ThreadExit {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[THREAD_EXIT] === true
  );
}

/** Ends the calling thread with `retval`, which its joiner receives. Never returns. */
export function exitThread(retval: unknown): never {
  if (self.storage === null) {
    fail('EPERM', 'qemu_thread_exit', 'the calling thread was not started by qemu_thread_create');
  }
  throw new ThreadExit(retval);
}

/** Adds a notifier to run when the calling thread's function returns or exits. */
export function atexitAdd(notifier: Notifier): void {
  if (typeof notifier !== 'object' || notifier === null || typeof notifier.notify !== 'function') {
    throw new TypeError(`qemu_thread_atexit_add: expected { notify(data) }, got ${describeValue(notifier)}`);
  }
  self.notifiers.unshift(notifier);
}

/** Removes a notifier added by atexitAdd; EINVAL if it is not on the list. */
export function atexitRemove(notifier: Notifier): void {
  const at = self.notifiers.indexOf(notifier);
  if (at < 0) fail('EINVAL', 'qemu_thread_atexit_remove', "the notifier is not on this thread's list");
  self.notifiers.splice(at, 1);
}

/** Turns thread naming on or off for threads created afterwards from this thread. */
export function setNaming(enable: boolean): void {
  self.naming = Boolean(enable);
}

/** The calling thread's name as given to qemu_thread_create, or null. */
export function currentThreadName(): string | null {
  return self.name;
}
