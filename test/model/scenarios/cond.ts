/**
 * QemuCond under the model checker: a waiter loops on its predicate (as every caller must, wake-ups may be
 * spurious) and the signaller sets the predicate under the mutex, then signals after unlocking (QEMU's
 * qemu_cpu_kick signals without the mutex: the harder case). A lost wake-up shows up as a waiter left
 * parked when nothing else can run: the checker reports it as a hang (a time-out forced because nothing
 * else can run; every wait of the library is timed, since park.ts compares its word again every
 * RECHECK_MS), or as a deadlock for a wait without a time-out. The same thread bodies run on the broken
 * cond of test/model/broken/cond.ts.
 */
import type { ThreadContext } from '../scenario.js';
import { assertDeadlinePassed, cond, defineScenario, mutex, type Part, word, words } from '../scenario.js';

/** What the thread bodies need of a condition variable: QemuCond and the broken one both fit. */
export interface CondLike {
  wait(m: MutexLike): void;
  timedWait(m: MutexLike, ms: number): boolean;
  signal(): void;
  broadcast(): void;
}
interface MutexLike {
  lock(): void;
  unlock(): void;
}
/** WAITS[t]: how many waits thread t's predicate loop made (0 if it found the predicate true at once). */
export interface CondArena {
  m: MutexLike;
  c: CondLike;
  pred: Int32Array;
  result: Int32Array;
  waits: Int32Array;
}

export function waiter(a: CondArena, ctx: ThreadContext): void {
  a.m.lock();
  while (a.pred[0] === 0) {
    a.c.wait(a.m);
    a.waits[ctx.index]++;
  }
  a.m.unlock();
}

export function signaller(a: CondArena): void {
  a.m.lock();
  a.pred[0] = 1;
  a.m.unlock();
  a.c.signal();
}

export function broadcaster(a: CondArena): void {
  a.m.lock();
  a.pred[0] = 1;
  a.c.broadcast();
  a.m.unlock();
}

/** RESULT: 1 if it saw the predicate, 2 if its timed wait returned false. */
export const SAW_PREDICATE = 1;
export const TIMED_OUT = 2;

export function timedWaiter(a: CondArena, ctx: ThreadContext): void {
  a.m.lock();
  let result = SAW_PREDICATE;
  while (a.pred[0] === 0) {
    const start = performance.now();
    const signalled = a.c.timedWait(a.m, 50);
    a.waits[ctx.index]++;
    if (!signalled) {
      assertDeadlinePassed(start, 50);
      result = TIMED_OUT;
      break;
    }
  }
  Atomics.store(a.result, 0, result);
  a.m.unlock();
}

export function checkTimedWait(a: CondArena): string | null {
  const r = a.result[0];
  if (r !== SAW_PREDICATE && r !== TIMED_OUT) return `the timed waiter ended with result ${r}`;
  return null;
}

const parts = (c: Part<unknown>) => ({ m: mutex, c, pred: word, result: word, waits: words(4) });
const init = (a: { m: { init(): void }; c: unknown }) => {
  a.m.init();
  (a.c as { init(): void }).init();
};
const asCond = <T>(f: (a: CondArena, ctx: ThreadContext) => void) =>
  f as unknown as (a: T, ctx: ThreadContext) => void;

/**
 * Whether each of the first `n` threads waited, e.g. 'T1 waited, T2 no wait'. Not how many times: wake-ups
 * may be spurious (QEMU allows it), so the contract promises no count.
 */
export function waitedOf(n: number) {
  return (a: { waits: Int32Array }) =>
    Array.from(a.waits.subarray(0, n), (w, t) => `T${t + 1} ${w > 0 ? 'waited' : 'no wait'}`).join(', ');
}

/**
 * The cond scenarios, on a given cond part (the real QemuCond, or a broken one). `cores` and `spin`:
 * Scenario.cores and Scenario.spin, for the variants that run the broadcast's per-core wake-ups and the
 * wait's spin before it parks.
 */
export function condScenarios(c: Part<unknown>, label: string, cores = 1, spin = 0) {
  const p = parts(c);
  type A = import('../scenario.js').Arena<typeof p>;
  const on = `${cores > 1 ? `, ${cores} cores` : ''}${spin > 0 ? `, spinning ${spin} reads` : ''}`;
  return {
    signal: defineScenario({
      name: `${label}: signal vs wait (no lost wake-up)${on}`,
      parts: p,
      cores,
      spin,
      setup: init,
      threads: [asCond<A>(waiter), asCond<A>(signaller)],
      outcome: waitedOf(1),
    }),
    broadcast: defineScenario({
      name: `${label}: broadcast wakes 2 waiters${on}`,
      parts: p,
      cores,
      spin,
      setup: init,
      threads: [asCond<A>(waiter), asCond<A>(waiter), asCond<A>(broadcaster)],
      outcome: waitedOf(2),
    }),
    /** Three waiters: on 2 cores the broadcast wakes 2 at once and the chain wakes the third. */
    broadcast3: defineScenario({
      name: `${label}: broadcast wakes 3 waiters${on}`,
      parts: p,
      cores,
      spin,
      setup: init,
      threads: [asCond<A>(waiter), asCond<A>(waiter), asCond<A>(waiter), asCond<A>(broadcaster)],
      outcome: waitedOf(3),
    }),
    timedWait: defineScenario({
      name: `${label}: timedwait vs signal${on}`,
      parts: p,
      cores,
      spin,
      setup: init,
      threads: [asCond<A>(timedWaiter), asCond<A>(signaller)],
      check: (a) => checkTimedWait(a as unknown as CondArena),
      outcome: (a) => `${a.result[0] === TIMED_OUT ? 'timed out' : 'saw the predicate'}, ${waitedOf(1)(a)}`,
    }),
  };
}

const real = condScenarios(cond, 'cond');
export const condSignal = real.signal;
export const condBroadcast = real.broadcast;
export const condTimedWait = real.timedWait;
const twoCores = condScenarios(cond, 'cond', 2);
/** On 2 cores: the broadcaster wakes 2 waiters itself, the first to take a unit wakes the third. */
export const condBroadcastTwoCores = twoCores.broadcast3;
const spinning = condScenarios(cond, 'cond', 2, 2);
/** The waiter spins (2 reads) before it parks: a signal may land during the spin. */
export const condSignalSpin = spinning.signal;
export const condBroadcastSpin = spinning.broadcast;
