/**
 * QemuSemaphore under the model checker. Units are conserved: every unit posted is either taken by exactly
 * one waiter or still in the count at the end, and a timed wait that returns false took none. A wake-up
 * lost by a post (the 0 -> 1-only notify bug) leaves a waiter parked with units in the count: a hang (a
 * time-out forced because nothing else can run). The same bodies run on the broken semaphore of
 * test/model/broken/semaphore.ts.
 */
import type { ThreadContext } from '../scenario.js';
import { assertDeadlinePassed, defineScenario, type Part, semaphore, words } from '../scenario.js';

export interface SemLike {
  init(n: number): void;
  post(): void;
  wait(): void;
  timedWait(ms: number): boolean;
  value(): number;
}
/** TAKEN[t]: units thread t took. */
export interface SemArena {
  s: SemLike;
  taken: Int32Array;
}

const take = (a: SemArena, ctx: ThreadContext) => {
  a.s.wait();
  Atomics.add(a.taken, ctx.index, 1);
};

const timedTake = (a: SemArena, ctx: ThreadContext) => {
  const start = performance.now();
  if (a.s.timedWait(50)) {
    Atomics.add(a.taken, ctx.index, 1);
    return;
  }
  assertDeadlinePassed(start, 50);
};

const postTwice = (a: SemArena) => {
  a.s.post();
  a.s.post();
};

function conserved(posted: number) {
  return (a: SemArena): string | null => {
    const taken = Array.from(a.taken).reduce((x, y) => x + y, 0);
    const left = a.s.value();
    if (taken + left !== posted)
      return `units not conserved: taken ${taken} + left ${left} != posted ${posted}`;
    if (a.taken.some((n) => n > 1)) return `a waiter took more than one unit: ${Array.from(a.taken)}`;
    return null;
  };
}

/** Units taken by T1 and T2, and units left, e.g. 'taken 1 1, left 0'. */
const units = (a: { s: unknown; taken: Int32Array }) =>
  `taken ${a.taken[0]} ${a.taken[1]}, left ${(a.s as SemLike).value()}`;

/** The semaphore scenarios on a given part (QemuSemaphore, or a broken one); `spin`: Scenario.spin. */
export function semScenarios(sem: Part<unknown>, label: string, spin = 0) {
  const p = { s: sem, taken: words(3, ['T1', 'T2', 'T3']) };
  type A = import('../scenario.js').Arena<typeof p>;
  const as = <F>(f: F) => f as unknown as (a: A, ctx: ThreadContext) => void;
  const setup = (a: A) => (a.s as SemLike).init(0);
  const on = spin > 0 ? `, spinning ${spin} reads` : '';
  return {
    twoWaiters: defineScenario({
      name: `${label}: 2 waiters, 2 posts (no lost wake-up)${on}`,
      parts: p,
      spin,
      setup,
      threads: [as(take), as(take), as(postTwice)],
      check: (a) => conserved(2)(a as unknown as SemArena),
      outcome: units,
    }),
    timedWait: defineScenario({
      name: `${label}: post vs timedwait and wait (no unit lost or duplicated)${on}`,
      parts: p,
      spin,
      setup,
      threads: [as(timedTake), as(take), as(postTwice)],
      check: (a) => conserved(2)(a as unknown as SemArena),
      outcome: units,
    }),
  };
}

const real = semScenarios(semaphore, 'semaphore');
export const semTwoWaiters = real.twoWaiters;
export const semTimedWait = real.timedWait;
/** The waiters spin (2 reads) before they park: a post may land during the spin. */
export const semTwoWaitersSpin = semScenarios(semaphore, 'semaphore', 2).twoWaiters;
