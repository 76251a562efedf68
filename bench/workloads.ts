/**
 * The workloads of issues 5 and 15, main-thread side: for each one, its metrics, its parameters (quick and
 * full), the shared state each JS contender gets, how many workers run it, and how their reports become
 * samples. The workers' side is roles.ts; the pthreads side is native/pthread-bench.c, whose sizes match
 * these.
 *
 * Sizes are per round: a full run measures every cell in 3 rounds, contenders taking turns within each
 * round, and pools the samples, so that a load change on this shared machine hits every contender alike.
 * Every metric keeps all its samples: the report prints each one's median with the min and max.
 */
import { Worker } from 'node:worker_threads';
import { median, newControl, type TaskData, type WorkerMessage, type WorkerResult } from './harness.js';
import { classicKit, qemuKit } from './kits.js';
import { type Native, runNative } from './native.js';
import { BB_CAPACITY, BB_META_WORDS, BROADCAST_META_WORDS, PAIR_STRIDE } from './roles.js';
import { v8Condition, v8Mutex } from './v8.js';
import {
  bareWorkerStart,
  bareWorkerStartBlocked,
  prestartFunction,
  type StartSamples,
  vcpuClassic,
  vcpuQemu,
} from './vcpu.js';

/**
 * The columns. `qemu-nospin` is qemu-thread with spinning turned off in every thread of the cell (the
 * library's per-thread switch, park.ts): the control that shows what spinning buys and what it costs.
 */
export type ContenderId = 'qemu-thread' | 'qemu-nospin' | 'pthreads' | 'v8' | 'classic' | 'reference';
export const CONTENDER_IDS: readonly ContenderId[] = [
  'qemu-thread',
  'qemu-nospin',
  'pthreads',
  'v8',
  'classic',
  'reference',
];
/** The order in which a round measures a row's contenders. */
export const RUN_ORDER: readonly ContenderId[] = [
  'pthreads',
  'qemu-thread',
  'qemu-nospin',
  'v8',
  'classic',
  'reference',
];

/** One metric of one cell: every sample (pooled over the rounds), their median, min and max. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export type Cell =
  | {
      status: 'ok';
      /** By metric key (WorkloadDef.metrics); a metric the contender does not report is absent. */
      metrics: Record<string, Stat>;
      /** Something worth knowing about how the figures were obtained (a retry, ...). */
      note?: string;
    }
  | { status: 'n/a' | 'skipped' | 'failed'; reason: string };

export interface Context {
  quick: boolean;
  /** The C program (supervisor only; cell processes get a stub). */
  native: Native;
  /** Why the V8 contender cannot run, or null. */
  v8Unavailable: string | null;
  /** A task that takes longer than this is failed (a lost wake-up or a deadlock). */
  timeoutMs: number;
}

type Runner = (ctx: Context) => Promise<Cell>;

export type SectionId = 'uncontended' | 'handoff' | 'broadcast' | 'contended' | 'start';

export const SECTIONS: readonly { id: SectionId; title: string }[] = [
  { id: 'uncontended', title: 'Uncontended lock, and the control' },
  { id: 'handoff', title: 'Hand-offs: wall and process CPU time' },
  { id: 'broadcast', title: 'Broadcast' },
  { id: 'contended', title: 'Contended mutex' },
  { id: 'start', title: 'Thread start' },
];

export interface MetricDef {
  key: string;
  /** Shown after the workload's title for every metric but the first. */
  label: string;
  unit: string;
  better: 'lower' | 'higher';
}

export interface WorkloadDef {
  id: string;
  title: string;
  section: SectionId;
  /** The first is the workload's headline figure; every cell that is ok has it. */
  metrics: readonly MetricDef[];
  /** What the reference column holds in this row, if anything. */
  reference?: string;
  /** The JS contenders' cells, each run in a process of its own (cell.ts); pthreads: runNativeCell. */
  runners: Partial<Record<Exclude<ContenderId, 'pthreads'>, Runner>>;
  /** Why a contender without a runner is n/a here. */
  notApplicable?: Partial<Record<ContenderId, string>>;
  /** Workloads this one's derived figures need, run with it even when --only leaves them out. */
  needs?: readonly string[];
  /** Not run on its own: its cells are built from what every cell's process measured first (main.ts). */
  control?: boolean;
}

// Helpers ---------------------------------------------------------------------------------------------------

const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Statistics of samples kept to 6 significant digits (more than any of these timings can resolve). */
export function stat(samples: readonly number[]): Stat {
  const kept = samples.map((x) => Number(x.toPrecision(6)));
  return { median: median(kept), min: Math.min(...kept), max: Math.max(...kept), samples: kept };
}

/**
 * An ok cell from samples by metric key, or a failed one if the headline metric (`primary`) has no
 * samples or any sample is not a finite number (the headline must also be positive). Empty metrics are
 * left out.
 */
export function ok(primary: string, values: Record<string, number[] | undefined>): Cell {
  const head = values[primary] ?? [];
  if (head.length === 0 || head.some((x) => !Number.isFinite(x) || x <= 0)) {
    return { status: 'failed', reason: `bad ${primary} samples: ${head.join(', ') || 'none'}` };
  }
  const metrics: Record<string, Stat> = {};
  for (const [key, xs] of Object.entries(values)) {
    if (!xs || xs.length === 0) continue;
    if (xs.some((x) => !Number.isFinite(x) || x < 0)) {
      return { status: 'failed', reason: `bad ${key} samples: ${xs.join(', ')}` };
    }
    metrics[key] = stat(xs);
  }
  return { status: 'ok', metrics };
}

export class CorrectnessError extends Error {}

/** Starts `n` workers on one task and collects their reports; rejects on error, early exit or time-out. */
export function runWorkers(
  ctx: Context,
  base: Omit<TaskData, 'index' | 'n' | 'ctl'>,
  n: number,
): Promise<WorkerResult[]> {
  const ctl = newControl();
  const results: WorkerResult[] = new Array(n);
  const workers: Worker[] = [];
  const v8Barrier = base.contender === 'v8' ? { m: new (v8Mutex())(), c: new (v8Condition())() } : undefined;
  return new Promise((resolve, reject) => {
    let left = n;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) {
        // Never awaited: a worker parked in Atomics.Condition.wait does not terminate (main exits anyway).
        for (const w of workers) void w.terminate();
        reject(error);
      } else {
        resolve(results);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${ctx.timeoutMs / 1000} s (a lost wake-up or a deadlock?)`)),
      ctx.timeoutMs,
    );
    for (let index = 0; index < n; index++) {
      const data: TaskData = { ...base, index, n, ctl, ...(v8Barrier ? { v8Barrier } : {}) };
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
      workers.push(worker);
      worker.on('message', (message: WorkerMessage) => {
        if (!message.ok) return finish(new Error(`worker ${index}: ${message.error}`));
        results[index] = message.result ?? {};
        if (--left === 0) finish();
      });
      worker.on('error', (error) => finish(error));
      worker.on('exit', (code) => {
        if (results[index] === undefined)
          finish(new Error(`worker ${index} exited (code ${code}) without a report`));
      });
    }
  });
}

/** Runs a cell and turns any error into a failed cell (correctness failures keep their message). */
async function guarded(run: () => Promise<Cell>): Promise<Cell> {
  try {
    return await run();
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const prefix = error instanceof CorrectnessError ? 'correctness check failed: ' : '';
    return { status: 'failed', reason: prefix + text.split('\n').slice(0, 4).join(' | ') };
  }
}

/** The contenders that run the lock-shaped workloads in workers. */
type LockContender = 'qemu-thread' | 'qemu-nospin' | 'classic' | 'v8';

interface Factory {
  mutex(): unknown;
  cond(): unknown;
  sem(): unknown;
  event(): unknown;
}

function factoryFor(contender: LockContender): Factory {
  if (contender === 'qemu-thread' || contender === 'qemu-nospin') return qemuKit;
  if (contender === 'classic') return classicKit;
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const none = () => {
    throw new Error('V8 has no semaphore or event');
  };
  return { mutex: () => new Mutex(), cond: () => new Condition(), sem: none, event: none };
}

/** The result of the C program for one workload, and its control loop's samples. */
export interface NativeCell {
  cell: Cell;
  control: number[];
}

/** The pthreads cell of one workload, from the C program (run by the supervisor, not in a cell process). */
export async function runNativeCell(def: WorkloadDef, ctx: Context): Promise<NativeCell> {
  let control: number[] = [];
  const cell = await guarded(async () => {
    if (!ctx.native.binary) return { status: 'skipped', reason: ctx.native.reason ?? 'not built' };
    const r = await runNative(ctx.native.binary, def.id, ctx.quick, ctx.timeoutMs);
    control = r.control;
    if (r.failures.length > 0) throw new CorrectnessError(r.failures.join('; '));
    return ok(def.metrics[0].key, Object.fromEntries(r.metrics.get(def.id) ?? []));
  });
  return { cell, control };
}

/** The skipped cell for the V8 contender when this node lacks Atomics.Mutex; null otherwise. */
function v8Guard(ctx: Context, contender: string): Cell | null {
  return contender === 'v8' && ctx.v8Unavailable ? { status: 'skipped', reason: ctx.v8Unavailable } : null;
}

/** Wraps a lock-shaped runner: the V8 guard, then the run, any error a failed cell. */
const lockShaped =
  (contender: LockContender, run: (ctx: Context) => Promise<Cell>): Runner =>
  (ctx) =>
    guarded(async () => v8Guard(ctx, contender) ?? run(ctx));

/** Nanoseconds per repetition (from timedReps) to one metric's unit: divided by `per` operations. */
const per = (ns: number[] | undefined, ops: number, unitNs: number) =>
  (ns ?? []).map((x) => x / ops / unitNs);

// 0. Control ------------------------------------------------------------------------------------------------

/**
 * The control loop every cell's process runs first (cell.ts; the C program likewise): a bare
 * compareExchange + exchange on one thread, the lock row's engine floor. The work is the same in every JS
 * column, so the row's spread (min to max over every cell's process in the run) is how much the machine's
 * speed moved during the run: a difference between contenders smaller than that is noise.
 */
export function controlSamples(quick: boolean): number[] {
  const w = shared(1);
  const iters = quick ? 200_000 : 1_000_000;
  const samples: number[] = [];
  for (let r = -1; r < 2; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      Atomics.compareExchange(w, 0, 0, 1);
      Atomics.exchange(w, 0, 0);
    }
    if (r >= 0) samples.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return samples;
}

// 1. Uncontended lock + unlock ---------------------------------------------------------------------------

function lockParams(ctx: Context) {
  return ctx.quick ? { iters: 300_000, reps: 3, warm: 1 } : { iters: 5_000_000, reps: 3, warm: 2 };
}

async function lockSamples(
  ctx: Context,
  contender: string,
  state: Record<string, unknown>,
): Promise<number[]> {
  const [r] = await runWorkers(ctx, { workload: 'lock', contender, params: lockParams(ctx), state }, 1);
  return r.metrics?.time ?? [];
}

const lockRunner = (contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  lockShaped(contender, async (ctx) => {
    const time = await lockSamples(ctx, contender, { m: factoryFor(contender).mutex() });
    if (contender !== 'qemu-thread') return ok('time', { time });
    // The cost of tracing and QSP while they are off: the same lock word, through the entry points that
    // carry the "is instrumentation on?" branch and through the ones without it (issue 4).
    return ok('time', {
      time,
      methods: await lockSamples(ctx, 'qemu-thread-methods', { m: qemuKit.mutex() }),
      instrumentedOff: await lockSamples(ctx, 'qemu-thread-checked', { m: qemuKit.mutex() }),
      uninstrumented: await lockSamples(ctx, 'qemu-thread-uninstrumented', { m: qemuKit.mutex() }),
    });
  });

// 2. Cond ping-pong, P pairs; 7. semaphore and event hand-offs --------------------------------------

/**
 * Round trips per pair and repetition; the C program uses the same (main()). Three untimed repetitions
 * first (full runs): with one, each of the 2P workers was often still compiling its hot paths in the
 * first timed repetition (8 pairs without spinning: 5.9-14.5 us per hand-off over the repetitions after
 * one warm-up, 5.4-5.5 after ten), which moved the median of three.
 */
function pingpongParams(ctx: Context, pairs: number) {
  const iters = pairs === 1 ? (ctx.quick ? 300 : 4000) : ctx.quick ? 200 : 2000;
  return { iters, reps: ctx.quick ? 2 : 3, warm: ctx.quick ? 1 : 3 };
}

/** Wall and CPU per one-way hand-off, from worker 0's timed repetitions. */
function handoffCell(first: WorkerResult, handoffs: number): Cell {
  return ok('wall', {
    wall: per(first.metrics?.wall, handoffs, 1e3),
    cpu: per(first.metrics?.cpu, handoffs, 1e3),
  });
}

const pingpongRunner = (pairs: number, contender: LockContender): Runner =>
  lockShaped(contender, async (ctx) => {
    const f = factoryFor(contender);
    const state = {
      m: Array.from({ length: pairs }, () => f.mutex()),
      c: Array.from({ length: pairs }, () => f.cond()),
      turn: shared(pairs * PAIR_STRIDE),
    };
    const params = pingpongParams(ctx, pairs);
    const [first] = await runWorkers(ctx, { workload: 'pingpong', contender, params, state }, 2 * pairs);
    return handoffCell(first, 2 * params.iters * pairs);
  });

/** The engine's floor for the ping-pong (roles.ts, pingpongFloor): the turn word alone, raw Atomics. */
const pingpongFloorRunner =
  (pairs: number): Runner =>
  (ctx) =>
    guarded(async () => {
      const state = { turn: shared(pairs * PAIR_STRIDE) };
      const params = pingpongParams(ctx, pairs);
      const [first] = await runWorkers(
        ctx,
        { workload: 'pingpong', contender: 'reference', params, state },
        2 * pairs,
      );
      return handoffCell(first, 2 * params.iters * pairs);
    });

const handoffRunner = (workload: 'sem' | 'event', contender: LockContender): Runner =>
  lockShaped(contender, async (ctx) => {
    const f = factoryFor(contender);
    const state = workload === 'sem' ? { a: f.sem(), b: f.sem() } : { a: f.event(), b: f.event() };
    const params = pingpongParams(ctx, 1);
    const [first] = await runWorkers(ctx, { workload, contender, params, state }, 2);
    return handoffCell(first, 2 * params.iters);
  });

// 3. Bounded buffer ---------------------------------------------------------------------------------------

const bbRunner = (producers: number, consumers: number, contender: LockContender): Runner =>
  lockShaped(contender, async (ctx) => {
    const f = factoryFor(contender);
    const items = ctx.quick ? 20_000 : 200_000;
    const params = { producers, items, reps: 2, warm: 1 };
    const seen = new Uint8Array(new SharedArrayBuffer(items * (params.reps + params.warm)));
    const state = {
      m: f.mutex(),
      notFull: f.cond(),
      notEmpty: f.cond(),
      ring: shared(BB_CAPACITY),
      meta: shared(BB_META_WORDS),
      seen,
    };
    const [first] = await runWorkers(
      ctx,
      { workload: 'bb', contender, params, state },
      producers + consumers,
    );
    let wrong = 0;
    for (let i = 0; i < seen.length; i++) if (seen[i] !== 1) wrong++;
    if (wrong > 0) {
      throw new CorrectnessError(`${wrong} of ${seen.length} items were not consumed exactly once`);
    }
    return ok('rate', {
      rate: (first.metrics?.wall ?? []).map((ns) => items / (ns / 1e9)),
      cpu: per(first.metrics?.cpu, items, 1),
    });
  });

// 4. Broadcast ----------------------------------------------------------------------------------------------

const broadcastRunner = (waiters: number, contender: LockContender | 'reference'): Runner =>
  lockShaped(contender === 'reference' ? 'classic' : contender, async (ctx) => {
    // The floor (roles.ts, broadcastFloor) uses the bookkeeping words only.
    const f = factoryFor(contender === 'reference' ? 'classic' : contender);
    const state = {
      m: f.mutex(),
      c: f.cond(),
      ack: f.cond(),
      meta: shared(BROADCAST_META_WORDS),
      lastAck: new Float64Array(new SharedArrayBuffer(8)),
    };
    const rounds = ctx.quick ? 20 : 100;
    // CPU time is read every `block` rounds (5 readings); the C program does the same.
    const params = { waiters, rounds, warm: ctx.quick ? 3 : 20, block: rounds / 5 };
    const results = await runWorkers(ctx, { workload: 'broadcast', contender, params, state }, waiters + 1);
    // Futex operations of all threads, per round (qemu-thread: parkStats; classic: counted Atomics calls).
    const futex = (key: string) => {
      const counted = results.filter((r) => r.sums?.[key] !== undefined);
      if (counted.length === 0) return undefined;
      return [counted.reduce((sum, r) => sum + r.sums![key], 0) / rounds];
    };
    return ok('latency', {
      latency: results[0].metrics?.latency,
      cpu: results[0].metrics?.cpu,
      waits: futex('waits'),
      notifies: futex('notifies'),
      woken: futex('woken'),
    });
  });

// 5. Contended mutex ----------------------------------------------------------------------------------------

const contendedRunner = (threads: number, contender: LockContender): Runner =>
  lockShaped(contender, async (ctx) => {
    const f = factoryFor(contender);
    const state = { m: f.mutex(), counter: shared(1), atomicCounter: shared(1) };
    const params = ctx.quick ? { ms: 60, reps: 3 } : { ms: 250, reps: 3 };
    const results = await runWorkers(ctx, { workload: 'contended', contender, params, state }, threads);
    const failures = results.flatMap((r) => r.failures ?? []);
    if (failures.length > 0) throw new CorrectnessError(failures.join('; '));
    const rate: number[] = [];
    const slowest: number[] = [];
    const fastest: number[] = [];
    // Repetition 0 warms up. A repetition's span: from the first worker's start to the last one's end.
    for (let r = 1; r < params.reps; r++) {
      const seconds =
        (Math.max(...results.map((x) => x.ends![r])) - Math.min(...results.map((x) => x.starts![r]))) / 1e9;
      const counts = results.map((x) => x.counts![r]);
      rate.push(counts.reduce((a, b) => a + b, 0) / seconds);
      slowest.push(Math.min(...counts) / seconds);
      fastest.push(Math.max(...counts) / seconds);
    }
    return ok('rate', threads === 1 ? { rate } : { rate, slowest, fastest });
  });

// 6. vCPU start -------------------------------------------------------------------------------------------

function vcpuThreads(ctx: Context): number {
  return ctx.quick ? 2 : 4;
}

const vcpuRunner =
  (which: 'qemu-thread' | 'classic' | 'reference'): Runner =>
  (ctx) =>
    guarded(async () => {
      const n = vcpuThreads(ctx);
      if (which === 'classic') {
        const { wall, cpu } = await vcpuClassic(n);
        return ok('wall', { wall, cpu });
      }
      if (which === 'reference') {
        const { wall, cpu } = await bareWorkerStart(n);
        const blocked = await bareWorkerStartBlocked(n);
        return ok('wall', { wall, cpu, blocked: blocked.wall });
      }
      const { wall, cpu } = vcpuQemu(n);
      const prestart = prestartFunction();
      if (!prestart) return ok('wall', { wall, cpu });
      // The pool, prestart not awaited: the workers boot while the creator already creates and waits. The
      // first create waits for the pool's boot and the others hardly at all, so a per-thread median would
      // hide the boot: the sample is the run's mean per thread (its total / n).
      void prestart(n);
      const unawaited: StartSamples = vcpuQemu(n);
      const mean = (xs: number[]) => [xs.reduce((a, b) => a + b, 0) / xs.length];
      // The pool, booted beforehand (the boot is not timed).
      await prestart(n);
      const pooled = vcpuQemu(n);
      return ok('wall', {
        wall,
        cpu,
        unawaited: mean(unawaited.wall),
        unawaitedCpu: mean(unawaited.cpu),
        pooled: pooled.wall,
      });
    });

// The table --------------------------------------------------------------------------------------------------

const PINGPONG_FLOOR =
  'engine floor: the same pairs passing the turn word with bare Atomics.wait / Atomics.notify (no mutex, cond or spin)';
const BROADCAST_FLOOR =
  'engine floor: a herd wake with bare Atomics (notify every waiter; no mutex to re-take, no spin)';
const V8_SCOPE =
  "outside the V8 contender's scope (issue 5: lock, ping-pong, bounded buffer, broadcast, contended)";
const ONE_THREAD = 'one thread: nothing waits, so nothing spins';
const PAIRS_SCOPE = 'the oversubscribed ping-pong compares qemu-thread with pthreads (issue 15)';

const handoffMetrics: readonly MetricDef[] = [
  { key: 'wall', label: 'wall', unit: 'us/hand-off', better: 'lower' },
  { key: 'cpu', label: 'process CPU', unit: 'us/hand-off', better: 'lower' },
];

/** Every lock-shaped contender's runner of one workload. */
function allLockShaped(make: (contender: LockContender) => Runner): WorkloadDef['runners'] {
  return {
    'qemu-thread': make('qemu-thread'),
    'qemu-nospin': make('qemu-nospin'),
    v8: make('v8'),
    classic: make('classic'),
  };
}

function pingpongDef(pairs: number): WorkloadDef {
  const one = pairs === 1;
  return {
    id: one ? 'pingpong' : `pingpong-${pairs}`,
    title: `2. cond ping-pong, ${pairs} pair${one ? '' : 's'}`,
    section: 'handoff',
    metrics: handoffMetrics,
    reference: PINGPONG_FLOOR,
    runners: one
      ? { ...allLockShaped((c) => pingpongRunner(1, c)), reference: pingpongFloorRunner(1) }
      : {
          'qemu-thread': pingpongRunner(pairs, 'qemu-thread'),
          'qemu-nospin': pingpongRunner(pairs, 'qemu-nospin'),
          reference: pingpongFloorRunner(pairs),
        },
    ...(one ? {} : { notApplicable: { v8: PAIRS_SCOPE, classic: PAIRS_SCOPE } }),
  };
}

function broadcastDef(waiters: number): WorkloadDef {
  return {
    id: waiters === 8 ? 'broadcast' : `broadcast-${waiters}`,
    title: `4. broadcast to ${waiters} waiters`,
    section: 'broadcast',
    metrics: [
      { key: 'latency', label: 'latency', unit: 'us/round', better: 'lower' },
      { key: 'cpu', label: 'process CPU', unit: 'us/round', better: 'lower' },
      { key: 'waits', label: 'Atomics.wait calls', unit: 'per round', better: 'lower' },
      { key: 'notifies', label: 'Atomics.notify calls', unit: 'per round', better: 'lower' },
      { key: 'woken', label: 'threads woken', unit: 'per round', better: 'lower' },
    ],
    reference: BROADCAST_FLOOR,
    runners: {
      ...allLockShaped((c) => broadcastRunner(waiters, c)),
      reference: broadcastRunner(waiters, 'reference'),
    },
  };
}

function contendedDef(threads: number): WorkloadDef {
  const one = threads === 1;
  return {
    id: `contended-${threads}`,
    title: one ? '5. contended loop, 1 thread (uncontended rate)' : `5. contended mutex, ${threads} threads`,
    section: 'contended',
    metrics: one
      ? [{ key: 'rate', label: 'rate', unit: 'incr/s', better: 'higher' }]
      : [
          { key: 'rate', label: 'rate', unit: 'incr/s', better: 'higher' },
          // Derived in main.ts: rate / the same contender's median rate in contended-1.
          { key: 'share', label: 'share of own 1-thread rate', unit: 'ratio', better: 'higher' },
          { key: 'slowest', label: 'slowest thread', unit: 'incr/s', better: 'higher' },
          { key: 'fastest', label: 'fastest thread', unit: 'incr/s', better: 'higher' },
        ],
    runners: one
      ? {
          'qemu-thread': contendedRunner(1, 'qemu-thread'),
          v8: contendedRunner(1, 'v8'),
          classic: contendedRunner(1, 'classic'),
        }
      : allLockShaped((c) => contendedRunner(threads, c)),
    ...(one ? { notApplicable: { 'qemu-nospin': ONE_THREAD } } : { needs: ['contended-1'] }),
  };
}

export const WORKLOADS: readonly WorkloadDef[] = [
  {
    id: 'control',
    title: "0. control: CAS+exchange in each cell's process",
    section: 'uncontended',
    metrics: [{ key: 'time', label: 'time', unit: 'ns/pair', better: 'lower' }],
    runners: {},
    control: true,
  },
  {
    id: 'lock',
    title: '1. uncontended lock+unlock',
    section: 'uncontended',
    metrics: [
      { key: 'time', label: 'time', unit: 'ns/pair', better: 'lower' },
      { key: 'methods', label: 'through methods (m.lock()/m.unlock())', unit: 'ns/pair', better: 'lower' },
      {
        key: 'instrumentedOff',
        label: 'lock word, tracing/QSP branch, off',
        unit: 'ns/pair',
        better: 'lower',
      },
      { key: 'uninstrumented', label: 'lock word without that branch', unit: 'ns/pair', better: 'lower' },
      { key: 'errorcheck', label: 'PTHREAD_MUTEX_ERRORCHECK', unit: 'ns/pair', better: 'lower' },
    ],
    reference: 'engine floor: a bare Atomics.compareExchange + Atomics.exchange on a shared Int32Array',
    runners: {
      'qemu-thread': lockRunner('qemu-thread'),
      v8: lockRunner('v8'),
      classic: lockRunner('classic'),
      reference: (ctx) =>
        guarded(async () => ok('time', { time: await lockSamples(ctx, 'floor', { w: shared(1) }) })),
    },
    notApplicable: { 'qemu-nospin': ONE_THREAD },
  },
  pingpongDef(1),
  pingpongDef(4),
  pingpongDef(8),
  pingpongDef(16),
  {
    id: 'sem',
    title: '7. semaphore post/wait hand-off',
    section: 'handoff',
    metrics: handoffMetrics,
    runners: {
      'qemu-thread': handoffRunner('sem', 'qemu-thread'),
      'qemu-nospin': handoffRunner('sem', 'qemu-nospin'),
      classic: handoffRunner('sem', 'classic'),
    },
    notApplicable: { v8: `${V8_SCOPE}; V8 has no semaphore` },
  },
  {
    id: 'event',
    title: '7. event set/wait hand-off',
    section: 'handoff',
    metrics: handoffMetrics,
    runners: {
      'qemu-thread': handoffRunner('event', 'qemu-thread'),
      'qemu-nospin': handoffRunner('event', 'qemu-nospin'),
      classic: handoffRunner('event', 'classic'),
    },
    notApplicable: { v8: `${V8_SCOPE}; V8 has no event` },
  },
  ...(
    [
      [1, 1],
      [2, 2],
    ] as const
  ).map(
    ([p, c]): WorkloadDef => ({
      id: `bb-${p}x${c}`,
      title: `3. bounded buffer(64) ${p}+${c}`,
      section: 'handoff',
      metrics: [
        { key: 'rate', label: 'rate', unit: 'items/s', better: 'higher' },
        { key: 'cpu', label: 'process CPU', unit: 'ns/item', better: 'lower' },
      ],
      runners: allLockShaped((x) => bbRunner(p, c, x)),
    }),
  ),
  broadcastDef(8),
  broadcastDef(32),
  contendedDef(1),
  contendedDef(2),
  contendedDef(4),
  contendedDef(16),
  {
    id: 'vcpu',
    title: '6. vCPU start (create+handshake)',
    section: 'start',
    metrics: [
      { key: 'wall', label: 'wall', unit: 'ms/thread', better: 'lower' },
      { key: 'cpu', label: 'process CPU', unit: 'ms/thread', better: 'lower' },
      {
        key: 'unawaited',
        label: 'from QemuThread.prestart(n), not awaited',
        unit: 'ms/thread',
        better: 'lower',
      },
      { key: 'unawaitedCpu', label: 'the same, process CPU', unit: 'ms/thread', better: 'lower' },
      { key: 'pooled', label: 'from a pool booted beforehand', unit: 'ms/thread', better: 'lower' },
      {
        key: 'blocked',
        label: 'bare worker, creator blocked in Atomics.wait',
        unit: 'ms/thread',
        better: 'lower',
      },
    ],
    reference: 'a bare `new Worker` until its first message (no library, no handshake)',
    runners: {
      'qemu-thread': vcpuRunner('qemu-thread'),
      classic: vcpuRunner('classic'),
      reference: vcpuRunner('reference'),
    },
    notApplicable: {
      v8: V8_SCOPE,
      'qemu-nospin': 'the creator waits once per thread, for tens of milliseconds: spinning plays no part',
    },
  },
];

/** One cell from the cells of several rounds: every metric's samples pooled. */
export function mergeCells(cells: readonly Cell[]): Cell {
  const notOk = cells.find((c) => c.status !== 'ok');
  if (notOk || cells.length === 1) return notOk ?? cells[0];
  const oks = cells as Extract<Cell, { status: 'ok' }>[];
  const keys = [...new Set(oks.flatMap((c) => Object.keys(c.metrics)))];
  const metrics = Object.fromEntries(
    keys.map((k) => [k, stat(oks.flatMap((c) => c.metrics[k]?.samples ?? []))]),
  );
  const notes = [...new Set(oks.flatMap((c) => (c.note ? [c.note] : [])))];
  return { status: 'ok', metrics, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
}

/** The cell of a contender that does not take part in a workload. */
export function notApplicable(def: WorkloadDef, contender: ContenderId): Cell {
  return {
    status: 'n/a',
    reason:
      def.notApplicable?.[contender] ??
      (contender === 'reference' ? 'no reference measurement for this workload' : 'not measured'),
  };
}
