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
import { platform } from './platform/index.js';

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
}

export function errorToRecord(thrown: unknown): ErrorRecord {
  if (thrown instanceof QemuThreadError) {
    return {
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      code: thrown.code,
      func: thrown.func,
      detail: thrown.detail,
    };
  }
  if (thrown instanceof Error) {
    return { name: thrown.name, message: thrown.message, stack: thrown.stack };
  }
  return { name: 'Error', message: String(thrown), value: thrown, notAnError: true };
}

/** Rebuilds what {@link errorToRecord} described; a thrown non-Error comes back as that value. */
export function errorFromRecord(record: ErrorRecord): unknown {
  if (record.notAnError) return record.value;
  let error: Error;
  if (record.code !== undefined && record.func !== undefined) {
    error = new QemuThreadError(record.code, record.func, record.detail ?? '');
  } else {
    const Ctor = BUILTIN_ERRORS[record.name] ?? Error;
    error = new Ctor(record.message);
    if (error.name !== record.name) {
      Object.defineProperty(error, 'name', { value: record.name, configurable: true, writable: true });
    }
  }
  if (record.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: record.stack, configurable: true, writable: true });
  }
  return error;
}
