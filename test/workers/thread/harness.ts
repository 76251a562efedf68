/**
 * Helpers shared by the thread tests (main-thread side): bounded tests, thread-function URLs and exact
 * QemuThreadError checks.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { Worker } from 'node:worker_threads';
import { ERRNO, type QemuErrorCode, QemuThreadError, strerror } from 'qemu-thread';
import { WATCHDOG_KEY, type WatchdogData } from './watchdog.js';

/** How long one test may take, blocked or not. */
export const TEST_LIMIT_MS = 60_000;

let watchdog: WatchdogData | undefined;

function arm(name: string): void {
  if (watchdog === undefined) {
    watchdog = {
      words: new Int32Array(new SharedArrayBuffer(8)),
      label: new Uint8Array(new SharedArrayBuffer(512)),
      limitMs: TEST_LIMIT_MS,
    };
    new Worker(new URL('./watchdog.js', import.meta.url), {
      workerData: { [WATCHDOG_KEY]: watchdog },
    }).unref();
  }
  const { written } = new TextEncoder().encodeInto(name, watchdog.label);
  Atomics.store(watchdog.words, 1, written);
  Atomics.add(watchdog.words, 0, 1);
  Atomics.notify(watchdog.words, 0);
}

function disarm(): void {
  if (watchdog === undefined) return;
  Atomics.add(watchdog.words, 0, 1);
  Atomics.notify(watchdog.words, 0);
}

/**
 * A node:test test whose body may block the main thread: a hang anywhere in it (even in a blocking
 * qemu_* call, where node:test's timeout cannot fire) fails the run after {@link TEST_LIMIT_MS}.
 */
export function threadTest(name: string, body: () => void | Promise<void>): void {
  test(name, { timeout: TEST_LIMIT_MS }, async () => {
    arm(name);
    try {
      await body();
    } finally {
      disarm();
    }
  });
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
