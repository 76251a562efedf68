/**
 * What a thread knows about itself: whether qemu-thread started it, with which QemuThread storage and
 * name, and its at-exit notifiers. Kept on `globalThis` under a registered symbol so that every copy of
 * the library loaded into one thread (say, through two different import paths) agrees.
 */

/** A notifier run when the thread function returns or calls qemu_thread_exit (QEMU's Notifier). */
export interface Notifier {
  /**
   * Called, with no argument, once the thread function has returned or exited. If it throws, the joiner
   * gets that error instead of the result; the other notifiers still run.
   */
  notify(data?: unknown): void;
}

export interface ThreadSelf {
  /** Words of the QemuThread storage this thread was created with, or null. */
  storage: Int32Array | null;
  /** The thread's name as given to qemu_thread_create, or null. */
  name: string | null;
  /** At-exit notifiers, most recently added first (QEMU's list runs them in that order). */
  notifiers: Notifier[];
  /** Whether threads created from here get their name as their worker name. */
  naming: boolean;
  /**
   * URL prefixes from which thread functions may be loaded besides the platform's own modules (`file:`
   * on Node; same-origin http(s) and blob: in a browser): QemuThread.allowModuleUrls.
   */
  moduleUrls: string[];
}

const KEY = Symbol.for('qemu-thread.self');

export const self: ThreadSelf = ((globalThis as Record<symbol, ThreadSelf | undefined>)[KEY] ??= {
  storage: null,
  name: null,
  notifiers: [],
  naming: false,
  moduleUrls: [],
});
// A copy of the library from before moduleUrls existed may have made the record.
self.moduleUrls ??= [];
