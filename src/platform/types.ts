/**
 * What differs between JS runtimes, as the rest of the library sees it. Only the files in this folder may
 * touch runtime-specific modules (`node:worker_threads`, `node:v8`, ...), so that a browser platform can be
 * added beside the Node one without changing any primitive. None imports them statically (node.ts gets
 * them through `process.getBuiltinModule`), so that a bundler building for the browser never meets one.
 */

/** A started thread, as its creator sees it. */
export interface SpawnedThread {
  /** The runtime's id of the new thread, known as soon as it is spawned. */
  readonly threadId: number;
  /**
   * Settles once the new thread has loaded the library and waits for its start data (pre-started), or has
   * ended; rejects if a pre-started thread's worker failed to start (the error says why). A browser worker
   * does not boot while its creator blocks: a creator that will block must await this for its pre-started
   * threads first.
   */
  readonly ready: Promise<void>;
  /** Stop keeping the process alive for this thread (it has finished its function, or it is idle). */
  unref(): void;
  /**
   * For a thread spawned without data (pre-started, idle): hands it its start data and lets it keep the
   * process alive again. Throws if the data cannot be cloned; the thread then stays idle.
   */
  launch(data: unknown): void;
  /**
   * Stops the thread at once, wherever it is (parked in `Atomics.wait` included); resolves once it has
   * stopped and `onExit` has been called.
   */
  terminate(): Promise<void>;
}

export interface SpawnOptions {
  /** Handed to the new thread, by structured clone; undefined to pre-start an idle thread (see launch). */
  data: unknown;
  /** The thread's name, or null to leave it unnamed. */
  name: string | null;
  /** Called in the creating thread, from its event loop, when the thread has ended (however it ended). */
  onExit(exitCode: number, error: unknown): void;
}

export interface Platform {
  /** A small non-negative integer naming the calling thread, unique in the process. */
  readonly threadId: number;
  /** How many threads can run at once (logical cores); the same in every thread of the process. */
  readonly cores: number;
  /** True on the process's first thread. */
  readonly isMainThread: boolean;
  /**
   * Whether this thread may block in `Atomics.wait` (false on a browser's window thread). Blocking calls
   * check it before they would sleep, and fail with EPERM naming their async variant.
   */
  readonly canBlock: boolean;
  /**
   * Keeps this thread (and so the process) alive until the returned function is called: a pending
   * `Atomics.waitAsync` does not, in Node 20. Idempotent release; a no-op where threads never exit idle.
   */
  holdOpen(): () => void;
  /** Whether this thread was started by {@link Platform.spawn}. */
  readonly spawned: boolean;
  /** In a spawned thread: its start data, once the creator has given it (at spawn, or later by launch). */
  receiveStart(): Promise<unknown>;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
  /** Writes to stderr at once, even while the main thread's event loop is blocked. */
  writeStderr(text: string): void;
  /** Writes to stdout at once, even while the main thread's event loop is blocked. */
  writeStdout(text: string): void;
  /** Prints the message and aborts the process, as C's `abort()` would. */
  abort(message: string): never;
  /** The structured-clone serialization of a value, as bytes. */
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
  /** Whether a module URL can be seen to be missing without loading it (false when unsure). */
  moduleMissing(url: URL): boolean;
  /**
   * Whether a thread function may be loaded from `url` without the caller's explicit consent: the
   * platform's own kind of module (a file on Node; the page's origin or a blob: in a browser), never code
   * carried in the URL itself (data:) nor a built-in module (node:).
   */
  moduleUrlTrusted(url: URL): boolean;
  /** Words that describe the trusted kind of module, for the error message when another is refused. */
  readonly trustedModules: string;
  /**
   * Whether threads started from this thread can name their function's module by a name that their
   * worker registers (`'vcpu#fn'`; a browser's thread worker, see setThreadWorker) rather than by URL.
   */
  readonly namedModules: boolean;
  /** In a spawned thread: imports the module of its thread function, named by URL or by module name. */
  loadThreadModule(spec: string): Promise<Record<string, unknown>>;
  spawn(options: SpawnOptions): SpawnedThread;
  /**
   * Called in a spawned thread once its function has finished: the creator then stops keeping the process
   * alive for it (a finished thread that is never joined must not hold the process open).
   */
  announceFinished(): void;
  /**
   * Runs `callback` in this thread once it has nothing else left to run (no timer, message or pending
   * wait): Node's `beforeExit` of the worker. At once in a browser, whose workers close themselves when
   * their function is over, whatever they had scheduled.
   */
  whenIdle(callback: () => void): void;
  /**
   * Called in a spawned thread while its function runs: `report` is called, in that thread, if it is about
   * to die without the function finishing (an uncaught error in a callback, or an exit of the runtime).
   */
  watchForDeath(report: (error: unknown) => void): void;
  /**
   * A SharedArrayBuffer of `bytes` bytes shared by every thread of the process under `key`: the first
   * thread to ask creates it, and threads started afterwards (by this library or not) receive the same one.
   */
  processShared(key: string, bytes: number): SharedArrayBuffer;
  /**
   * Whether this thread made the block under `key` itself (it found none to inherit) rather than
   * receiving its creator's. A worker that did so loaded the library before the thread that created it:
   * its blocks are its own, not the process's.
   */
  madeShared(key: string): boolean;
  /**
   * Tells the other threads of the process that thread `tid` has ended, for those that do not share this
   * thread's liveness table (thread/liveness.ts). A no-op where no such channel exists.
   */
  announceEnded(tid: number): void;
  /** The thread ids announced ended (by any thread) since the last call. */
  takeAnnouncedEnds(): number[];
  /** The process id, for trace output. */
  readonly pid: number;
  /** Appends text to a file at once (one write call, so lines from several threads do not interleave). */
  appendFile(path: string, text: string): void;
  /** Runs `callback` in this thread when the thread is about to end (its workers end with it). */
  beforeThisThreadEnds(callback: () => void): void;
}
