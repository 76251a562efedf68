import { writeSync } from 'node:fs';

/**
 * The control block between the model checker's scheduler and its thread hosts (one worker per simulated
 * thread). It is a SharedArrayBuffer of its own, driven with the real `Atomics` only: it must never be
 * confused with the scenario's arena, whose operations are the scheduling points.
 *
 * Per thread, one slot. Exactly one side owns a slot at a time, and the state word says which: the host
 * writes ANNOUNCED / DONE / FAILED / ABORTED and then only waits; the scheduler writes RUN / RESUME / ABORT
 * and then only waits. So at most one simulated thread runs at any moment, and the order in which
 * arena operations happen is exactly the order the scheduler chose.
 */

/** Slot states. */
export const IDLE = 0;
/** Scheduler -> host: run the thread function from the start. */
export const RUN = 1;
/** Host -> scheduler: an arena operation is described in the slot; the host waits for its result. */
export const ANNOUNCED = 2;
/** Scheduler -> host: the result is in S_RESULT; continue to the next operation. */
export const RESUME = 3;
/** Host -> scheduler: the thread function returned. */
export const DONE = 4;
/** Host -> scheduler: the thread function threw; the message is in the slot's text. */
export const FAILED = 5;
/** Scheduler -> host: give up this run (the pending operation throws). */
export const ABORT = 6;
/** Host -> scheduler: the thread function unwound after ABORT. */
export const ABORTED = 7;
/**
 * Host -> scheduler: the (async) thread function is suspended in an `await` and its microtask queue has
 * drained; the thread can run again only when one of its async waits is settled (SETTLE).
 */
export const SUSPENDED = 8;
/**
 * Scheduler -> host: settle the async wait whose entry is in S_A with the result code in S_RESULT, run the
 * continuations that follow, and report (ANNOUNCED, SUSPENDED, DONE, FAILED) as after RUN.
 */
export const SETTLE = 9;

/** Operation codes, in the order of {@link OP_NAMES}. */
export const OP_NAMES = [
  'load',
  'store',
  'add',
  'sub',
  'and',
  'or',
  'xor',
  'exchange',
  'compareExchange',
  'wait',
  'notify',
  'waitAsync',
] as const;
export type OpName = (typeof OP_NAMES)[number];
export const OP: Record<OpName, number> = Object.fromEntries(OP_NAMES.map((n, i) => [n, i])) as Record<
  OpName,
  number
>;

/** Results of a modelled `Atomics.wait`, as S_RESULT codes. */
export const WAIT_OK = 0;
export const WAIT_NOT_EQUAL = 1;
/** Timed out while another thread could still run (a delay the scheduler chose). */
export const WAIT_TIMED_OUT_EARLY = 2;
/** Timed out because nothing else could run (the virtual clock jumped to the deadline). */
export const WAIT_TIMED_OUT_FORCED = 3;
/** A modelled `Atomics.waitAsync` that queued: S_RESULT is WAIT_ASYNC + the entry's number in the run. */
export const WAIT_ASYNC = 16;

/** Header words. */
export const H_TRACE = 0;
const HEADER_INTS = 16;
/** Slot words. */
export const S_STATE = 0;
export const S_OP = 1;
export const S_INDEX = 2;
export const S_A = 3;
export const S_B = 4;
export const S_RESULT = 5;
/** S_A of a notify with an unbounded count. */
export const NOTIFY_ALL = -1;
const SLOT_INTS = 8;
/** Bytes of text per slot: a thread's error message, or the code location of its announced operation. */
export const TEXT_BYTES = 1024;

/** Float64 words: [0] the virtual clock in ms, then one time-out per slot. */
export interface Control {
  sab: SharedArrayBuffer;
  ints: Int32Array;
  floats: Float64Array;
  text: Uint8Array;
}

export function controlBlock(threads: number, sab?: SharedArrayBuffer): Control {
  const ints = HEADER_INTS + threads * SLOT_INTS;
  const floats = 1 + threads;
  const bytes = ints * 4 + floats * 8 + threads * TEXT_BYTES;
  sab ??= new SharedArrayBuffer(bytes);
  return {
    sab,
    ints: new Int32Array(sab, 0, ints),
    floats: new Float64Array(sab, ints * 4, floats),
    text: new Uint8Array(sab, ints * 4 + floats * 8, threads * TEXT_BYTES),
  };
}

/** Index of word `field` of slot `t`. */
export function slotWord(t: number, field: number): number {
  return HEADER_INTS + t * SLOT_INTS + field;
}

export function writeText(c: Control, t: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, TEXT_BYTES - 1);
  const area = c.text.subarray(t * TEXT_BYTES, (t + 1) * TEXT_BYTES);
  area.fill(0);
  area.set(bytes);
}

export function readText(c: Control, t: number): string {
  const area = c.text.subarray(t * TEXT_BYTES, (t + 1) * TEXT_BYTES);
  const end = area.indexOf(0);
  return new TextDecoder().decode(area.slice(0, end < 0 ? area.length : end));
}

/**
 * Waits (real Atomics) while `ints[i] === value`: spins a little first, since the other side usually
 * answers within microseconds, then sleeps. Returns the new value. After `giveUpMs` without an answer it
 * throws (the scheduler uses this, so a thread host that died cannot hang a test).
 */
export function awaitChange(
  atomics: typeof Atomics,
  ints: Int32Array,
  i: number,
  value: number,
  giveUpMs = Number.POSITIVE_INFINITY,
): number {
  for (let spin = 0; spin < 1000; spin++) {
    const v = atomics.load(ints, i);
    if (v !== value) return v;
  }
  for (let k = 1; ; k++) {
    atomics.wait(ints, i, value, 1000);
    const v = atomics.load(ints, i);
    if (v !== value) return v;
    if (k * 1000 >= giveUpMs) throw new Error(`model checker: no answer on control word ${i} for ${k} s`);
    // Never expected: the other side answers within microseconds. Say so rather than hang silently.
    if (k === 10) writeSync(2, `model checker: no answer on control word ${i} for 10 s: ${ints.join(',')}\n`);
  }
}
