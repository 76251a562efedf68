/**
 * Pieces shared by the bench's main thread and its workers: the clock, statistics, the control block and
 * the harness's own barrier (outside every timed region, on raw Atomics captured before any workload can
 * wrap them).
 */

/** Nanoseconds on the process-wide monotonic clock (the same in every worker). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Nanoseconds of CPU time the whole process has used, all its threads (getrusage(RUSAGE_SELF)). */
export function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1e3;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Captured at load time: the broadcast workload temporarily wraps Atomics.wait / Atomics.notify to count
// the futex operations of the primitives under test, and the harness's own waits must not be counted.
export const rawWait = Atomics.wait;
export const rawNotify = Atomics.notify;

/** Words of a task's control block (one Int32Array shared by the task's workers). */
export const CTL_ARRIVED = 0;
export const CTL_GENERATION = 1;
/** Set by a worker to end a timed loop (contended mutex). */
export const CTL_STOP = 2;
export const CTL_WORDS = 4;

export function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * CTL_WORDS));
}

/** Blocks until all `n` workers of a task have arrived. Reusable (generation counting). */
export function barrier(ctl: Int32Array, n: number): void {
  const generation = Atomics.load(ctl, CTL_GENERATION);
  if (Atomics.add(ctl, CTL_ARRIVED, 1) === n - 1) {
    Atomics.store(ctl, CTL_ARRIVED, 0);
    Atomics.add(ctl, CTL_GENERATION, 1);
    rawNotify(ctl, CTL_GENERATION);
    return;
  }
  while (Atomics.load(ctl, CTL_GENERATION) === generation) rawWait(ctl, CTL_GENERATION, generation);
}

/** Everything a workload's worker receives (through workerData). */
export interface TaskData {
  workload: string;
  contender: string;
  /** This worker's index among the task's `n` workers. */
  index: number;
  n: number;
  params: Record<string, number>;
  /** Shared state made by the main thread (primitives, shared arrays). */
  state: Record<string, unknown>;
  ctl: Int32Array;
  /**
   * For the V8 contender: a V8 Mutex and Condition for the harness's barrier. With --harmony-struct every
   * isolate joins V8's global safepoints, and one parked in Atomics.wait never reaches them: the process
   * deadlocks (seen on Node 20). V8's own waits are safepoint-aware, so the V8 contender's workers never
   * call Atomics.wait.
   */
  v8Barrier?: { m: object; c: object };
}

/** What a worker reports back. Every field is optional; each workload uses what it needs. */
export interface WorkerResult {
  /** Measurements by metric key (finished, in the metric's unit, or raw nanoseconds: see the workload). */
  metrics?: Record<string, number[]>;
  /** Counts that the main thread adds up over all workers (futex operations, ...). */
  sums?: Record<string, number>;
  /** Per repetition: when this worker started and ended the timed part (nowNs). */
  starts?: number[];
  ends?: number[];
  /** Per repetition: how many operations this worker did. */
  counts?: number[];
  /** Correctness failures found by this worker. */
  failures?: string[];
}

export interface WorkerMessage {
  ok: boolean;
  result?: WorkerResult;
  error?: string;
}
