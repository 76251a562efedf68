// API table rows for QemuMutex: results and errors through both faces (qemu_mutex_* and methods).
import assert from 'node:assert/strict';
import {
  QemuMutex,
  qemu_mutex_destroy,
  qemu_mutex_init,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
} from 'qemu-thread';
import { qemuError, whileHeldByWorker } from './support/api.js';
import { watched } from './support/watchdog.js';

watched('init, lock and unlock return undefined through both faces', () => {
  const m = new QemuMutex();
  assert.equal(qemu_mutex_init(m), undefined);
  assert.equal(qemu_mutex_lock(m), undefined);
  assert.equal(qemu_mutex_unlock(m), undefined);
  assert.equal(m.lock(), undefined);
  assert.equal(m.unlock(), undefined);
  assert.equal(qemu_mutex_destroy(m), undefined);

  const n = new QemuMutex();
  assert.equal(n.init(), undefined);
  n.lock();
  qemu_mutex_unlock(n); // the faces are interchangeable on one mutex
  qemu_mutex_lock(n);
  n.unlock();
  assert.equal(n.destroy(), undefined);
});

watched('qemu_mutex_trylock returns 0 on a free mutex and really takes it', () => {
  const m = QemuMutex.create();
  assert.equal(qemu_mutex_trylock(m), 0);
  assert.equal(m.isHeldBySelf(), true);
  assert.throws(() => qemu_mutex_lock(m), qemuError('EDEADLK', 'qemu_mutex_lock'));
  qemu_mutex_unlock(m);
  assert.equal(m.isHeldBySelf(), false);
});

watched('qemu_mutex_trylock returns -16 when the caller itself holds it, and leaves it held', () => {
  const m = QemuMutex.create();
  qemu_mutex_lock(m);
  assert.equal(qemu_mutex_trylock(m), -16);
  assert.equal(qemu_mutex_trylock(m), -16);
  // Still held exactly once: one unlock frees it, a second is EPERM.
  qemu_mutex_unlock(m);
  assert.throws(() => qemu_mutex_unlock(m), qemuError('EPERM', 'qemu_mutex_unlock'));
});

watched('tryLock (method) returns true on success and false when held by the caller', () => {
  const m = QemuMutex.create();
  assert.equal(m.tryLock(), true);
  assert.equal(m.tryLock(), false);
  m.unlock();
  assert.equal(m.tryLock(), true);
  m.unlock();
});

watched('lock while the caller holds it is EDEADLK through both faces, and the mutex stays held', () => {
  const m = QemuMutex.create();
  m.lock();
  assert.throws(() => qemu_mutex_lock(m), qemuError('EDEADLK', 'qemu_mutex_lock'));
  assert.throws(() => m.lock(), qemuError('EDEADLK', 'qemu_mutex_lock'));
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

watched('unlock of a mutex nobody holds is EPERM through both faces', () => {
  const m = QemuMutex.create();
  assert.throws(() => qemu_mutex_unlock(m), qemuError('EPERM', 'qemu_mutex_unlock'));
  assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_mutex_unlock'));
  // The failed unlock changed nothing: it can still be locked.
  assert.equal(qemu_mutex_trylock(m), 0);
  m.unlock();
});

watched('destroy while locked is EBUSY through both faces, and the mutex is still usable', () => {
  const m = QemuMutex.create();
  qemu_mutex_lock(m);
  assert.throws(() => qemu_mutex_destroy(m), qemuError('EBUSY', 'qemu_mutex_destroy'));
  assert.throws(() => m.destroy(), qemuError('EBUSY', 'qemu_mutex_destroy'));
  qemu_mutex_unlock(m);
  qemu_mutex_destroy(m);
});

watched('init on a mutex the caller holds is EBUSY (documented in README), and it stays held', () => {
  const m = QemuMutex.create();
  m.lock();
  assert.throws(() => qemu_mutex_init(m), qemuError('EBUSY', 'qemu_mutex_init'));
  assert.throws(() => m.init(), qemuError('EBUSY', 'qemu_mutex_init'));
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

watched('double destroy is EINVAL through both faces', () => {
  const m = QemuMutex.create();
  qemu_mutex_destroy(m);
  assert.throws(() => qemu_mutex_destroy(m), qemuError('EINVAL', 'qemu_mutex_destroy'));
  assert.throws(() => m.destroy(), qemuError('EINVAL', 'qemu_mutex_destroy'));
});

watched('a destroyed mutex can be initialized again, as in C', () => {
  const m = QemuMutex.create();
  m.destroy();
  qemu_mutex_init(m);
  assert.equal(qemu_mutex_trylock(m), 0);
  qemu_mutex_unlock(m);
});

// Every operation after init, on storage that is unusable: it must report EINVAL, never act or hang.
const OPERATIONS: [func: string, functional: (m: QemuMutex) => unknown, method: (m: QemuMutex) => unknown][] =
  [
    ['qemu_mutex_lock', qemu_mutex_lock, (m) => m.lock()],
    ['qemu_mutex_trylock', qemu_mutex_trylock, (m) => m.tryLock()],
    ['qemu_mutex_unlock', qemu_mutex_unlock, (m) => m.unlock()],
    ['qemu_mutex_destroy', qemu_mutex_destroy, (m) => m.destroy()],
  ];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized mutex is EINVAL through both faces`, () => {
    const m = new QemuMutex();
    assert.throws(() => functional(m), qemuError('EINVAL', func));
    assert.throws(() => method(m), qemuError('EINVAL', func));
    // Reporting must not have initialized it as a side effect.
    assert.throws(() => functional(m), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed mutex is EINVAL through both faces`, () => {
    const m = QemuMutex.create();
    m.destroy();
    assert.throws(() => functional(m), qemuError('EINVAL', func));
    assert.throws(() => method(m), qemuError('EINVAL', func));
  });
}

watched(
  'while another thread holds it: trylock -16, unlock EPERM, destroy EBUSY, inspection names it',
  async () => {
    const m = QemuMutex.create();
    await whileHeldByWorker('mutex', m, (holder) => {
      assert.notEqual(holder, 0);
      assert.equal(qemu_mutex_trylock(m), -16);
      assert.equal(m.tryLock(), false);
      assert.equal(m.isHeldBySelf(), false);
      assert.throws(() => qemu_mutex_unlock(m), qemuError('EPERM', 'qemu_mutex_unlock'));
      assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_mutex_unlock'));
      assert.throws(() => qemu_mutex_destroy(m), qemuError('EBUSY', 'qemu_mutex_destroy'));
      assert.match(String(m), new RegExp(`locked by thread ${holder}\\b`));
    });
    // The holder's unlock made it free for this thread.
    assert.equal(qemu_mutex_trylock(m), 0);
    qemu_mutex_unlock(m);
  },
);
