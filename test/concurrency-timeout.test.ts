/**
 * Time-outs that really time out in other threads: qemu_cond_timedwait returns false (holding the mutex
 * again, even when another thread holds it past the deadline), qemu_sem_timedwait returns -1 without
 * taking a unit, qemu_event_timedwait returns false; several at once on the same primitive, while other
 * primitives are being signalled. A positive control shows the same waits return 0 / true when woken.
 */
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuSemaphore,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_event_set,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_timedwait,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import { joinAll, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';
import {
  ANNOUNCED,
  RELEASED,
  type TimeoutArg,
  type TimeoutReport,
  TO_WORDS,
} from './workers/concurrency/timeout-workers.js';

const FN = new URL('./workers/concurrency/timeout-workers.js#timedWaiter', import.meta.url);
/** A time-out may end a little early by clock granularity; never by more than this (ms). */
const SLACK = 2;

function awaitAnnounced(data: Int32Array, n: number): void {
  const deadline = performance.now() + 20_000;
  while (Atomics.load(data, ANNOUNCED) < n) {
    if (performance.now() > deadline)
      throw new Error(`only ${Atomics.load(data, ANNOUNCED)} of ${n} waiters started`);
    sleep(0.5);
  }
}

watched(
  'cond: timed waits in 4 threads with nobody signalling all return false, each holding the mutex again',
  { ms: 60_000 },
  (w) => {
    const MS = 150;
    const m = QemuMutex.create();
    const cond = QemuCond.create();
    const other = QemuCond.create();
    const data = sharedWords(TO_WORDS);
    const done = sharedWords(1);
    const threads = [];
    for (let i = 0; i < 4; i++) {
      threads.push(
        spawn(`cond-to-${i}`, FN, { kind: 'cond', m, cond, ms: MS, data, done } satisfies TimeoutArg),
      );
    }
    w.show({ m, cond, data, threads });
    awaitAnnounced(data, 4);
    // Signals on another cond must not wake them.
    for (let i = 0; i < 50; i++) {
      qemu_cond_signal(other);
      qemu_cond_broadcast(other);
    }
    // And the main thread times out too, on the same cond, meanwhile.
    qemu_mutex_lock(m);
    assert.equal(qemu_cond_timedwait(cond, m, MS), false, 'the main thread timed out too');
    Atomics.store(data, RELEASED, 1);
    qemu_mutex_unlock(m);
    const reports = joinAll(threads, done, { what: 'cond time-outs' }) as TimeoutReport[];
    for (const [i, r] of reports.entries()) {
      assert.equal(r.result, false, `thread ${i}: qemu_cond_timedwait timed out`);
      assert.equal(r.trylockAfter, -16, `thread ${i}: it returned holding the mutex`);
      assert.ok(r.elapsedMs >= MS - SLACK, `thread ${i}: it waited ${r.elapsedMs} ms of ${MS}`);
    }
    assert.equal(cond.waiters(), 0);
    assert.equal(qemu_mutex_trylock(m), 0);
    qemu_mutex_unlock(m);
  },
);

watched(
  'cond: a timed-out waiter returns false only once it has the mutex back from another thread',
  { ms: 60_000 },
  (w) => {
    const MS = 50;
    const m = QemuMutex.create();
    const cond = QemuCond.create();
    const data = sharedWords(TO_WORDS);
    const done = sharedWords(1);
    const t = spawn('cond-to-held', FN, { kind: 'cond', m, cond, ms: MS, data, done } satisfies TimeoutArg);
    w.show({ m, cond, data, t });
    awaitAnnounced(data, 1);
    // The waiter released the mutex inside its wait; take it and keep it until the waiter, its time up,
    // is parked on the mutex to take it back.
    qemu_mutex_lock(m);
    while (m.waiters().length === 0) sleep(0.5);
    assert.equal(m.waiters()[0].threadId, t.threadId(), 'the waiter is parked on the relock');
    Atomics.store(data, RELEASED, 1);
    qemu_mutex_unlock(m);
    const [r] = joinAll([t], done, {
      what: 'cond time-out with the mutex held elsewhere',
    }) as TimeoutReport[];
    assert.equal(r.result, false, 'it timed out');
    assert.equal(r.releasedSeen, 1, 'it returned only after the main thread released the mutex');
    assert.equal(r.trylockAfter, -16);
  },
);

watched(
  'semaphore: timed waits in 3 threads return -1 and take no unit; a later post is still there',
  { ms: 60_000 },
  (w) => {
    const MS = 100;
    const s = QemuSemaphore.create(0);
    const other = QemuSemaphore.create(0);
    const data = sharedWords(TO_WORDS);
    const done = sharedWords(1);
    const threads = [];
    for (let i = 0; i < 3; i++) {
      threads.push(
        spawn(`sem-to-${i}`, FN, { kind: 'sem', sem: s, ms: MS, data, done } satisfies TimeoutArg),
      );
    }
    w.show({ s, other, data, threads });
    awaitAnnounced(data, 3);
    for (let i = 0; i < 100; i++) qemu_sem_post(other);
    const reports = joinAll(threads, done, { what: 'semaphore time-outs' }) as TimeoutReport[];
    for (const [i, r] of reports.entries()) {
      assert.equal(r.result, -1, `thread ${i}: qemu_sem_timedwait timed out`);
      assert.ok(r.elapsedMs >= MS - SLACK, `thread ${i}: it waited ${r.elapsedMs} ms of ${MS}`);
    }
    assert.equal(s.value(), 0);
    assert.equal(other.value(), 100, 'posts to another semaphore were not taken');
    qemu_sem_post(s);
    assert.equal(qemu_sem_timedwait(s, 0), 0, 'the unit posted after the time-outs is there');
    assert.equal(qemu_sem_timedwait(s, 0), -1);

    // Positive control: the same wait in a thread returns 0 when a unit is posted meanwhile.
    const data2 = sharedWords(TO_WORDS);
    const done2 = sharedWords(1);
    const t = spawn('sem-woken', FN, {
      kind: 'sem',
      sem: s,
      ms: 10_000,
      data: data2,
      done: done2,
    } satisfies TimeoutArg);
    awaitAnnounced(data2, 1);
    qemu_sem_post(s);
    const [woken] = joinAll([t], done2, { what: 'semaphore positive control' }) as TimeoutReport[];
    assert.equal(woken.result, 0, 'woken by the post');
    assert.equal(s.value(), 0);
  },
);

watched('event: timed waits in 3 threads return false while another event is set', { ms: 60_000 }, (w) => {
  const MS = 100;
  const e = QemuEvent.create(false);
  const other = QemuEvent.create(false);
  const data = sharedWords(TO_WORDS);
  const done = sharedWords(1);
  const threads = [];
  for (let i = 0; i < 3; i++) {
    threads.push(
      spawn(`event-to-${i}`, FN, { kind: 'event', event: e, ms: MS, data, done } satisfies TimeoutArg),
    );
  }
  w.show({ e, other, data, threads });
  awaitAnnounced(data, 3);
  qemu_event_set(other);
  const reports = joinAll(threads, done, { what: 'event time-outs' }) as TimeoutReport[];
  for (const [i, r] of reports.entries()) {
    assert.equal(r.result, false, `thread ${i}: qemu_event_timedwait timed out`);
    assert.ok(r.elapsedMs >= MS - SLACK, `thread ${i}: it waited ${r.elapsedMs} ms of ${MS}`);
  }
  assert.equal(e.isSet(), false);

  // Positive control: the same wait returns true when the event is set meanwhile.
  const data2 = sharedWords(TO_WORDS);
  const done2 = sharedWords(1);
  const t = spawn('event-woken', FN, {
    kind: 'event',
    event: e,
    ms: 10_000,
    data: data2,
    done: done2,
  } satisfies TimeoutArg);
  awaitAnnounced(data2, 1);
  qemu_event_set(e);
  const [woken] = joinAll([t], done2, { what: 'event positive control' }) as TimeoutReport[];
  assert.equal(woken.result, true, 'woken by the set');
});
