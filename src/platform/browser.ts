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
 *
 * As the package's `qemu-thread/browser` entry point it exports {@link workerInit}, for Web Workers a page
 * creates itself.
 *
 * @module qemu-thread/browser
 */

import { BOOT, BOOT_STATE, type BootState, SPAWN } from './browser-boot.js';
import { decodeClone, encodeClone } from './clone-codec.js';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

/** A worker's messages to its creator: waiting for its start data (pre-started), and closing. */
const READY = '__qemuThreadReady';
const DONE = '__qemuThreadDone';
const TID_KEY = 'qemu-thread.browser-tids';

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
type WebWorkerConstructor = new (url: URL, options: { type: 'module'; name?: string }) => WebWorker;

interface WorkerScope {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

const scope = globalThis as unknown as WorkerScope & Record<symbol, BootState | undefined>;
const isWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';
const boot: BootState | undefined = scope[BOOT_STATE];

/** This thread's process-shared blocks, by key: received at boot, added to by processShared. */
const registry: Record<string, SharedArrayBuffer> = { ...(boot?.shared ?? {}) };

function processShared(key: string, bytes: number): SharedArrayBuffer {
  let buffer = registry[key];
  if (buffer === undefined || buffer.byteLength < bytes) {
    buffer = new SharedArrayBuffer(bytes);
    registry[key] = buffer;
  }
  return buffer;
}

/** The next free thread id; the window is 0, so the counter hands out 1, 2, ... */
function allocateThreadId(): number {
  return Atomics.add(new Int32Array(processShared(TID_KEY, 4)), 0, 1) + 1;
}

/**
 * A worker the page created itself (not through qemu_thread_create) gets no id from a creator. It takes
 * one at random above every allocated range, and it has its own shared blocks: its locks still work with
 * everyone's, but liveness and thread names are not shared with it (see workerInit for the full hand-over).
 */
function ownThreadId(): number {
  if (!isWorker) return 0;
  return boot?.tid ?? (1 << 20) + Math.floor(Math.random() * (1 << 26));
}

const threadId = ownThreadId();

/** Threads this thread launched that have not closed yet: it must outlive them (they die with it). */
let liveChildren = 0;
let finished = false;
const endCallbacks: (() => void)[] = [];

/** Closes this worker once its thread is over and no thread it launched is still running. */
function closeIfDone(): void {
  if (!finished || liveChildren > 0 || !isWorker) return;
  for (const callback of endCallbacks.splice(0)) {
    try {
      callback();
    } catch (error) {
      console.error(error);
    }
  }
  scope.postMessage(DONE);
  scope.close();
}

function describeErrorEvent(event: Event): Error {
  const e = event as ErrorEventLike;
  if (e.error instanceof Error) return e.error;
  const where = e.filename ? ` (${e.filename}:${e.lineno}:${e.colno})` : '';
  return new Error(`${e.message || 'the worker failed to load or threw an uncaught error'}${where}`);
}

/**
 * The message to post, first, to a Web Worker the page creates itself, so that it joins this page's
 * threads with an id of its own and the same shared blocks. In the worker, call `receiveWorkerInit()`
 * from `qemu-thread/browser-boot` before importing qemu-thread.
 */
export function workerInit(): unknown {
  return { [BOOT]: { tid: allocateThreadId(), shared: { ...registry }, data: undefined } };
}

/** The library's platform layer for browsers (platform/index.ts picks it). @internal */
export const browserPlatform: Platform = {
  threadId,
  cores: Math.max(
    1,
    Number((globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency) ||
      1,
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
    if (boot?.spawned !== true) return Promise.reject(new Error('qemu-thread: this worker was not spawned'));
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
  moduleUrlTrusted(url) {
    if (url.protocol === 'blob:') return true;
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
  },
  trustedModules: "a URL of the page's own origin (http: or https:) or a blob: URL",
  moduleMissing() {
    // Finding out would need a fetch; a missing module is reported by the thread (EINVAL at join).
    return false;
  },
  announceFinished() {
    finished = true;
    // After the current task: the trampoline may still be streaming a large outcome to its joiner.
    setTimeout(closeIfDone, 0);
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
  processShared,
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
    endCallbacks.push(callback);
  },
  spawn(options: SpawnOptions): SpawnedThread {
    const tid = allocateThreadId();
    const boot = new URL('./browser-boot.js?boot', import.meta.url);
    const Worker = (globalThis as unknown as { Worker: WebWorkerConstructor }).Worker;
    const worker = new Worker(boot, {
      type: 'module',
      ...(options.name !== null ? { name: options.name } : {}),
    });
    let launched = options.data !== undefined;
    let ended = false;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const end = (code: number, error: unknown) => {
      if (ended) return;
      ended = true;
      markReady();
      if (launched) {
        liveChildren--;
        setTimeout(closeIfDone, 0);
      }
      options.onExit(code, error);
    };
    worker.addEventListener('message', (event) => {
      if (event.data === READY) markReady();
      else if (event.data === DONE) end(0, undefined);
    });
    worker.addEventListener('error', (event) => {
      // The error is ours to report; stop it from travelling on to this thread's own creator.
      event.preventDefault();
      worker.terminate();
      end(1, describeErrorEvent(event));
    });
    try {
      worker.postMessage({
        [BOOT]: { tid, shared: { ...registry }, entry: options.entry.href, data: options.data },
      });
    } catch (error) {
      // The start data cannot be cloned (a function in the argument, say): no thread.
      worker.terminate();
      throw error;
    }
    if (launched) {
      liveChildren++;
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
        liveChildren++;
      },
    };
  },
};
