/**
 * Thread functions for the QemuThread lifecycle tests (thread-*.test.ts). Each export is started with
 * `new URL('./lifecycle.js#name', import.meta.url)` and reports what it saw through its return value or
 * through shared memory; nothing here runs when the module is merely loaded.
 */
import {
  currentThreadName,
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  QemuThreadError,
  qemu_event_set,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_wait,
  qemu_thread_atexit_add,
  qemu_thread_atexit_remove,
  qemu_thread_create,
  qemu_thread_exit,
  qemu_thread_get_self,
  qemu_thread_is_self,
  qemu_thread_join,
} from 'qemu-thread';
import { untilAsleep } from '../../support/os-thread.js';

// ---- values shared by the tests and the threads (built the same way on both sides) ----

/** A value with every kind of structured-clone content a join has to carry. */
export function makeRichValue() {
  return {
    number: -1.5,
    string: 'héllo € 🧵',
    nested: {
      map: new Map<string, unknown>([
        ['when', new Date(86_400_000)],
        ['bytes', Uint8Array.of(1, 2, 255)],
      ]),
      set: new Set<unknown>([1, 'two']),
      floats: new Float64Array([0.5, -0, Number.POSITIVE_INFINITY]),
      big: 2n ** 70n,
      list: [null, undefined, true],
      pattern: /ab+c/gi,
    },
  };
}

/** A string of `n` one-byte characters (Latin-1), in a pattern that exposes a lost or shifted chunk. */
export function makeString(n: number, twoByte = false): string {
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) parts[i] = String.fromCharCode(0x20 + ((i * 7919) % 0xdf));
  if (twoByte) for (let i = 0; i < n; i += 997) parts[i] = '€';
  return parts.join('');
}

/** An array of `n` mixed numbers and strings. */
export function makeArray(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? -i : `s${i}`));
}

/** What a thread reports about an error it caught. */
export function describeError(error: unknown) {
  const e = error as QemuThreadError;
  return {
    shape: {
      name: e?.name,
      code: e?.code,
      errno: e?.errno,
      func: e?.func,
      isQemuThreadError: error instanceof QemuThreadError,
    },
    message: String(e?.message),
  };
}

/**
 * A pause on the thread's own event loop. The thread functions below use it to act from a later callback
 * (after they have returned their promise); no test waits for it to have passed, nor assumes another
 * thread's state from it.
 */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Appends `code` to a log: `log[0]` counts the entries, which follow from index 1. */
export function record(log: Int32Array, code: number): void {
  const at = Atomics.add(log, 0, 1);
  Atomics.store(log, 1 + at, code);
}

/** The entries of a {@link record} log. */
export function entries(log: Int32Array): number[] {
  return Array.from(log.subarray(1, 1 + Atomics.load(log, 0)));
}

// ---- return values ----

export function echo(arg: unknown): unknown {
  return arg;
}

export function returnNothing(): void {}

export default function defaultExport(arg: string): string {
  return `default export got ${arg}`;
}

/** Not a function: starting it must fail with EINVAL. */
export const notAFunction = 42;

/** Resolves after `ms`, from a timer: a result that arrives after the function has returned its promise. */
export async function resolveLater(arg: { ms: number; value: unknown }): Promise<unknown> {
  await delay(arg.ms);
  return arg.value;
}

export async function rejectLater(arg: { ms: number; message: string }): Promise<never> {
  await delay(arg.ms);
  throw new RangeError(arg.message);
}

export function richValue(): unknown {
  return makeRichValue();
}

export function largeString(arg: { n: number; twoByte: boolean }): string {
  return makeString(arg.n, arg.twoByte);
}

export function largeArray(arg: { n: number }): unknown[] {
  return makeArray(arg.n);
}

export function returnFunction(): unknown {
  return () => 1;
}

/** Returns shared memory inside plain data: a result cannot carry it (v8's serializer refuses it). */
export function returnShared(): unknown {
  return { ok: [1, 2], state: { words: new SharedArrayBuffer(8) } };
}

/** Returns `value` once the main thread (whose kernel id is the process id) is asleep, e.g. in a join. */
export function returnOnceMainSleeps(arg: { value: unknown }): unknown {
  untilAsleep(process.pid);
  return arg.value;
}

export function waitThenReturn(arg: { gate: QemuSemaphore; value: unknown }): unknown {
  qemu_sem_wait(arg.gate);
  return arg.value;
}

// ---- joining from threads ----

/** Joins a thread this thread did not create and returns what the join gave. */
export function joinOther(arg: { target: QemuThread }): unknown {
  return { got: qemu_thread_join(arg.target) };
}

/** Like joinOther, but reports a failed join instead of dying of it. */
export function tryJoinOther(arg: { target: QemuThread }): unknown {
  try {
    return { got: qemu_thread_join(arg.target) };
  } catch (error) {
    return { error: describeError(error) };
  }
}

/** Creates a chain of `depth` nested threads, each joining its child: returns [depth, ..., 0]. */
export function spawnAndJoin(arg: { depth: number }): number[] {
  if (arg.depth === 0) return [0];
  const child = new QemuThread();
  qemu_thread_create(child, `depth ${arg.depth - 1}`, new URL('#spawnAndJoin', import.meta.url), {
    depth: arg.depth - 1,
  });
  return [arg.depth, ...(qemu_thread_join(child) as number[])];
}

/** Joins its own QemuThread (from the argument), then one filled by qemu_thread_get_self. */
export function joinSelf(arg: { self: QemuThread }): unknown {
  const attempt = (t: QemuThread) => {
    try {
      return { got: qemu_thread_join(t) };
    } catch (error) {
      return describeError(error);
    }
  };
  const filled = new QemuThread();
  qemu_thread_get_self(filled);
  return { fromArg: attempt(arg.self), fromGetSelf: attempt(filled) };
}

// ---- identity ----

export function selfCheck(arg: { self: QemuThread; mainIdentity: QemuThread }): unknown {
  const fresh = new QemuThread();
  const freshBefore = qemu_thread_is_self(fresh);
  qemu_thread_get_self(fresh);
  return {
    argIsInstance: arg.self instanceof QemuThread,
    isSelfArg: qemu_thread_is_self(arg.self),
    isSelfMainIdentity: qemu_thread_is_self(arg.mainIdentity),
    freshBefore,
    freshAfter: qemu_thread_is_self(fresh),
  };
}

export function nameCheck(): string | null {
  return currentThreadName();
}

// ---- exits ----

function leave(value: unknown): never {
  return deeper(value);
}

function deeper(value: unknown): never {
  return qemu_thread_exit(value);
}

/** Calls qemu_thread_exit (directly or two calls deep); `flag[0]` becomes 1 if it ever returns. */
export function exitWith(arg: { value: unknown; nested: boolean; flag: Int32Array }): string {
  if (arg.nested) leave(arg.value);
  else if (arg.flag.length > 0) qemu_thread_exit(arg.value);
  Atomics.store(arg.flag, 0, 1);
  return 'returned normally';
}

/** Calls qemu_thread_exit (unless `flag` is empty) after an await: from a later callback of the thread. */
export async function exitAfterAwait(arg: { value: unknown; flag: Int32Array }): Promise<string> {
  await delay(5);
  if (arg.flag.length > 0) qemu_thread_exit(arg.value);
  Atomics.store(arg.flag, 0, 1);
  return 'returned normally';
}

export function exitProcess(arg: { code: number }): string {
  process.exit(arg.code);
}

export function neverSettles(): Promise<never> {
  return new Promise(() => {});
}

/** Throws from a timer callback, after the function has returned a promise that never settles. */
export function uncaughtLater(arg: { message: string }): Promise<never> {
  return new Promise(() => {
    setTimeout(() => {
      throw new RangeError(arg.message);
    }, 5);
  });
}

// ---- errors ----

export function throwTypeError(arg: { message: string }): never {
  throw new TypeError(arg.message);
}

export function throwCustom(arg: { message: string }): never {
  class CustomError extends Error {
    override name = 'CustomError';
  }
  throw new CustomError(arg.message);
}

/** Unlocks a mutex it does not hold: dies of QemuThreadError EPERM (qemu_mutex_unlock). */
export function unlockUnheld(arg: { mutex: QemuMutex }): string {
  qemu_mutex_unlock(arg.mutex);
  return 'unlocked a mutex it did not hold';
}

export function throwValue(arg: { value: unknown }): never {
  throw arg.value;
}

export function throwLarge(arg: { n: number }): never {
  throw new Error(makeString(arg.n));
}

// ---- at-exit notifiers ----

/**
 * Adds notifiers 1, 2, 3, 4, removes 2, logs 100 at the end of its body, then returns, calls
 * qemu_thread_exit, or calls it two calls deep.
 */
export function atexitOrder(arg: { log: Int32Array; how: 'return' | 'exit' | 'nested-exit' }): string {
  const added = [1, 2, 3, 4].map((code) => {
    const notifier = { notify: () => record(arg.log, code) };
    qemu_thread_atexit_add(notifier);
    return notifier;
  });
  qemu_thread_atexit_remove(added[1]);
  record(arg.log, 100);
  if (arg.how === 'exit') qemu_thread_exit('exit value');
  if (arg.how === 'nested-exit') leave('nested exit value');
  return 'return value';
}

/** Removing a notifier never added, and one already removed: both must fail. */
export function atexitRemoveInvalid(arg: { log: Int32Array }): unknown {
  const report = (action: () => void) => {
    try {
      action();
      return 'no error';
    } catch (error) {
      return describeError(error);
    }
  };
  const stranger = { notify: () => record(arg.log, 1) };
  const once = { notify: () => record(arg.log, 2) };
  qemu_thread_atexit_add(once);
  qemu_thread_atexit_remove(once);
  return {
    neverAdded: report(() => qemu_thread_atexit_remove(stranger)),
    removedTwice: report(() => qemu_thread_atexit_remove(once)),
  };
}

/** For a detached thread: waits for the gate, then sets `done` from an at-exit notifier. */
export function detachedWork(arg: { gate: QemuSemaphore; done: QemuEvent; log: Int32Array }): string {
  qemu_sem_wait(arg.gate);
  qemu_thread_atexit_add({
    notify: () => {
      record(arg.log, 2);
      qemu_event_set(arg.done);
    },
  });
  record(arg.log, 1);
  return 'nobody will see this';
}

// ---- arguments ----

export interface ArgCheck {
  nested: {
    list: [QemuMutex, QemuSemaphore];
    map: Map<string, unknown>;
    set: Set<unknown>;
  };
  words: Int32Array;
  plain: { n: number; s: string; when: Date };
}

/** Checks the primitives at depth are full instances, then uses them so the test can see shared state. */
export function argCheck(arg: ArgCheck): unknown {
  const [mutex, sem] = arg.nested.list;
  const event = arg.nested.map.get('event') as QemuEvent;
  const thread = arg.nested.map.get('thread') as QemuThread;
  const [cond] = [...arg.nested.set];
  const instances = {
    mutex: mutex instanceof QemuMutex,
    sem: sem instanceof QemuSemaphore,
    event: event instanceof QemuEvent,
    thread: thread instanceof QemuThread,
    cond: cond instanceof QemuCond,
  };
  // The test holds the mutex: a shared mutex is busy here too.
  const trylock = qemu_mutex_trylock(mutex);
  qemu_sem_post(sem);
  qemu_sem_post(sem);
  qemu_event_set(event);
  Atomics.store(arg.words, 0, 42);
  return { instances, trylock, plain: arg.plain, threadIsSelf: qemu_thread_is_self(thread) };
}

// ---- deaths that reach other threads ----

/** Calls qemu_thread_exit from a timer callback, after the function has returned its promise. */
export function exitFromCallback(arg: { log: Int32Array }): Promise<never> {
  qemu_thread_atexit_add({ notify: () => record(arg.log, 1) });
  return new Promise(() => {
    setTimeout(() => qemu_thread_exit('from a callback'), 5);
  });
}

/** Creates a joinable child (which waits for `gate`), then ends its own runtime with process.exit. */
export function spawnThenExitProcess(arg: { child: QemuThread; gate: QemuSemaphore; code: number }): string {
  qemu_thread_create(arg.child, 'orphan', new URL('#waitThenReturn', import.meta.url), {
    gate: arg.gate,
    value: 'orphan value',
  });
  process.exit(arg.code);
}

/**
 * Returns a result far larger than the join window, and leaves a timer that exits the runtime before the
 * worker is ever idle: the result must still be streamed to the joiner (as the runtime exits), not lost.
 */
export function largeThenProcessExit(arg: { bytes: number }): Uint8Array {
  setTimeout(() => process.exit(0), 0);
  return new Uint8Array(arg.bytes).fill(9);
}
