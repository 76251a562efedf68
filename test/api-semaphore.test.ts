// API table rows for QemuSemaphore: the unsigned 32-bit count, time-outs and errors through both faces.
import assert from 'node:assert/strict';
import {
  QemuSemaphore,
  qemu_sem_destroy,
  qemu_sem_init,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_sem_wait,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { watched } from './support/watchdog.js';

const UINT32_MAX = 4294967295;
/** Lets a value of the wrong type through the compiler, to check the run-time error. */
const wrong = (value: unknown): never => value as never;

watched('init, post, wait and destroy return undefined through both faces', () => {
  const s = new QemuSemaphore();
  assert.equal(qemu_sem_init(s, 0), undefined);
  assert.equal(qemu_sem_post(s), undefined);
  assert.equal(qemu_sem_wait(s), undefined);
  assert.equal(s.post(), undefined);
  assert.equal(s.wait(), undefined);
  assert.equal(qemu_sem_destroy(s), undefined);
  assert.equal(s.init(1), undefined);
  assert.equal(s.destroy(), undefined);
});

for (const n of [0, 1, 2, 1000, 2147483647, 2147483648, UINT32_MAX - 1, UINT32_MAX]) {
  watched(`qemu_sem_init accepts ${n}, and the count reads back as the unsigned value`, () => {
    const s = new QemuSemaphore();
    qemu_sem_init(s, n);
    assert.equal(s.value(), n);
    const t = new QemuSemaphore();
    t.init(n);
    assert.equal(t.value(), n);
    assert.equal(QemuSemaphore.create(n).value(), n);
  });
}

for (const n of [
  -1,
  -0.5,
  0.5,
  1.5,
  UINT32_MAX + 1,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Infinity,
]) {
  watched(`qemu_sem_init(s, ${n}) is EINVAL through both faces and in create`, () => {
    const s = new QemuSemaphore();
    assert.throws(() => qemu_sem_init(s, n), qemuError('EINVAL', 'qemu_sem_init'));
    assert.throws(() => s.init(n), qemuError('EINVAL', 'qemu_sem_init'));
    assert.throws(() => QemuSemaphore.create(n), qemuError('EINVAL', 'qemu_sem_init'));
    // A refused init leaves the storage uninitialized.
    assert.throws(() => qemu_sem_post(s), qemuError('EINVAL', 'qemu_sem_post'));
  });
}

watched('qemu_sem_init with a non-number count is EINVAL', () => {
  const s = new QemuSemaphore();
  for (const n of ['1', null, undefined, 1n, {}]) {
    assert.throws(() => qemu_sem_init(s, wrong(n)), qemuError('EINVAL', 'qemu_sem_init'));
  }
});

watched('post at 4294967295 is EINVAL through both faces, and the count is unchanged', () => {
  const s = QemuSemaphore.create(UINT32_MAX - 1);
  qemu_sem_post(s);
  assert.equal(s.value(), UINT32_MAX);
  assert.throws(() => qemu_sem_post(s), qemuError('EINVAL', 'qemu_sem_post'));
  assert.throws(() => s.post(), qemuError('EINVAL', 'qemu_sem_post'));
  assert.equal(s.value(), UINT32_MAX);
  // Taking a unit from the maximum works and makes room for one post.
  assert.equal(qemu_sem_timedwait(s, 0), 0);
  assert.equal(s.value(), UINT32_MAX - 1);
  s.post();
  assert.equal(s.value(), UINT32_MAX);
});

watched('post adds a unit and wait takes one, through both faces', () => {
  const s = QemuSemaphore.create(0);
  qemu_sem_post(s);
  s.post();
  qemu_sem_post(s);
  assert.equal(s.value(), 3);
  qemu_sem_wait(s);
  s.wait();
  assert.equal(s.value(), 1);
  qemu_sem_wait(s);
  assert.equal(s.value(), 0);
  assert.equal(qemu_sem_timedwait(s, 0), -1);
});

watched('qemu_sem_timedwait returns 0 when it takes a unit, for ms = 0 and ms > 0', () => {
  const s = QemuSemaphore.create(2);
  assert.equal(qemu_sem_timedwait(s, 0), 0);
  assert.equal(qemu_sem_timedwait(s, 50), 0);
  assert.equal(s.value(), 0);
});

watched('qemu_sem_timedwait with ms = 0 on an empty semaphore returns -1 at once and takes nothing', () => {
  const s = QemuSemaphore.create(0);
  assert.equal(qemu_sem_timedwait(s, 0), -1);
  assert.equal(s.timedWait(0), false);
  assert.equal(s.value(), 0);
  // No unit was borrowed: the next post is the only one there is.
  s.post();
  assert.equal(qemu_sem_timedwait(s, 0), 0);
  assert.equal(qemu_sem_timedwait(s, 0), -1);
});

watched('qemu_sem_timedwait returns -1 after about ms, and never takes a unit after timing out', () => {
  const s = QemuSemaphore.create(0);
  const ms = 30;
  const start = performance.now();
  assert.equal(qemu_sem_timedwait(s, ms), -1);
  assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
  assert.equal(s.value(), 0);
  s.post();
  assert.equal(s.value(), 1);
  assert.equal(qemu_sem_timedwait(s, 0), 0);
});

watched('timedWait (method) returns true when it takes a unit and false on time-out', () => {
  const s = QemuSemaphore.create(1);
  assert.equal(s.timedWait(20), true);
  const ms = 20;
  const start = performance.now();
  assert.equal(s.timedWait(ms), false);
  assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
  assert.equal(s.value(), 0);
});

watched('double destroy is EINVAL through both faces', () => {
  const s = QemuSemaphore.create(0);
  qemu_sem_destroy(s);
  assert.throws(() => qemu_sem_destroy(s), qemuError('EINVAL', 'qemu_sem_destroy'));
  assert.throws(() => s.destroy(), qemuError('EINVAL', 'qemu_sem_destroy'));
});

watched('init after destroy sets a fresh count', () => {
  const s = QemuSemaphore.create(5);
  s.destroy();
  qemu_sem_init(s, 1);
  assert.equal(s.value(), 1);
  assert.equal(qemu_sem_timedwait(s, 0), 0);
  assert.equal(qemu_sem_timedwait(s, 0), -1);
});

// Each storage is given units, so only its unusable state can stop the call (and nothing can hang).
const OPERATIONS: [
  func: string,
  functional: (s: QemuSemaphore) => unknown,
  method: (s: QemuSemaphore) => unknown,
][] = [
  ['qemu_sem_post', qemu_sem_post, (s) => s.post()],
  ['qemu_sem_wait', qemu_sem_wait, (s) => s.wait()],
  ['qemu_sem_timedwait', (s) => qemu_sem_timedwait(s, 10), (s) => s.timedWait(10)],
  ['qemu_sem_destroy', qemu_sem_destroy, (s) => s.destroy()],
];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized semaphore is EINVAL through both faces`, () => {
    const s = new QemuSemaphore();
    assert.throws(() => functional(s), qemuError('EINVAL', func));
    assert.throws(() => method(s), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed semaphore is EINVAL through both faces`, () => {
    const s = QemuSemaphore.create(3);
    s.destroy();
    assert.throws(() => functional(s), qemuError('EINVAL', func));
    assert.throws(() => method(s), qemuError('EINVAL', func));
  });
}

watched('qemu_sem_timedwait with ms = 0 on a never-initialized semaphore is EINVAL, not -1', () => {
  const s = new QemuSemaphore();
  assert.throws(() => qemu_sem_timedwait(s, 0), qemuError('EINVAL', 'qemu_sem_timedwait'));
});
