/**
 * Helpers shared by the thread tests (main-thread side): bounded tests, thread-function URLs and exact
 * QemuThreadError checks.
 */
import assert from 'node:assert/strict';
import { ERRNO, type QemuErrorCode, QemuThreadError, strerror } from 'qemu-thread';
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
