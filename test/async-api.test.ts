/**
 * The async variants, primitive by primitive: the same results and errors as the blocking calls, as
 * Promises (argument errors too: rejections, never synchronous throws); a pending wait lets the calling
 * thread's event loop run; a blocking thread on the other side wakes it; time-outs; AbortSignal.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import {
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuThread,
  QemuThreadError,
  QemuThreadFailure,
  qemu_cond_timedwait_async,
  qemu_cond_wait_async,
  qemu_event_timedwait_async,
  qemu_event_wait_async,
  qemu_mutex_lock_async,
  qemu_rec_mutex_lock_async,
  qemu_sem_timedwait_async,
  qemu_sem_wait_async,
  qemu_thread_join_async,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { semaphoreWaiters } from './support/waiters.js';
import { watched } from './support/watchdog.js';
import { sharedWords, spawn } from './workers/concurrency/helpers.js';

const WORKERS = new URL('./workers/async/async-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

/** Resolves once flag[index] holds `value` (polling, so the main thread's event loop keeps running). */
async function until(flag: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.load(flag, index) !== value) await delay(1);
}

/** One full turn of this thread's event loop (timers, I/O, then immediates). */
const loopTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Follows `promise`: `settled` turns true once it has (seen from the next turn of the event loop on). */
function follow(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  const mark = () => {
    state.settled = true;
  };
  promise.then(mark, mark);
  return state;
}

function tell(flag: Int32Array, value = 1): void {
  Atomics.store(flag, 0, value);
  Atomics.notify(flag, 0);
}

/** An assert.rejects validator: an AbortError (the default reason of AbortController.abort()). */
function abortError(e: unknown): boolean {
  assert.ok(e instanceof Error, String(e));
  assert.equal(e.name, 'AbortError');
  return true;
}

watched(
  'mutex: lockAsync waits for a blocking holder in a worker, with the event loop running',
  async (w) => {
    const m = QemuMutex.create();
    const flag = sharedWords(1);
    const t = spawn('holder', fn('holdMutex'), { m, flag });
    w.show({ m, t, flag });
    await until(flag, 0, 1);
    const locking = m.lockAsync();
    const lock = follow(locking);
    assert.equal(m.holder()?.contended, true, 'the pending lock is queued on the word');
    // The event loop turns while the lock is pending: the call did not block this thread.
    await loopTurn();
    assert.equal(lock.settled, false, 'still pending');
    assert.equal(m.holder()?.threadId, t.threadId(), 'the worker still holds it');
    tell(flag, 2);
    await locking;
    assert.equal(m.holder()?.threadId, threadId, 'resolved holding the lock');
    m.unlock();
    await qemu_thread_join_async(t);
  },
);

watched('mutex: the async lock reports the blocking lock errors as rejections', async () => {
  const m = QemuMutex.create();
  await qemu_mutex_lock_async(m);
  await assert.rejects(qemu_mutex_lock_async(m), qemuError('EDEADLK', 'qemu_mutex_lock'));
  m.unlock();
  await assert.rejects(qemu_mutex_lock_async(new QemuMutex()), qemuError('EINVAL', 'qemu_mutex_lock'));
  const wrong = qemu_mutex_lock_async({} as QemuMutex);
  await assert.rejects(wrong, TypeError);
  await assert.rejects(m.lockAsync({ signal: AbortSignal.abort() }), abortError);
  assert.equal(m.holder(), null, 'an already-aborted lock takes nothing');
});

watched(
  'mutex: a cancelled lockAsync rejects, takes nothing, and the lock goes to the next locker',
  async (w) => {
    const m = QemuMutex.create();
    const flag = sharedWords(1);
    const t = spawn('holder', fn('holdMutex'), { m, flag });
    w.show({ m, t, flag });
    await until(flag, 0, 1);
    const controller = new AbortController();
    const cancelled = m.lockAsync({ signal: controller.signal });
    // Cancelled while queued (the call queues before it returns), after a turn of the event loop.
    assert.equal(m.holder()?.contended, true, 'the pending lock is queued on the word');
    await loopTurn();
    controller.abort();
    await assert.rejects(cancelled, abortError);
    assert.equal(m.holder()?.threadId, t.threadId(), 'still the worker, not this thread');
    tell(flag, 2);
    await qemu_thread_join_async(t);
    await m.lockAsync();
    assert.equal(m.holder()?.threadId, threadId);
    m.unlock();
  },
);

watched('rec mutex: lockAsync waits for another thread, then nests for the owner', async (w) => {
  const m = QemuRecMutex.create();
  const flag = sharedWords(1);
  const t = spawn('holder', fn('holdMutex'), { m, flag });
  w.show({ m, t, flag });
  await until(flag, 0, 1);
  const locking = qemu_rec_mutex_lock_async(m);
  const lock = follow(locking);
  assert.match(String(m), /contended/, 'the pending lock is queued on the word');
  await loopTurn();
  assert.equal(lock.settled, false, 'still pending');
  assert.equal(m.depthHeldBySelf(), 0);
  tell(flag, 2);
  await locking;
  await qemu_thread_join_async(t);
  await m.lockAsync();
  assert.equal(m.depthHeldBySelf(), 2);
  m.unlock();
  m.unlock();
  assert.equal(m.depthHeldBySelf(), 0);
});

watched('cond: waitAsync is woken by a blocking signaller and resolves holding the mutex', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const flag = sharedWords(2);
  const t = spawn('signaller', fn('actWhenTold'), { what: 'signal', flag, m, c });
  await m.lockAsync();
  tell(flag);
  while (Atomics.load(flag, 1) === 0) await qemu_cond_wait_async(c, m);
  assert.equal(m.holder()?.threadId, threadId);
  m.unlock();
  await qemu_thread_join_async(t);
  assert.equal(c.waiters(), 0);
});

watched('cond: broadcast wakes an async waiter and a blocking one alike', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const flag = sharedWords(2);
  const waiter = spawn('waiter', fn('waitForPredicate'), { m, c, flag });
  while (c.waiters() === 0) await delay(1);
  const broadcaster = spawn('broadcaster', fn('actWhenTold'), { what: 'broadcast', flag, m, c });
  await m.lockAsync();
  const waiting = c.waitAsync(m);
  assert.equal(c.waiters(), 2);
  tell(flag);
  await waiting;
  while (Atomics.load(flag, 1) === 0) await c.waitAsync(m);
  m.unlock();
  await qemu_thread_join_async(broadcaster);
  assert.equal(await qemu_thread_join_async(waiter), 'woken');
});

watched('cond: timedWaitAsync times out (false) holding the mutex; 0 ms, bad ms, not held', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  await m.lockAsync();
  const start = performance.now();
  assert.equal(await qemu_cond_timedwait_async(c, m, 30), false);
  assert.ok(performance.now() - start >= 20, 'waited about the time-out');
  assert.equal(m.holder()?.threadId, threadId);
  assert.equal(await c.timedWaitAsync(m, 0), false);
  await assert.rejects(c.timedWaitAsync(m, -1), qemuError('EINVAL', 'qemu_cond_timedwait'));
  await assert.rejects(c.timedWaitAsync(m, Number.NaN), qemuError('EINVAL', 'qemu_cond_timedwait'));
  m.unlock();
  await assert.rejects(qemu_cond_wait_async(c, m), qemuError('EPERM', 'qemu_cond_wait'));
  assert.equal(c.waiters(), 0);
});

watched('cond: a cancelled waitAsync rejects holding the mutex and stops counting as a waiter', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  await m.lockAsync();
  const controller = new AbortController();
  const waiting = c.waitAsync(m, { signal: controller.signal });
  assert.equal(m.holder(), null, 'the wait released the mutex');
  assert.equal(c.waiters(), 1);
  controller.abort();
  await assert.rejects(waiting, abortError);
  assert.equal(m.holder()?.threadId, threadId, 'rejected holding the mutex');
  assert.equal(c.waiters(), 0);
  m.unlock();
  c.destroy();
});

watched('semaphore: waitAsync takes a unit posted by a worker; timedWaitAsync -1 takes none', async () => {
  const s = QemuSemaphore.create(0);
  const flag = sharedWords(2);
  const t = spawn('poster', fn('actWhenTold'), { what: 'post', flag, s });
  const waiting = qemu_sem_wait_async(s);
  tell(flag);
  await waiting;
  assert.equal(s.value(), 0);
  await qemu_thread_join_async(t);
  assert.equal(await qemu_sem_timedwait_async(s, 20), -1);
  s.post();
  assert.equal(await qemu_sem_timedwait_async(s, 0), 0, 'ms 0 takes an available unit');
  assert.equal(await qemu_sem_timedwait_async(s, 0), -1);
  assert.equal(s.value(), 0);
  await assert.rejects(s.timedWaitAsync(-5), qemuError('EINVAL', 'qemu_sem_timedwait'));
  await assert.rejects(new QemuSemaphore().waitAsync(), qemuError('EINVAL', 'qemu_sem_wait'));
  const controller = new AbortController();
  const cancelled = s.waitAsync({ signal: controller.signal });
  controller.abort();
  await assert.rejects(cancelled, abortError);
  s.post();
  assert.equal(s.value(), 1, 'a cancelled wait took no unit');
  s.destroy();
});

watched('event: waitAsync is woken by set from a worker; timedWaitAsync times out', async () => {
  const e = QemuEvent.create(false);
  const flag = sharedWords(2);
  const t = spawn('setter', fn('actWhenTold'), { what: 'set', flag, e });
  const waiting = qemu_event_wait_async(e);
  tell(flag);
  await waiting;
  assert.equal(Atomics.load(flag, 1), 1);
  await qemu_thread_join_async(t);
  e.reset();
  assert.equal(await qemu_event_timedwait_async(e, 20), false);
  assert.equal(await e.timedWaitAsync(0), false);
  e.set();
  assert.equal(await e.timedWaitAsync(0), true);
  e.reset();
  const controller = new AbortController();
  const cancelled = e.waitAsync({ signal: controller.signal });
  controller.abort();
  await assert.rejects(cancelled, abortError);
  e.destroy();
});

watched(
  'thread: joinAsync returns the value, rethrows the error, and a cancelled join leaves it joinable',
  async () => {
    const flag = sharedWords(1);
    const t = spawn('returns', fn('endWhenTold'), { flag, value: { answer: 42 } });
    const controller = new AbortController();
    const cancelled = t.joinAsync({ signal: controller.signal });
    controller.abort();
    await assert.rejects(cancelled, abortError);
    const joining = qemu_thread_join_async(t);
    await assert.rejects(qemu_thread_join_async(t), qemuError('EINVAL', 'qemu_thread_join'));
    tell(flag);
    assert.deepEqual(await joining, { answer: 42 });
    await assert.rejects(t.joinAsync(), qemuError('EINVAL', 'qemu_thread_join'));

    const failing = spawn('throws', fn('endWhenTold'), { flag, value: 0, fail: true });
    await assert.rejects(failing.joinAsync(), (e: unknown) => {
      assert.ok(e instanceof QemuThreadFailure, String(e));
      assert.match(
        e.message,
        /^qemu_thread_join: thread \d+ 'throws' failed: QemuThreadError: .*thrown on purpose/,
      );
      assert.ok(e.cause instanceof QemuThreadError, String(e.cause));
      assert.equal(e.cause.code, 'EBUSY');
      return true;
    });
    await assert.rejects(qemu_thread_join_async(new QemuThread()), qemuError('ESRCH', 'qemu_thread_join'));
  },
);

watched(
  'thread: an async thread function stays alive on a pending waitAsync until it is posted',
  async (w) => {
    const s = QemuSemaphore.create(0);
    const t = spawn('async-fn', fn('awaitPost'), { s });
    w.show({ s, t });
    // Once its wait is pending the worker has nothing else to run: a worker that the wait did not keep
    // alive would end then. Time is let pass on purpose: that something does not happen is not observable.
    while (semaphoreWaiters(s) === 0) await delay(1);
    await delay(200);
    assert.match(String(t), /running/, 'still alive');
    s.post();
    assert.equal(await t.joinAsync(), 'woken');
  },
);
