// Robust mutexes: a lock left by a thread that ended goes to the next locker with EOWNERDEAD; unlocking
// it without qemu_mutex_consistent makes it ENOTRECOVERABLE. Nobody waits forever on a dead owner.
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuMutex,
  QemuRecMutex,
  QemuThread,
  QemuThreadError,
  qemu_mutex_consistent,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';

const fn = (name: string) => new URL(`./workers/robust/holders.js#${name}`, import.meta.url);
const flag = () => new Int32Array(new SharedArrayBuffer(4));
const isError = (code: string, func: string) => (e: unknown) =>
  e instanceof QemuThreadError && e.code === code && e.func === func && e.message.startsWith(`${func}: `);

function waitFlag(f: Int32Array): void {
  for (let i = 0; i < 400 && Atomics.load(f, 0) === 0; i++) Atomics.wait(f, 0, 0, 50);
  assert.equal(Atomics.load(f, 0), 1, 'the thread took the lock');
}

watched(
  'a lock left by a thread that returned: EOWNERDEAD, held; consistent() repairs it',
  { ms: 60_000 },
  (w) => {
    const m = QemuMutex.create();
    const held = flag();
    const t = QemuThread.create('leaver', fn('lockAndReturn'), { m, held });
    w.show({ m, t });
    assert.equal(t.join(), 'left it locked');
    assert.throws(() => qemu_mutex_lock(m), isError('EOWNERDEAD', 'qemu_mutex_lock'));
    assert.equal(m.isHeldBySelf(), true, 'EOWNERDEAD comes with the lock');
    assert.match(String(m), /inconsistent/);
    qemu_mutex_consistent(m);
    qemu_mutex_unlock(m);
    qemu_mutex_lock(m);
    qemu_mutex_unlock(m);
    assert.throws(() => m.consistent(), isError('EPERM', 'qemu_mutex_consistent'), 'only the holder');
    m.lock();
    assert.throws(() => m.consistent(), isError('EINVAL', 'qemu_mutex_consistent'), 'nothing to repair');
    m.unlock();
  },
);

watched(
  'unlocking without consistent() makes the mutex ENOTRECOVERABLE for everyone',
  { ms: 60_000 },
  (w) => {
    const m = QemuMutex.create();
    const t = QemuThread.create('leaver', fn('lockAndReturn'), { m, held: flag() });
    w.show({ m, t });
    t.join();
    // The thread's function has returned, but it ends with its worker, a moment later: until then the lock
    // is simply busy (-EBUSY), then a trylock takes it with EOWNERDEAD.
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; ; i++) {
      assert.ok(i < 20_000, 'the worker did not end');
      try {
        assert.equal(qemu_mutex_trylock(m), -16);
      } catch (e) {
        assert.ok(isError('EOWNERDEAD', 'qemu_mutex_trylock')(e), String(e));
        break;
      }
      Atomics.wait(nap, 0, 0, 1);
    }
    qemu_mutex_unlock(m);
    assert.throws(() => qemu_mutex_lock(m), isError('ENOTRECOVERABLE', 'qemu_mutex_lock'));
    assert.throws(() => qemu_mutex_trylock(m), isError('ENOTRECOVERABLE', 'qemu_mutex_trylock'));
    m.destroy();
    m.init();
    m.lock();
    m.unlock();
  },
);

for (const how of ['exit', 'throw', 'process.exit', 'returned']) {
  watched(
    `a thread parked on the lock gets it with EOWNERDEAD when the holder ends (${how})`,
    { ms: 60_000 },
    (w) => {
      const m = QemuMutex.create();
      const held = flag();
      const t = QemuThread.create('holder', fn('lockThenEnd'), { m, held, how });
      w.show({ m, t, held });
      waitFlag(held);
      // Parks (the holder ends only once it sees this thread in m.waiters()) until the holder has ended:
      // then the lock comes with EOWNERDEAD instead of never.
      assert.throws(() => m.lock(), isError('EOWNERDEAD', 'qemu_mutex_lock'));
      m.consistent();
      m.unlock();
      try {
        t.join();
      } catch {
        // 'throw' and 'process.exit' end the thread with an error: what matters here is the lock.
      }
    },
  );
}

watched(
  'a cond wait that re-takes a mutex from a dead owner reports EOWNERDEAD holding it',
  { ms: 60_000 },
  (w) => {
    const m = QemuMutex.create();
    const c = QemuCond.create();
    w.show({ m, c });
    m.lock();
    // The thread can take m only while this thread's wait has released it; it ends holding it, so the wait's
    // relock meets the dead owner. (1000 rounds of 20 ms bound the wait, should the thread never start.)
    const t = QemuThread.create('taker', fn('lockAndReturn'), { m, held: flag() });
    assert.throws(
      () => {
        for (let round = 0; round < 1000; round++) c.timedWait(m, 20);
      },
      isError('EOWNERDEAD', 'qemu_cond_timedwait'),
    );
    assert.equal(m.isHeldBySelf(), true);
    m.consistent();
    m.unlock();
    assert.equal(t.join(), 'left it locked');
  },
);

watched('a recursive mutex left held is taken once, with EOWNERDEAD', { ms: 60_000 }, (w) => {
  const r = QemuRecMutex.create();
  w.show({ r });
  QemuThread.create('rec-leaver', fn('recLockTwice'), { r, held: flag() }).join();
  assert.throws(() => r.lock(), isError('EOWNERDEAD', 'qemu_rec_mutex_lock'));
  assert.equal(r.depthHeldBySelf(), 1);
  r.consistent();
  r.unlock();
  assert.equal(r.depthHeldBySelf(), 0);
  r.lock();
  r.unlock();
});
