/**
 * QemuEvent under the model checker, with QEMU's idiom: the consumer resets the event, checks its
 * condition, and waits only if it is not met; the producer makes the condition true and then sets the
 * event. Two rounds, so a set can land before, between or after the consumer's reset, check and wait
 * (a late set of round 1 may end round 2's wait early: the consumer re-checks). No waiter may be left
 * parked.
 *
 * eventTwoWaiters: two consumers, each resetting and then waiting unless the condition holds, and a
 * producer that sets once both have reset (so no reset can follow the set: see eventForeignReset). One
 * consumer's reset may land while the other is parked; it must not take away the other's wake-up. The same
 * bodies run on the broken event of test/model/broken/event.ts, whose reset does.
 *
 * eventForeignReset is the misuse the idiom avoids, kept as a known property (QEMU's util/event.c behaves
 * the same): a waiter woken by a set goes back to sleep if another thread resets the event before it runs.
 * The checker finds that schedule; the test asserts it does, so the documented rule stays true.
 */
import { assertDeadlinePassed, defineScenario, event, type Part, word, words } from '../scenario.js';

const ROUNDS = 2;

/** What the bodies need of an event: QemuEvent and the broken one both fit. */
export interface EventLike {
  init(set: boolean): void;
  set(): void;
  reset(): void;
  wait(): void;
  timedWait(ms: number): boolean;
}

/** The set / reset / wait idiom, on a given event part; `spin`: Scenario.spin. */
export function setResetWaitScenario(e: Part<unknown>, label: string, spin = 0) {
  const parts = { e, done: word, waits: word };
  type A = { e: EventLike; done: Int32Array; waits: Int32Array };
  return defineScenario({
    name: `${label}: set / reset / wait (QEMU idiom, ${ROUNDS} rounds)${spin ? `, spinning ${spin} reads` : ''}`,
    parts,
    spin,
    setup: (a) => (a.e as EventLike).init(false),
    threads: [
      (a_) => {
        const a = a_ as unknown as A;
        for (let r = 1; r <= ROUNDS; r++) {
          // A late set of the previous round may end this round's wait early: re-check, as QEMU's callers do.
          for (;;) {
            a.e.reset();
            if (Atomics.load(a.done, 0) >= r) break;
            a.e.wait();
            a.waits[0]++;
          }
        }
      },
      (a_) => {
        const a = a_ as unknown as A;
        for (let r = 1; r <= ROUNDS; r++) {
          Atomics.store(a.done, 0, r);
          a.e.set();
        }
      },
    ],
    outcome: (a) => `waits ${a.waits[0]}`,
  });
}

export const eventSetResetWait = setResetWaitScenario(event, 'event');
/** The waits spin (2 reads) before they park: a set may land during the spin. */
export const eventSetResetWaitSpin = setResetWaitScenario(event, 'event', 2);

/** RESETS: consumers that have reset; WAITS[t]: waits of consumer t. */
type TwoWaitersArena = { e: EventLike; done: Int32Array; resets: Int32Array; waits: Int32Array };

function resetThenWait(a: TwoWaitersArena, ctx: { index: number }): void {
  a.e.reset();
  Atomics.add(a.resets, 0, 1);
  Atomics.notify(a.resets, 0);
  while (Atomics.load(a.done, 0) === 0) {
    a.e.wait();
    a.waits[ctx.index]++;
  }
}

function setOnceBothReset(a: TwoWaitersArena): void {
  for (let r = Atomics.load(a.resets, 0); r < 2; r = Atomics.load(a.resets, 0)) Atomics.wait(a.resets, 0, r);
  Atomics.store(a.done, 0, 1);
  a.e.set();
}

/** Two consumers and a producer that sets once both have reset, on a given event part. */
export function twoWaitersScenario(e: Part<unknown>, label: string) {
  const parts = { e, done: word, resets: word, waits: words(2) };
  type A = import('../scenario.js').Arena<typeof parts>;
  const as = <F>(f: F) => f as unknown as (a: A, ctx: { index: number }) => void;
  return defineScenario({
    name: `${label}: 2 waiters reset, then one set`,
    parts,
    setup: (a) => (a.e as EventLike).init(false),
    threads: [as(resetThenWait), as(resetThenWait), as(setOnceBothReset)],
    outcome: (a) => `waits ${a.waits[0]} ${a.waits[1]}`,
  });
}

export const eventTwoWaiters = twoWaitersScenario(event, 'event');

export const eventForeignReset = defineScenario({
  name: 'event: a reset by another thread strands a woken waiter (known, as in QEMU)',
  parts: { e: event },
  setup: (a) => a.e.init(false),
  threads: [(a) => a.e.wait(), (a) => a.e.set(), (a) => a.e.reset()],
  outcome: (a) => (a.e.isSet() ? 'set' : 'reset'),
});

export const eventTimedWait = defineScenario({
  name: 'event: timedwait vs set',
  parts: { e: event, done: word, result: word },
  setup: (a) => a.e.init(false),
  outcome: (a) => (a.result[0] === 1 ? 'set seen' : 'timed out'),
  threads: [
    (a) => {
      const start = performance.now();
      const ok = a.e.timedWait(50);
      Atomics.store(a.result, 0, ok ? 1 : 2);
      if (!ok) assertDeadlinePassed(start, 50);
      if (ok && Atomics.load(a.done, 0) === 0)
        throw new Error('timedWait returned true before the event was set');
    },
    (a) => {
      Atomics.store(a.done, 0, 1);
      a.e.set();
    },
  ],
});
