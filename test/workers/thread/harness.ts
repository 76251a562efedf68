/**
 * Helpers shared by the thread tests (main-thread side): bounded tests, thread-function URLs and exact
 * QemuThreadError checks.
 */
import assert from 'node:assert/strict';
import { ERRNO, type QemuErrorCode, QemuThreadError, QemuThreadFailure, strerror } from 'qemu-thread';
import { type Watch, watched } from '../../support/watchdog.js';

/** How long one test may take, blocked or not. */
export const TEST_LIMIT_MS = 60_000;

/**
 * A node:test test whose body may block the main thread: a hang anywhere in it (even in a blocking
 * qemu_* call, where node:test's timeout cannot fire) fails the file after {@link TEST_LIMIT_MS}, with the
 * threads' states (test/support/watchdog.ts).
 */
export function threadTest(name: string, body: (w: Watch) => void | Promise<void>): void {
  watched(name, { ms: TEST_LIMIT_MS }, body);
}

/** The URL of thread function `name` in test/workers/thread/lifecycle.ts. */
export function fn(name: string): URL {
  return new URL(`./lifecycle.js#${name}`, import.meta.url);
}

/** The URL of a module in this folder, with an optional `#export`. */
export function moduleUrl(file: string): URL {
  return new URL(`./${file}`, import.meta.url);
}

/** Asserts that `error` is a QemuThreadError with exactly this code, errno and func. */
export function assertQemuError(error: unknown, code: QemuErrorCode, func: string, mentions?: string): void {
  assert.ok(error instanceof QemuThreadError, `expected a QemuThreadError, got ${String(error)}`);
  assert.equal(error.name, 'QemuThreadError');
  assert.equal(error.code, code);
  assert.equal(error.errno, ERRNO[code]);
  assert.equal(error.func, func);
  assert.ok(
    error.message.startsWith(`${func}: ${strerror(code)}`),
    `message should start '${func}: ${strerror(code)}': ${error.message}`,
  );
  if (mentions !== undefined) {
    assert.ok(error.message.includes(mentions), `message should mention '${mentions}': ${error.message}`);
  }
}

/** Asserts that `action` throws a QemuThreadError with exactly this code, errno and func. */
export function throwsQemuError(
  action: () => unknown,
  code: QemuErrorCode,
  func: string,
  mentions?: string,
): void {
  let thrown: unknown;
  let threw = false;
  try {
    action();
  } catch (error) {
    thrown = error;
    threw = true;
  }
  assert.ok(threw, `expected ${func} to fail with ${code}, but it did not throw`);
  assertQemuError(thrown, code, func, mentions);
}

/** What a thread reports about an error it caught (see lifecycle.ts `describeError`). */
export function qemuErrorShape(code: QemuErrorCode, func: string) {
  return { name: 'QemuThreadError', code, errno: ERRNO[code], func, isQemuThreadError: true };
}

/**
 * Asserts that `error` is the QemuThreadFailure of a join of the thread named `name` (null: unnamed), with
 * exactly the message `qemu_thread_join: thread <id> '<name>' <what>`; returns it.
 */
export function assertThreadFailure(
  error: unknown,
  name: string | null,
  what: string | RegExp,
): QemuThreadFailure {
  assert.ok(error instanceof QemuThreadFailure, `expected a QemuThreadFailure, got ${String(error)}`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'QemuThreadFailure');
  assert.equal(error.func, 'qemu_thread_join');
  assert.equal(error.threadName, name);
  assert.ok(Number.isInteger(error.threadId) && error.threadId > 0, `threadId ${error.threadId}`);
  const prefix = `qemu_thread_join: thread ${error.threadId}${name === null ? '' : ` '${name}'`} `;
  assert.ok(error.message.startsWith(prefix), `message should start "${prefix}": ${error.message}`);
  const rest = error.message.slice(prefix.length);
  if (typeof what === 'string') assert.equal(rest, what);
  else assert.match(rest, what);
  return error;
}

/**
 * Asserts that `error` is the QemuThreadFailure of a join of thread `name` that died of an exception
 * summarized as `summary` (`RangeError: bad index`), and returns the exception: its `cause`.
 */
export function failureCause(error: unknown, name: string | null, summary: string): unknown {
  const failure = assertThreadFailure(error, name, `failed: ${summary}`);
  assert.ok(Object.hasOwn(failure, 'cause'), 'the failure has no cause');
  return failure.cause;
}

/** Asserts that `error` is the library's report of how thread `name` ended (no cause): `what` follows the thread. */
export function assertThreadReport(error: unknown, name: string | null, what: string | RegExp): void {
  const failure = assertThreadFailure(error, name, what);
  assert.ok(!Object.hasOwn(failure, 'cause'), `a report has no cause, got ${String(failure.cause)}`);
}
