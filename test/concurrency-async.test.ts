/**
 * Async and blocking waiters on the same primitives, across real threads: the two traps of
 * `Atomics.waitAsync` (a pending wait that does not keep the process alive; an async waiter that
 * swallows a `notify(..., 1)` meant for a blocked thread), cancellation that never steals a wake-up,
 * exact counts in mixed producer/consumer and lock scenarios, time-outs racing posts, and the polling
 * fallback for engines without `Atomics.waitAsync`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { QemuCond, QemuMutex, QemuSemaphore, qemu_thread_join_async } from 'qemu-thread';
import { untilAsleepAsync } from './support/os-thread.js';
import { semaphoreWaiters } from './support/waiters.js';
import { watched } from './support/watchdog.js';
import { ANNOUNCED, GATE, OS_TID, ringWords, TAKER_WORDS, TOOK } from './workers/async/async-workers.js';
import { sharedWords, spawn } from './workers/concurrency/helpers.js';

const WORKERS = new URL('./workers/async/async-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);
const CHILD = fileURLToPath(new URL('./workers/async/child-scripts.js', import.meta.url));
const run = promisify(execFile);

/** Blocks the main thread until data[index] >= target or `ms` pass; false on time-out. */
function blockUntil(data: Int32Array, index: number, target: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  for (let v = Atomics.load(data, index); v < target; v = Atomics.load(data, index)) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(data, index, v, left);
  }
  return true;
}

/** Lets a gated semTaker start round `r`. */
function openGate(data: Int32Array, r: number): void {
  Atomics.store(data, GATE, r);
  Atomics.notify(data, GATE);
}

/**
 * Resolves once the semaphore has `n` waiters (this thread's async one and the taker's), and the taker is
 * asleep in the kernel: queued behind the async waiter, which is what the round is about (a taker that
 * has counted itself but not parked yet would take the post without sleeping, and prove nothing).
 */
async function takerQueued(s: QemuSemaphore, n: number, data: Int32Array): Promise<void> {
  while (semaphoreWaiters(s) < n) await delay(0.5);
  await untilAsleepAsync(Atomics.load(data, OS_TID));
}

watched(
  'an async waiter whose thread is blocked does not swallow the post meant for a blocked thread (50 rounds)',
  { ms: 120_000 },
  async (w) => {
    const ROUNDS = 50;
    const s = QemuSemaphore.create(0);
    const data = sharedWords(TAKER_WORDS);
    const taker = spawn('taker', fn('semTaker'), { s, data, rounds: ROUNDS, gated: true });
    w.show({ s, taker, data });
    for (let r = 1; r <= ROUNDS; r++) {
      // This thread's async waiter is queued first; then the worker blocks behind it.
      const mine = s.waitAsync();
      openGate(data, r);
      while (Atomics.load(data, ANNOUNCED) < r) await delay(0.5);
      await takerQueued(s, 2, data);
      s.post();
      // Now this thread blocks: its async waiter cannot act on a wake-up. If the one wake-up of the post
      // reached it, the worker would sleep on and this would time out.
      const served = blockUntil(data, TOOK, r, 10_000);
      if (!served) s.post();
      assert.ok(served, `round ${r}: the blocked worker was not woken by the post`);
      s.post();
      await mine;
      assert.equal(s.value(), 0);
    }
    await qemu_thread_join_async(taker);
  },
);

watched(
  'a cancelled async waiter queued ahead of a blocked thread does not steal its wake-up (200 rounds)',
  { ms: 120_000 },
  async (w) => {
    const ROUNDS = 200;
    const s = QemuSemaphore.create(0);
    const data = sharedWords(TAKER_WORDS);
    const taker = spawn('taker', fn('semTaker'), { s, data, rounds: ROUNDS, gated: true });
    w.show({ s, taker, data });
    for (let r = 1; r <= ROUNDS; r++) {
      const controller = new AbortController();
      const cancelled = s.waitAsync({ signal: controller.signal });
      openGate(data, r);
      while (Atomics.load(data, ANNOUNCED) < r) await delay(0.5);
      await takerQueued(s, 2, data);
      // Odd rounds cancel before the post, even rounds right after it (in the same tick).
      if (r % 2) controller.abort();
      s.post();
      if (r % 2 === 0) controller.abort();
      const outcome = await cancelled.then(
        () => 'took',
        (e: Error) => e.name,
      );
      if (outcome === 'took') s.post();
      const served = blockUntil(data, TOOK, r, 10_000);
      if (!served) s.post();
      assert.ok(served, `round ${r}: the blocked worker was not woken`);
      assert.equal(s.value(), 0, `round ${r}: no unit left over or duplicated`);
    }
    await qemu_thread_join_async(taker);
  },
);

watched(
  'bounded buffer: 2 blocking producers, a blocking consumer and an async consumer; every item exactly once',
  { ms: 120_000 },
  async (watch) => {
    const PER_PRODUCER = 5_000;
    const ring = {
      m: QemuMutex.create(),
      notEmpty: QemuCond.create(),
      notFull: QemuCond.create(),
      words: ringWords(),
    };
    const seen = sharedWords(2 * PER_PRODUCER);
    const consumer = spawn('consumer', fn('consume'), { ring, seen });
    const producers = [0, 1].map((i) =>
      spawn(`producer-${i}`, fn('produceThenStop'), { ring, first: i * PER_PRODUCER, n: PER_PRODUCER }),
    );
    watch.show({ ...ring, consumer, producers });
    let mine = 0;
    for (;;) {
      await ring.m.lockAsync();
      while (ring.words[2] === 0) await ring.notEmpty.waitAsync(ring.m);
      const w = ring.words;
      const item = w[3 + w[0]];
      w[0] = (w[0] + 1) % 8;
      w[2]--;
      ring.notFull.signal();
      ring.m.unlock();
      if (item < 0) break;
      Atomics.add(seen, item, 1);
      mine++;
    }
    for (const p of producers) await qemu_thread_join_async(p);
    const theirs = (await qemu_thread_join_async(consumer)) as number;
    assert.equal(mine + theirs, 2 * PER_PRODUCER);
    const wrong = seen.findIndex((n) => n !== 1);
    assert.equal(wrong, -1, `item ${wrong} was taken ${seen[wrong]} times`);
    assert.ok(mine > 0 && theirs > 0, `both consumers took items (async ${mine}, blocking ${theirs})`);
  },
);

watched('mutex: async and blocking lockers exclude each other (3 x 20,000 plain increments)', async (w) => {
  const N = 20_000;
  const m = QemuMutex.create();
  const counter = sharedWords(1);
  const workers = [0, 1].map((i) => spawn(`counter-${i}`, fn('countUnderLock'), { m, counter, n: N }));
  w.show({ m, counter, workers });
  for (let i = 0; i < N; i++) {
    await m.lockAsync();
    counter[0]++;
    m.unlock();
  }
  for (const t of workers) await qemu_thread_join_async(t);
  assert.equal(counter[0], 3 * N);
});

watched(
  'semaphore: async timed waits racing posts and a blocking taker lose and duplicate no unit',
  async (w) => {
    const POSTS = 600;
    const TAKER = 200;
    const s = QemuSemaphore.create(0);
    const data = sharedWords(TAKER_WORDS);
    const poster = spawn('poster', fn('postSlowly'), { s, n: POSTS });
    const taker = spawn('taker', fn('semTaker'), { s, data, rounds: TAKER });
    w.show({ s, poster, taker, data });
    let took = 0;
    while (took < POSTS - TAKER) {
      if (await s.timedWaitAsync(1)) took++;
    }
    await qemu_thread_join_async(poster);
    await qemu_thread_join_async(taker);
    assert.equal(took + Atomics.load(data, TOOK) + s.value(), POSTS);
    assert.equal(s.value(), 0);
  },
);

/** What child-scripts.ts prints for each scenario when it went right. */
const CHILD_RESULT = {
  sem: 'sem woken, count 0',
  mutex: 'mutex taken, held by self true',
  cond: 'cond woken, flag 1',
  event: 'event woken, set true',
};

for (const [what, expected] of Object.entries(CHILD_RESULT)) {
  watched(`a pending async ${what} wait keeps the process alive until another thread wakes it`, async () => {
    const { stdout } = await run(process.execPath, [CHILD, 'native', what], { timeout: 30_000 });
    assert.equal(stdout.trim(), expected);
  });
  watched(`without Atomics.waitAsync, the async ${what} wait falls back to polling`, async () => {
    const { stdout } = await run(process.execPath, [CHILD, 'no-wait-async', what], { timeout: 30_000 });
    assert.equal(stdout.trim(), expected);
  });
}
