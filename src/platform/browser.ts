/**
 * The browser platform: the window's thread and dedicated module Web Workers, on a cross-origin isolated
 * page (SharedArrayBuffer needs it).
 *
 * What a browser does not give, and what stands in for it:
 * - No thread ids: the creator allocates each worker's id from a process-wide counter in shared memory and
 *   hands it over at boot (browser-boot.ts). The window's thread is 0, as Node's main thread is.
 * - No process-wide environment data: each thread keeps a registry of its shared blocks and passes the
 *   whole registry to every worker it starts, so later threads receive the same buffers.
 * - No `node:v8`: results are serialized by clone-codec.ts.
 * - The window's thread may not block (Atomics.wait throws there): canBlock is false, so blocking calls
 *   fail with EPERM naming their async variant.
 * - A worker does not end when it is idle, and no event tells its creator that it ended. A thread's worker
 *   closes itself once its function is over, its outcome has been handed over and the threads it launched
 *   have closed (a worker's workers die with it, as in Node); it then tells its creator (DONE). An
 *   uncaught error reaches the creator as the Worker's `error` event and is reported to a joiner, and so
 *   is QemuThread.terminate. A worker killed from outside the library (`worker.terminate()` on a worker the
 *   page holds, a crash, the page closing), and the threads of a terminated thread, are not detected.
 * - A worker that fails to load fires an `error` event without a word of why, and one that loads but never
 *   runs qemu-thread's boot code fires nothing at all. So a creator expects the worker's HELLO within a few
 *   seconds of its own event loop's time, and on a failure fetches the script again to say what is wrong
 *   (diagnose.ts): the joiner gets that, never a silent hang.
 *
 * All of a thread's state lives in one object on `globalThis` (browser-state.ts), so that two copies of
 * the library in one thread act as one.
 */

import {
  BOOT,
  type BootMessage,
  type BrowserState,
  browserState,
  DONE,
  FAILED,
  HELLO,
  ownScriptHref,
  READY,
  SPAWN,
  type WorkerType,
} from './browser-state.js';
import { decodeClone, encodeClone } from './clone-codec.js';
import { diagnoseUrl, urlInMessage } from './diagnose.js';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

const TID_KEY = 'qemu-thread.browser-tids';
/** How long a new worker has, in its creator's event-loop time, to run qemu-thread's boot code. */
const BOOT_TIMEOUT_MS = 5000;

// The few DOM types used here, declared locally: the project compiles without the DOM library, so that no
// browser global leaks into the rest of the library unnoticed.
interface ErrorEventLike extends Event {
  error?: unknown;
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
}
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (event: MessageEvent) => void): void;
}
type WebWorkerConstructor = new (
  url: URL | string,
  options: { type: WorkerType; name?: string },
) => WebWorker;

interface WorkerScope {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
const isWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';

function describeErrorEvent(event: Event): Error {
  const e = event as ErrorEventLike;
  if (e.error instanceof Error) return e.error;
  const where = e.filename ? ` (${e.filename}:${e.lineno}:${e.colno})` : '';
  return new Error(`${e.message || 'the worker threw an uncaught error'}${where}`);
}

function shared(key: string, bytes: number, state: BrowserState): SharedArrayBuffer {
  let buffer = state.shared[key];
  if (buffer === undefined || buffer.byteLength < bytes) {
    buffer = new SharedArrayBuffer(bytes);
    state.shared[key] = buffer;
  }
  return buffer;
}

/** The next free thread id; the window is 0, so the counter hands out 1, 2, ... */
function allocateThreadId(): number {
  return Atomics.add(new Int32Array(shared(TID_KEY, 4, browserState())), 0, 1) + 1;
}

/**
 * This thread's id. A worker the page created itself (not through qemu_thread_create, and without the
 * workerInit hand-over) gets no id from a creator: it takes one at random above every allocated range, and
 * it has its own shared blocks: its locks still work with everyone's, but liveness and thread names are
 * not shared with it.
 */
function settleThreadId(state: BrowserState): number {
  state.threadId ??= !isWorker ? 0 : (state.boot?.tid ?? (1 << 20) + Math.floor(Math.random() * (1 << 26)));
  return state.threadId;
}

/** Closes this worker once its thread is over and no thread it launched is still running. */
function closeIfDone(): void {
  const state = browserState();
  if (!state.finished || state.liveChildren > 0 || !isWorker) return;
  for (const callback of state.endCallbacks.splice(0)) {
    try {
      callback();
    } catch (error) {
      console.error(error);
    }
  }
  scope.postMessage(DONE);
  scope.close();
}

/**
 * Chooses the worker that threads created from the calling thread run in (and their own threads after
 * them). A bundled application passes a function that creates its thread worker, written literally so
 * that the bundler builds the worker and its thread modules (docs/bundlers.md); a thread then names its
 * function `'module#export'`, `module` being a name the thread worker gives to threadWorker().
 *
 * A URL (or string) names a thread worker served as it is; `null` goes back to qemu-thread's own worker,
 * which runs only thread functions named by URL. Threads started from a thread worker start theirs in
 * the same worker without being told.
 *
 * @example
 * ```ts
 * // vcpu.ts: a module of thread functions
 * export function vcpuThreadFn(index: number): number {
 *   return index * 10;
 * }
 * ```
 * ```ts
 * // threads.ts: the thread worker
 * import { threadWorker } from 'qemu-thread/worker';
 *
 * threadWorker({ vcpu: () => import('./vcpu.js') });
 * ```
 * ```ts
 * // main.ts: on the page (the window's thread may not block: it joins with joinAsync)
 * import { QEMU_THREAD_JOINABLE, QemuThread, qemu_thread_create } from 'qemu-thread';
 * import { setThreadWorker } from 'qemu-thread/browser';
 *
 * setThreadWorker(() => new Worker(new URL('./threads.js', import.meta.url), { type: 'module' }));
 * const t = new QemuThread();
 * qemu_thread_create(t, 'CPU 0', 'vcpu#vcpuThreadFn', 4, QEMU_THREAD_JOINABLE);
 * console.log(await t.joinAsync()); // 40
 * ```
 */
export function setThreadWorker(worker: (() => object) | URL | string | null): void {
  const state = browserState();
  if (worker === null) {
    state.threadWorker = undefined;
  } else if (typeof worker === 'function') {
    state.threadWorker = worker;
  } else if (worker instanceof URL || typeof worker === 'string') {
    state.threadWorkerType = 'module';
    state.threadWorker = new URL(
      String(worker),
      (globalThis as { location?: { href: string } }).location?.href,
    ).href;
  } else {
    throw new TypeError(
      `setThreadWorker: expected a function that creates the Worker, a URL or null, got ${typeof worker}`,
    );
  }
  state.threadWorkerSeen = undefined;
}

/**
 * The message to post, first, to a Web Worker the page creates itself, so that it joins this page's
 * threads with an id of its own and the same shared blocks. In the worker, call `receiveWorkerInit()`
 * from `qemu-thread/worker` before importing qemu-thread.
 */
export function workerInit(): unknown {
  const state = browserState();
  const boot: BootMessage = {
    tid: allocateThreadId(),
    spawned: false,
    shared: { ...state.shared },
    data: undefined,
    threadWorker: typeof state.threadWorker === 'string' ? state.threadWorker : state.threadWorkerSeen?.href,
    threadWorkerType:
      typeof state.threadWorker === 'string' ? state.threadWorkerType : state.threadWorkerSeen?.type,
  };
  return { [BOOT]: boot };
}

/** A new worker for a thread, and what to call it in an error message. */
interface NewWorker {
  worker: WebWorker;
  /** The worker script's URL, when known. */
  url: string | undefined;
  what: string;
}

/**
 * Creates the worker of a new thread: the thread worker this thread was given, or qemu-thread's own. The
 * worker is created with a recording `Worker` in place, so that its URL (which the bundler chose, inside
 * a function given to setThreadWorker) can be named if the worker fails to load.
 */
function createWorker(state: BrowserState, name: string | null): NewWorker {
  const g = globalThis as unknown as { Worker?: WebWorkerConstructor };
  const Native = g.Worker;
  if (Native === undefined) throw new Error('this browser thread cannot start Web Workers');
  const source = state.threadWorker;
  const base = ownScriptHref() ?? (globalThis as { location?: { href: string } }).location?.href;
  let url: string | undefined;
  g.Worker = new Proxy(Native, {
    construct(target, args, newTarget) {
      url ??= new URL(String(args[0]), base).href;
      return Reflect.construct(target, args, newTarget);
    },
  });
  let worker: unknown;
  try {
    if (typeof source === 'string') {
      worker = new Worker(source, { name: name ?? undefined, type: state.threadWorkerType });
    } else if (typeof source === 'function') worker = source();
    // Written out in full, as bundlers recognize it: Vite and webpack build this worker unaided.
    else
      worker = new Worker(new URL('./browser-worker.js', import.meta.url), {
        name: name ?? undefined,
        type: 'module',
      });
  } finally {
    g.Worker = Native;
  }
  if (typeof (worker as WebWorker | null)?.postMessage !== 'function') {
    throw new TypeError(`the function given to setThreadWorker returned ${String(worker)}, not a Worker`);
  }
  const what =
    url ??
    (typeof source === 'function' ? `made by ${String(source).slice(0, 120)}` : "of qemu-thread's own");
  return { worker: worker as WebWorker, url, what };
}

declare const Worker: WebWorkerConstructor;

/** The browser platform of the calling thread. Throws where qemu-thread cannot run. */
export function createBrowserPlatform(): Platform {
  const g = globalThis as { window?: unknown; WorkerGlobalScope?: unknown };
  if (typeof g.window !== 'object' && typeof g.WorkerGlobalScope !== 'function') {
    throw new Error(
      'qemu-thread: unsupported runtime: it runs on Node.js >= 20.16 and in browsers (window, Web Workers)',
    );
  }
  if (typeof SharedArrayBuffer !== 'function') {
    throw new Error(
      'qemu-thread: SharedArrayBuffer is not available: the page must be cross-origin isolated. Serve it ' +
        "with the headers 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: " +
        "require-corp' (check globalThis.crossOriginIsolated === true)",
    );
  }
  const state = browserState();
  if (state.phase === 'listening') {
    throw new Error(
      'qemu-thread: loaded in a thread worker before the worker received its start message: a thread ' +
        "worker's entry must not import qemu-thread or a thread module statically; it names them with " +
        "threadWorker({ name: () => import('./name.js') }) (see docs/bundlers.md)",
    );
  }
  const boot = state.boot;
  return {
    threadId: settleThreadId(state),
    cores: Math.max(
      1,
      Number(
        (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency,
      ) || 1,
    ),
    isMainThread: !isWorker,
    // Atomics.wait throws on the window's thread; workers may block.
    canBlock: isWorker,
    holdOpen() {
      // A browser thread never ends because it is idle: nothing to hold.
      return () => {};
    },
    spawned: boot?.spawned === true && isWorker,
    receiveStart() {
      if (boot?.spawned !== true)
        return Promise.reject(new Error('qemu-thread: this worker was not spawned'));
      if (boot.start !== undefined) return Promise.resolve(boot.start);
      return new Promise((resolve) => {
        boot.onStart = resolve;
        // The library is loaded and listening: tell the creator that a launch now runs at once.
        scope.postMessage(READY);
      });
    },
    env(name) {
      // Browsers have no environment; a page may set globalThis.QEMU_THREAD_ENV = { QEMU_THREAD_ERRORS: ... }.
      const env = (globalThis as { QEMU_THREAD_ENV?: Record<string, string> }).QEMU_THREAD_ENV;
      return env?.[name];
    },
    writeStderr(text) {
      console.error(text.replace(/\n$/, ''));
    },
    writeStdout(text) {
      console.log(text.replace(/\n$/, ''));
    },
    abort(message) {
      console.error(message.replace(/\n$/, ''));
      // A page cannot abort its process; a worker can at least stop running.
      if (isWorker) scope.close();
      throw new Error(message);
    },
    serialize(value) {
      return encodeClone(value);
    },
    deserialize(bytes) {
      return decodeClone(bytes);
    },
    moduleMissing() {
      // Finding out would need a fetch; a missing module is reported by the thread (EINVAL at join).
      return false;
    },
    moduleUrlTrusted(url) {
      if (url.protocol === 'blob:') return true;
      const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
    },
    trustedModules: "a URL of the page's own origin (http: or https:) or a blob: URL",
    get namedModules() {
      return state.threadWorker !== undefined;
    },
    loadThreadModule(spec) {
      return loadThreadModule(state, spec);
    },
    announceFinished() {
      state.finished = true;
      // After the current task: the trampoline may still be streaming a large outcome to its joiner.
      setTimeout(closeIfDone, 0);
    },
    whenIdle(callback) {
      callback();
    },
    watchForDeath(report) {
      // An uncaught error ends the thread, as it does in Node: report it to the joiner, then close.
      const onError = (event: Event) => {
        report(
          event.type === 'unhandledrejection'
            ? (event as Event & { reason?: unknown }).reason
            : describeErrorEvent(event),
        );
      };
      scope.addEventListener('error', onError);
      scope.addEventListener('unhandledrejection', onError);
    },
    pid: 0,
    processShared(key, bytes) {
      return shared(key, bytes, state);
    },
    madeShared() {
      // Every worker receives its creator's blocks at boot (or through workerInit): none is private.
      return false;
    },
    announceEnded() {},
    takeAnnouncedEnds() {
      return [];
    },
    appendFile(path) {
      throw new Error(
        `qemu-thread: cannot write '${path}': trace files need Node.js; in a browser use the log backend (console)`,
      );
    },
    beforeThisThreadEnds(callback) {
      // Runs when this worker closes itself (closeIfDone); the window's thread ends with the page, unannounced.
      state.endCallbacks.push(callback);
    },
    spawn(options: SpawnOptions): SpawnedThread {
      return spawn(state, options);
    },
  };
}

/** Imports a thread function's module: a module name of this thread worker, or a URL. */
async function loadThreadModule(state: BrowserState, spec: string): Promise<Record<string, unknown>> {
  let url: string | undefined;
  try {
    url = new URL(spec).href;
  } catch {
    // Not a URL: a module name.
  }
  if (url === undefined) {
    const load = state.modules?.[spec];
    if (load === undefined) {
      const known = Object.keys(state.modules ?? {});
      throw new Error(
        state.modules === undefined || known.length === 0
          ? `this worker (${ownScriptHref()}) is not a thread worker with modules: see setThreadWorker`
          : `the thread worker ${ownScriptHref()} has no module '${spec}' (it has: ${known.join(', ')})`,
      );
    }
    try {
      return (await load()) as Record<string, unknown>;
    } catch (error) {
      throw await explainImportError(error, urlInMessage(String((error as Error)?.message ?? error)));
    }
  }
  try {
    // Not for the bundler: the module is whatever the URL names, at run time.
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as Record<string, unknown>;
  } catch (error) {
    throw await explainImportError(error, url);
  }
}

async function explainImportError(error: unknown, url: string | undefined): Promise<Error> {
  const why = error instanceof Error ? error.message : String(error);
  // A module that was fetched and threw while evaluating says so itself.
  if (url === undefined || (error instanceof Error && error.name !== 'TypeError')) {
    return error instanceof Error ? error : new Error(why);
  }
  const found = await diagnoseUrl(url, 'module');
  return new Error(`${found.cause}: ${url}; ${found.found ? found.hint : why}`);
}

function spawn(state: BrowserState, options: SpawnOptions): SpawnedThread {
  const tid = allocateThreadId();
  const { worker, url, what } = createWorker(state, options.name);
  let launched = options.data !== undefined;
  let ended = false;
  let booted = false;
  let markReady: () => void = () => {};
  let failReady: (error: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Nobody may be waiting for a pre-started worker's readiness; its failure is still reported by prestart.
  ready.catch(() => {});
  const end = (code: number, error: unknown) => {
    if (ended) return;
    ended = true;
    clearTimeout(bootTimer);
    if (launched) {
      markReady();
      state.liveChildren--;
      setTimeout(closeIfDone, 0);
    } else if (error !== undefined) {
      failReady(error);
    } else {
      markReady();
    }
    options.onExit(code, error);
  };
  /**
   * The worker never ran qemu-thread's boot code: says why, as well as a fetch of its script can tell.
   * The cause comes first: a report that must fit the QemuThread's window may be cut short.
   */
  const failBoot = async (headline: string, otherwise: string) => {
    if (ended) return;
    worker.terminate();
    const found = url !== undefined ? await diagnoseUrl(url, 'worker') : undefined;
    const text =
      found?.found === true
        ? `worker failed to load, ${found.cause}: ${what}; ${found.hint}`
        : `${headline}: ${what}; ${otherwise}`;
    console.error(`qemu-thread: ${text}`);
    end(1, new Error(text));
  };
  // The boot timer counts the creator's event-loop time only: a creator that blocked for a while (its
  // worker cannot boot meanwhile) gives the worker another full period once it runs again.
  const timeout = Number(browserPlatformEnv('QEMU_THREAD_BOOT_TIMEOUT_MS')) || BOOT_TIMEOUT_MS;
  let armedAt = Date.now();
  let bootTimer: ReturnType<typeof setTimeout> | undefined;
  const armBootTimer = () => {
    armedAt = Date.now();
    bootTimer = setTimeout(() => {
      if (booted || ended) return;
      if (Date.now() - armedAt > timeout + 1000) return armBootTimer();
      void failBoot(
        `worker did not start qemu-thread within ${timeout} ms`,
        "its entry must call threadWorker() from 'qemu-thread/worker' at its top level",
      );
    }, timeout);
  };
  armBootTimer();
  worker.addEventListener('message', (event) => {
    const message = event.data as unknown;
    if (message === READY) {
      markReady();
    } else if (message === DONE) {
      end(0, undefined);
    } else if (message !== null && typeof message === 'object') {
      if (HELLO in message) {
        booted = true;
        clearTimeout(bootTimer);
        if (typeof state.threadWorker === 'function') {
          state.threadWorkerSeen ??= message[HELLO] as { href: string; type: WorkerType };
        }
      } else if (FAILED in message) {
        worker.terminate();
        end(1, new Error(String(message[FAILED])));
      }
    }
  });
  worker.addEventListener('error', (event) => {
    // The error is ours to report; stop it from travelling on to this thread's own creator.
    event.preventDefault();
    if (!booted) {
      void failBoot(
        'worker failed to load',
        'a syntax error, an import that failed, or an error at its top level (see the console)',
      );
      return;
    }
    worker.terminate();
    end(1, describeErrorEvent(event));
  });
  try {
    const boot: BootMessage = {
      tid,
      spawned: true,
      shared: { ...state.shared },
      data: options.data,
      threadWorker: typeof state.threadWorker === 'string' ? state.threadWorker : undefined,
      threadWorkerType: state.threadWorkerType,
    };
    worker.postMessage({ [BOOT]: boot });
  } catch (error) {
    // The start data cannot be cloned (a function in the argument, say): no thread.
    clearTimeout(bootTimer);
    worker.terminate();
    throw error;
  }
  if (launched) {
    state.liveChildren++;
    // Its start data is in the boot message: nothing to wait for before launching (as in Node).
    markReady();
  }
  return {
    threadId: tid,
    ready,
    async terminate() {
      // Immediate, wherever the worker is (a blocked Atomics.wait included). No event follows, so the
      // end is reported here. Its own workers die with it unreported (known limitation).
      worker.terminate();
      end(1, undefined);
    },
    unref() {},
    launch(data) {
      worker.postMessage({ [SPAWN]: data });
      launched = true;
      state.liveChildren++;
    },
  };
}

function browserPlatformEnv(name: string): string | undefined {
  return (globalThis as { QEMU_THREAD_ENV?: Record<string, string> }).QEMU_THREAD_ENV?.[name];
}
