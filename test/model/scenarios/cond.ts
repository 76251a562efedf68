/**
 * QemuCond under the model checker: a waiter loops on its predicate (as every caller must, wake-ups may be
 * spurious) and the signaller sets the predicate under the mutex, then signals after unlocking (QEMU's
 * qemu_cpu_kick signals without the mutex: the harder case). A lost wake-up shows up as a waiter left
 * parked when nothing else can run: the checker reports it as a deadlock (untimed wait) or as a forced
 * time-out (timed wait). The same thread bodies run on the broken cond of test/model/broken/cond.ts.
 */
import type { ThreadContext } from '../scenario.js';
import { cond, defineScenario, mutex, type Part, word } from '../scenario.js';

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
export interface CondArena {
  m: MutexLike;
  c: CondLike;
  pred: Int32Array;
  result: Int32Array;
}

export function waiter(a: CondArena): void {
  a.m.lock();
  while (a.pred[0] === 0) a.c.wait(a.m);
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
    const before = ctx.timeouts();
    if (!a.c.timedWait(a.m, 50)) {
      const after = ctx.timeouts();
      if (after.early + after.forced === before.early + before.forced) {
        throw new Error('timedWait returned false, but no time-out fired during it');
      }
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

const parts = (c: Part<unknown>) => ({ m: mutex, c, pred: word, result: word });
const init = (a: { m: { init(): void }; c: unknown }) => {
  a.m.init();
  (a.c as { init(): void }).init();
};
const asCond = <T>(f: (a: CondArena, ctx: ThreadContext) => void) =>
  f as unknown as (a: T, ctx: ThreadContext) => void;

/** The three cond scenarios, on a given cond part (the real QemuCond, or a broken one). */
export function condScenarios(c: Part<unknown>, label: string) {
  const p = parts(c);
  type A = import('../scenario.js').Arena<typeof p>;
  return {
    signal: defineScenario({
      name: `${label}: signal vs wait (no lost wake-up)`,
      parts: p,
      setup: init,
      threads: [asCond<A>(waiter), asCond<A>(signaller)],
    }),
    broadcast: defineScenario({
      name: `${label}: broadcast wakes 2 waiters`,
      parts: p,
      setup: init,
      threads: [asCond<A>(waiter), asCond<A>(waiter), asCond<A>(broadcaster)],
    }),
    timedWait: defineScenario({
      name: `${label}: timedwait vs signal`,
      parts: p,
      setup: init,
      threads: [asCond<A>(timedWaiter), asCond<A>(signaller)],
      check: (a) => checkTimedWait(a as unknown as CondArena),
    }),
  };
}

const real = condScenarios(cond, 'cond');
export const condSignal = real.signal;
export const condBroadcast = real.broadcast;
export const condTimedWait = real.timedWait;
