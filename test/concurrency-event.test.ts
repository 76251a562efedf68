/**
 * QemuEvent across real threads: one qemu_event_set releases every waiter (1,000 rounds of 4 waiters), and
 * QEMU's `reset(); if (!done) wait();` idiom never loses a set, with several setters racing one waiter and
 * in 50,000 rounds of lockstep between the main thread and a worker.
 */
import assert from 'node:assert/strict';
import {
  QemuEvent,
  QemuSemaphore,
  qemu_event_destroy,
  qemu_event_reset,
  qemu_event_set,
  qemu_sem_timedwait,
} from 'qemu-thread';
import { untilAsleep } from './support/os-thread.js';
import { eventWaiters } from './support/waiters.js';
import { watched } from './support/watchdog.js';
import {
  ALL_WORDS,
  type AllWaitersArg,
  ANSWER,
  EV_STOP,
  IDIOM_WORDS,
  type IdiomArg,
  LOCKSTEP_WORDS,
  type LockstepArg,
  lockstepRequester,
  PROGRESS,
  RELEASED,
  REQUEST,
  ROUND,
} from './workers/concurrency/event-workers.js';
import { joinAll, notifyAllWords, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';

const WORKERS = new URL('./workers/concurrency/event-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

watched('qemu_event_set releases all 4 waiters of qemu_event_wait, 1,000 rounds', { ms: 60_000 }, (w) => {
  const N = 4;
  const ROUNDS = 1_000;
  const events: [QemuEvent, QemuEvent] = [QemuEvent.create(false), QemuEvent.create(false)];
  const ack = QemuSemaphore.create(0);
  const data = sharedWords(ALL_WORDS);
  const done = sharedWords(1);
  const os = sharedWords(N);
  const threads = [];
  for (let id = 0; id < N; id++) {
    const arg: AllWaitersArg = { id, events, ack, data, rounds: ROUNDS, done, os };
    threads.push(spawn(`ev-waiter-${id}`, fn('roundWaiter'), arg));
  }
  w.show({ events, ack, data, threads });
  let mainError: unknown;
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      // Every waiter has left round r - 1 and is on its way into qemu_event_wait(events[r % 2]).
      // Most rounds, set once all of them sleep inside the wait (counted as its waiters, and asleep in the
      // kernel): one set must wake every sleeper. Every third round sets at once, racing them.
      if (r % 3 !== 0) {
        while (eventWaiters(events[r % 2]) < N) sleep(0.05);
        untilAsleep(...os);
      }
      qemu_event_reset(events[(r + 1) % 2]); // next round's event; nobody waits on it now
      Atomics.store(data, ROUND, r);
      qemu_event_set(events[r % 2]);
      for (let i = 0; i < N; i++) {
        if (qemu_sem_timedwait(ack, 10_000) !== 0) {
          throw new Error(
            `round ${r}: only ${i} of ${N} waiters returned from qemu_event_wait after the set`,
          );
        }
      }
    }
  } catch (error) {
    mainError = error;
    Atomics.store(data, EV_STOP, 1);
    for (const e of events) qemu_event_set(e);
  }
  const results = joinAll(threads, done, {
    mainError,
    what: 'event waiters',
    progress: () => Atomics.load(data, RELEASED),
    rescue: () => {
      Atomics.store(data, EV_STOP, 1);
      for (const e of events) qemu_event_set(e);
      notifyAllWords(...events);
    },
  });
  assert.deepEqual(results, Array(N).fill(ROUNDS), 'every waiter was released in every round');
  assert.equal(Atomics.load(data, RELEASED), N * ROUNDS);
  assert.equal(ack.value(), 0);
  for (const e of events) qemu_event_destroy(e);
});

watched(
  'reset(); if (!done) wait(); with 3 racing setters: no set is lost (30,000 targets)',
  { ms: 60_000 },
  (w) => {
    const SETTERS = 3;
    const INCREMENTS = 10_000;
    const ev = QemuEvent.create(false);
    const data = sharedWords(IDIOM_WORDS);
    const done = sharedWords(1);
    const arg: IdiomArg = { ev, data, increments: INCREMENTS, setters: SETTERS, watchdogMs: 10_000, done };
    const threads = [spawn('idiom-waiter', fn('idiomWaiter'), arg)];
    for (let i = 0; i < SETTERS; i++) threads.push(spawn(`idiom-setter-${i}`, fn('idiomSetter'), arg));
    w.show({ ev, data, threads });
    const [waits, ...setters] = joinAll(threads, done, {
      what: 'event idiom',
      progress: () => Atomics.load(data, PROGRESS),
      rescue: () => {
        qemu_event_set(ev);
        notifyAllWords(ev);
      },
    });
    assert.deepEqual(setters, Array(SETTERS).fill(INCREMENTS));
    assert.equal(Atomics.load(data, PROGRESS), SETTERS * INCREMENTS);
    assert.ok(Number.isInteger(waits), 'the waiter reached every target');
    qemu_event_destroy(ev);
  },
);

watched(
  'lockstep through two events with the reset/check/wait idiom, 50,000 rounds, main <-> worker',
  { ms: 60_000 },
  (w) => {
    const ROUNDS = 50_000;
    const request = QemuEvent.create(false);
    const answer = QemuEvent.create(false);
    const data = sharedWords(LOCKSTEP_WORDS);
    const done = sharedWords(1);
    const base = { request, answer, data, rounds: ROUNDS, watchdogMs: 10_000 };
    const worker = spawn('answerer', fn('lockstepAnswerer'), { ...base, done } satisfies LockstepArg);
    w.show({ request, answer, data, worker });
    let mainError: unknown;
    let echo: unknown;
    let mine = -1;
    try {
      mine = lockstepRequester(base);
    } catch (error) {
      // Just the echo of the worker's failure? Then the worker's own error, rethrown by the join, says more.
      if (String(error).includes('side failed')) echo = error;
      else mainError = error;
    }
    const [theirs] = joinAll([worker], done, {
      mainError,
      what: 'event lockstep',
      progress: () => Atomics.load(data, ANSWER),
      rescue: () => notifyAllWords(request, answer),
    });
    if (echo) throw echo;
    assert.equal(mine, ROUNDS);
    assert.equal(theirs, ROUNDS);
    assert.equal(Atomics.load(data, REQUEST), ROUNDS);
    assert.equal(Atomics.load(data, ANSWER), ROUNDS);
    qemu_event_destroy(request);
    qemu_event_destroy(answer);
  },
);
