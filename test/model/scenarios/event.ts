/**
 * QemuEvent under the model checker, with QEMU's idiom: the consumer resets the event, checks its
 * condition, and waits only if it is not met; the producer makes the condition true and then sets the
 * event. Two rounds, so a set can land before, between or after the consumer's reset, check and wait
 * (a late set of round 1 may end round 2's wait early: the consumer re-checks). No waiter may be left
 * parked.
 *
 * eventForeignReset is the misuse the idiom avoids, kept as a known property (QEMU's util/event.c behaves
 * the same): a waiter woken by a set goes back to sleep if another thread resets the event before it runs.
 * The checker finds that schedule; the test asserts it does, so the documented rule stays true.
 */
import { defineScenario, event, word } from '../scenario.js';

const ROUNDS = 2;

export const eventSetResetWait = defineScenario({
  name: 'event: set / reset / wait (QEMU idiom, 2 rounds)',
  parts: { e: event, done: word },
  setup: (a) => a.e.init(false),
  threads: [
    (a) => {
      for (let r = 1; r <= ROUNDS; r++) {
        // A late set of the previous round may end this round's wait early: re-check, as QEMU's callers do.
        for (;;) {
          a.e.reset();
          if (Atomics.load(a.done, 0) >= r) break;
          a.e.wait();
        }
      }
    },
    (a) => {
      for (let r = 1; r <= ROUNDS; r++) {
        Atomics.store(a.done, 0, r);
        a.e.set();
      }
    },
  ],
});

export const eventForeignReset = defineScenario({
  name: 'event: a reset by another thread strands a woken waiter (known, as in QEMU)',
  parts: { e: event },
  setup: (a) => a.e.init(false),
  threads: [(a) => a.e.wait(), (a) => a.e.set(), (a) => a.e.reset()],
});

export const eventTimedWait = defineScenario({
  name: 'event: timedwait vs set',
  parts: { e: event, done: word, result: word },
  setup: (a) => a.e.init(false),
  outcome: (a) => (a.result[0] === 1 ? 'set seen' : 'timed out'),
  threads: [
    (a, ctx) => {
      const before = ctx.timeouts();
      const ok = a.e.timedWait(50);
      Atomics.store(a.result, 0, ok ? 1 : 2);
      const after = ctx.timeouts();
      if (!ok && after.early + after.forced === before.early + before.forced) {
        throw new Error('timedWait returned false, but no time-out fired during it');
      }
      if (ok && Atomics.load(a.done, 0) === 0)
        throw new Error('timedWait returned true before the event was set');
    },
    (a) => {
      Atomics.store(a.done, 0, 1);
      a.e.set();
    },
  ],
});
