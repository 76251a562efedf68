/**
 * QemuCond across real threads: 100,000 ping-pong hand-offs (the test that catches a cond waiting on a word
 * that never changes), broadcast waking every waiter for 1,000 generations, signal waking one of several
 * parked waiters, and a signal with no waiter not being remembered.
 */
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuMutex,
  qemu_cond_broadcast,
  qemu_cond_destroy,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import {
  ACKS,
  BC_WORDS,
  type BroadcastArg,
  CONSUMED,
  COUNT,
  GEN,
  type LoneWaitArg,
  type PingPongArg,
  PP_WORDS,
  pingPongSide,
  READY,
  STOP,
  T_STOP,
  TK_WORDS,
  TOKENS,
  type TokenArg,
  TURN,
  WAITING,
} from './workers/concurrency/cond-workers.js';
import { joinAll, notifyAllWords, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';

const WORKERS = new URL('./workers/concurrency/cond-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

/** With the mutex held, polls (unlocking in between) until `ready()`; false after `ms`. */
function pollLocked(m: QemuMutex, ready: () => boolean, ms: number): boolean {
  const deadline = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > deadline) return false;
    qemu_mutex_unlock(m);
    sleep(1);
    qemu_mutex_lock(m);
  }
  return true;
}

for (const signalOutside of [false, true]) {
  const how = signalOutside ? 'signalled after unlocking' : 'signalled under the mutex';
  watched(
    `ping-pong: 100,000 strictly alternating hand-offs, main thread <-> worker, ${how}`,
    { ms: 60_000 },
    () => {
      const HANDOFFS = 100_000;
      const m = QemuMutex.create();
      const conds: [QemuCond, QemuCond] = [QemuCond.create(), QemuCond.create()];
      const data = sharedWords(PP_WORDS);
      const log = new Uint8Array(new SharedArrayBuffer(HANDOFFS));
      const done = sharedWords(1);
      const base = { m, conds, data, log, handoffs: HANDOFFS, signalOutside, watchdogMs: 10_000 };
      const worker = spawn('pong', fn('pingPongSide'), { ...base, me: 1, done } satisfies PingPongArg);
      let mainError: unknown;
      let echo: unknown;
      let mainMade = -1;
      try {
        mainMade = pingPongSide({ ...base, me: 0 });
      } catch (error) {
        // Just the echo of the worker's failure? Then the worker's own error, rethrown by the join, says more.
        if (String(error).includes('the other side failed')) echo = error;
        else mainError = error;
      }
      const [workerMade] = joinAll([worker], done, {
        mainError,
        what: 'ping-pong',
        progress: () => Atomics.load(data, COUNT),
        rescue: () => notifyAllWords(m, ...conds),
      });
      if (echo) throw echo;
      assert.equal(data[COUNT], HANDOFFS, 'every hand-off happened');
      assert.equal(mainMade, HANDOFFS / 2);
      assert.equal(workerMade, HANDOFFS / 2);
      assert.equal(data[TURN], 0, 'the turn is back with the main thread');
      let outOfOrder = -1;
      for (let k = 0; k < HANDOFFS; k++) {
        if (log[k] !== (k % 2) + 1) {
          outOfOrder = k;
          break;
        }
      }
      assert.equal(outOfOrder, -1, `turns did not strictly alternate at hand-off ${outOfOrder}`);
      assert.equal(qemu_mutex_trylock(m), 0);
      qemu_mutex_unlock(m);
      for (const c of conds) qemu_cond_destroy(c);
    },
  );
}

watched('broadcast wakes all 6 parked waiters, 1,000 generations in a row', { ms: 60_000 }, () => {
  const N = 6;
  const ROUNDS = 1_000;
  const m = QemuMutex.create();
  const cond = QemuCond.create();
  const ackCond = QemuCond.create();
  const data = sharedWords(BC_WORDS);
  const done = sharedWords(1);
  const threads = [];
  for (let id = 0; id < N; id++) {
    const arg: BroadcastArg = { id, m, cond, ackCond, data, threads: N, watchdogMs: 30_000, done };
    threads.push(spawn(`bc-${id}`, fn('broadcastWaiter'), arg));
  }
  let mainError: unknown;
  qemu_mutex_lock(m);
  try {
    // Each waiter counts itself READY and keeps the mutex until it is inside the wait.
    if (!pollLocked(m, () => data[READY] === N, 20_000)) {
      throw new Error(`only ${data[READY]} of ${N} waiters started`);
    }
    for (let r = 1; r <= ROUNDS; r++) {
      // Here every waiter is inside qemu_cond_timedwait (see broadcastWaiter).
      assert.equal(cond.waiters(), N, `round ${r}: all waiters are waiting`);
      data[ACKS] = 0;
      data[GEN] = r;
      if (r % 2) {
        qemu_cond_broadcast(cond);
      } else {
        qemu_mutex_unlock(m);
        qemu_cond_broadcast(cond);
        qemu_mutex_lock(m);
      }
      while (data[ACKS] < N) {
        if (!qemu_cond_timedwait(ackCond, m, 10_000)) {
          throw new Error(
            data[ACKS] < N
              ? `round ${r}: only ${data[ACKS]} of ${N} waiters woke up after the broadcast`
              : `round ${r}: lost wake-up: the main thread slept 10 s although the last waiter signalled it`,
          );
        }
      }
    }
  } catch (error) {
    mainError = error;
  } finally {
    data[STOP] = 1;
    qemu_cond_broadcast(cond);
    qemu_mutex_unlock(m);
  }
  const results = joinAll(threads, done, {
    mainError,
    what: 'broadcast',
    progress: () => Atomics.load(data, GEN) * 100 + Atomics.load(data, ACKS),
    rescue: () => notifyAllWords(m, cond, ackCond),
  });
  assert.deepEqual(results, Array(N).fill(ROUNDS), 'every waiter saw every generation');
  assert.equal(cond.waiters(), 0);
  qemu_cond_destroy(cond);
  qemu_cond_destroy(ackCond);
});

watched(
  'signal wakes one of 4 parked waiters, 2,000 times; tokens are taken exactly once',
  { ms: 60_000 },
  () => {
    const K = 4;
    const ROUNDS = 2_000;
    const m = QemuMutex.create();
    const cond = QemuCond.create();
    const ackCond = QemuCond.create();
    const data = sharedWords(TK_WORDS);
    const done = sharedWords(1);
    const threads = [];
    for (let i = 0; i < K; i++) {
      const arg: TokenArg = { m, cond, ackCond, data, watchdogMs: 30_000, done };
      threads.push(spawn(`tok-${i}`, fn('tokenWaiter'), arg));
    }
    let mainError: unknown;
    qemu_mutex_lock(m);
    try {
      if (!pollLocked(m, () => data[WAITING] === K, 20_000)) {
        throw new Error(`only ${data[WAITING]} of ${K} waiters started`);
      }
      for (let r = 1; r <= ROUNDS; r++) {
        // Every waiter is inside qemu_cond_timedwait: parked, or (woken spuriously) waiting for the mutex.
        data[TOKENS] = 1;
        if (r % 2) {
          qemu_cond_signal(cond);
        } else {
          qemu_mutex_unlock(m);
          qemu_cond_signal(cond);
          qemu_mutex_lock(m);
        }
        while (data[CONSUMED] < r) {
          if (!qemu_cond_timedwait(ackCond, m, 10_000)) {
            throw new Error(
              data[CONSUMED] < r
                ? `round ${r}: qemu_cond_signal woke none of the ${K} waiters`
                : `round ${r}: lost wake-up: the main thread slept 10 s although the token's taker signalled it`,
            );
          }
        }
        assert.equal(data[TOKENS], 0);
        assert.equal(data[CONSUMED], r, `round ${r}: the token was taken exactly once`);
      }
    } catch (error) {
      mainError = error;
    } finally {
      data[T_STOP] = 1;
      qemu_cond_broadcast(cond);
      qemu_mutex_unlock(m);
    }
    const results = joinAll(threads, done, {
      mainError,
      what: 'signal',
      progress: () => Atomics.load(data, CONSUMED),
      rescue: () => notifyAllWords(m, cond, ackCond),
    });
    const total = (results as number[]).reduce((a, b) => a + b, 0);
    assert.equal(total, ROUNDS, 'tokens taken by all waiters together');
  },
);

watched('a signal or broadcast with no waiter is not remembered by a later waiter', { ms: 60_000 }, () => {
  const m = QemuMutex.create();
  const cond = QemuCond.create();
  qemu_cond_signal(cond);
  qemu_cond_broadcast(cond);
  // A later waiter in another thread: it must time out (false), not return at once with true.
  const done = sharedWords(1);
  const arg: LoneWaitArg = { m, cond, ms: 100, done };
  const t = spawn('late-waiter', fn('loneTimedWait'), arg);
  const [result] = joinAll([t], done, { what: 'late waiter' });
  assert.equal(result, false, 'the later waiter in a worker timed out');
  // And in this thread, after more signals nobody waited for (one of them from a worker is above).
  qemu_cond_signal(cond);
  qemu_mutex_lock(m);
  assert.equal(qemu_cond_timedwait(cond, m, 50), false, 'the later waiter in the main thread timed out');
  qemu_mutex_unlock(m);
  qemu_cond_destroy(cond);
});
