/**
 * The QemuThread join protocol under the model checker: the exiting side calls the production
 * publishOutcome / streamOutcome (what a thread's trampoline, entry.ts, calls when its function is over),
 * the joining side calls the production join(); both on a QemuThread storage in the arena, set up as
 * qemu_thread_create leaves it (RUNNING, joinable). Spawning the worker itself is not modelled. The result
 * is larger than the pipe's window, so the chunk hand-shake of result-pipe.ts runs too; of two joiners, one
 * gets the result and the other EINVAL, whichever claims first, and neither hangs.
 */
import { serialize } from 'node:v8';
import { publishOutcome, streamOutcome } from '#internal/thread';
import { defineScenario, type Part, thread, words } from '../scenario.js';

const STATE = 0;
const TID = 1;
const RUNNING = 1;
/** Returned = 0 in result-pipe.ts. */
const RETURNED = 0;
/** A result that takes three chunks of the 224-byte window. */
export const RESULT = 'r'.repeat(500);

/** What the bodies need of a thread handle: QemuThread and the broken joiners both fit. */
type A = { t: { words: Int32Array; join(): unknown } };

function exiting(a: A): void {
  const bytes = new Uint8Array(serialize(RESULT));
  if (publishOutcome(a.t.words, RETURNED, bytes)) streamOutcome(a.t.words, bytes);
}

function joiner(a: A): void {
  const value = a.t.join();
  if (value !== RESULT) throw new Error(`join returned ${JSON.stringify(value).slice(0, 40)}...`);
}

/** Joins; EINVAL is the other possible answer when a second thread joins too. Counts both in the arena. */
function joinOrRefused(a: A & { got: Int32Array }, ctx: { index: number }): void {
  try {
    joiner(a);
    Atomics.add(a.got, 0, 1);
    a.got[2] = ctx.index + 1;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EINVAL') throw error;
    Atomics.add(a.got, 1, 1);
  }
}

const setup = (a: { t: { words: Int32Array } }) => {
  Atomics.store(a.t.words, TID, 1_000_000);
  Atomics.store(a.t.words, STATE, RUNNING);
};

/** The exiting thread against one joiner, on a given thread part (QemuThread, or a broken joiner). */
export function joinScenario(t: Part<unknown>, label: string) {
  const parts = { t };
  type P = import('../scenario.js').Arena<typeof parts>;
  const as = (f: (a: A) => void) => f as unknown as (a: P) => void;
  return defineScenario({
    name: `${label}: join vs exit, result streamed in 3 chunks`,
    parts,
    setup: (a) => setup(a as unknown as A),
    threads: [as(exiting), as(joiner)],
    // The joiner checks the result itself: every passing schedule ends the same.
    outcome: () => 'joined, result intact',
  });
}

export const threadJoin = joinScenario(thread, 'thread');

export const threadDoubleJoin = defineScenario({
  name: 'thread: exit vs two joiners (one gets the result, the other EINVAL)',
  parts: { t: thread, got: words(3, ['RESULT', 'EINVAL', 'BY']) },
  setup,
  threads: [exiting, joinOrRefused, joinOrRefused],
  check: (a) =>
    a.got[0] === 1 && a.got[1] === 1 ? null : `${a.got[0]} joins returned the result, ${a.got[1]} got EINVAL`,
  outcome: (a) => `T${a.got[2]} got the result`,
});
