/**
 * The swapped atomic layer of a thread host: `globalThis.Atomics` and `performance.now` are replaced
 * before the library is loaded, so the library's own code (no copy of it) runs on the model.
 *
 * Every operation on the scenario's arena is announced to the scheduler and performed by it, at the moment
 * it chooses, on the real memory; `Atomics.wait` on the arena is modelled there too (compare-and-enqueue at
 * its turn, FIFO wake-up, time-outs only when the scheduler fires them), so no host ever sleeps in a real
 * futex of the arena. Operations on any other buffer (the library's process-wide tables: liveness, names,
 * deadlock graph, trace control, profiler) run directly on the real `Atomics`: they are not part of the
 * algorithms checked, except the process-wide blocks a scenario lists (Scenario.shared, e.g. park.ts's
 * count of pending async waits), which are scheduled as if they followed the arena. The clock is virtual:
 * it moves only when the scheduler fires a time-out.
 *
 * `Atomics.waitAsync` is modelled as V8 does it: at its turn it compares, and if the word still holds the
 * value (and the time-out is not 0) it queues an async entry in the same FIFO queue as blocked waiters and
 * returns a promise at once. The scheduler later settles the entry (a notify reached it, or its time-out
 * fired) and tells the host (SETTLE), which resolves the promise in this thread (thread-host.ts).
 *
 * Imports nothing from the library, which must not be loaded before {@link installModel} has run.
 */
import {
  ABORT,
  ANNOUNCED,
  awaitChange,
  type Control,
  H_TRACE,
  NOTIFY_ALL,
  OP,
  type OpName,
  S_A,
  S_B,
  S_INDEX,
  S_OP,
  S_RESULT,
  S_STATE,
  slotWord,
  WAIT_ASYNC,
  WAIT_NOT_EQUAL,
  WAIT_OK,
  WAIT_TIMED_OUT_EARLY,
  writeText,
} from './protocol.js';

/** Thrown out of a pending operation when the scheduler gives up a run; never caught by scenario code. */
export class AbortRun extends Error {
  constructor() {
    super('model run aborted');
  }
}

export const realAtomics: typeof Atomics = globalThis.Atomics;

export interface ModelThread {
  timeouts: { early: number; forced: number };
  /** Set once the current run is being abandoned: every further arena operation throws. */
  aborting: boolean;
  /**
   * While set, operations on the arena run directly, unscheduled: for what the host does outside any run,
   * such as making the arena's objects (a primitive's constructor looks at its first word).
   */
  direct: boolean;
  /** The promises of this run's queued async waits, by entry number, until the scheduler settles them. */
  pending: Map<number, (result: 'ok' | 'timed-out') => void>;
}

/**
 * Replaces `Atomics` and `performance.now` in this thread; arena operations go through slot `t`. The
 * `shared` buffers are scheduled too: word `k` of `shared[j]` is word `arenaWords + (words before j) + k`
 * for the scheduler.
 */
export function installModel(
  control: Control,
  t: number,
  arena: SharedArrayBuffer,
  shared: SharedArrayBuffer[] = [],
): ModelThread {
  const real = realAtomics;
  const ints = control.ints;
  const state = slotWord(t, S_STATE);
  const me: ModelThread = {
    timeouts: { early: 0, forced: 0 },
    aborting: false,
    direct: false,
    pending: new Map(),
  };
  const bases = new Map<ArrayBufferLike, number>();
  let base = arena.byteLength >> 2;
  for (const b of shared) {
    bases.set(b, base);
    base += b.byteLength >> 2;
  }
  bases.set(arena, 0);

  function perform(op: OpName, ta: Int32Array, index: number, a: number, b: number, timeout: number): number {
    if (me.aborting) throw new AbortRun();
    if (!(ta instanceof Int32Array)) throw new TypeError(`model Atomics.${op}: only Int32Array is modelled`);
    ints[slotWord(t, S_OP)] = OP[op];
    ints[slotWord(t, S_INDEX)] = (bases.get(ta.buffer) ?? 0) + (ta.byteOffset >> 2) + index;
    ints[slotWord(t, S_A)] = a;
    ints[slotWord(t, S_B)] = b;
    control.floats[1 + t] = timeout;
    if (real.load(ints, H_TRACE) !== 0) writeText(control, t, callerOf(new Error().stack ?? ''));
    real.store(ints, state, ANNOUNCED);
    real.notify(ints, state, 1);
    const answer = awaitChange(real, ints, state, ANNOUNCED);
    if (answer === ABORT) {
      me.aborting = true;
      throw new AbortRun();
    }
    return ints[slotWord(t, S_RESULT)];
  }

  const onArena = (ta: unknown): ta is Int32Array =>
    !me.direct && ArrayBuffer.isView(ta) && bases.has(ta.buffer);
  type TA = Int32Array;
  const rmw =
    (op: OpName, direct: (ta: TA, i: number, v: number) => number) =>
    (ta: TA, i: number, v: number): number =>
      onArena(ta) ? perform(op, ta, i, v | 0, 0, 0) : direct(ta, i, v);

  const model = {
    load: (ta: TA, i: number) => (onArena(ta) ? perform('load', ta, i, 0, 0, 0) : real.load(ta, i)),
    store: (ta: TA, i: number, v: number) =>
      onArena(ta) ? perform('store', ta, i, v | 0, 0, 0) : real.store(ta, i, v),
    add: rmw('add', real.add),
    sub: rmw('sub', real.sub),
    and: rmw('and', real.and),
    or: rmw('or', real.or),
    xor: rmw('xor', real.xor),
    exchange: rmw('exchange', real.exchange),
    compareExchange: (ta: TA, i: number, expected: number, replacement: number) =>
      onArena(ta)
        ? perform('compareExchange', ta, i, expected | 0, replacement | 0, 0)
        : real.compareExchange(ta, i, expected, replacement),
    wait: (ta: TA, i: number, value: number, timeout?: number): 'ok' | 'not-equal' | 'timed-out' => {
      if (!onArena(ta)) return real.wait(ta, i, value, timeout);
      const ms =
        timeout === undefined || Number.isNaN(timeout) ? Number.POSITIVE_INFINITY : Math.max(0, timeout);
      const code = perform('wait', ta, i, value | 0, 0, ms);
      if (code === WAIT_OK) return 'ok';
      if (code === WAIT_NOT_EQUAL) return 'not-equal';
      if (code === WAIT_TIMED_OUT_EARLY) me.timeouts.early++;
      else me.timeouts.forced++;
      return 'timed-out';
    },
    notify: (ta: TA, i: number, count?: number): number => {
      if (!onArena(ta)) return real.notify(ta, i, count);
      const n =
        count === undefined || count === Number.POSITIVE_INFINITY ? NOTIFY_ALL : Math.max(0, count | 0);
      return perform('notify', ta, i, n, 0, 0);
    },
    isLockFree: (size: number) => real.isLockFree(size),
    waitAsync: (
      ta: TA,
      i: number,
      value: number,
      timeout?: number,
    ):
      | { async: false; value: 'not-equal' | 'timed-out' }
      | { async: true; value: Promise<'ok' | 'timed-out'> } => {
      if (!onArena(ta)) throw new TypeError('model Atomics.waitAsync: only the arena is modelled');
      const ms =
        timeout === undefined || Number.isNaN(timeout) ? Number.POSITIVE_INFINITY : Math.max(0, timeout);
      const code = perform('waitAsync', ta, i, value | 0, 0, ms);
      if (code === WAIT_NOT_EQUAL) return { async: false, value: 'not-equal' };
      if (code < WAIT_ASYNC) return { async: false, value: 'timed-out' };
      // Queued: the scheduler settles it later, and this thread's host resolves the promise (SETTLE).
      const value_ = new Promise<'ok' | 'timed-out'>((resolve) => me.pending.set(code - WAIT_ASYNC, resolve));
      return { async: true, value: value_ };
    },
    [Symbol.toStringTag]: 'Atomics',
  };
  globalThis.Atomics = model as unknown as typeof Atomics;
  performance.now = () => control.floats[0];
  return me;
}

/**
 * The code location that made an arena operation: the first stack frame outside this file and park.ts
 * (the primitive's function), and the scenario's frame that called into it.
 */
function callerOf(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ''))
    .filter((f) => !f.includes('model-atomics.js') && !f.includes('/park.js') && !f.startsWith('Object.'));
  const shorten = (f: string) =>
    f
      .replace(/\(?(?:file:\/\/)?\S*?\/([^/\s]+\/[^/\s]+?):(\d+):\d+\)?/, '$1:$2')
      .replace(/^new /, '')
      .trim();
  const first = frames[0] ? shorten(frames[0]) : '?';
  // The scenario's own frame, by function name, tells which step of the thread body this is.
  const body = frames.find((f) => /\/model\/(scenarios|broken)\//.test(f));
  const name = body?.split(' ')[0];
  return body === undefined || body === frames[0] || name === undefined ? first : `${name} > ${first}`;
}
