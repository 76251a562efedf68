/**
 * The faults of issue 11 that broke mutual exclusion or hung, each reproduced as a user met it: a false
 * EOWNERDEAD for a thread whose worker still runs, a wake-up stranded by a terminated waiter, a join that
 * never settles, a deadlock through an async lock, a thread function loaded from any URL, robust mutexes
 * depending on import order, and a process that does not end when its main thread returns.
 *
 * Every wait here is bounded (`settles`, child process time-outs): a regression fails the test, it does not
 * hang the suite. The bounds are watchdogs, far above the time the behaviour needs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { QemuCond, QemuMutex, QemuSemaphore, QemuThread, QemuThreadError } from 'qemu-thread';
import { settles, until } from './support/settles.js';

const fn = (name: string) => new URL(`./workers/faults/targets.js#${name}`, import.meta.url);
const childMain = fileURLToPath(new URL('./workers/faults/child-main.js', import.meta.url));
const run = promisify(execFile);

const isCode = (code: string) => (e: unknown) => e instanceof QemuThreadError && e.code === code;

test('a thread whose function returned keeps the locks its worker takes later (no false EOWNERDEAD)', async () => {
  const m = QemuMutex.create();
  const flags = new Int32Array(new SharedArrayBuffer(16));
  const t = QemuThread.create('timer', fn('lockFromTimerAfterReturn'), { m, flags });
  assert.equal(await t.joinAsync(), 'returned');
  await until(() => Atomics.load(flags, 0) === 1, "the worker's timer taking the mutex");
  // The function is over but its worker runs on and holds the lock: it is busy, not abandoned.
  assert.equal(m.tryLock(), false);
  const locked = m.lockAsync();
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  await settles(locked, 'the lock after the timer let go');
  await until(() => Atomics.load(flags, 2) !== 0, "the timer's unlock returning");
  assert.equal(Atomics.load(flags, 2), 1, "the timer's unlock failed: someone took its lock");
  m.unlock();
});

test('a cond waiter terminated after a signal woke it does not strand the signal', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const first = QemuThread.create('first', fn('condWaiter'), { m, c, flags });
  await until(() => c.parkedThreads().length === 1, 'the first waiter parking');
  const second = QemuThread.create('second', fn('condWaiter'), { m, c, flags });
  await until(() => c.parkedThreads().length === 2, 'the second waiter parking');
  m.lock();
  Atomics.store(flags, 0, 1);
  // Wakes the first waiter (FIFO), which then blocks on the mutex this thread holds: it has consumed the
  // wake-up. Terminated there, it must not take the wake-up with it.
  c.signal();
  await until(
    () => m.waiters().some((w) => w.threadId === first.threadId()),
    'the woken waiter on the mutex',
  );
  await first.terminate();
  m.unlock();
  assert.equal(await settles(second.joinAsync(), 'the second waiter waking'), 'woken');
  await assert.rejects(first.joinAsync(), /terminated/);
});

test('a semaphore waiter terminated after a post woke it does not strand the unit', async () => {
  const s = QemuSemaphore.create(0);
  const victimFlags = new Int32Array(new SharedArrayBuffer(8));
  const victim = QemuThread.create('victim', fn('semWaiterStuckAfterWake'), { s, flags: victimFlags });
  await until(() => Atomics.load(victimFlags, 0) === 1, 'the victim parking');
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const second = QemuThread.create('second', fn('semWaiter'), { s, flags, slot: 0, parkedAt: 1 });
  await until(() => Atomics.load(flags, 1) === 1, 'the second waiter parking');
  // The post wakes the victim (first in the queue), which dies before it takes the unit.
  s.post();
  await until(() => Atomics.load(victimFlags, 1) === 1, 'the wake-up reaching the victim');
  await victim.terminate();
  assert.equal(await settles(second.joinAsync(), 'the second waiter taking the unit'), 'took');
  assert.equal(s.value(), 0);
});

test('a join settles with an error when the thread is terminated while its large result streams', async () => {
  const t = QemuThread.create('big', fn('bigResult'), { bytes: 20_000_000 });
  const joined = t.joinAsync();
  await until(() => String(t).includes('exited'), 'the thread exiting');
  await t.terminate();
  await settles(
    assert.rejects(joined, /terminated .*while its result was being transferred/),
    'the join failing',
  );
});

test('a join settles when the thread is terminated in the middle of publishing its outcome', async () => {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const t = new QemuThread();
  t.start('publisher', fn('stuckWhilePublishing'), { t, flags });
  await until(() => Atomics.load(flags, 0) === 1, 'the thread publishing');
  const joined = t.joinAsync();
  await t.terminate();
  await settles(assert.rejects(joined, /terminated/), 'the join failing');
});

test('a blocking joiner in a worker gets an error when the joined thread dies mid-transfer', async () => {
  const t = QemuThread.create('big', fn('bigResult'), { bytes: 20_000_000 });
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const joiner = QemuThread.create('joiner', fn('blockingJoin'), { t, flags });
  await until(() => String(t).includes('exited'), 'the thread exiting');
  await t.terminate();
  const outcome = await settles(joiner.joinAsync(), "the joiner's join ending");
  assert.match(String(outcome), /^failed: .*terminated .*while its result was being transferred/);
});

test('a join cancelled while a large result streams rejects with the abort reason', async () => {
  // The thread's storage is this test's, so it can see the pipe's hand-shake word (result-pipe.ts: CHUNK,
  // word 6, 2k + 2 once the reader copied chunk k). Aborted before the first copy, the join would still be
  // waiting for the thread to end, and a cancelled wait leaves the thread joinable.
  const storage = new SharedArrayBuffer(QemuThread.BYTES);
  const chunk = new Int32Array(storage, 6 * 4, 1);
  const t = new QemuThread(storage);
  t.start('big', fn('bigResult'), { bytes: 20_000_000 });
  const controller = new AbortController();
  const joined = t.joinAsync({ signal: controller.signal });
  await until(() => Atomics.load(chunk, 0) >= 2, 'the join reading the first chunk');
  controller.abort();
  await settles(
    assert.rejects(joined, (e: unknown) => e instanceof Error && e.name === 'AbortError'),
    'the cancelled join',
  );
  // The result was given up half-way: it cannot be joined again, and the thread is not left parked.
  assert.throws(() => t.join(), isCode('EINVAL'));
});

test('a deadlock through an async lock is reported (EDEADLK) instead of hanging', async () => {
  const a = QemuMutex.create();
  const b = QemuMutex.create();
  const flags = new Int32Array(new SharedArrayBuffer(8));
  a.lock();
  const worker = QemuThread.create('holds-b', fn('holdBThenLockA'), { a, b, flags });
  await until(() => Atomics.load(flags, 0) === 1, 'the worker holding b');
  await until(() => a.waiters().length === 1, 'the worker blocking on a');
  // This thread holds a and waits for b; the worker holds b and waits for a.
  const error = await settles(
    b.lockAsync().then(
      () => null,
      (e: unknown) => e,
    ),
    'the deadlock report',
  );
  assert.ok(error instanceof QemuThreadError, String(error));
  assert.equal(error.code, 'EDEADLK');
  assert.match(error.message, /deadlock: thread 0 'main' waits for mutex #\d+/);
  a.unlock();
  assert.equal(await settles(worker.joinAsync(), 'the worker ending'), 'locked');
});

test('thread functions load only from file: URLs on Node unless other URLs are allowed', async () => {
  for (const url of [
    'node:child_process#execSync',
    'data:text/javascript,export default () => 1',
    'https://example.com/x.js',
  ]) {
    assert.throws(
      () => QemuThread.create('x', url, 'id -un'),
      (e: unknown) => isCode('EINVAL')(e) && /allowModuleUrls/.test((e as Error).message),
      url,
    );
  }
  QemuThread.allowModuleUrls('data:');
  try {
    const t = QemuThread.create('inline', 'data:text/javascript,export default (x) => x * 2', 21);
    assert.equal(await t.joinAsync(), 42);
    assert.throws(() => QemuThread.create('x', 'node:child_process#execSync', 'id -un'), isCode('EINVAL'));
  } finally {
    QemuThread.allowModuleUrls();
  }
  assert.throws(
    () => QemuThread.create('x', 'data:text/javascript,export default () => 1'),
    isCode('EINVAL'),
  );
});

test("robust mutexes do not depend on import order: a plain worker's lock, main imports later", async () => {
  const { stdout } = await run(process.execPath, [childMain, 'import-order'], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'EOWNERDEAD');
});

test('the process ends when the main thread returns, with joinable and detached threads parked', async () => {
  const { stdout } = await run(process.execPath, [childMain, 'main-returns'], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'returning');
});
