// API table rows for QemuSpin: QEMU's inverted trylock, qemu_spin_locked, and the owner checks the
// README documents (relock EDEADLK, foreign unlock EPERM) through both faces.
import assert from 'node:assert/strict';
import {
  QemuSpin,
  qemu_spin_destroy,
  qemu_spin_init,
  qemu_spin_lock,
  qemu_spin_locked,
  qemu_spin_trylock,
  qemu_spin_unlock,
} from 'qemu-thread';
import { qemuError, whileHeldByWorker } from './support/api.js';
import { watched } from './support/watchdog.js';

watched('init, lock, unlock and destroy return undefined through both faces', () => {
  const s = new QemuSpin();
  assert.equal(qemu_spin_init(s), undefined);
  assert.equal(qemu_spin_lock(s), undefined);
  assert.equal(qemu_spin_unlock(s), undefined);
  assert.equal(s.lock(), undefined);
  assert.equal(s.unlock(), undefined);
  assert.equal(qemu_spin_destroy(s), undefined);
  assert.equal(s.init(), undefined);
  assert.equal(s.destroy(), undefined);
});

watched('qemu_spin_locked follows lock and unlock; the method isLocked agrees', () => {
  const s = QemuSpin.create();
  assert.equal(qemu_spin_locked(s), false);
  assert.equal(s.isLocked(), false);
  qemu_spin_lock(s);
  assert.equal(qemu_spin_locked(s), true);
  assert.equal(s.isLocked(), true);
  qemu_spin_unlock(s);
  assert.equal(qemu_spin_locked(s), false);
});

watched('qemu_spin_trylock returns false when it took the lock and true when it FAILED', () => {
  const s = QemuSpin.create();
  assert.equal(qemu_spin_trylock(s), false);
  assert.equal(qemu_spin_locked(s), true);
  assert.equal(qemu_spin_trylock(s), true);
  assert.equal(qemu_spin_locked(s), true);
  qemu_spin_unlock(s);
  assert.equal(qemu_spin_locked(s), false);
  // A failed trylock took nothing: one unlock was enough, a second is EPERM.
  assert.throws(() => qemu_spin_unlock(s), qemuError('EPERM', 'qemu_spin_unlock'));
});

watched('tryLock (method) uses the usual convention: true on success, false when busy', () => {
  const s = QemuSpin.create();
  assert.equal(s.tryLock(), true);
  assert.equal(s.isLocked(), true);
  assert.equal(s.tryLock(), false);
  s.unlock();
  assert.equal(s.isLocked(), false);
});

watched('lock while the caller holds it is EDEADLK through both faces, not an endless spin', () => {
  const s = QemuSpin.create();
  s.lock();
  assert.throws(() => qemu_spin_lock(s), qemuError('EDEADLK', 'qemu_spin_lock'));
  assert.throws(() => s.lock(), qemuError('EDEADLK', 'qemu_spin_lock'));
  assert.equal(s.isLocked(), true);
  s.unlock();
});

watched('unlock of a free spinlock is EPERM through both faces', () => {
  const s = QemuSpin.create();
  assert.throws(() => qemu_spin_unlock(s), qemuError('EPERM', 'qemu_spin_unlock'));
  assert.throws(() => s.unlock(), qemuError('EPERM', 'qemu_spin_unlock'));
  assert.equal(s.isLocked(), false);
});

watched('destroy while held is EBUSY, and the lock is kept', () => {
  const s = QemuSpin.create();
  s.lock();
  assert.throws(() => qemu_spin_destroy(s), qemuError('EBUSY', 'qemu_spin_destroy'));
  assert.throws(() => s.destroy(), qemuError('EBUSY', 'qemu_spin_destroy'));
  assert.equal(s.isLocked(), true);
  s.unlock();
  qemu_spin_destroy(s);
});

watched('double destroy is EINVAL through both faces', () => {
  const s = QemuSpin.create();
  qemu_spin_destroy(s);
  assert.throws(() => qemu_spin_destroy(s), qemuError('EINVAL', 'qemu_spin_destroy'));
  assert.throws(() => s.destroy(), qemuError('EINVAL', 'qemu_spin_destroy'));
});

const OPERATIONS: [func: string, functional: (s: QemuSpin) => unknown, method: (s: QemuSpin) => unknown][] = [
  ['qemu_spin_lock', qemu_spin_lock, (s) => s.lock()],
  ['qemu_spin_trylock', qemu_spin_trylock, (s) => s.tryLock()],
  ['qemu_spin_unlock', qemu_spin_unlock, (s) => s.unlock()],
  ['qemu_spin_locked', qemu_spin_locked, (s) => s.isLocked()],
  ['qemu_spin_destroy', qemu_spin_destroy, (s) => s.destroy()],
];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized spinlock is EINVAL through both faces`, () => {
    const s = new QemuSpin();
    assert.throws(() => functional(s), qemuError('EINVAL', func));
    assert.throws(() => method(s), qemuError('EINVAL', func));
    assert.throws(() => functional(s), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed spinlock is EINVAL through both faces`, () => {
    const s = QemuSpin.create();
    s.destroy();
    assert.throws(() => functional(s), qemuError('EINVAL', func));
    assert.throws(() => method(s), qemuError('EINVAL', func));
  });
}

watched('while another thread holds it: trylock reports busy, locked is true, unlock is EPERM', async () => {
  const s = QemuSpin.create();
  await whileHeldByWorker('spin', s, (holder) => {
    assert.equal(qemu_spin_trylock(s), true);
    assert.equal(s.tryLock(), false);
    assert.equal(qemu_spin_locked(s), true);
    assert.throws(() => qemu_spin_unlock(s), qemuError('EPERM', 'qemu_spin_unlock'));
    assert.throws(() => s.unlock(), qemuError('EPERM', 'qemu_spin_unlock'));
    assert.match(String(s), new RegExp(`locked by thread ${holder}\\b`));
  });
  assert.equal(qemu_spin_locked(s), false);
  assert.equal(qemu_spin_trylock(s), false);
  qemu_spin_unlock(s);
});
