/**
 * QemuThreadError and the library's one error path.
 *
 * QEMU sends every failure of its thread layer through `error_exit(err, __func__)`, which prints
 * `qemu: <func>: <strerror>` and aborts. A JS library must let callers recover, so by default
 * {@link fail} throws a {@link QemuThreadError} whose message starts the same way; the QEMU behaviour
 * (print, then abort the process) is one switch away: {@link setErrorMode} or the environment variable
 * `QEMU_THREAD_ERRORS=abort`.
 *
 * Errors cross threads by structured clone, which keeps only `name`, `message` and `stack`;
 * {@link errorToRecord} and {@link errorFromRecord} carry `code`, `errno` and `func` as well.
 */
import { BUILTIN_ERRORS } from './builtin-errors.js';
import { describeValue } from './layout.js';
import { platform } from './platform/index.js';
import { printableName } from './thread/names.js';

/** The error codes the library reports, with the positive Linux errno of each. */
export const ERRNO = {
  /** Operation not permitted: the caller does not hold the lock, or may not block here. */
  EPERM: 1,
  /** No such process: a thread handle that was never started. */
  ESRCH: 3,
  /** Resource temporarily unavailable (in the table for QEMU's sake; no call of the library reports it). */
  EAGAIN: 11,
  /** Device or resource busy: destroying or re-initializing something in use. */
  EBUSY: 16,
  /** Invalid argument: a bad value, or an object not initialized or destroyed. */
  EINVAL: 22,
  /** Resource deadlock avoided: the call would wait forever (on itself, or in a cycle). */
  EDEADLK: 35,
  /** Owner died: the mutex's holder ended while holding it; the caller now holds it. */
  EOWNERDEAD: 130,
  /** State not recoverable: a mutex unlocked after EOWNERDEAD without being made consistent. */
  ENOTRECOVERABLE: 131,
} as const;

/** The symbolic code of a {@link QemuThreadError}, e.g. `'EPERM'`. */
export type QemuErrorCode = keyof typeof ERRNO;

/** glibc's strerror text for each code, so messages read as QEMU's do. */
const STRERROR: Record<QemuErrorCode, string> = {
  EPERM: 'Operation not permitted',
  ESRCH: 'No such process',
  EAGAIN: 'Resource temporarily unavailable',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  EDEADLK: 'Resource deadlock avoided',
  EOWNERDEAD: 'Owner died',
  ENOTRECOVERABLE: 'State not recoverable',
};

/** `strerror(code)` as glibc prints it. */
export function strerror(code: QemuErrorCode): string {
  return STRERROR[code];
}

// The brand that `instanceof QemuThreadError` tests (see Symbol.hasInstance below).
const QEMU_THREAD_ERROR = Symbol.for('qemu-thread.error');

/**
 * A misuse or failure reported by qemu-thread. Its message starts as QEMU's do, `<func>: <strerror text>`,
 * and goes on with what was wrong. It keeps {@link code}, {@link errno} and {@link func} when
 * {@link qemu_thread_join} rethrows it in another thread. docs/errors.md lists every error.
 *
 * @example
 * ```ts
 * import { QemuMutex, QemuThreadError, qemu_mutex_unlock } from 'qemu-thread';
 *
 * const m = QemuMutex.create();
 * try {
 *   qemu_mutex_unlock(m); // not locked
 * } catch (e) {
 *   if (!(e instanceof QemuThreadError)) throw e;
 *   console.log(e.code, e.errno, e.func); // EPERM 1 qemu_mutex_unlock
 *   console.log(e.message); // qemu_mutex_unlock: Operation not permitted (it is not locked)
 * }
 * ```
 */
export class QemuThreadError extends Error {
  /**
   * `instanceof QemuThreadError` holds for an error of any copy of the library loaded in the thread (a
   * bundler's chunk and a raw file each have their own class): it tests a registered-symbol brand.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[QEMU_THREAD_ERROR] === true
    );
  }

  /** Always `'QemuThreadError'`. */
  override name = 'QemuThreadError';
  /** Symbolic code, e.g. `'EPERM'`. */
  readonly code: QemuErrorCode;
  /** The positive Linux errno matching {@link code}. */
  readonly errno: number;
  /** The public function that failed, e.g. `'qemu_mutex_unlock'`. */
  readonly func: string;
  /** What went wrong beyond the strerror text, if anything. */
  readonly detail: string;

  constructor(code: QemuErrorCode, func: string, detail = '') {
    super(`${func}: ${STRERROR[code]}${detail ? ` (${detail})` : ''}`);
    this.code = code;
    this.errno = ERRNO[code];
    this.func = func;
    this.detail = detail;
    Object.defineProperty(this, QEMU_THREAD_ERROR, { value: true });
  }
}

/** What a failure does: throw a {@link QemuThreadError}, or print and abort as QEMU does. */
export type ErrorMode = 'throw' | 'abort';

let mode: ErrorMode = platform.env('QEMU_THREAD_ERRORS') === 'abort' ? 'abort' : 'throw';

/**
 * Chooses what a failure does in this thread: `'throw'` (the default) throws a {@link QemuThreadError};
 * `'abort'` behaves as QEMU's `error_exit`: prints `qemu: <func>: <strerror>` to stderr and aborts the
 * process. Threads created afterwards inherit the mode; `QEMU_THREAD_ERRORS=abort` sets it for a process.
 */
export function setErrorMode(next: ErrorMode): void {
  if (next !== 'throw' && next !== 'abort') {
    throw new TypeError(`setErrorMode: expected 'throw' or 'abort', got ${String(next)}`);
  }
  mode = next;
}

/** The current error mode of this thread. */
export function getErrorMode(): ErrorMode {
  return mode;
}

/** The one error path: every failure of every primitive goes through here. */
export function fail(code: QemuErrorCode, func: string, detail = ''): never {
  if (mode === 'abort') {
    platform.abort(`qemu: ${func}: ${STRERROR[code]}\n`);
  }
  throw new QemuThreadError(code, func, detail);
}

// The brand that `instanceof QemuThreadFailure` tests (see Symbol.hasInstance below).
const QEMU_THREAD_FAILURE = Symbol.for('qemu-thread.failure');

/**
 * A thread that did not return: {@link qemu_thread_join} (and `joinAsync`) throws this when the joined
 * thread died of an exception, or ended without returning (terminated, its runtime exited). The message
 * says which thread and what happened, `qemu_thread_join: thread 3 'producer' failed: RangeError: bad
 * index`; the exception the thread died of, rebuilt in the joiner with its name, message and stack (and
 * `code`, `errno`, `func` for a {@link QemuThreadError}), is its `cause`. A thread that ended without an
 * exception of its own (`was terminated by thread 0 'main'`) has no `cause`.
 *
 * @example
 * ```ts
 * // check.ts: the thread's module
 * export function check(index: number): number {
 *   if (index > 3) throw new RangeError('bad index');
 *   return index;
 * }
 * ```
 * ```ts
 * import { QemuThread, QemuThreadFailure } from 'qemu-thread';
 *
 * const t = QemuThread.create('checker', new URL('./check.js#check', import.meta.url), 7);
 * try {
 *   t.join();
 * } catch (e) {
 *   if (!(e instanceof QemuThreadFailure)) throw e;
 *   console.log(e.message); // qemu_thread_join: thread 1 'checker' failed: RangeError: bad index
 *   console.log(e.threadName, e.cause instanceof RangeError); // checker true
 * }
 * ```
 */
export class QemuThreadFailure extends Error {
  /** As for {@link QemuThreadError}: `instanceof` holds for a failure made by any copy of the library. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[QEMU_THREAD_FAILURE] === true
    );
  }

  /** Always `'QemuThreadFailure'`. */
  override name = 'QemuThreadFailure';
  /** The join that reported it: `'qemu_thread_join'`. */
  readonly func: string;
  /** The runtime's id of the thread that failed (its `threadId()`). */
  readonly threadId: number;
  /** The name the thread was created with, or null. */
  readonly threadName: string | null;

  /**
   * `what` completes the message after the thread (`failed: RangeError: bad index`); `cause`, when given
   * (even `undefined`: `throw undefined`), is what the thread threw.
   */
  constructor(
    func: string,
    threadId: number,
    threadName: string | null,
    what: string,
    cause?: { cause: unknown },
  ) {
    super(`${func}: ${threadLabel(threadId, threadName)} ${what}`, cause);
    this.func = func;
    this.threadId = threadId;
    this.threadName = threadName;
    Object.defineProperty(this, QEMU_THREAD_FAILURE, { value: true });
  }
}

/** `thread 3 'producer'`, or `thread 3` without a name; a name cannot forge text (see printableName). */
export function threadLabel(threadId: number, name: string | null): string {
  return name === null ? `thread ${threadId}` : `thread ${threadId} '${printableName(name)}'`;
}

/** A plain, cloneable description of a thrown value, so it can cross threads with its fields. */
export interface ErrorRecord {
  name: string;
  message: string;
  stack?: string;
  code?: QemuErrorCode;
  func?: string;
  detail?: string;
  /** Set when the thrown value was not an Error at all (e.g. `throw 42`). */
  value?: unknown;
  notAnError?: boolean;
  /** The error's own `cause`, if it has one (an Error's, as a record). */
  cause?: ErrorRecord;
  /** For a {@link QemuThreadFailure}: the thread it is about. */
  failure?: { func: string; threadId: number; threadName: string | null };
  /**
   * For a thread's outcome: set when the library, not the thread's code, says how the thread ended (`was
   * terminated by ...`); the message is then that text, which the joiner's error reads directly.
   */
  report?: boolean;
  /** For a thread's outcome: the thread's name, for the joiner's error. */
  threadName?: string | null;
}

/** How deep the causes of a cause are kept. */
const CAUSE_DEPTH = 8;

export function errorToRecord(thrown: unknown, depth = 0): ErrorRecord {
  let record: ErrorRecord;
  if (thrown instanceof QemuThreadError) {
    record = {
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      code: thrown.code,
      func: thrown.func,
      detail: thrown.detail,
    };
  } else if (thrown instanceof Error) {
    record = { name: thrown.name, message: thrown.message, stack: thrown.stack };
    if (thrown instanceof QemuThreadFailure) {
      record.failure = { func: thrown.func, threadId: thrown.threadId, threadName: thrown.threadName };
    }
  } else {
    return { name: 'Error', message: String(thrown), value: thrown, notAnError: true };
  }
  if ('cause' in thrown && depth < CAUSE_DEPTH) record.cause = errorToRecord(thrown.cause, depth + 1);
  return record;
}

/** Rebuilds what {@link errorToRecord} described; a thrown non-Error comes back as that value. */
export function errorFromRecord(record: ErrorRecord): unknown {
  if (record.notAnError) return record.value;
  const cause = record.cause !== undefined ? { cause: errorFromRecord(record.cause) } : undefined;
  let error: Error;
  if (record.code !== undefined && record.func !== undefined) {
    error = new QemuThreadError(record.code, record.func, record.detail ?? '');
    if (cause)
      Object.defineProperty(error, 'cause', { value: cause.cause, configurable: true, writable: true });
  } else if (record.failure !== undefined) {
    const { func, threadId, threadName } = record.failure;
    error = new QemuThreadFailure(func, threadId, threadName, '', cause);
    Object.defineProperty(error, 'message', { value: record.message, configurable: true, writable: true });
  } else {
    const Ctor = BUILTIN_ERRORS[record.name] ?? Error;
    error = new Ctor(record.message, cause);
    if (error.name !== record.name) {
      Object.defineProperty(error, 'name', { value: record.name, configurable: true, writable: true });
    }
  }
  if (record.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: record.stack, configurable: true, writable: true });
  }
  return error;
}

/**
 * The record of a thread's end that the library reports itself, not an exception of the thread's code:
 * `what` completes the joiner's message after the thread (`was terminated by thread 0 'main'`).
 */
export function threadReport(what: string): ErrorRecord {
  return { name: 'Error', message: what, report: true };
}

/** `RangeError: bad index` for an Error, `threw the number 42` for anything else: for one-line reports. */
export function summarizeThrown(record: ErrorRecord): string {
  if (record.notAnError) return `threw ${describeValue(record.value)}`;
  return record.message ? `${record.name}: ${record.message}` : record.name;
}
