/**
 * Async waiters under the model checker (park.ts: parkAsync on the modelled Atomics.waitAsync), mixed
 * with blocked threads, on the production primitives. Each scenario schedules park.ts's process-wide count
 * of pending async waits (ASYNC_WAITS) like an arena word, since whether a wake-up reaches one waiter or all
 * of them depends on when it is read. What is checked:
 * - a stalled async waiter (its thread blocked elsewhere) does not swallow a post meant for a blocked
 *   waiter (park.ts's wake-all while async waits are pending); test/model/broken/async.ts runs the same
 *   threads with that count disabled, and the checker must find the lost wake-up there;
 * - a cancelled async waiter loses nobody's wake-up, whether the post reached it before or after the abort;
 * - an async locker and a blocking locker exclude each other;
 * - an async cond waiter (with a blocked one, for broadcast) is not left waiting.
 * Handshakes between threads that are not under test use raw futex operations on a flag word (fewer
 * scheduling points than a primitive).
 */
import {
  ASYNC_WAITS,
  cond,
  defineScenario,
  mutex,
  type Scenario,
  semaphore,
  word,
  words,
} from '../scenario.js';
import { waitedOf } from './cond.js';

/** Sets a flag word to 1 and wakes whoever waits for it. */
function raise(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** Blocks until the flag word is 1. */
function awaitFlag(flag: Int32Array): void {
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
}

type Sem = import('qemu-thread').QemuSemaphore;

// (a) The stalled async waiter.
interface StalledArena {
  s: Sem;
  s2: Sem;
  /** T1's async wait is queued (T3 posts only then, so that T1 cannot take the unit at once). */
  queued: Int32Array;
  /** T2 has its unit (T3 releases T1 only then: until T2 has it, T1 stays stalled). */
  gotIt: Int32Array;
  taken: Int32Array;
}

const stalledParts = {
  s: semaphore,
  s2: semaphore,
  queued: word,
  gotIt: word,
  taken: words(2, ['T1', 'T2']),
};

/** T1: starts an async wait on s, then blocks on s2 without looking at it; then awaits it. */
async function stalledAsyncWaiter(a: StalledArena): Promise<void> {
  const unit = a.s.waitAsync();
  raise(a.queued);
  a.s2.wait();
  await unit;
  Atomics.add(a.taken, 0, 1);
}

/** T2: a blocked waiter on s. */
function blockedWaiter(a: StalledArena): void {
  a.s.wait();
  Atomics.add(a.taken, 1, 1);
  raise(a.gotIt);
}

/**
 * T3: posts s once T1 waits; only once T2 has a unit does it release T1 (posts s2), then posts the unit
 * T1 waits for. If the first post's wake-up went to T1's async wait alone, T2 sleeps beside the unit, T3
 * waits for T2 and T1 for T3: a lost wake-up (only the end of T2's sleep's slice, park.ts's RECHECK_MS,
 * would get it going again).
 */
function stalledPoster(a: StalledArena): void {
  awaitFlag(a.queued);
  a.s.post();
  awaitFlag(a.gotIt);
  a.s2.post();
  a.s.post();
}

/** The stalled-waiter scenario; `setupShared` may tamper with the process-wide blocks (broken variant). */
export function stalledScenario(
  name: string,
  setupShared: (shared: Record<string, Int32Array>) => void,
): Scenario<typeof stalledParts> {
  return defineScenario({
    name,
    parts: stalledParts,
    shared: [ASYNC_WAITS],
    setup: (a, shared) => {
      a.s.init(0);
      a.s2.init(0);
      setupShared(shared);
    },
    threads: [stalledAsyncWaiter, blockedWaiter, stalledPoster],
    check: (a) => {
      const taken = a.taken[0] + a.taken[1];
      if (taken + a.s.value() !== 2) return `${taken} units taken and ${a.s.value()} left of 2 posted`;
      if (a.taken[0] !== 1) return `T1's async wait took ${a.taken[0]} units`;
      return null;
    },
    outcome: (a) => `taken ${a.taken[0]} ${a.taken[1]}, left ${a.s.value()}`,
  });
}

export const asyncStalledWaiter = stalledScenario(
  'async: a stalled async waiter vs a blocked waiter (no swallowed post)',
  () => {},
);

// (b) The cancelled async waiter.
const cancelParts = {
  s: semaphore,
  queued: word,
  step: word,
  taken: words(2, ['T1', 'T2']),
  aborted: word,
};
type CancelArena = {
  s: Sem;
  queued: Int32Array;
  step: Int32Array;
  taken: Int32Array;
  aborted: Int32Array;
};

/**
 * T1: an async wait it cancels one step later. T3 posts only once the wait is queued (before, T1 would
 * simply take the unit, and T2 would rightly wait forever), but before or after the abort: a post's
 * wake-up may reach T1's wait before the abort, or the abort's wake-all may come first.
 */
async function cancelledWaiter(a: CancelArena): Promise<void> {
  const controller = new AbortController();
  const unit = a.s.waitAsync({ signal: controller.signal });
  raise(a.queued);
  // One more scheduling point between queueing and the abort: T3's post may land on either side.
  Atomics.load(a.step, 0);
  controller.abort();
  try {
    await unit;
    Atomics.add(a.taken, 0, 1);
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    Atomics.add(a.aborted, 0, 1);
  }
}

function cancelledScenario(name: string, setupShared: (shared: Record<string, Int32Array>) => void) {
  return defineScenario({
    name,
    parts: cancelParts,
    shared: [ASYNC_WAITS],
    setup: (a, shared) => {
      a.s.init(0);
      setupShared(shared);
    },
    threads: [
      cancelledWaiter,
      (a) => {
        a.s.wait();
        Atomics.add(a.taken, 1, 1);
      },
      (a) => {
        awaitFlag(a.queued);
        a.s.post();
      },
    ],
    check: (a) => {
      const taken = a.taken[0] + a.taken[1];
      if (taken + a.s.value() !== 1) return `${taken} units taken and ${a.s.value()} left of 1 posted`;
      if (a.taken[0] + a.aborted[0] !== 1)
        return `T1 took ${a.taken[0]} units and was aborted ${a.aborted[0]} times`;
      return null;
    },
    outcome: (a) => (a.taken[0] ? 'T1 took the unit' : 'T1 aborted, T2 took the unit'),
  });
}

export const asyncCancelledWaiter = cancelledScenario(
  'async: a cancelled async waiter vs a blocked waiter, one post',
  () => {},
);

/**
 * The same with the wake-all of pending async waits disabled (the count biased by -1, as in
 * broken/async.ts): the post's single wake-up may now land on T1's wait alone, and it is the abort's own
 * wake-all that passes it on to T2. So cancelling loses no wake-up by itself, whatever the count says.
 */
export const asyncCancelledWaiterNoCount = cancelledScenario(
  'async: a cancelled async waiter vs a blocked waiter, one post, no wake-all for pending async waits',
  (shared) => {
    shared[ASYNC_WAITS][0] = -1;
  },
);

// (c) Async and blocking lockers.
type Mutex = import('qemu-thread').QemuMutex;
const ROUNDS = 2;
const mutexParts = { m: mutex, inside: word, count: word, first: word };
type MutexArena = { m: Mutex; inside: Int32Array; count: Int32Array; first: Int32Array };

function critical(a: MutexArena, t: number): void {
  if (Atomics.add(a.inside, 0, 1) !== 0) throw new Error('two threads inside the critical section');
  if (a.first[0] === 0) a.first[0] = t;
  a.count[0]++;
  Atomics.sub(a.inside, 0, 1);
}

export const asyncMutex = defineScenario({
  name: `async: lockAsync vs lock, 2 threads x ${ROUNDS}`,
  parts: mutexParts,
  shared: [ASYNC_WAITS],
  setup: (a) => a.m.init(),
  threads: [
    async (a) => {
      for (let r = 0; r < ROUNDS; r++) {
        await a.m.lockAsync();
        critical(a, 1);
        a.m.unlock();
      }
    },
    (a) => {
      for (let r = 0; r < ROUNDS; r++) {
        a.m.lock();
        critical(a, 2);
        a.m.unlock();
      }
    },
  ],
  check: (a) =>
    a.count[0] === 2 * ROUNDS ? null : `count is ${a.count[0]}, expected ${2 * ROUNDS}: an update was lost`,
  outcome: (a) => `count ${a.count[0]}, T${a.first[0]} first`,
});

// (d) Async cond waiters.
type Cond = import('qemu-thread').QemuCond;
/** WAITS[t]: the waits thread t's predicate loop made. */
const condParts = { m: mutex, c: cond, pred: word, waits: words(2) };
type CondArena = { m: Mutex; c: Cond; pred: Int32Array; waits: Int32Array };

async function asyncCondWaiter(a: CondArena): Promise<void> {
  await a.m.lockAsync();
  while (a.pred[0] === 0) {
    await a.c.waitAsync(a.m);
    a.waits[0]++;
  }
  a.m.unlock();
}

function blockedCondWaiter(a: CondArena): void {
  a.m.lock();
  while (a.pred[0] === 0) {
    a.c.wait(a.m);
    a.waits[1]++;
  }
  a.m.unlock();
}

const condSetup = (a: CondArena) => {
  a.m.init();
  a.c.init();
};

export const asyncCondSignal = defineScenario({
  name: 'async: cond waitAsync vs signal (no lost wake-up)',
  parts: condParts,
  shared: [ASYNC_WAITS],
  setup: condSetup,
  threads: [
    asyncCondWaiter,
    (a) => {
      a.m.lock();
      a.pred[0] = 1;
      a.m.unlock();
      a.c.signal();
    },
  ],
  outcome: waitedOf(1),
});

export const asyncCondBroadcast = defineScenario({
  name: 'async: cond broadcast wakes an async and a blocked waiter',
  parts: condParts,
  shared: [ASYNC_WAITS],
  setup: condSetup,
  threads: [
    asyncCondWaiter,
    blockedCondWaiter,
    (a) => {
      a.m.lock();
      a.pred[0] = 1;
      a.c.broadcast();
      a.m.unlock();
    },
  ],
  outcome: waitedOf(2),
});

// Not in the catalog: for test/model-async.test.ts, that the checker reports an async wait nobody
// resolves, whether its thread awaits it (suspended for good) or has finished without awaiting it.
type WaitAsync = (
  ta: Int32Array,
  i: number,
  v: number,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (ta: Int32Array): ReturnType<WaitAsync> =>
  (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(ta, 0, 0);

export const asyncNeverNotified = defineScenario({
  name: 'async: waitAsync that nobody notifies (a lost wake-up, on purpose)',
  parts: { flag: word, other: word },
  setup: () => {},
  threads: [
    async (a) => {
      await waitAsync(a.flag).value;
    },
    (a) => {
      waitAsync(a.other);
    },
  ],
  outcome: () => 'both async waits resolved',
});
