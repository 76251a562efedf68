/**
 * The first module of every Web Worker that runs a qemu-thread thread in a browser, and the hand-over of
 * what a browser cannot share implicitly: the worker's thread id and the process-wide shared blocks.
 *
 * Why the library is not simply imported by the worker's entry: a browser dispatches the messages that
 * arrive before the worker listens to nobody, and the library needs its BOOT message (its thread id, the
 * shared blocks) before it is evaluated. So this module, which imports nothing of the library, starts
 * listening during the worker's first task and only then imports the thread trampoline (thread/entry.js)
 * with a dynamic `import()`, which every bundler turns into a chunk of the worker's build. Everything it
 * learns goes into the thread's state on `globalThis` (browser-state.ts), never into module variables,
 * so it survives any way a bundler splits or duplicates modules.
 *
 * An application bundled for the browser writes its own worker entry, a "thread worker", that names the
 * modules whose functions run as threads with one call of threadWorker() below (docs/bundlers.md).
 * qemu-thread's own worker (browser-worker.ts) is the same call with no modules: it runs thread functions
 * named by URL.
 */
import {
  BOOT,
  type BootMessage,
  type BrowserState,
  browserState,
  FAILED,
  HELLO,
  type ModuleLoader,
  ownScriptHref,
  ownWorkerType,
  SPAWN,
} from './browser-state.js';

export type { ModuleLoader } from './browser-state.js';

interface Scope {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

const scope = globalThis as unknown as Scope;

/**
 * Makes the calling worker a qemu-thread thread worker: call it at the top level of the worker's entry
 * module. `modules` maps names to functions that import the modules holding thread functions; a thread
 * then names its function `'name#export'` (`qemu_thread_create(t, 'CPU 0', 'vcpu#vcpuThreadFn', ...)`).
 * Each value must be a function with a dynamic `import()`, not a statically imported module: qemu-thread
 * may only be loaded once the worker knows which thread it is, and a bundler emits each such module as a
 * chunk of the worker's build, compiled from TypeScript if need be, with its exports.
 *
 * @example
 * ```ts
 * // vcpu.ts: a module of thread functions
 * export function vcpuThreadFn(index: number): number {
 *   return index * 10;
 * }
 * ```
 * ```ts
 * // io.ts
 * export function ioThreadFn(): void {}
 * ```
 * The thread worker's entry (the file that setThreadWorker's `new Worker(new URL(...))` names):
 * ```ts
 * import { threadWorker } from 'qemu-thread/worker';
 *
 * threadWorker({ vcpu: () => import('./vcpu.js'), io: () => import('./io.js') });
 * ```
 */
export function threadWorker(modules: Record<string, ModuleLoader> = {}): void {
  if (typeof modules !== 'object' || modules === null) {
    throw new TypeError(`threadWorker: expected an object of module loaders, got ${String(modules)}`);
  }
  for (const [name, load] of Object.entries(modules)) {
    if (typeof load !== 'function') {
      throw new TypeError(
        `threadWorker: module '${name}' must be a function that imports it, like () => import('./${name}.js'), ` +
          `got ${typeof load}: a module imported statically would load qemu-thread before the worker ` +
          'knows which thread it is',
      );
    }
  }
  const href = ownScriptHref();
  if (href === undefined) throw new Error('threadWorker: call it in a Web Worker, not on the window');
  const state = browserState();
  if (state.phase !== 'none') throw new Error('threadWorker: this worker is already a thread worker');
  if (state.threadId !== undefined) {
    // The entry imported qemu-thread (or a module that does) statically: the library is set up as a
    // worker of nobody's. Say so to the creator, whose joiner would otherwise get a puzzling error.
    const message =
      `threadWorker: qemu-thread was loaded in the thread worker ${href} before threadWorker() ran: its ` +
      "entry must load thread modules with () => import('./x.js'), never import them statically";
    scope.postMessage({ [FAILED]: message });
    throw new Error(message);
  }
  state.modules = { ...modules };
  // A thread worker's threads start their own threads in the same kind of worker.
  if (Object.keys(modules).length > 0) {
    state.threadWorker = href;
    state.threadWorkerType = ownWorkerType();
  }
  listen(state).then(async (boot) => {
    if (!boot.spawned) return;
    try {
      // Settles when the thread is over: the trampoline awaits its start data, then the thread function.
      await import('../thread/entry.js');
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      scope.postMessage({
        [FAILED]:
          `qemu-thread's thread trampoline, a chunk next to the worker ${href}, could not be loaded: ${why} ` +
          '(see docs/bundlers.md)',
      });
      scope.close();
    }
  });
  scope.postMessage({ [HELLO]: { href, type: ownWorkerType() } });
}

/**
 * For a Web Worker that the page creates itself (not through qemu_thread_create): waits for the message
 * posted to it by `workerInit()` (from `qemu-thread/browser`) in a thread that has qemu-thread loaded, so
 * that this worker gets a thread id of its own and the same shared tables. Call it, and await it, before
 * qemu-thread is imported in that worker.
 *
 * @example
 * ```ts
 * // counter.ts: a Web Worker the page creates itself, with new Worker(new URL('./counter.js', ...))
 * import { receiveWorkerInit } from 'qemu-thread/worker';
 *
 * await receiveWorkerInit();
 * // Only now may qemu-thread be loaded: the worker has its own thread id and the page's shared tables.
 * const { currentThreadName } = await import('qemu-thread');
 * console.log(currentThreadName());
 * ```
 * ```ts
 * // main.ts: on the page
 * import { workerInit } from 'qemu-thread/browser';
 *
 * const worker = new Worker(new URL('./counter.js', import.meta.url), { type: 'module' });
 * worker.postMessage(workerInit());
 * ```
 */
export function receiveWorkerInit(): Promise<void> {
  const state = browserState();
  if (state.phase !== 'none') return Promise.reject(new Error('receiveWorkerInit: already received'));
  return listen(state).then(() => {});
}

/** Listens for BOOT (and, for a pre-started worker, the SPAWN that follows) and records them in `state`. */
function listen(state: BrowserState): Promise<BootMessage> {
  state.phase = 'listening';
  return new Promise((resolve) => {
    const listener = (event: { data: unknown }) => {
      const message = event.data as Record<string, unknown> | null;
      if (message === null || typeof message !== 'object') return;
      if (BOOT in message && state.phase === 'listening') {
        const boot = message[BOOT] as BootMessage;
        state.boot = { tid: boot.tid, spawned: boot.spawned, start: boot.data, onStart: null };
        Object.assign(state.shared, boot.shared);
        if (boot.threadWorker !== undefined) {
          state.threadWorker = boot.threadWorker;
          state.threadWorkerType = boot.threadWorkerType ?? 'module';
        }
        state.phase = 'booted';
        // Only a pre-started thread hears from its creator again.
        if (!boot.spawned || boot.data !== undefined) scope.removeEventListener('message', listener);
        resolve(boot);
      } else if (SPAWN in message && state.boot !== undefined) {
        state.boot.start = message[SPAWN];
        state.boot.onStart?.(state.boot.start);
        scope.removeEventListener('message', listener);
      }
    };
    scope.addEventListener('message', listener);
  });
}
