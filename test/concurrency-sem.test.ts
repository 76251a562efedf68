/**
 * QemuSemaphore across real threads: several sleepers all woken by back-to-back posts (the bug of notifying
 * only on the 0 -> 1 transition leaves one asleep), and timed waits under concurrency that neither lose nor
 * duplicate a unit.
 */
import assert from 'node:assert/strict';
import { QemuSemaphore, qemu_sem_destroy, qemu_sem_post, qemu_sem_timedwait } from 'qemu-thread';
import { untilAsleep } from './support/os-thread.js';
import { semaphoreWaiters } from './support/waiters.js';
import { watched } from './support/watchdog.js';
import { joinAll, notifyAllWords, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';
import {
  ANNOUNCED,
  POSTED,
  type PostTakeArg,
  PT_WORDS,
  SL_ROUND,
  SL_STOP,
  SL_WORDS,
  type SleeperArg,
  TAKEN,
  WOKEN,
} from './workers/concurrency/sem-workers.js';

const WORKERS = new URL('./workers/concurrency/sem-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

/** Waits (bounded) until `data[index] >= target`; false after `ms`. */
function awaitWord(data: Int32Array, index: number, target: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  for (let v = Atomics.load(data, index); v < target; v = Atomics.load(data, index)) {
    if (performance.now() > deadline) return false;
    sleep(0.2);
  }
  return true;
}

watched(
  '4 sleepers in qemu_sem_wait are all woken by 4 back-to-back posts, 1,000 rounds',
  { ms: 60_000 },
  (w) => {
    const N = 4;
    const ROUNDS = 1_000;
    const s = QemuSemaphore.create(0);
    const ack = QemuSemaphore.create(0);
    const data = sharedWords(SL_WORDS);
    const done = sharedWords(1);
    const os = sharedWords(N);
    const threads = [];
    for (let i = 0; i < N; i++) {
      const arg: SleeperArg = { s, ack, data, done, os, index: i };
      threads.push(spawn(`sleeper-${i}`, fn('sleeper'), arg));
    }
    w.show({ s, ack, data, threads });
    const openRound = (r: number) => {
      Atomics.store(data, SL_ROUND, r);
      Atomics.notify(data, SL_ROUND);
    };
    let mainError: unknown;
    try {
      for (let r = 1; r <= ROUNDS; r++) {
        openRound(r);
        // Each sleeper took exactly one unit last round and announces its qemu_sem_wait for this one.
        if (!awaitWord(data, ANNOUNCED, N * r, 10_000)) {
          throw new Error(
            `round ${r}: only ${Atomics.load(data, ANNOUNCED) - N * (r - 1)} sleepers came back`,
          );
        }
        // Most rounds, post once all of them sleep inside qemu_sem_wait (counted as its waiters, and asleep
        // in the kernel): the lost wake-up needs sleepers. Every fourth round posts at once, racing them.
        if (r % 4 !== 0) {
          while (semaphoreWaiters(s) < N) sleep(0.05);
          untilAsleep(...os);
        }
        for (let i = 0; i < N; i++) qemu_sem_post(s);
        for (let i = 0; i < N; i++) {
          if (qemu_sem_timedwait(ack, 10_000) !== 0) {
            throw new Error(
              `round ${r}: only ${i} of ${N} sleepers woke after ${N} back-to-back posts ` +
                `(semaphore count ${s.value()}: the unit is there, its sleeper was not woken)`,
            );
          }
        }
      }
    } catch (error) {
      mainError = error;
    } finally {
      Atomics.store(data, SL_STOP, 1);
      openRound(ROUNDS + 1);
      for (let i = 0; i < N; i++) qemu_sem_post(s);
    }
    const results = joinAll(threads, done, {
      mainError,
      what: 'sleepers',
      progress: () => Atomics.load(data, WOKEN),
      rescue: () => {
        for (let i = 0; i < N; i++) qemu_sem_post(s);
        notifyAllWords(s, ack);
      },
    });
    assert.deepEqual(results, Array(N).fill(ROUNDS), 'every sleeper was woken in every round');
    const total = (results as number[]).reduce((a, b) => a + b, 0);
    assert.equal(total, N * ROUNDS, 'units taken by all sleepers together');
    assert.equal(Atomics.load(data, WOKEN), N * ROUNDS);
    assert.equal(s.value(), 0, 'the stop units were taken, one per sleeper');
    assert.equal(ack.value(), 0);
    qemu_sem_destroy(s);
    qemu_sem_destroy(ack);
  },
);

watched(
  'timed waits under concurrency: units taken + units left == units posted, exactly',
  { ms: 60_000 },
  (w) => {
    const POSTERS = 2;
    const TAKERS = 3;
    const UNITS = 20_000;
    const s = QemuSemaphore.create(0);
    const data = sharedWords(PT_WORDS);
    const done = sharedWords(1);
    const arg: PostTakeArg = { s, data, units: UNITS, posters: POSTERS, done };
    const threads = [];
    for (let i = 0; i < TAKERS; i++) threads.push(spawn(`taker-${i}`, fn('timedTaker'), arg));
    for (let i = 0; i < POSTERS; i++) threads.push(spawn(`poster-${i}`, fn('poster'), arg));
    w.show({ s, data, threads });
    const results = joinAll(threads, done, {
      what: 'posters and timed takers',
      progress: () => Atomics.load(data, POSTED) + Atomics.load(data, TAKEN),
    });
    const takers = results.slice(0, TAKERS) as { taken: number; timeouts: number }[];
    assert.deepEqual(results.slice(TAKERS), Array(POSTERS).fill(UNITS));
    let left = 0;
    while (qemu_sem_timedwait(s, 0) === 0) left++;
    const taken = takers.reduce((a, t) => a + t.taken, 0);
    assert.equal(taken, Atomics.load(data, TAKEN));
    assert.equal(taken + left, POSTERS * UNITS, `taken ${taken} + left ${left} == posted`);
    for (const [i, t] of takers.entries()) assert.ok(t.timeouts >= 1, `taker ${i} saw its waits time out`);
    assert.equal(s.value(), 0);
    qemu_sem_destroy(s);
  },
);
