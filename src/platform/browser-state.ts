/**
 * What a browser thread knows about itself and its workers, kept in one object on `globalThis` under a
 * registered symbol. Two copies of qemu-thread loaded into one thread (a bundler's chunk and a raw file,
 * or two chunks of two builds) therefore see one thread id, one set of process-shared blocks, one count
 * of live children and one list of end callbacks, and act as one library. This module imports nothing:
 * the worker's boot module (browser-boot.ts) uses it before the library is loaded.
 *
 * Messages between a creator and a worker it started (all plain objects or strings, keyed so that they
 * cannot be mistaken for the application's own messages):
 * - worker -> creator `{ [HELLO]: { href, type } }`: the worker's first module runs and listens (at once).
 * - creator -> worker `{ [BOOT]: BootMessage }`: who the worker is; sent right after `new Worker`.
 * - worker -> creator `READY`: the library is loaded and waits for its start data (pre-started worker).
 * - creator -> worker `{ [SPAWN]: data }`: the start data of a thread launched on a pre-started worker.
 * - worker -> creator `{ [FAILED]: message }`: the worker could not load qemu-thread's trampoline.
 * - worker -> creator `DONE`: the thread is over and the worker closes.
 */

export const HELLO = '__qemuThreadHello';
export const BOOT = '__qemuThreadBoot';
export const READY = '__qemuThreadReady';
export const SPAWN = '__qemuThreadSpawn';
export const FAILED = '__qemuThreadFailed';
export const DONE = '__qemuThreadDone';

/** Loads one module of a thread worker: `() => import('./vcpu.js')`, written in the worker's entry. */
export type ModuleLoader = () => Promise<unknown>;

/** What a creator tells a new worker. */
export interface BootMessage {
  /** The worker's thread id, allocated by the creator from the process-wide counter. */
  tid: number;
  /** True for a worker started by qemu_thread_create or prestart; false for a page's own worker. */
  spawned: boolean;
  /** Every process-shared block the creator had, by key. */
  shared: Record<string, SharedArrayBuffer>;
  /** The thread's start data; undefined for a pre-started worker (it comes later, by SPAWN). */
  data: unknown;
  /** The URL of the creator's thread worker, if it knows one, so that this thread starts the same kind. */
  threadWorker?: string;
  /** How that worker must be created: a bundler may have built it as a classic script (webpack does). */
  threadWorkerType?: WorkerType;
}

export type WorkerType = 'module' | 'classic';

/** A thread's worker that has booted: what its creator told it. */
export interface BootInfo {
  tid: number;
  spawned: boolean;
  /** The start data, once known. */
  start: unknown;
  /** Called with the start data when it arrives after boot (pre-started workers). */
  onStart: ((data: unknown) => void) | null;
}

export interface BrowserState {
  /**
   * 'listening' from the moment a worker's boot module listens until its BOOT message arrives; 'booted'
   * after. 'none' on the window, and in a worker the page created itself without the hand-over.
   */
  phase: 'none' | 'listening' | 'booted';
  boot: BootInfo | undefined;
  /** This thread's process-shared blocks, by key: received at boot, added to by processShared. */
  shared: Record<string, SharedArrayBuffer>;
  /** This thread's id, once the platform has settled it. */
  threadId: number | undefined;
  /** Threads this thread launched that have not closed yet: it must outlive them (they die with it). */
  liveChildren: number;
  /** Set once this thread's function is over (a spawned worker then closes when its children have). */
  finished: boolean;
  /** Run when this worker closes itself. */
  endCallbacks: (() => void)[];
  /**
   * The worker that new threads of this thread run in: a URL (href), a function that creates the Worker
   * (so that a bundler sees `new Worker(new URL(...))` in the application's code), or undefined for
   * qemu-thread's own worker.
   */
  threadWorker: string | (() => unknown) | undefined;
  /** The type to create a thread worker given by URL with (its own type, for a worker that inherits it). */
  threadWorkerType: WorkerType;
  /** The URL and type of a worker made by a threadWorker function, learned from its HELLO (for workerInit). */
  threadWorkerSeen: { href: string; type: WorkerType } | undefined;
  /** In a thread worker: the modules it registers, by name (threadWorker() in browser-boot.ts). */
  modules: Record<string, ModuleLoader> | undefined;
}

const KEY = Symbol.for('qemu-thread.browser-state');

/** This thread's state, created by whichever copy of the library asks first. */
export function browserState(): BrowserState {
  const g = globalThis as unknown as Record<symbol, BrowserState | undefined>;
  let state = g[KEY];
  if (state === undefined) {
    state = {
      phase: 'none',
      boot: undefined,
      shared: {},
      threadId: undefined,
      liveChildren: 0,
      finished: false,
      endCallbacks: [],
      threadWorker: undefined,
      threadWorkerType: 'module',
      threadWorkerSeen: undefined,
      modules: undefined,
    };
    g[KEY] = state;
  }
  return state;
}

/** The href of the running worker's own script (WorkerGlobalScope.location), or undefined. */
export function ownScriptHref(): string | undefined {
  const g = globalThis as { WorkerGlobalScope?: unknown; location?: { href?: string } };
  return typeof g.WorkerGlobalScope === 'function' ? g.location?.href : undefined;
}

/**
 * Whether the running worker is a module worker. A bundler may build a worker written as `{ type:
 * 'module' }` into a classic script (webpack does, unless its output is ES modules), and a thread worker
 * that starts more of itself by URL must create them the same way. Only a classic worker may call
 * importScripts (with no script, it does nothing).
 */
export function ownWorkerType(): WorkerType {
  try {
    (globalThis as unknown as { importScripts(): void }).importScripts();
    return 'classic';
  } catch {
    return 'module';
  }
}
