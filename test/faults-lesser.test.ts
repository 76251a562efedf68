/**
 * The lesser faults of issue 11: spinlocks and lockcnts held by a thread that died, waiter counts left by
 * terminated waiters, a primitive taken over another kind's memory, qemu_thread_get_self on a handle in use,
 * waitFor without the mutex, a bad `signal` option, a corrupt result area, control characters in thread
 * names. Every wait is bounded by a watchdog (`settles`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parkStats,
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThread,
  QemuThreadError,
  qemu_thread_get_self,
} from 'qemu-thread';
import { settles, until } from './support/settles.js';

const fn = (name: string) => new URL(`./workers/faults/targets.js#${name}`, import.meta.url);
const flags = () => new Int32Array(new SharedArrayBuffer(16));
const isCode = (code: string, func?: string) => (e: unknown) =>
  e instanceof QemuThreadError && e.code === code && (func === undefined || e.func === func);

test('a spinlock whose holder was terminated goes to the next locker with EOWNERDEAD', async () => {
  const spin = QemuSpin.create();
  const f = flags();
  const holder = QemuThread.create('spin-holder', fn('holdSpinForever'), { spin, flags: f });
  await until(() => Atomics.load(f, 0) === 1, 'the holder taking the spinlock');
  await holder.terminate();
  assert.throws(
    () => spin.lock(),
    (e: unknown) => isCode('EOWNERDEAD', 'qemu_spin_lock')(e) && /spin-holder/.test((e as Error).message),
  );
  assert.equal(spin.isLocked(), true, 'EOWNERDEAD comes with the lock');
  spin.unlock();
  spin.lock();
  spin.unlock();
});

test("a lockcnt whose lock's holder was terminated goes to the next locker with EOWNERDEAD", async () => {
  const l = QemuLockCnt.create();
  const f = flags();
  const holder = QemuThread.create('lockcnt-holder', fn('holdLockCntForever'), { l, flags: f });
  await until(() => Atomics.load(f, 0) === 1, 'the holder taking the lock');
  await holder.terminate();
  assert.throws(() => l.lock(), isCode('EOWNERDEAD', 'qemu_lockcnt_lock'));
  l.unlock();
  l.inc();
  assert.equal(l.count(), 1);
  l.dec();
});

test('waiters terminated in a wait do not keep a cond, a semaphore or an event busy for ever', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const s = QemuSemaphore.create(0);
  const e = QemuEvent.create(false);
  const fc = flags();
  const condWaiter = QemuThread.create('cond', fn('condWaiter'), { m, c, flags: fc });
  const semWaiter = QemuThread.create('sem', fn('semWaiter'), { s, flags: flags(), slot: 0 });
  const fe = flags();
  const eventWaiter = QemuThread.create('event', fn('eventWaiter'), { e, flags: fe });
  await until(() => c.parkedThreads().length === 1, 'the cond waiter parking');
  await until(() => String(s).includes('waiters: 1'), 'the semaphore waiter');
  await until(() => Atomics.load(fe, 0) === 1, 'the event waiter');
  // While they live, they keep the primitives busy.
  assert.throws(() => c.destroy(), isCode('EBUSY', 'qemu_cond_destroy'));
  assert.throws(() => s.destroy(), isCode('EBUSY', 'qemu_sem_destroy'));
  await until(() => {
    try {
      e.init(false);
      return false;
    } catch (error) {
      return isCode('EBUSY', 'qemu_event_init')(error);
    }
  }, 'the event waiter counted');
  await Promise.all([condWaiter.terminate(), semWaiter.terminate(), eventWaiter.terminate()]);
  // Dead waiters do not count.
  c.destroy();
  c.init();
  s.destroy();
  s.init(0);
  e.destroy();
  e.init(false);
});

test('a primitive is not taken over another kind of primitive (forged clone, wrong offset)', () => {
  const c = QemuCond.create();
  assert.throws(
    () => QemuMutex.from({ __qemuKind: 'QemuMutex', buffer: c.buffer, byteOffset: c.byteOffset }),
    (e: unknown) => e instanceof TypeError && /holds a QemuCond, not a QemuMutex/.test(e.message),
  );
  const m = QemuMutex.create(new SharedArrayBuffer(64));
  assert.throws(
    () => new QemuSemaphore(m.buffer, 0),
    (e: unknown) => e instanceof TypeError && /holds a QemuMutex.*not a QemuSemaphore/.test(e.message),
  );
  const s = QemuSemaphore.create(1, new SharedArrayBuffer(64));
  assert.throws(() => new QemuEvent(s.buffer, 0), /holds a QemuSemaphore, not a QemuEvent/);
  m.lock();
  assert.throws(() => new QemuCond(m.buffer, 0), /holds a held lock, not a QemuCond/);
  m.unlock();
  // Uninitialized or destroyed memory may become any kind.
  s.destroy();
  QemuEvent.create(true, s.buffer, 0);
});

test('qemu_thread_get_self refuses a handle that still refers to another thread', async () => {
  const f = flags();
  const t = QemuThread.create('running', fn('runUntilTold'), { flags: f });
  await until(() => Atomics.load(f, 0) === 1, 'the thread running');
  assert.throws(() => qemu_thread_get_self(t), isCode('EBUSY', 'qemu_thread_get_self'));
  Atomics.store(f, 1, 1);
  Atomics.notify(f, 1);
  assert.equal(await t.joinAsync(), 'done');
  // Joined: the handle is free to describe the calling thread.
  qemu_thread_get_self(t);
  assert.equal(t.isSelf(), true);
});

test('waitFor checks that the mutex is held, even when the predicate is already true', () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  assert.throws(() => c.waitFor(m, () => true), isCode('EPERM', 'QemuCond.waitFor'));
  m.lock();
  assert.equal(
    c.waitFor(m, () => true),
    true,
  );
  assert.throws(() => c.waitFor(m, 'x' as never), TypeError);
  m.unlock();
});

test('async waits reject a signal option that is not an AbortSignal', async () => {
  const m = QemuMutex.create();
  const bad = { signal: 'x' } as never;
  await assert.rejects(m.lockAsync(bad), /qemu_mutex_lock_async: options.signal must be an AbortSignal/);
  await assert.rejects(QemuSemaphore.create(1).waitAsync(bad), TypeError);
  await assert.rejects(QemuEvent.create(true).waitAsync(bad), TypeError);
  m.lock();
  await assert.rejects(QemuCond.create().waitAsync(m, bad), TypeError);
  m.unlock();
  assert.equal(m.isHeldBySelf(), false, 'a refused lockAsync holds nothing');
});

test('a corrupt result area is reported as EINVAL by the join, not a plain Error', async () => {
  const t = QemuThread.create('result', fn('bigResult'), { bytes: 16 });
  await until(() => String(t).includes('exited'), 'the thread exiting');
  // Scribble over the window that holds the result (a primitive or data placed over the thread's memory).
  new Uint8Array(t.buffer, t.byteOffset + 48, 64).fill(0xff);
  await assert.rejects(
    t.joinAsync(),
    (e: unknown) => isCode('EINVAL', 'qemu_thread_join')(e) && /overwritten/.test(String(e)),
  );
});

test("control characters in a thread's name are escaped in other threads' messages", async () => {
  const m = QemuMutex.create();
  const f = flags();
  const name = "evil\nqemu: forged line\u001b[31m'";
  const t = QemuThread.create(name, fn('holdMutexForever'), { m, flags: f });
  await until(() => Atomics.load(f, 0) === 1, 'the thread holding the mutex');
  assert.throws(
    () => m.unlock(),
    (e: unknown) =>
      isCode('EPERM', 'qemu_mutex_unlock')(e) &&
      !(e as Error).message.includes('\n') &&
      !(e as Error).message.includes('\u001b') &&
      (e as Error).message.includes("'evil\\u000aqemu: forged line\\u001b[31m\\''"),
  );
  await t.terminate();
});

test('more async waits pending in one thread than the waits table records still keep destroy busy', async () => {
  // Four pending waits on other semaphores take every record the thread has; the fifth is not recorded.
  const others = [0, 1, 2, 3].map(() => QemuSemaphore.create(0));
  const s = QemuSemaphore.create(0);
  const pending = [...others, s].map((x) => x.waitAsync());
  try {
    await until(() => String(s).includes('waiters: 1'), 'the fifth wait counted');
    assert.throws(() => s.destroy(), isCode('EBUSY', 'qemu_sem_destroy'));
  } finally {
    // Whatever happened, no wait is left pending to keep the process alive.
    for (const x of [...others, s]) if (!String(x).includes('destroyed')) x.post();
  }
  await settles(Promise.allSettled(pending), 'the waits ending');
  assert.deepEqual(
    (await Promise.allSettled(pending)).map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  s.destroy();
});

test('the lists of waiters show only live threads once a waiter was terminated', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const held = QemuMutex.create();
  held.lock();
  const condWaiter = QemuThread.create('cond', fn('condWaiter'), { m, c, flags: flags() });
  const locker = QemuThread.create('locker', fn('holdMutexForever'), { m: held, flags: flags() });
  await until(() => c.parkedThreads().length === 1, 'the cond waiter parking');
  await until(() => held.waiters().length === 1, 'the locker parking');
  await Promise.all([condWaiter.terminate(), locker.terminate()]);
  assert.deepEqual(c.parkedThreads(), []);
  assert.deepEqual(held.waiters(), []);
  held.unlock();
});

test('an async waiter terminated with its wait pending does not make later single wake-ups wake all', async () => {
  const s = QemuSemaphore.create(0);
  const asyncWaiter = QemuThread.create('async', fn('asyncSemWaiter'), { s });
  await until(() => String(s).includes('waiters: 1'), 'the async wait pending');
  await asyncWaiter.terminate();
  // The terminated waiter is no waiter any more; two blocking ones park.
  const t = QemuSemaphore.create(0);
  const parked = flags();
  const waiters = [0, 1].map((slot) =>
    QemuThread.create(`sem-${slot}`, fn('semWaiter'), { s: t, flags: parked, slot, parkedAt: slot + 2 }),
  );
  await until(() => Atomics.load(parked, 2) === 1 && Atomics.load(parked, 3) === 1, 'both waiters parking');
  const before = parkStats().woken;
  t.post();
  // With the dead waiter's wait still counted as pending, the post would wake both (a wake-all).
  assert.ok(parkStats().woken - before <= 1, `one post woke ${parkStats().woken - before} threads`);
  await until(() => Atomics.load(parked, 0) + Atomics.load(parked, 1) === 1, 'one waiter taking the unit');
  t.post();
  assert.deepEqual(await settles(Promise.all(waiters.map((w) => w.joinAsync())), 'the waiters'), [
    'took',
    'took',
  ]);
});
