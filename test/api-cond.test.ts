// API table rows for QemuCond: results, time-outs and errors through both faces.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  QemuCond,
  QemuMutex,
  QemuRecMutex,
  qemu_cond_broadcast,
  qemu_cond_destroy,
  qemu_cond_init,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_cond_wait,
} from 'qemu-thread';
import { qemuError, whileHeldByWorker } from './support/api.js';
import { watched } from './support/watchdog.js';
import type { HoldData } from './workers/api/hold.js';

/** Lets a value of the wrong type through the compiler, to check the run-time TypeError. */
const wrong = (value: unknown): never => value as never;

watched(
  'init, signal, broadcast and destroy return undefined; signalling needs neither waiters nor the mutex',
  () => {
    const c = new QemuCond();
    assert.equal(qemu_cond_init(c), undefined);
    assert.equal(qemu_cond_signal(c), undefined);
    assert.equal(qemu_cond_broadcast(c), undefined);
    assert.equal(c.signal(), undefined);
    assert.equal(c.broadcast(), undefined);
    assert.equal(qemu_cond_destroy(c), undefined);
    assert.equal(c.init(), undefined);
    assert.equal(c.destroy(), undefined);
  },
);

watched('signal and broadcast with the mutex held are fine too, and leave it held', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  m.lock();
  qemu_cond_signal(c);
  qemu_cond_broadcast(c);
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

watched('qemu_cond_timedwait returns false on time-out, after about ms, with the mutex held again', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  m.lock();
  const ms = 30;
  const start = performance.now();
  assert.equal(qemu_cond_timedwait(c, m, ms), false);
  assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
  assert.equal(m.isHeldBySelf(), true);
  assert.equal(c.waiters(), 0);
  m.unlock();
});

watched('timedWait (method) returns false on time-out, with the mutex held again', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  m.lock();
  const ms = 20;
  const start = performance.now();
  assert.equal(c.timedWait(m, ms), false);
  assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

watched('ms = 0 times out at once through both faces, keeping the mutex', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  m.lock();
  assert.equal(qemu_cond_timedwait(c, m, 0), false);
  assert.equal(c.timedWait(m, 0), false);
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

for (const ms of [-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
  watched(
    `qemu_cond_timedwait with ms = ${ms} is EINVAL through both faces, and the mutex stays held`,
    () => {
      const c = QemuCond.create();
      const m = QemuMutex.create();
      m.lock();
      assert.throws(() => qemu_cond_timedwait(c, m, ms), qemuError('EINVAL', 'qemu_cond_timedwait'));
      assert.throws(() => c.timedWait(m, ms), qemuError('EINVAL', 'qemu_cond_timedwait'));
      assert.equal(m.isHeldBySelf(), true);
      m.unlock();
    },
  );
}

watched('qemu_cond_wait without holding the mutex is EPERM through both faces', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  assert.throws(() => qemu_cond_wait(c, m), qemuError('EPERM', 'qemu_cond_wait'));
  assert.throws(() => c.wait(m), qemuError('EPERM', 'qemu_cond_wait'));
  // Nothing was left behind: no waiter counted, the mutex still free.
  assert.equal(c.waiters(), 0);
  assert.equal(m.tryLock(), true);
  m.unlock();
});

watched('qemu_cond_timedwait without holding the mutex is EPERM through both faces', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  assert.throws(() => qemu_cond_timedwait(c, m, 10), qemuError('EPERM', 'qemu_cond_timedwait'));
  assert.throws(() => c.timedWait(m, 10), qemuError('EPERM', 'qemu_cond_timedwait'));
  assert.throws(() => qemu_cond_timedwait(c, m, 0), qemuError('EPERM', 'qemu_cond_timedwait'));
});

watched('waiting with a never-initialized or destroyed mutex is EINVAL', () => {
  const c = QemuCond.create();
  assert.throws(() => qemu_cond_wait(c, new QemuMutex()), qemuError('EINVAL', 'qemu_cond_wait'));
  assert.throws(() => c.wait(new QemuMutex()), qemuError('EINVAL', 'qemu_cond_wait'));
  const m = QemuMutex.create();
  m.destroy();
  assert.throws(() => qemu_cond_timedwait(c, m, 5), qemuError('EINVAL', 'qemu_cond_timedwait'));
  assert.throws(() => c.timedWait(m, 5), qemuError('EINVAL', 'qemu_cond_timedwait'));
});

watched('a QemuRecMutex (or anything but a QemuMutex) as the mutex is a TypeError through both faces', () => {
  const c = QemuCond.create();
  const rec = QemuRecMutex.create();
  rec.lock();
  for (const bad of [rec, structuredClone(rec), QemuCond.create(), {}, null, 7]) {
    assert.throws(() => qemu_cond_wait(c, wrong(bad)), TypeError);
    assert.throws(() => qemu_cond_timedwait(c, wrong(bad), 5), TypeError);
    assert.throws(() => c.wait(wrong(bad)), TypeError);
    assert.throws(() => c.timedWait(wrong(bad), 5), TypeError);
  }
  rec.unlock();
  assert.equal(c.waiters(), 0);
});

watched('double destroy is EINVAL through both faces', () => {
  const c = QemuCond.create();
  qemu_cond_destroy(c);
  assert.throws(() => qemu_cond_destroy(c), qemuError('EINVAL', 'qemu_cond_destroy'));
  assert.throws(() => c.destroy(), qemuError('EINVAL', 'qemu_cond_destroy'));
});

// With the mutex held, the cond's state is the only thing wrong, so each call must report EINVAL.
const OPERATIONS: [
  func: string,
  functional: (c: QemuCond, m: QemuMutex) => unknown,
  method: (c: QemuCond, m: QemuMutex) => unknown,
][] = [
  ['qemu_cond_signal', (c) => qemu_cond_signal(c), (c) => c.signal()],
  ['qemu_cond_broadcast', (c) => qemu_cond_broadcast(c), (c) => c.broadcast()],
  ['qemu_cond_wait', (c, m) => qemu_cond_wait(c, m), (c, m) => c.wait(m)],
  ['qemu_cond_timedwait', (c, m) => qemu_cond_timedwait(c, m, 10), (c, m) => c.timedWait(m, 10)],
  ['qemu_cond_destroy', (c) => qemu_cond_destroy(c), (c) => c.destroy()],
];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized cond is EINVAL through both faces`, () => {
    const c = new QemuCond();
    const m = QemuMutex.create();
    m.lock();
    assert.throws(() => functional(c, m), qemuError('EINVAL', func));
    assert.throws(() => method(c, m), qemuError('EINVAL', func));
    assert.equal(m.isHeldBySelf(), true);
    m.unlock();
  });

  watched(`${func} on a destroyed cond is EINVAL through both faces`, () => {
    const c = QemuCond.create();
    c.destroy();
    const m = QemuMutex.create();
    m.lock();
    assert.throws(() => functional(c, m), qemuError('EINVAL', func));
    assert.throws(() => method(c, m), qemuError('EINVAL', func));
    assert.equal(m.isHeldBySelf(), true);
    m.unlock();
  });
}

watched('qemu_cond_wait while another thread holds the mutex is EPERM', async () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  await whileHeldByWorker('mutex', m, () => {
    assert.throws(() => qemu_cond_wait(c, m), qemuError('EPERM', 'qemu_cond_wait'));
    assert.throws(() => c.timedWait(m, 5), qemuError('EPERM', 'qemu_cond_timedwait'));
  });
});

watched(
  'destroy while a thread waits on it is EBUSY through both faces; after the waiter leaves it works',
  async () => {
    const c = QemuCond.create();
    const m = QemuMutex.create();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const workerData: HoldData = { kind: 'cond-wait', lock: m, cond: c, flag };
    const worker = new Worker(new URL('./workers/api/hold.js', import.meta.url), { workerData });
    const exited = once(worker, 'exit');
    try {
      while (Atomics.load(flag, 0) === 0) {
        assert.notEqual(Atomics.wait(flag, 0, 0, 30_000), 'timed-out', 'the worker never started');
      }
      // The worker announced under the mutex, and releases it only by waiting: once this thread has it,
      // the worker is counted as a waiter.
      m.lock();
      assert.equal(c.waiters(), 1);
      assert.throws(() => qemu_cond_destroy(c), qemuError('EBUSY', 'qemu_cond_destroy'));
      assert.throws(() => c.destroy(), qemuError('EBUSY', 'qemu_cond_destroy'));
    } finally {
      if (!m.isHeldBySelf()) m.lock();
      Atomics.store(flag, 0, 2);
      qemu_cond_broadcast(c);
      m.unlock();
    }
    const [exitCode] = await exited;
    assert.equal(exitCode, 0);
    assert.equal(c.waiters(), 0);
    qemu_cond_destroy(c);
  },
);
