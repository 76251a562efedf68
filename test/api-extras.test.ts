// The idiomatic extras of the contract: withLock, scoped guards for `using`, and the predicate wait.
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSpin,
  QemuThreadError,
  withLock,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { watched } from './support/watchdog.js';

watched('withLock returns what fn returns, running fn with the mutex held and releasing it after', () => {
  const m = QemuMutex.create();
  const result = withLock(m, () => {
    assert.equal(m.isHeldBySelf(), true);
    return { answer: 42 };
  });
  assert.deepEqual(result, { answer: 42 });
  assert.equal(m.isHeldBySelf(), false);
});

watched('withLock unlocks when fn throws, and rethrows the very same error', () => {
  const m = QemuMutex.create();
  const boom = new Error('boom');
  assert.throws(
    () =>
      withLock(m, () => {
        throw boom;
      }),
    (e: unknown) => e === boom,
  );
  assert.equal(m.isHeldBySelf(), false);
  assert.equal(m.tryLock(), true);
  m.unlock();
});

watched('withLock does not call fn when the lock cannot be taken, and reports why', () => {
  const m = QemuMutex.create();
  m.lock();
  let called = false;
  assert.throws(
    () =>
      withLock(m, () => {
        called = true;
      }),
    qemuError('EDEADLK', 'qemu_mutex_lock'),
  );
  assert.equal(called, false);
  // The caller's own hold is untouched by the failed withLock.
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
  assert.throws(() => withLock(new QemuMutex(), () => 1), qemuError('EINVAL', 'qemu_mutex_lock'));
});

watched('withLock works with a rec mutex (nested), a spinlock and a lockcnt', () => {
  const r = QemuRecMutex.create();
  const depth = withLock(r, () => withLock(r, () => r.depthHeldBySelf()));
  assert.equal(depth, 2);
  assert.equal(r.depthHeldBySelf(), 0);

  const s = QemuSpin.create();
  assert.equal(
    withLock(s, () => s.isLocked()),
    true,
  );
  assert.equal(s.isLocked(), false);

  const l = QemuLockCnt.create();
  assert.throws(
    () =>
      withLock(l, () => {
        throw new RangeError('inside');
      }),
    RangeError,
  );
  // Released despite the throw: locking again does not hit EDEADLK.
  l.lock();
  l.unlock();
});

watched('using a mutex guard holds the lock to the end of the block', () => {
  const m = QemuMutex.create();
  {
    using _guard = m.guard();
    assert.equal(m.isHeldBySelf(), true);
  }
  assert.equal(m.isHeldBySelf(), false);
});

watched('a guard unlocks when its scope is left by return or by throw', () => {
  const m = QemuMutex.create();
  const returns = (): number => {
    using _guard = m.guard();
    return m.isHeldBySelf() ? 1 : 0;
  };
  assert.equal(returns(), 1);
  assert.equal(m.isHeldBySelf(), false);

  const throws = (): void => {
    using _guard = m.guard();
    throw new TypeError('leaving');
  };
  assert.throws(throws, (e: unknown) => e instanceof TypeError && e.message === 'leaving');
  assert.equal(m.isHeldBySelf(), false);
});

watched('disposing a guard twice unlocks once', () => {
  const m = QemuMutex.create();
  const guard = m.guard();
  guard[Symbol.dispose]();
  assert.equal(m.isHeldBySelf(), false);
  // Someone else's later hold must survive a stray second dispose.
  m.lock();
  guard[Symbol.dispose]();
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});

watched('guard() on a mutex the caller holds is EDEADLK and leaves it held once', () => {
  const m = QemuMutex.create();
  m.lock();
  assert.throws(() => m.guard(), qemuError('EDEADLK', 'qemu_mutex_lock'));
  m.unlock();
  assert.throws(() => m.unlock(), qemuError('EPERM', 'qemu_mutex_unlock'));
});

watched('guards for a rec mutex nest, and guards for a spinlock and a lockcnt release at scope end', () => {
  const r = QemuRecMutex.create();
  const s = QemuSpin.create();
  const l = QemuLockCnt.create();
  {
    using _outer = r.guard();
    {
      using _inner = r.guard();
      assert.equal(r.depthHeldBySelf(), 2);
    }
    assert.equal(r.depthHeldBySelf(), 1);
    using _spin = s.guard();
    using _lockcnt = l.guard();
    assert.equal(s.isLocked(), true);
    assert.throws(() => l.lock(), qemuError('EDEADLK', 'qemu_lockcnt_lock'));
  }
  assert.equal(r.depthHeldBySelf(), 0);
  assert.equal(s.isLocked(), false);
  l.lock();
  l.unlock();
});

watched(
  'cond.waitFor returns true at once when the predicate already holds, checking it under the mutex',
  () => {
    const c = QemuCond.create();
    const m = QemuMutex.create();
    m.lock();
    let calls = 0;
    const held: boolean[] = [];
    const ok = c.waitFor(m, () => {
      calls++;
      held.push(m.isHeldBySelf());
      return true;
    });
    assert.equal(ok, true);
    assert.equal(calls, 1);
    assert.deepEqual(held, [true]);
    assert.equal(
      c.waitFor(m, () => true, 50),
      true,
    );
    assert.equal(m.isHeldBySelf(), true);
    m.unlock();
  },
);

watched(
  'cond.waitFor with ms returns false after about ms when the predicate stays false, mutex held',
  () => {
    const c = QemuCond.create();
    const m = QemuMutex.create();
    m.lock();
    const held: boolean[] = [];
    const ms = 30;
    const start = performance.now();
    const ok = c.waitFor(
      m,
      () => {
        held.push(m.isHeldBySelf());
        return false;
      },
      ms,
    );
    assert.equal(ok, false);
    assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
    assert.ok(held.length >= 1);
    assert.ok(
      held.every((h) => h),
      'the predicate ran without the mutex',
    );
    assert.equal(m.isHeldBySelf(), true);
    assert.equal(c.waiters(), 0);
    m.unlock();
  },
);

watched("cond.waitFor returns the predicate's value at the deadline, true if it became true", () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  m.lock();
  let calls = 0;
  // False on the first check, true from then on: the last check, at the time-out, decides.
  assert.equal(
    c.waitFor(m, () => calls++ > 0, 20),
    true,
  );
  assert.ok(calls >= 2);
  assert.equal(
    c.waitFor(m, () => false, 0),
    false,
  );
  m.unlock();
});

watched('cond.waitFor refuses a bad time-out and a mutex the caller does not hold', () => {
  const c = QemuCond.create();
  const m = QemuMutex.create();
  assert.throws(
    () => c.waitFor(m, () => false),
    (e: unknown) => e instanceof QemuThreadError && e.code === 'EPERM',
  );
  assert.throws(
    () => c.waitFor(m, () => false, 10),
    (e: unknown) => e instanceof QemuThreadError && e.code === 'EPERM',
  );
  m.lock();
  for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => c.waitFor(m, () => false, ms),
      (e: unknown) => e instanceof QemuThreadError && e.code === 'EINVAL' && e.errno === 22,
    );
  }
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
});
