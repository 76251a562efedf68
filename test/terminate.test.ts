/**
 * QemuThread.terminate (worker.terminate() underneath): a thread stopped from outside wherever it is, even
 * parked in any wait; the mutex it held goes to the next locker with EOWNERDEAD (also to one already parked
 * on it); a thread terminated in a cond wait leaves the cond working for the others; a joiner learns that
 * it was terminated. Only the creating thread holds the worker, so only it may terminate.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  QemuThreadError,
} from 'qemu-thread';
import { untilAsleepAsync } from './support/os-thread.js';
import { watched } from './support/watchdog.js';
import type { BlockKind } from './workers/robust/terminate-targets.js';

const fn = (name: string) => new URL(`./workers/robust/terminate-targets.js#${name}`, import.meta.url);
const flag = () => new Int32Array(new SharedArrayBuffer(4));

async function announced(held: Int32Array): Promise<void> {
  while (Atomics.load(held, 0) === 0) await delay(1);
}

function terminatedError(e: unknown): boolean {
  assert.ok(e instanceof Error, String(e));
  assert.match(e.message, /was terminated by thread 0 'main'/);
  return true;
}

watched(
  'terminating a lock holder: the next locker gets EOWNERDEAD, a joiner learns it was terminated',
  async (w) => {
    const m = QemuMutex.create();
    const held = flag();
    const t = QemuThread.create('holder', fn('holdForever'), { m, held });
    w.show({ m, t });
    await announced(held);
    await t.terminate();
    assert.throws(
      () => m.lock(),
      (e: unknown) => e instanceof QemuThreadError && e.code === 'EOWNERDEAD' && e.func === 'qemu_mutex_lock',
    );
    m.consistent();
    m.unlock();
    assert.throws(() => t.join(), terminatedError);
  },
);

watched('a thread parked on the lock of a terminated holder gets it with EOWNERDEAD', async (w) => {
  const m = QemuMutex.create();
  const held = flag();
  const holder = QemuThread.create('holder', fn('holdForever'), { m, held });
  await announced(held);
  const waiting = flag();
  const locker = QemuThread.create('locker', fn('lockAndReport'), { m, held: waiting });
  w.show({ m, holder, locker });
  await announced(waiting);
  while (m.waiters().length === 0) await delay(1);
  await holder.terminate();
  assert.equal(await locker.joinAsync(), 'EOWNERDEAD');
  await assert.rejects(holder.joinAsync(), terminatedError);
});

watched(
  'terminating a thread parked in a cond wait: the mutex is free and a signal still reaches the other waiter',
  async (w) => {
    const m = QemuMutex.create();
    const c = QemuCond.create();
    const prims = { m, c, s: QemuSemaphore.create(0), e: QemuEvent.create(false), l: QemuLockCnt.create() };
    const stopped = QemuThread.create('stopped', fn('blockIn'), { kind: 'cond', held: flag(), ...prims });
    const predicate = new Int32Array(new SharedArrayBuffer(8));
    const other = QemuThread.create(
      'other',
      new URL('./workers/async/async-workers.js#waitForPredicate', import.meta.url),
      {
        m,
        c,
        flag: predicate,
      },
    );
    w.show({ m, c, stopped, other });
    while (c.parkedThreads().length < 2) await delay(1);
    await stopped.terminate();
    // It had released the mutex to wait: no EOWNERDEAD, nobody holds it.
    m.lock();
    Atomics.store(predicate, 1, 1);
    // One signal: its wake-up must reach the live waiter, not vanish with the terminated one.
    c.signal();
    m.unlock();
    assert.equal(await other.joinAsync(), 'woken');
    await assert.rejects(stopped.joinAsync(), terminatedError);
  },
);

for (const kind of ['mutex', 'cond', 'sem', 'event', 'join', 'lockcnt', 'sleep'] as BlockKind[]) {
  watched(`a thread blocked in ${kind} can be terminated`, async (w) => {
    const m = QemuMutex.create();
    const c = QemuCond.create();
    const s = QemuSemaphore.create(0);
    const e = QemuEvent.create(false);
    const l = QemuLockCnt.create();
    const sleeper = QemuThread.create('sleeper', fn('blockIn'), {
      kind: 'sleep',
      held: flag(),
      m,
      c,
      s,
      e,
      l,
    });
    if (kind === 'mutex') m.lock();
    if (kind === 'lockcnt') l.lock();
    const held = flag();
    const t = QemuThread.create(`blocked-${kind}`, fn('blockIn'), { kind, held, m, c, s, e, l, t: sleeper });
    w.show({ m, c, s, e, l, sleeper, t });
    await announced(held);
    // Terminated while asleep in the wait, not on its way there: held is its kernel id.
    await untilAsleepAsync(Atomics.load(held, 0));
    await t.terminate();
    await assert.rejects(t.joinAsync(), terminatedError);
    if (kind === 'mutex') m.unlock();
    if (kind === 'lockcnt') l.unlock();
    await sleeper.terminate();
    await assert.rejects(sleeper.joinAsync(), terminatedError);
  });
}

watched(
  'terminate: only the creator may (EPERM elsewhere); ESRCH if never started; a finished thread is left as is',
  async () => {
    const m = QemuMutex.create();
    const held = flag();
    const target = QemuThread.create('target', fn('holdForever'), { m, held });
    await announced(held);
    const other = QemuThread.create('other', fn('terminateOthers'), { t: target });
    assert.match(String(await other.joinAsync()), /^EPERM: QemuThread\.terminate: Operation not permitted/);
    await target.terminate();
    await target.terminate();
    await assert.rejects(
      new QemuThread().terminate(),
      (e: unknown) => e instanceof QemuThreadError && e.code === 'ESRCH',
    );
  },
);
