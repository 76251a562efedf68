/**
 * Thread function for the lock-step fuzz (fuzz-threads.test.ts): a thread that performs, one at a time,
 * the commands the main thread hands it through a shared mailbox, and writes back each outcome. The main
 * thread runs the model and decides which thread goes next, so every call happens while the other threads
 * are idle and the model's prediction is exact, ownership by other threads included.
 *
 * Mailbox of thread t: words t * STRIDE .. t * STRIDE + STRIDE - 1 of `ctl` (layout below). The main
 * thread writes OP, ARG, FACE, then bumps REQ; the thread performs the command, writes OUT, then stores
 * REQ's value into ACK. OP = QUIT ends the thread. Every wait is bounded, so a lost hand-off is an error,
 * never a hang of this thread.
 */
import {
  encodeOutcome,
  execute,
  FACES,
  type Face,
  OPS,
  OUTCOME_WORDS,
  type Prims,
  primsIn,
} from './model.js';

export const REQ = 0;
export const ACK = 1;
export const OP = 2;
export const ARG = 3;
export const FACE = 4;
export const OUT = 5;
export const STRIDE = OUT + OUTCOME_WORDS;
export const QUIT = -1;
/** How long an idle thread waits for its next command before deciding the main thread is gone. */
const IDLE_LIMIT_MS = 60_000;

export interface LockstepArg {
  /** The primitives' storage (model.primsIn); the main thread zeroes or initializes it between runs. */
  prims: SharedArrayBuffer;
  ctl: Int32Array;
  index: number;
}

/** Returns how many commands it performed. */
export function lockstepThread(arg: LockstepArg): number {
  const p: Prims = primsIn(arg.prims);
  const box = arg.ctl.subarray(arg.index * STRIDE, (arg.index + 1) * STRIDE);
  let seen = 0;
  let performed = 0;
  for (;;) {
    for (let v = Atomics.load(box, REQ); v === seen; v = Atomics.load(box, REQ)) {
      if (Atomics.wait(box, REQ, v, IDLE_LIMIT_MS) === 'timed-out') {
        throw new Error(`lock-step thread ${arg.index}: no command for ${IDLE_LIMIT_MS} ms`);
      }
    }
    seen = Atomics.load(box, REQ);
    const op = Atomics.load(box, OP);
    if (op === QUIT) return performed;
    const outcome = execute(p, {
      op: OPS[op],
      arg: Atomics.load(box, ARG),
      face: FACES[Atomics.load(box, FACE)] as Face,
    });
    if ('bad' in outcome) throw new Error(`lock-step thread ${arg.index}: ${OPS[op]}: ${outcome.bad}`);
    encodeOutcome(outcome, box, OUT);
    performed++;
    Atomics.store(box, ACK, seen);
    Atomics.notify(box, ACK);
  }
}
