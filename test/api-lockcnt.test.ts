// API table rows for QemuLockCnt: the count, the lock, and the calls that combine them, through both faces.
import assert from 'node:assert/strict';
import {
  QemuLockCnt,
  QemuThreadError,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_destroy,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_init,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
} from 'qemu-thread';
import { qemuError, whileHeldByWorker } from './support/api.js';
import { watched } from './support/watchdog.js';

/** Whether the calling thread holds `l`'s lock, told apart by what unlock does (and undone if so). */
function heldBySelf(l: QemuLockCnt): boolean {
  try {
    l.unlock();
  } catch (e) {
    if (e instanceof QemuThreadError && e.code === 'EPERM') return false;
    throw e;
  }
  l.lock();
  return true;
}

/** A lockcnt with `n` visitors and its lock free. */
function withCount(n: number): QemuLockCnt {
  const l = QemuLockCnt.create();
  for (let i = 0; i < n; i++) l.inc();
  return l;
}

watched(
  'init, inc, dec, lock, unlock, inc_and_unlock and destroy return undefined through both faces',
  () => {
    const l = new QemuLockCnt();
    assert.equal(qemu_lockcnt_init(l), undefined);
    assert.equal(qemu_lockcnt_inc(l), undefined);
    assert.equal(qemu_lockcnt_dec(l), undefined);
    assert.equal(qemu_lockcnt_lock(l), undefined);
    assert.equal(qemu_lockcnt_inc_and_unlock(l), undefined);
    assert.equal(qemu_lockcnt_lock(l), undefined);
    assert.equal(qemu_lockcnt_unlock(l), undefined);
    assert.equal(l.inc(), undefined);
    assert.equal(l.dec(), undefined);
    assert.equal(l.dec(), undefined);
    assert.equal(l.lock(), undefined);
    assert.equal(l.incAndUnlock(), undefined);
    assert.equal(l.lock(), undefined);
    assert.equal(l.unlock(), undefined);
    assert.equal(l.dec(), undefined);
    assert.equal(qemu_lockcnt_destroy(l), undefined);
    assert.equal(l.init(), undefined);
    assert.equal(l.destroy(), undefined);
  },
);

watched('count starts at 0 and follows inc and dec through both faces', () => {
  const l = new QemuLockCnt();
  qemu_lockcnt_init(l);
  assert.equal(qemu_lockcnt_count(l), 0);
  assert.equal(l.count(), 0);
  qemu_lockcnt_inc(l);
  l.inc();
  qemu_lockcnt_inc(l);
  assert.equal(qemu_lockcnt_count(l), 3);
  assert.equal(l.count(), 3);
  qemu_lockcnt_dec(l);
  assert.equal(qemu_lockcnt_count(l), 2);
  l.dec();
  l.dec();
  assert.equal(qemu_lockcnt_count(l), 0);
  assert.equal(heldBySelf(l), false);
});

watched('lock and unlock leave the count alone', () => {
  const l = withCount(3);
  qemu_lockcnt_lock(l);
  assert.equal(qemu_lockcnt_count(l), 3);
  assert.equal(heldBySelf(l), true);
  qemu_lockcnt_unlock(l);
  assert.equal(qemu_lockcnt_count(l), 3);
  assert.equal(heldBySelf(l), false);
});

watched('inc while the caller holds the lock is fine when the count is not 0', () => {
  const l = withCount(1);
  l.lock();
  qemu_lockcnt_inc(l);
  assert.equal(l.count(), 2);
  l.unlock();
});

watched(
  'qemu_lockcnt_dec_and_lock: false above 1 (count down, lock free); true at 1 (count 0, lock held)',
  () => {
    const l = withCount(2);
    assert.equal(qemu_lockcnt_dec_and_lock(l), false);
    assert.equal(qemu_lockcnt_count(l), 1);
    assert.equal(heldBySelf(l), false);
    assert.equal(qemu_lockcnt_dec_and_lock(l), true);
    assert.equal(qemu_lockcnt_count(l), 0);
    assert.equal(heldBySelf(l), true);
    qemu_lockcnt_unlock(l);
    assert.equal(heldBySelf(l), false);
  },
);

watched('decAndLock (method) has the same results', () => {
  const l = withCount(2);
  assert.equal(l.decAndLock(), false);
  assert.equal(l.count(), 1);
  assert.equal(l.decAndLock(), true);
  assert.equal(l.count(), 0);
  assert.equal(heldBySelf(l), true);
  l.unlock();
});

watched('qemu_lockcnt_dec_if_lock: false above 1 and changes nothing; true at 1 (count 0, lock held)', () => {
  const l = withCount(2);
  assert.equal(qemu_lockcnt_dec_if_lock(l), false);
  assert.equal(qemu_lockcnt_count(l), 2);
  assert.equal(heldBySelf(l), false);
  l.dec();
  assert.equal(qemu_lockcnt_dec_if_lock(l), true);
  assert.equal(qemu_lockcnt_count(l), 0);
  assert.equal(heldBySelf(l), true);
  l.unlock();
});

watched('decIfLock (method) has the same results', () => {
  const l = withCount(3);
  assert.equal(l.decIfLock(), false);
  assert.equal(l.count(), 3);
  l.dec();
  l.dec();
  assert.equal(l.decIfLock(), true);
  assert.equal(l.count(), 0);
  assert.equal(heldBySelf(l), true);
  l.unlock();
});

watched('qemu_lockcnt_inc_and_unlock adds a visitor and releases the lock in one step', () => {
  const l = QemuLockCnt.create();
  qemu_lockcnt_lock(l);
  qemu_lockcnt_inc_and_unlock(l);
  assert.equal(qemu_lockcnt_count(l), 1);
  assert.equal(heldBySelf(l), false);
  l.lock();
  l.incAndUnlock();
  assert.equal(l.count(), 2);
  assert.equal(heldBySelf(l), false);
});

watched(
  'the free-under-lock pattern: dec_and_lock at the last visitor, then inc_and_unlock re-admits one',
  () => {
    const l = withCount(1);
    assert.equal(qemu_lockcnt_dec_and_lock(l), true);
    // Count 0 with the lock held: this is where QEMU frees what visitors use.
    assert.equal(qemu_lockcnt_count(l), 0);
    qemu_lockcnt_inc_and_unlock(l);
    assert.equal(qemu_lockcnt_count(l), 1);
    qemu_lockcnt_dec(l);
    assert.equal(qemu_lockcnt_count(l), 0);
    assert.equal(heldBySelf(l), false);
  },
);

for (const [func, functional, method] of [
  ['qemu_lockcnt_dec', qemu_lockcnt_dec, (l: QemuLockCnt) => l.dec()],
  ['qemu_lockcnt_dec_and_lock', qemu_lockcnt_dec_and_lock, (l: QemuLockCnt) => l.decAndLock()],
  ['qemu_lockcnt_dec_if_lock', qemu_lockcnt_dec_if_lock, (l: QemuLockCnt) => l.decIfLock()],
] as const) {
  watched(`${func} at count 0 is EINVAL through both faces, and takes nothing`, () => {
    const l = QemuLockCnt.create();
    assert.throws(() => functional(l), qemuError('EINVAL', func));
    assert.throws(() => method(l), qemuError('EINVAL', func));
    assert.equal(l.count(), 0);
    assert.equal(heldBySelf(l), false);
  });
}

watched('unlock and inc_and_unlock without holding the lock are EPERM through both faces', () => {
  const l = withCount(1);
  assert.throws(() => qemu_lockcnt_unlock(l), qemuError('EPERM', 'qemu_lockcnt_unlock'));
  assert.throws(() => l.unlock(), qemuError('EPERM', 'qemu_lockcnt_unlock'));
  assert.throws(() => qemu_lockcnt_inc_and_unlock(l), qemuError('EPERM', 'qemu_lockcnt_inc_and_unlock'));
  assert.throws(() => l.incAndUnlock(), qemuError('EPERM', 'qemu_lockcnt_inc_and_unlock'));
  assert.equal(l.count(), 1);
});

watched('lock while the caller holds it is EDEADLK through both faces', () => {
  const l = QemuLockCnt.create();
  l.lock();
  assert.throws(() => qemu_lockcnt_lock(l), qemuError('EDEADLK', 'qemu_lockcnt_lock'));
  assert.throws(() => l.lock(), qemuError('EDEADLK', 'qemu_lockcnt_lock'));
  assert.equal(heldBySelf(l), true);
  l.unlock();
});

watched('inc at count 0 while the caller holds the lock is EDEADLK (it would wait for itself)', () => {
  const l = QemuLockCnt.create();
  l.lock();
  assert.throws(() => qemu_lockcnt_inc(l), qemuError('EDEADLK', 'qemu_lockcnt_inc'));
  assert.throws(() => l.inc(), qemuError('EDEADLK', 'qemu_lockcnt_inc'));
  assert.equal(l.count(), 0);
  l.unlock();
});

watched('dec_and_lock and dec_if_lock at count 1 while the caller holds the lock are EDEADLK', () => {
  const l = withCount(1);
  l.lock();
  assert.throws(() => qemu_lockcnt_dec_and_lock(l), qemuError('EDEADLK', 'qemu_lockcnt_dec_and_lock'));
  assert.throws(() => l.decAndLock(), qemuError('EDEADLK', 'qemu_lockcnt_dec_and_lock'));
  assert.throws(() => qemu_lockcnt_dec_if_lock(l), qemuError('EDEADLK', 'qemu_lockcnt_dec_if_lock'));
  assert.throws(() => l.decIfLock(), qemuError('EDEADLK', 'qemu_lockcnt_dec_if_lock'));
  assert.equal(l.count(), 1);
  l.unlock();
});

watched('destroy while the lock is held is EBUSY through both faces', () => {
  const l = QemuLockCnt.create();
  l.lock();
  assert.throws(() => qemu_lockcnt_destroy(l), qemuError('EBUSY', 'qemu_lockcnt_destroy'));
  assert.throws(() => l.destroy(), qemuError('EBUSY', 'qemu_lockcnt_destroy'));
  l.unlock();
  qemu_lockcnt_destroy(l);
});

watched('double destroy is EINVAL through both faces', () => {
  const l = QemuLockCnt.create();
  qemu_lockcnt_destroy(l);
  assert.throws(() => qemu_lockcnt_destroy(l), qemuError('EINVAL', 'qemu_lockcnt_destroy'));
  assert.throws(() => l.destroy(), qemuError('EINVAL', 'qemu_lockcnt_destroy'));
});

const OPERATIONS: [
  func: string,
  functional: (l: QemuLockCnt) => unknown,
  method: (l: QemuLockCnt) => unknown,
][] = [
  ['qemu_lockcnt_inc', qemu_lockcnt_inc, (l) => l.inc()],
  ['qemu_lockcnt_dec', qemu_lockcnt_dec, (l) => l.dec()],
  ['qemu_lockcnt_dec_and_lock', qemu_lockcnt_dec_and_lock, (l) => l.decAndLock()],
  ['qemu_lockcnt_dec_if_lock', qemu_lockcnt_dec_if_lock, (l) => l.decIfLock()],
  ['qemu_lockcnt_lock', qemu_lockcnt_lock, (l) => l.lock()],
  ['qemu_lockcnt_unlock', qemu_lockcnt_unlock, (l) => l.unlock()],
  ['qemu_lockcnt_inc_and_unlock', qemu_lockcnt_inc_and_unlock, (l) => l.incAndUnlock()],
  ['qemu_lockcnt_count', qemu_lockcnt_count, (l) => l.count()],
  ['qemu_lockcnt_destroy', qemu_lockcnt_destroy, (l) => l.destroy()],
];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized lockcnt is EINVAL through both faces`, () => {
    const l = new QemuLockCnt();
    assert.throws(() => functional(l), qemuError('EINVAL', func));
    assert.throws(() => method(l), qemuError('EINVAL', func));
    assert.throws(() => functional(l), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed lockcnt is EINVAL through both faces`, () => {
    const l = withCount(2);
    l.dec();
    l.dec();
    l.destroy();
    assert.throws(() => functional(l), qemuError('EINVAL', func));
    assert.throws(() => method(l), qemuError('EINVAL', func));
  });
}

watched('while another thread holds the lock: inc/dec above 0 do not wait, unlock is EPERM', async () => {
  const l = withCount(1);
  await whileHeldByWorker('lockcnt', l, (holder) => {
    qemu_lockcnt_inc(l);
    assert.equal(qemu_lockcnt_count(l), 2);
    assert.equal(qemu_lockcnt_dec_if_lock(l), false);
    assert.equal(qemu_lockcnt_dec_and_lock(l), false);
    assert.equal(qemu_lockcnt_count(l), 1);
    assert.throws(() => qemu_lockcnt_unlock(l), qemuError('EPERM', 'qemu_lockcnt_unlock'));
    assert.throws(() => l.incAndUnlock(), qemuError('EPERM', 'qemu_lockcnt_inc_and_unlock'));
    assert.throws(() => qemu_lockcnt_destroy(l), qemuError('EBUSY', 'qemu_lockcnt_destroy'));
    assert.match(String(l), new RegExp(`locked by thread ${holder}\\b`));
  });
  assert.equal(qemu_lockcnt_dec_and_lock(l), true);
  qemu_lockcnt_unlock(l);
});
