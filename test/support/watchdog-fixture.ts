/**
 * Test files for watchdog.test.ts, run in a child `node --test` (never by the suite itself: it is not a
 * *.test.js file). WATCHDOG_FIXTURE picks the scenario, WATCHDOG_FIXTURE_MS the budget:
 *
 * - `blocked`: the main thread blocks for ever on a mutex that a live thread holds, while another thread
 *   sleeps in a cond wait. node:test cannot end it; the watchdog must.
 * - `async`: the main thread awaits the join of a thread stuck in a semaphore wait (its event loop is
 *   free, and the pending join keeps the process alive for ever).
 * - `in-time`: two watched tests that end within their budgets: nothing is printed, the file passes.
 * - `leftover`: a test that passes but leaves a worker parked for ever on a mutex it holds, which keeps
 *   the process alive after the last test (QEMU_TEST_EXIT_BUDGET_MS sets how long that may last).
 */
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { QemuCond, QemuMutex, QemuSemaphore, QemuThread } from 'qemu-thread';
import { watch, watched } from './watchdog.js';

const scenario = process.env.WATCHDOG_FIXTURE;
const ms = Number(process.env.WATCHDOG_FIXTURE_MS ?? 2_000);
const targets = new URL('../workers/robust/terminate-targets.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, targets);
const flag = () => new Int32Array(new SharedArrayBuffer(4));

function untilSet(f: Int32Array): void {
  while (Atomics.load(f, 0) === 0) Atomics.wait(f, 0, 0);
}

if (scenario === 'blocked') {
  watched('a test that blocks for ever', { ms }, (w) => {
    const m = QemuMutex.create();
    const c = QemuCond.create();
    const cm = QemuMutex.create();
    const held = flag();
    const sleeper = QemuThread.create('sleeper', fn('blockIn'), { kind: 'cond', held: flag(), m: cm, c });
    const holder = QemuThread.create('holder', fn('holdForever'), { m, held });
    w.show({ m, c, cm, threads: [holder, sleeper], held });
    untilSet(held);
    while (c.parkedThreads().length === 0) Atomics.wait(held, 0, 1, 1);
    m.lock(); // never returns: the holder keeps it for ever
  });
}

if (scenario === 'async') {
  watched('an async test that never settles', { ms }, async (w) => {
    const s = QemuSemaphore.create(0);
    const held = flag();
    const t = QemuThread.create('stuck', fn('blockIn'), { kind: 'sem', held, s });
    w.show({ s, t });
    await t.joinAsync(); // never settles: nobody posts
  });
}

if (scenario === 'in-time') {
  watched('a test that ends in time', { ms }, (w) => {
    const m = QemuMutex.create();
    w.show({ m });
    m.lock();
    m.unlock();
  });
  watched('another one, with a guard inside', async () => {
    using _ = watch('the guarded part', { ms });
    const t = QemuThread.create('quick', new URL('#lockAndReport', targets), {
      m: QemuMutex.create(),
      held: flag(),
    });
    assert.equal(await t.joinAsync(), 'locked');
  });
}

if (scenario === 'leftover') {
  watched('a test that leaves a thread behind', { ms }, () => {
    const m = QemuMutex.create();
    m.lock();
    const locker = `
      const { workerData } = require('node:worker_threads');
      import('qemu-thread').then((q) => q.QemuMutex.from(workerData.m).lock());`;
    new Worker(locker, { eval: true, workerData: { m }, name: 'leftover' });
    while (m.waiters().length === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  });
}
