// API table rows for QemuRecMutex: nesting, results and errors through both faces.
import assert from 'node:assert/strict';
import {
  QemuRecMutex,
  qemu_rec_mutex_destroy,
  qemu_rec_mutex_init,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
} from 'qemu-thread';
import { qemuError, whileHeldByWorker } from './support/api.js';
import { watched } from './support/watchdog.js';

watched('init, lock and unlock return undefined through both faces', () => {
  const m = new QemuRecMutex();
  assert.equal(qemu_rec_mutex_init(m), undefined);
  assert.equal(qemu_rec_mutex_lock(m), undefined);
  assert.equal(qemu_rec_mutex_unlock(m), undefined);
  assert.equal(m.lock(), undefined);
  assert.equal(m.unlock(), undefined);
  assert.equal(qemu_rec_mutex_destroy(m), undefined);
  assert.equal(m.init(), undefined);
  assert.equal(m.destroy(), undefined);
});

watched('the owner nests: lock twice needs two unlocks, and a third unlock is EPERM', () => {
  const m = QemuRecMutex.create();
  qemu_rec_mutex_lock(m);
  qemu_rec_mutex_lock(m);
  assert.equal(m.depthHeldBySelf(), 2);
  qemu_rec_mutex_unlock(m);
  // Still held after the first unlock: destroying it is refused.
  assert.equal(m.depthHeldBySelf(), 1);
  assert.throws(() => qemu_rec_mutex_destroy(m), qemuError('EBUSY', 'qemu_rec_mutex_destroy'));
  qemu_rec_mutex_unlock(m);
  assert.equal(m.depthHeldBySelf(), 0);
  assert.throws(() => qemu_rec_mutex_unlock(m), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
  qemu_rec_mutex_destroy(m);
});

watched('the methods nest the same way, mixed freely with the functions', () => {
  const m = QemuRecMutex.create();
  m.lock();
  qemu_rec_mutex_lock(m);
  m.lock();
  assert.equal(m.depthHeldBySelf(), 3);
  m.unlock();
  qemu_rec_mutex_unlock(m);
  m.unlock();
  assert.equal(m.depthHeldBySelf(), 0);
  assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
});

watched(
  'qemu_rec_mutex_trylock returns 0 on a free mutex and 0 again for the owner, nesting each time',
  () => {
    const m = QemuRecMutex.create();
    assert.equal(qemu_rec_mutex_trylock(m), 0);
    assert.equal(qemu_rec_mutex_trylock(m), 0);
    qemu_rec_mutex_lock(m);
    assert.equal(m.depthHeldBySelf(), 3);
    qemu_rec_mutex_unlock(m);
    qemu_rec_mutex_unlock(m);
    qemu_rec_mutex_unlock(m);
    assert.throws(() => qemu_rec_mutex_unlock(m), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
  },
);

watched('tryLock (method) returns true when free and true again for the owner', () => {
  const m = QemuRecMutex.create();
  assert.equal(m.tryLock(), true);
  assert.equal(m.tryLock(), true);
  assert.equal(m.depthHeldBySelf(), 2);
  m.unlock();
  m.unlock();
  assert.equal(m.depthHeldBySelf(), 0);
});

watched('unlock by a non-holder is EPERM through both faces', () => {
  const m = QemuRecMutex.create();
  assert.throws(() => qemu_rec_mutex_unlock(m), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
  assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
  assert.equal(qemu_rec_mutex_trylock(m), 0);
  m.unlock();
});

watched('destroy while held is EBUSY through both faces, at any depth', () => {
  const m = QemuRecMutex.create();
  m.lock();
  assert.throws(() => qemu_rec_mutex_destroy(m), qemuError('EBUSY', 'qemu_rec_mutex_destroy'));
  m.lock();
  assert.throws(() => m.destroy(), qemuError('EBUSY', 'qemu_rec_mutex_destroy'));
  m.unlock();
  m.unlock();
  qemu_rec_mutex_destroy(m);
});

watched('double destroy is EINVAL through both faces', () => {
  const m = QemuRecMutex.create();
  qemu_rec_mutex_destroy(m);
  assert.throws(() => qemu_rec_mutex_destroy(m), qemuError('EINVAL', 'qemu_rec_mutex_destroy'));
  assert.throws(() => m.destroy(), qemuError('EINVAL', 'qemu_rec_mutex_destroy'));
});

watched('re-initialization after destroy starts at depth 0', () => {
  const m = QemuRecMutex.create();
  m.lock();
  m.lock();
  m.unlock();
  m.unlock();
  m.destroy();
  qemu_rec_mutex_init(m);
  m.lock();
  m.unlock();
  assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
});

const OPERATIONS: [
  func: string,
  functional: (m: QemuRecMutex) => unknown,
  method: (m: QemuRecMutex) => unknown,
][] = [
  ['qemu_rec_mutex_lock', qemu_rec_mutex_lock, (m) => m.lock()],
  ['qemu_rec_mutex_trylock', qemu_rec_mutex_trylock, (m) => m.tryLock()],
  ['qemu_rec_mutex_unlock', qemu_rec_mutex_unlock, (m) => m.unlock()],
  ['qemu_rec_mutex_destroy', qemu_rec_mutex_destroy, (m) => m.destroy()],
];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized rec mutex is EINVAL through both faces`, () => {
    const m = new QemuRecMutex();
    assert.throws(() => functional(m), qemuError('EINVAL', func));
    assert.throws(() => method(m), qemuError('EINVAL', func));
    assert.throws(() => functional(m), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed rec mutex is EINVAL through both faces`, () => {
    const m = QemuRecMutex.create();
    m.destroy();
    assert.throws(() => functional(m), qemuError('EINVAL', func));
    assert.throws(() => method(m), qemuError('EINVAL', func));
  });
}

watched('while another thread holds it: trylock -16 (no nesting for a non-owner), unlock EPERM', async () => {
  const m = QemuRecMutex.create();
  await whileHeldByWorker('rec-mutex', m, (holder) => {
    assert.equal(qemu_rec_mutex_trylock(m), -16);
    assert.equal(m.tryLock(), false);
    assert.equal(m.depthHeldBySelf(), 0);
    assert.throws(() => qemu_rec_mutex_unlock(m), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
    assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_rec_mutex_unlock'));
    assert.throws(() => qemu_rec_mutex_destroy(m), qemuError('EBUSY', 'qemu_rec_mutex_destroy'));
    assert.match(String(m), new RegExp(`locked by thread ${holder}\\b`));
  });
  assert.equal(qemu_rec_mutex_trylock(m), 0);
  qemu_rec_mutex_unlock(m);
});
