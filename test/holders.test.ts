// The holder view: which thread holds a mutex and since when, and which threads are parked on it.
import assert from 'node:assert/strict';
import { threadId as me } from 'node:worker_threads';
import { QemuCond, QemuMutex, QemuThread, traceEnable, traceSetLog } from 'qemu-thread';
import { watched } from './support/watchdog.js';

const fn = (name: string) => new URL(`./workers/trace/block.js#${name}`, import.meta.url);

/** Polls `done` (every 5 ms) for up to 20 s: a liveness bound, not a timing assertion. */
function eventually(done: () => boolean, what: string): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 4000 && !done(); i++) Atomics.wait(nap, 0, 0, 5);
  assert.ok(done(), what);
}

watched(
  'waiters() lists exactly the threads parked on the mutex; holder() names the owner',
  { ms: 60_000 },
  (w) => {
    const m = QemuMutex.create();
    const free = QemuMutex.create();
    assert.equal(m.holder(), null);
    m.lock();
    const threads = [0, 1].map((i) => QemuThread.create(`blocked-${i}`, fn('lockOnce'), { m }));
    w.show({ m, threads });
    try {
      eventually(() => m.waiters().length === 2, 'both threads park on the mutex');
      const ids = m
        .waiters()
        .map((w) => w.threadId)
        .sort((a, b) => a - b);
      assert.deepEqual(
        ids,
        threads.map((t) => t.threadId()).sort((a, b) => a - b),
      );
      for (const w of m.waiters())
        assert.ok(w.since > 0 && w.since <= performance.timeOrigin + performance.now());
      const holder = m.holder();
      assert.equal(holder?.threadId, 0, 'the main thread holds it');
      assert.equal(holder?.contended, true);
      assert.equal(free.waiters().length, 0);
    } finally {
      m.unlock();
    }
    for (const t of threads) t.join();
    assert.deepEqual(m.waiters(), []);
    assert.equal(m.holder(), null);
  },
);

watched('holder().since is known while tracing is on', () => {
  const m = QemuMutex.create();
  m.lock();
  assert.equal(m.holder()?.since, null, 'not recorded with tracing off');
  m.unlock();
  try {
    traceEnable('qemu_mutex_locked');
    traceSetLog(false);
    const before = performance.timeOrigin + performance.now();
    m.lock();
    const since = m.holder()?.since ?? 0;
    assert.ok(since >= before - 1 && since <= performance.timeOrigin + performance.now() + 1);
    m.unlock();
    assert.equal(m.holder(), null);
  } finally {
    traceEnable('*', false);
  }
});

watched('parkedThreads() lists the threads asleep in a cond wait', { ms: 60_000 }, (w) => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const go = new Int32Array(new SharedArrayBuffer(4));
  const threads = [0, 1, 2].map((i) => QemuThread.create(`sleeper-${i}`, fn('waitForGo'), { m, c, go }));
  w.show({ m, c, go, threads });
  try {
    eventually(() => c.parkedThreads().length === 3, 'all three sleep in the cond');
    assert.deepEqual(
      c
        .parkedThreads()
        .map((w) => w.threadId)
        .sort((a, b) => a - b),
      threads.map((t) => t.threadId()).sort((a, b) => a - b),
    );
    assert.equal(m.waiters().length, 0, 'a cond wait is not a wait for the mutex');
  } finally {
    m.lock();
    go[0] = 1;
    c.broadcast();
    m.unlock();
  }
  for (const t of threads) t.join();
  assert.deepEqual(c.parkedThreads(), []);
});

watched('async waiters show in waiters() and parkedThreads() like blocked ones', { ms: 60_000 }, (w) => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const cm = QemuMutex.create();
  const go = new Int32Array(new SharedArrayBuffer(4));
  m.lock();
  const locker = QemuThread.create('async-locker', fn('lockOnceAsync'), { m });
  const sleeper = QemuThread.create('async-sleeper', fn('waitForGoAsync'), { m: cm, c, go });
  w.show({ m, c, cm, go, locker, sleeper });
  try {
    eventually(() => m.waiters().length === 1, 'the async locker waits for the mutex');
    assert.equal(m.waiters()[0].threadId, locker.threadId());
    eventually(() => c.parkedThreads().length === 1, 'the async cond waiter sleeps in the cond');
    assert.equal(c.parkedThreads()[0].threadId, sleeper.threadId());
    assert.equal(cm.waiters().length, 0, 'an async cond wait is not a wait for its mutex');
  } finally {
    m.unlock();
    cm.lock();
    go[0] = 1;
    c.signal();
    cm.unlock();
  }
  locker.join();
  sleeper.join();
  assert.deepEqual(m.waiters(), []);
  assert.deepEqual(c.parkedThreads(), []);
});

watched('one thread with several async waits pending shows in each', { ms: 60_000 }, async (w) => {
  const c1 = QemuCond.create();
  const c2 = QemuCond.create();
  const m = QemuMutex.create();
  w.show({ c1, c2, m });
  m.lock();
  const first = c1.waitAsync(m);
  // The first wait released m (it has not resumed yet): take it for the second.
  m.lock();
  const second = c2.waitAsync(m);
  assert.deepEqual(
    c1.parkedThreads().map((p) => p.threadId),
    [me],
  );
  assert.deepEqual(
    c2.parkedThreads().map((p) => p.threadId),
    [me],
  );
  // One at a time: the two waits are the same thread's, so the second one's relock must not find m held.
  c1.signal();
  await first;
  m.unlock();
  assert.deepEqual(c1.parkedThreads(), []);
  assert.deepEqual(
    c2.parkedThreads().map((p) => p.threadId),
    [me],
  );
  c2.signal();
  await second;
  m.unlock();
  assert.deepEqual(c1.parkedThreads(), []);
  assert.deepEqual(c2.parkedThreads(), []);
});
