/**
 * How a thread ends and what its joiner sees: qemu_thread_exit (from the function, from a nested call,
 * after an await; EPERM where qemu_thread_create did not start the thread), exceptions rethrown by join,
 * deaths (process.exit, an uncaught error, an event loop that runs dry), and the at-exit notifiers.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  type QemuThreadError,
  qemu_sem_post,
  qemu_thread_create,
  qemu_thread_exit,
  qemu_thread_join,
} from 'qemu-thread';
import {
  assertQemuError,
  assertThreadReport,
  failureCause,
  fn,
  moduleUrl,
  qemuErrorShape,
  threadTest,
  throwsQemuError,
} from './workers/thread/harness.js';
import { entries, makeString } from './workers/thread/lifecycle.js';

function run(name: string, arg?: unknown): unknown {
  const t = new QemuThread();
  qemu_thread_create(t, name, fn(name), arg);
  return qemu_thread_join(t);
}

/** Runs a thread (named `name`, as its function) expected to die, and returns what its join threw. */
function joinError(name: string, arg?: unknown): unknown {
  try {
    const value = run(name, arg);
    assert.fail(`join of ${name} returned ${String(value)} instead of throwing`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
}

threadTest('qemu_thread_exit(v) in the thread function: join returns v, the rest never runs', () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  assert.deepEqual(run('exitWith', { value: { bye: [1, 2] }, nested: false, flag }), { bye: [1, 2] });
  assert.equal(flag[0], 0);
});

threadTest('qemu_thread_exit(v) two calls deep: join returns v, the function never resumes', () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  assert.equal(run('exitWith', { value: 'from deep down', nested: true, flag }), 'from deep down');
  assert.equal(flag[0], 0);
});

threadTest('qemu_thread_exit(v) after an await in an async thread function: join returns v', () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  assert.equal(run('exitAfterAwait', { value: 7, flag }), 7);
  assert.equal(flag[0], 0);
});

threadTest('qemu_thread_exit(undefined): join returns undefined', () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  assert.equal(run('exitWith', { value: undefined, nested: false, flag }), undefined);
  assert.equal(flag[0], 0);
});

threadTest('qemu_thread_exit on the main thread is EPERM', () => {
  throwsQemuError(() => qemu_thread_exit(1), 'EPERM', 'qemu_thread_exit');
});

threadTest('qemu_thread_exit in a plain worker (not started by qemu_thread_create) is EPERM', async () => {
  const worker = new Worker(moduleUrl('plain-worker.js'));
  // Listen for the exit first: a worker that posts and ends at once has both events emitted in one go
  // (Node drains its port on exit), before a listener attached after the message could see the exit.
  const exited = once(worker, 'exit');
  const [{ error: report }] = (await once(worker, 'message')) as [
    { error: { shape: unknown; message: string } },
  ];
  await exited;
  assert.deepEqual(report.shape, qemuErrorShape('EPERM', 'qemu_thread_exit'));
  assert.ok(report.message.startsWith('qemu_thread_exit: Operation not permitted'), report.message);
});

threadTest(
  'a thread that throws a TypeError: join throws its failure, the TypeError with its stack as cause',
  () => {
    const failure = joinError('throwTypeError', { message: 'bad type in the thread' });
    const error = failureCause(failure, 'throwTypeError', 'TypeError: bad type in the thread');
    assert.ok(error instanceof TypeError, `got ${String(error)}`);
    assert.equal(error.name, 'TypeError');
    assert.equal(error.message, 'bad type in the thread');
    assert.match(String(error.stack), /^TypeError: bad type in the thread\n/);
    assert.match(String(error.stack), /at throwTypeError .*lifecycle\.js/);
  },
);

threadTest('a thread that throws a custom Error subclass: the cause is an Error with its name', () => {
  const failure = joinError('throwCustom', { message: 'custom trouble' });
  const error = failureCause(failure, 'throwCustom', 'CustomError: custom trouble');
  assert.ok(error instanceof Error, `got ${String(error)}`);
  assert.equal(error.name, 'CustomError');
  assert.equal(error.message, 'custom trouble');
  assert.match(String(error.stack), /at throwCustom .*lifecycle\.js/);
});

threadTest('a thread that dies of a QemuThreadError: the cause has its code, errno and func', () => {
  const failure = joinError('unlockUnheld', { mutex: QemuMutex.create() });
  const error = failureCause(
    failure,
    'unlockUnheld',
    'QemuThreadError: qemu_mutex_unlock: Operation not permitted (it is not locked)',
  );
  assertQemuError(error, 'EPERM', 'qemu_mutex_unlock');
  assert.match(String((error as QemuThreadError).stack), /at unlockUnheld .*lifecycle\.js/);
});

threadTest('a thread that throws a non-Error value: the cause is that value', () => {
  const cause = (value: unknown, summary: string) =>
    failureCause(joinError('throwValue', { value }), 'throwValue', summary);
  assert.equal(cause(42, 'threw the number 42'), 42);
  assert.equal(cause('a string', "threw the string 'a string'"), 'a string');
  assert.deepEqual(cause({ code: 7, list: [1] }, 'threw a plain object'), { code: 7, list: [1] });
  assert.equal(cause(null, 'threw null'), null);
  assert.equal(cause(undefined, 'threw undefined'), undefined);
});

threadTest('a thread that throws an Error with a 300 kB message: the cause has it intact', () => {
  const failure = joinError('throwLarge', { n: 300_000 });
  // The failure's own message repeats the first 1000 characters.
  const summary = `${`Error: ${makeString(300_000)}`.slice(0, 1000)}…`;
  const error = failureCause(failure, 'throwLarge', summary);
  assert.ok(error instanceof Error);
  assert.ok(error.message === makeString(300_000), 'the large message was not carried intact');
});

threadTest(
  'a thread that calls process.exit(3): join does not hang and throws an Error about the exit',
  () => {
    const error = joinError('exitProcess', { code: 3 });
    assertThreadReport(error, 'exitProcess', 'exited before its function returned (exit code 3)');
  },
);

threadTest('an uncaught error in a callback after the function returned a promise: join throws it', () => {
  const failure = joinError('uncaughtLater', { message: 'late failure' });
  const error = failureCause(failure, 'uncaughtLater', 'RangeError: late failure');
  assert.ok(error instanceof RangeError, `got ${String(error)}`);
  assert.equal(error.message, 'late failure');
});

threadTest("a promise that never settles while the thread's event loop runs dry: join throws", () => {
  const error = joinError('neverSettles');
  // Node 20 ends such a worker with exit code 0; Node 22 and later with 13 (an unsettled top-level await).
  assertThreadReport(error, 'neverSettles', /^exited before its function returned \(exit code (0|13)\)$/);
});

threadTest('a large result is still handed over when a callback exits the runtime before it is idle', () => {
  const value = run('largeThenProcessExit', { bytes: 100_000 }) as Uint8Array;
  assert.equal(value.length, 100_000);
  assert.ok(value.every((b) => b === 9));
});

threadTest('qemu_thread_exit(v) from a callback after the function returned a promise: notifiers run', () => {
  const log = new Int32Array(new SharedArrayBuffer(16));
  assert.equal(run('exitFromCallback', { log }), 'from a callback');
  assert.deepEqual(entries(log), [1], 'the at-exit notifier did not run');
});

threadTest("a thread's process.exit does not leave the thread it created unjoinable", async () => {
  const gate = QemuSemaphore.create(0);
  const child = new QemuThread();
  const parent = new QemuThread();
  qemu_thread_create(parent, 'parent', fn('spawnThenExitProcess'), { child, gate, code: 5 });
  assert.throws(
    () => qemu_thread_join(parent),
    (e) => {
      assertThreadReport(e, 'parent', 'exited before its function returned (exit code 5)');
      return true;
    },
  );
  qemu_sem_post(gate);
  // Join the child from a plain worker, so that a hang is seen here without blocking this thread.
  const joiner = new Worker(moduleUrl('plain-worker.js'), { workerData: { join: child } });
  joiner.unref();
  let report: { got?: unknown; error?: { shape: unknown; message: string } } | undefined;
  try {
    [report] = await once(joiner, 'message', { signal: AbortSignal.timeout(15_000) });
  } catch {
    assert.fail(`qemu_thread_join of the child hung after its creator died (${String(child)})`);
  }
  // POSIX: the child outlives its creator. At the very least its join must end, with an error.
  if (report && 'error' in report) assert.match(String(report.error?.message), /./);
  else assert.deepEqual(report, { got: 'orphan value' });
});

for (const how of ['return', 'exit', 'nested-exit'] as const) {
  threadTest(`at-exit notifiers run on ${how}, most recently added first, removed ones not`, () => {
    const log = new Int32Array(new SharedArrayBuffer(4 * 16));
    const expected = { return: 'return value', exit: 'exit value', 'nested-exit': 'nested exit value' }[how];
    assert.equal(run('atexitOrder', { log, how }), expected);
    // 100 marks the end of the function's body; notifiers 4, 3, 1 run after it, 2 was removed.
    assert.deepEqual(entries(log), [100, 4, 3, 1]);
  });
}

threadTest('removing a notifier that is not on the list is EINVAL (never added, or removed twice)', () => {
  const log = new Int32Array(new SharedArrayBuffer(16));
  const result = run('atexitRemoveInvalid', { log }) as Record<string, { shape: unknown; message: string }>;
  for (const key of ['neverAdded', 'removedTwice']) {
    assert.deepEqual(result[key].shape, qemuErrorShape('EINVAL', 'qemu_thread_atexit_remove'), key);
    assert.ok(result[key].message.startsWith('qemu_thread_atexit_remove: Invalid argument'), key);
  }
  assert.deepEqual(entries(log), [], 'a removed or never-added notifier ran');
});
