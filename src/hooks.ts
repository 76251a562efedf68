/**
 * Where instrumentation attaches to the primitives: the park layer's hooks, the way `parking_lot`'s
 * `park(key, validate, before_sleep, timed_out)` takes callbacks and QEMU's QSP swaps
 * `qemu_mutex_lock_func`. The primitives call these hooks and know nothing of what is behind them;
 * instrument.ts installs the library's instrumentation (trace events, the profiler, holder and waiter
 * records, wait sites, deadlock detection, the waits table) when the library's entry point loads.
 *
 * Two kinds of hooks:
 * - Around waits, always on: {@link Hooks.beforeSleep}, {@link Hooks.afterWake} and the others are
 *   called by the wait drivers (wait.ts) on slow paths only, next to a futex sleep that costs far more.
 * - Around calls, only while instrumentation is on: {@link Hooks.lockBegin}, {@link Hooks.acquired},
 *   {@link Hooks.released} and the others. A fast path pays one load and branch for them: word 0 of
 *   {@link control}, non-zero while any trace event or the profiler is on in any thread of the process.
 *
 * The defaults below do nothing and answer conservatively (a destroy counts every counted waiter as alive):
 * primitives loaded without the entry point still work, without instrumentation.
 */
import { platform } from './platform/index.js';

/** Bytes of the process-wide control block. */
export const CONTROL_BYTES = 1024;
/** Word of {@link control} with the enabled trace events' bits and the profiler's bit (trace.ts, qsp.ts). */
export const CONTROL_ENABLED = 0;
/** Word of {@link control} that counts the numbers given to objects (see {@link nextObjectId}). */
const CONTROL_NEXT_ID = 2;

/**
 * The process-wide control block, in shared memory so that enabling tracing in one thread enables it in
 * all. Word {@link CONTROL_ENABLED} is the fast paths' switch, read with a plain load: a stale read right
 * after another thread changed it only delays the change by a call or two. trace.ts owns the other words.
 */
export const control = new Int32Array(platform.processShared('qemu-thread.trace', CONTROL_BYTES));

/**
 * A new number for an object at its init, process-wide: it names the object in trace lines, profiler
 * rows, waiter records and messages, the same in every thread.
 */
export function nextObjectId(): number {
  return Atomics.add(control, CONTROL_NEXT_ID, 1) + 1;
}

/** What waits or is called, for the instrumentation (the profiler's row type, which records to keep). */
export const KIND_MUTEX = 1;
export const KIND_REC_MUTEX = 2;
export const KIND_COND = 3;
export const KIND_SEMAPHORE = 4;
export const KIND_EVENT = 5;
export const KIND_LOCKCNT = 6;

/** {@link Hooks.lockBegin} flags: a trylock (QEMU emits no qemu_mutex_lock for it). */
export const TRYING = 1;
/** {@link Hooks.lockBegin} and {@link Hooks.released} flags: a recursive mutex's nested lock or unlock. */
export const NESTED = 2;

/** A thread parked on a mutex or cond. */
export interface Waiter {
  /** The waiting thread's id. */
  threadId: number;
  /** When it went to sleep, in ms since the epoch. */
  since: number;
}

/** What {@link Hooks.lockBegin} hands to {@link Hooks.acquired}: opaque to the primitives. */
export interface Probe {
  readonly kind: number;
  /** The mutex's number (a cond wait: the cond's). */
  readonly id: number;
  /** A cond wait's mutex number (0 otherwise). */
  readonly mutexId: number;
  readonly flags: number;
  /** The caller's file:line. */
  readonly site: string;
  /** When the call began (performance.now()), or -1 when the profiler was off. */
  readonly start: number;
}

export interface Hooks {
  // ---- waits: always on, slow paths only ---------------------------------------------------------------
  /**
   * A waiter of object `id` that the object counts in its own words (cond, semaphore, event) is about to
   * count itself. Returns a record for {@link depart}.
   */
  arrive(id: number): number;
  /** That waiter no longer counts itself. */
  depart(record: number): void;
  /** How many threads that have not ended are counted waiters of object `id` (for destroy's EBUSY). */
  liveWaiters(id: number): number;
  /**
   * The calling thread is about to sleep in a wait of `kind` on object `id`, whose word holds `expected`
   * (a lock word names its owner); `first` for the first sleep of this call. Returns a token for
   * {@link afterWake}.
   */
  beforeSleep(kind: number, id: number, expected: number, first: boolean): number;
  /** The sleep that {@link beforeSleep} announced is over, however it ended. */
  afterWake(token: number): void;
  /**
   * A sleep of a lock wait ran out its slice and the lock is still held by another thread: the place to
   * look for a deadlock cycle, which fails (EDEADLK, naming `func`). `w` is the lock's words.
   */
  stillBlocked(kind: number, w: Int32Array, id: number, func: string, async: boolean): void;
  /** A wait of `kind` that slept at least once is over, however it ended. */
  waitEnded(kind: number): void;
  /** The threads asleep on mutex `id` (or in a wait on cond `-id`) now. */
  waitersOf(id: number): Waiter[];
  /** When the current holder of mutex `id` took it (ms since the epoch), if recorded. */
  heldSince(id: number): number | null;

  // ---- calls: only while control[CONTROL_ENABLED] !== 0 -------------------------------------------------
  /** Before a lock or trylock of mutex `id` (`kind`: mutex or rec mutex; `flags`: TRYING, NESTED). */
  lockBegin(kind: number, id: number, flags: number): Probe;
  /** After it: `taken` false for a trylock that failed. Not called when the lock threw. */
  acquired(probe: Probe, taken: boolean): void;
  /** Before an unlock of mutex `id` by its holder (`flags`: NESTED for an unlock that keeps it held). */
  released(id: number, flags: number): void;
  /** On entry to a wait on cond `condId`, before it releases mutex `mutexId`. */
  condWaitBegin(condId: number, mutexId: number): Probe;
  /** When the cond wait holds its mutex again (time-outs included). */
  condWaitEnd(probe: Probe): void;
  /** A point event of a lockcnt (QEMU's lockcnt_* trace events), with QEMU's arguments. */
  point(name: string, id: number, a: number, b: number): void;
}

const NO_PROBE: Probe = { kind: 0, id: 0, mutexId: 0, flags: 0, site: '', start: -1 };

const none: Hooks = {
  arrive: () => -1,
  depart: () => {},
  // Conservative: every counted waiter is taken to be alive.
  liveWaiters: () => 1,
  beforeSleep: () => -1,
  afterWake: () => {},
  stillBlocked: () => {},
  waitEnded: () => {},
  waitersOf: () => [],
  heldSince: () => null,
  lockBegin: () => NO_PROBE,
  acquired: () => {},
  released: () => {},
  condWaitBegin: () => NO_PROBE,
  condWaitEnd: () => {},
  point: () => {},
};

/** The installed hooks (read through this binding, which {@link installHooks} replaces). */
export let hooks: Hooks = none;

/** Installs the instrumentation (instrument.ts does, once per thread). */
export function installHooks(next: Hooks): void {
  hooks = next;
}

/**
 * A lock call with the call hooks around it, for the fast paths' instrumented branch: `lock` is the
 * lock's uninstrumented form. (Nothing is recorded when it throws, as QEMU records nothing for a lock
 * that aborts.)
 */
export function instrumentedLock(
  kind: number,
  id: number,
  flags: number,
  lock: (w: Int32Array, func: string) => void,
  w: Int32Array,
  func: string,
): void {
  const probe = hooks.lockBegin(kind, id, flags);
  lock(w, func);
  hooks.acquired(probe, true);
}

/** As {@link instrumentedLock}, for an async lock. */
export async function instrumentedLockAsync(
  kind: number,
  id: number,
  flags: number,
  lock: (w: Int32Array, func: string, signal?: AbortSignal) => Promise<void>,
  w: Int32Array,
  func: string,
  signal?: AbortSignal,
): Promise<void> {
  const probe = hooks.lockBegin(kind, id, flags);
  await lock(w, func, signal);
  hooks.acquired(probe, true);
}
