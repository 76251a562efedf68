// The library across Web Workers in Debian's Chromium: a bounded buffer (mutex + conds, and semaphores)
// with exact counts, errors crossing to the window's join, the window thread on async calls only and its
// blocking calls refused with EPERM, and the pool that lets a blocked worker start threads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { explain, openPage, openSession, type PageLog, runOnWindow, type Session } from './support.js';

let session: Session;
let page: Page;
let log: PageLog;
before(async () => {
  session = await openSession();
  ({ page, log } = await openPage(session, '/test/browser/fixtures/'));
});
after(() => session?.close());

const windowWaits = () =>
  page.evaluate(() => (globalThis as unknown as { __windowWaits: number }).__windowWaits);

interface ProducerConsumer {
  total: number;
  once: number;
  other: number;
  count: number;
  sum: number;
  produced: number[];
  samples: number;
  leftover: number;
}

for (const [mode, producers, consumers, size] of [
  ['cond', 2, 3, 8],
  ['sem', 3, 2, 4],
] as const) {
  test(
    `producer/consumer over ${mode === 'cond' ? 'QemuMutex + QemuCond' : 'QemuSemaphore'}, ${producers}+${consumers} workers: every item exactly once`,
    { timeout: 120_000 },
    async () => {
      const perProducer = 3000;
      const r = await runOnWindow<ProducerConsumer>(page, 'producerConsumer', {
        mode,
        producers,
        consumers,
        perProducer,
        size,
      }).catch((error: Error) => assert.fail(`${error.message}\n${explain(log)}`));
      const total = producers * perProducer;
      assert.equal(r.total, total);
      assert.equal(r.once, total, 'each item consumed exactly once');
      assert.equal(r.other, 0, 'no item lost or duplicated');
      assert.equal(r.count, total);
      assert.equal(r.sum, (total * (total - 1)) / 2);
      assert.deepEqual(r.produced, Array(producers).fill(perProducer));
      assert.ok(r.samples > 0, 'the window looked at the buffer under its mutex (qemu_mutex_lock_async)');
      assert.equal(r.leftover, -1, 'exactly one done post per consumer');
      assert.equal(await windowWaits(), 0, 'no Atomics.wait on the window thread');
    },
  );
}

interface Refusal {
  code: string;
  errno: number;
  func: string;
  message: string;
}

test(
  'on the window thread, a blocking call that would wait throws EPERM naming its async variant',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<Record<string, Refusal | string | number>>(page, 'blockingCallsOnWindow');
    assert.equal(r.uncontended, 'ok', 'a lock or a sem wait that need not wait works');
    assert.equal(r.trylock, -16, 'trylock of a mutex a worker holds');
    for (const [key, func] of [
      ['lock', 'qemu_mutex_lock'],
      ['semWait', 'qemu_sem_wait'],
      ['join', 'qemu_thread_join'],
      ['condWait', 'qemu_cond_wait'],
    ]) {
      const refusal = r[key] as Refusal;
      assert.equal(typeof refusal, 'object', `${func}: ${String(refusal)}`);
      assert.equal(refusal.code, 'EPERM');
      assert.equal(refusal.errno, 1);
      assert.equal(refusal.func, func);
      assert.ok(refusal.message.startsWith(`${func}: Operation not permitted`), refusal.message);
      assert.ok(refusal.message.includes(`use ${func}_async`), refusal.message);
    }
    assert.equal(r.joined, 'released', 'the async join returned the worker’s result');
    assert.equal(await windowWaits(), 0, 'the refused calls never reached Atomics.wait');
  },
);

test(
  'an exception in a worker reaches the window’s qemu_thread_join_async as the cause, with its class',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<Record<string, unknown>>(page, 'failingThread');
    assert.deepEqual(r, {
      threw: true,
      name: 'QemuThreadFailure',
      isFailure: true,
      message: "qemu_thread_join: thread <tid> 'fails' failed: RangeError: from a worker",
      causeName: 'RangeError',
      causeMessage: 'from a worker',
      isRangeError: true,
    });
  },
);

test(
  'a worker with a pre-started pool creates a thread and blocks until it runs (QEMU’s create-then-wait)',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<{ startedWhileBlocked: boolean; child: string }>(page, 'createFromWorker', {
      pool: true,
      ms: 20_000,
    });
    assert.deepEqual(r, { startedWhileBlocked: true, pool: true, child: 'ran' });
  },
);

test(
  'without a pool, a new worker does not boot while its creator blocks (why the pool exists)',
  { timeout: 60_000 },
  async () => {
    // Chromium's behaviour, documented in the README; if a browser ever starts it, the pool is just faster.
    const r = await runOnWindow<{ startedWhileBlocked: boolean }>(page, 'createFromWorker', {
      pool: false,
      ms: 1500,
    });
    assert.equal(r.startedWhileBlocked, false);
    assert.deepEqual(log.errors, [], explain(log));
  },
);

test(
  'a Web Worker the page creates itself takes part after workerInit() / receiveWorkerInit()',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<{ locked: string; whileHeld: number; afterwards: number }>(
      page,
      'userWorker',
    );
    assert.equal(r.whileHeld, -16, 'the worker holds the window’s mutex');
    assert.equal(r.afterwards, 0);
    // Its thread id came from the page's shared counter (small), not the fallback for unknown workers (>= 2^20).
    const tid = Number(/thread (\d+)/.exec(r.locked)?.[1]);
    assert.ok(Number.isInteger(tid) && tid > 0 && tid < 2 ** 20, r.locked);
  },
);

test(
  'QemuThread.terminate from the window: the held lock goes on with EOWNERDEAD, the join says terminated',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<{ lock: string; join: string }>(page, 'terminateHolder');
    assert.equal(r.lock, 'EOWNERDEAD');
    assert.match(r.join, /was terminated by thread 0 'main'/);
  },
);
