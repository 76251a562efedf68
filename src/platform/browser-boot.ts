/**
 * The first module of every Web Worker that qemu-thread starts (browser platform), and the hand-over of
 * what a browser cannot share implicitly: the worker's thread id and the process-wide shared blocks.
 *
 * Why a separate first module: a browser dispatches messages that arrive before the worker's scripts
 * listen to nobody, and the library's platform module is loaded by a dynamic import, far too late. So
 * this module, which imports nothing, starts listening while the worker's first task runs, keeps every
 * message of ours it receives on `globalThis` (under a registered symbol, read by browser.ts), and only
 * then imports the module it was told to run (the thread trampoline, thread/entry.js).
 *
 * Messages from the creator: BOOT `{ tid, shared, entry, data }` first (data is undefined for a
 * pre-started worker), then, for a pre-started one, SPAWN `{ data }` when a thread is launched on it.
 *
 * Workers that the page creates itself can use the same hand-over: see {@link receiveWorkerInit}.
 *
 * @module qemu-thread/browser-boot
 */

/** What a worker knows from its creator; shared with browser.ts through globalThis. @internal */
export interface BootState {
  /** This thread's id, allocated by the creator from the process-wide counter. */
  tid: number;
  /** Whether qemu_thread_create started this worker (false for a page's own worker given workerInit()). */
  spawned: boolean;
  /** Every process-shared block the creator had, by key. */
  shared: Record<string, SharedArrayBuffer>;
  /** The thread's start data, once known. */
  start: unknown;
  /** Called with the start data when it arrives after boot (pre-started workers). */
  onStart: ((data: unknown) => void) | null;
}

/** The key of the creator's first message to a worker. @internal */
export const BOOT = '__qemuThreadBoot';
/** The key of the message that launches a thread on a pre-started worker. @internal */
export const SPAWN = '__qemuThreadSpawn';
/** Where a worker keeps its {@link BootState} on `globalThis`. @internal */
export const BOOT_STATE = Symbol.for('qemu-thread.browser-boot');

type Scope = {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
};

/**
 * Waits for the BOOT message and records it for browser.ts. Resolves with the module to run next (if the
 * creator named one). Call it before qemu-thread is imported in a worker the page created itself, after
 * posting it `workerInit()`'s message from a thread that has qemu-thread loaded.
 */
export function receiveWorkerInit(): Promise<string | undefined> {
  const scope = globalThis as unknown as Scope & Record<symbol, BootState | undefined>;
  return new Promise((resolve) => {
    const listener = (event: MessageEvent) => {
      const message = event.data as Record<string, unknown> | null;
      if (message === null || typeof message !== 'object') return;
      if (BOOT in message) {
        const boot = message[BOOT] as {
          tid: number;
          shared: BootState['shared'];
          entry?: string;
          data: unknown;
        };
        const state: BootState = {
          tid: boot.tid,
          spawned: boot.entry !== undefined,
          shared: boot.shared,
          start: boot.data,
          onStart: null,
        };
        scope[BOOT_STATE] = state;
        resolve(boot.entry);
      } else if (SPAWN in message) {
        const state = scope[BOOT_STATE];
        if (state === undefined) return;
        state.start = message[SPAWN];
        state.onStart?.(state.start);
        scope.removeEventListener('message', listener);
      }
    };
    scope.addEventListener('message', listener);
  });
}

// Run as a worker's first module (the URL has ?boot): listen at once, then run what the creator asked for.
if (new URL(import.meta.url).searchParams.has('boot')) {
  const entry = await receiveWorkerInit();
  if (entry !== undefined) await import(entry);
}
