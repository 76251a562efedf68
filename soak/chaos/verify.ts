/**
 * The exact check of a join's outcome, for a worker or the controller that joined joinee `j`: what the
 * joinee's spec (size, seed, mode) says it returns, throws or exits with, or, only if the controller
 * terminated it, an error (or its outcome, if it had ended first).
 */
import { QemuThreadError, QemuThreadFailure } from 'qemu-thread';
import { G, isStreamed, J, JOIN_OUTCOMES, type JoinOutcome, joineeWord, resultByte } from './layout.js';
import { violation } from './shared.js';

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function checkJoinOutcome(
  w: Int32Array,
  j: number,
  outcome: Outcome,
  who: string,
): JoinOutcome | null {
  const at = (i: number) => Atomics.load(w, joineeWord(j, i));
  const [size, seed, mode, killed, orphaned] = [
    at(J.SIZE),
    at(J.SEED),
    at(J.MODE),
    at(J.KILLED),
    at(J.ORPHANED),
  ];
  const what = `${who}: join of joinee ${j} (${size} bytes, seed ${seed}, mode ${mode}${killed ? ', terminated' : ''})`;
  let result: JoinOutcome | null = null;
  if (!outcome.ok) {
    const error = outcome.error;
    const message = error instanceof Error ? error.message : String(error);
    // A joinee that threw is reported as a QemuThreadFailure whose cause is what it threw, exactly.
    const thrown = error instanceof QemuThreadFailure ? error.cause : undefined;
    if (mode === 1 && thrown instanceof Error && thrown.message === `joinee ${seed} failed`)
      result = killed ? 'terminated-late' : 'threw';
    // Its first joiner died: after the join had completed (EINVAL, already joined), or while it read a
    // streamed result (whatever error says the result was cut off).
    else if (orphaned && error instanceof QemuThreadError && /already joined/.test(message))
      result = 'orphan';
    else if (orphaned && isStreamed(size, mode) && error instanceof Error) result = 'orphan';
    // Terminated: "was terminated by", or (streaming) whatever error says the result was cut off.
    else if (killed && error instanceof Error) result = 'terminated';
    else violation(w, 'join-result', `${what} threw ${error instanceof Error ? error.stack : message}`);
  } else if (mode === 1) {
    violation(w, 'join-result', `${what} returned although the joinee throws`);
  } else {
    const value = outcome.value;
    const bad = badBytes(value, size, seed);
    if (bad) violation(w, 'join-result', `${what} returned ${bad}`);
    else result = killed ? 'terminated-late' : mode === 2 ? 'exited' : 'returned';
  }
  if (result !== null) Atomics.add(w, G.JOINS + JOIN_OUTCOMES.indexOf(result), 1);
  return result;
}

function badBytes(value: unknown, size: number, seed: number): string | null {
  if (!(value instanceof Uint8Array)) return `a ${typeof value}, not a Uint8Array`;
  if (value.length !== size) return `${value.length} bytes, not ${size}`;
  for (let i = 0; i < size; i++) {
    if (value[i] !== resultByte(seed, i)) return `byte ${i} = ${value[i]}, not ${resultByte(seed, i)}`;
  }
  return null;
}
