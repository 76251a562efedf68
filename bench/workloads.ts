/**
 * The workloads of issue 5, main-thread side: for each one, its parameters (quick and full), the shared
 * state each JS contender gets, how many workers run it, and how their reports become samples. The
 * workers' side is roles.ts; the pthreads side is native/pthread-bench.c, whose sizes match these.
 *
 * Sizes are per round: a full run measures every cell in 3 rounds, contenders taking turns within each
 * round, and pools the samples, so that a load change on this shared machine hits every contender alike.
 */
import { Worker } from 'node:worker_threads';
import { median, newControl, type TaskData, type WorkerMessage, type WorkerResult } from './harness.js';
import { classicKit, qemuKit } from './kits.js';
import { type Native, runNative } from './native.js';
import { BB_CAPACITY, BB_META_WORDS, BROADCAST_META_WORDS, FUTEX_COUNTER_WORDS } from './roles.js';
import { v8Condition, v8Mutex } from './v8.js';
import { bareWorkerStart, bareWorkerStartBlocked, prestartFunction, vcpuClassic, vcpuQemu } from './vcpu.js';

export type ContenderId = 'qemu-thread' | 'pthreads' | 'v8' | 'classic' | 'reference';
export const CONTENDER_IDS: readonly ContenderId[] = [
  'qemu-thread',
  'pthreads',
  'v8',
  'classic',
  'reference',
];

export type Cell =
  | {
      status: 'ok';
      median: number;
      min: number;
      max: number;
      samples: number[];
      /** Side figures, each the median over repetitions. */
      extra?: Record<string, number>;
      /** Something worth knowing about how the figure was obtained (a retry, ...). */
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

export interface WorkloadDef {
  id: string;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  /** What the reference column holds in this row, if anything. */
  reference?: string;
  /** The JS contenders' cells, each run in a process of its own (cell.ts); pthreads: runNativeCell. */
  runners: Partial<Record<Exclude<ContenderId, 'pthreads'>, Runner>>;
  /** Why a contender without a runner is n/a here. */
  notApplicable?: Partial<Record<ContenderId, string>>;
}

// Helpers ---------------------------------------------------------------------------------------------------

const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

export function ok(samples: number[], extra?: Record<string, number>): Cell {
  if (samples.length === 0 || samples.some((x) => !Number.isFinite(x) || x <= 0)) {
    return { status: 'failed', reason: `bad samples: ${samples.join(', ') || 'none'}` };
  }
  return {
    status: 'ok',
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples,
    ...(extra && Object.keys(extra).length > 0 ? { extra } : {}),
  };
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

interface Factory {
  mutex(): unknown;
  cond(): unknown;
  sem(): unknown;
  event(): unknown;
}

function factoryFor(contender: string): Factory {
  if (contender === 'qemu-thread') return qemuKit;
  if (contender === 'classic') return classicKit;
  if (contender === 'v8') {
    const Mutex = v8Mutex();
    const Condition = v8Condition();
    const none = () => {
      throw new Error('V8 has no semaphore or event');
    };
    return { mutex: () => new Mutex(), cond: () => new Condition(), sem: none, event: none };
  }
  throw new Error(`no factory for '${contender}'`);
}

/** The pthreads cell of one workload, from the C program (run by the supervisor, not in a cell process). */
export async function runNativeCell(def: WorkloadDef, ctx: Context): Promise<Cell> {
  return guarded(async () => {
    if (!ctx.native.binary) return { status: 'skipped', reason: ctx.native.reason ?? 'not built' };
    const r = await runNative(ctx.native.binary, def.id, ctx.quick, ctx.timeoutMs);
    if (r.failures.length > 0) throw new CorrectnessError(r.failures.join('; '));
    const extra: Record<string, number> = {};
    for (const [key, values] of r.extra.get(def.id) ?? []) extra[key] = median(values);
    const errorcheck = r.samples.get('lock-errorcheck');
    if (def.id === 'lock' && errorcheck) extra.errorcheckNsPerPair = median(errorcheck);
    return ok(r.samples.get(def.id) ?? [], extra);
  });
}

/** The skipped cell for the V8 contender when this node lacks Atomics.Mutex; null otherwise. */
function v8Guard(ctx: Context, contender: string): Cell | null {
  return contender === 'v8' && ctx.v8Unavailable ? { status: 'skipped', reason: ctx.v8Unavailable } : null;
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
  return r.samples ?? [];
}

const lockRunner =
  (contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  (ctx) =>
    guarded(async () => {
      const skip = v8Guard(ctx, contender);
      if (skip) return skip;
      const samples = await lockSamples(ctx, contender, { m: factoryFor(contender).mutex() });
      if (contender !== 'qemu-thread') return ok(samples);
      const methods = await lockSamples(ctx, 'qemu-thread-methods', { m: qemuKit.mutex() });
      // The cost of tracing and QSP while they are off: the same lock word, through the entry points that
      // carry the "is instrumentation on?" branch and through the ones without it (issue 4).
      const checked = await lockSamples(ctx, 'qemu-thread-checked', { m: qemuKit.mutex() });
      const bare = await lockSamples(ctx, 'qemu-thread-uninstrumented', { m: qemuKit.mutex() });
      return ok(samples, {
        methodsNsPerPair: median(methods),
        instrumentedOffNsPerPair: median(checked),
        uninstrumentedNsPerPair: median(bare),
      });
    });

// 2. / 7. Two-thread hand-offs --------------------------------------------------------------------------

function handoffParams(ctx: Context) {
  return ctx.quick ? { reps: 3, iters: 300, warm: 1 } : { reps: 2, iters: 4000, warm: 1 };
}

const handoffRunner =
  (workload: 'pingpong' | 'sem' | 'event', contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  (ctx) =>
    guarded(async () => {
      const skip = v8Guard(ctx, contender);
      if (skip) return skip;
      const f = factoryFor(contender);
      const state: Record<string, unknown> =
        workload === 'pingpong'
          ? { m: f.mutex(), c: f.cond(), turn: shared(1) }
          : workload === 'sem'
            ? { a: f.sem(), b: f.sem() }
            : { a: f.event(), b: f.event() };
      const [first] = await runWorkers(ctx, { workload, contender, params: handoffParams(ctx), state }, 2);
      return ok(first.samples ?? []);
    });

// 3. Bounded buffer ---------------------------------------------------------------------------------------

/** Per repetition (warm-up dropped): the span from the first worker's start to the last one's end. */
function spans(results: WorkerResult[], warm: number): number[] {
  const reps = results[0].starts?.length ?? 0;
  const out: number[] = [];
  for (let r = warm; r < reps; r++) {
    const start = Math.min(...results.map((x) => x.starts![r]));
    const end = Math.max(...results.map((x) => x.ends![r]));
    out.push(end - start);
  }
  return out;
}

const bbRunner =
  (producers: number, consumers: number, contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  (ctx) =>
    guarded(async () => {
      const skip = v8Guard(ctx, contender);
      if (skip) return skip;
      const f = factoryFor(contender);
      const items = ctx.quick ? 20_000 : 200_000;
      const reps = 2 + 1;
      const seen = new Uint8Array(new SharedArrayBuffer(items * reps));
      const state = {
        m: f.mutex(),
        notFull: f.cond(),
        notEmpty: f.cond(),
        ring: shared(BB_CAPACITY),
        meta: shared(BB_META_WORDS),
        seen,
      };
      const params = { producers, items, reps };
      const results = await runWorkers(
        ctx,
        { workload: 'bb', contender, params, state },
        producers + consumers,
      );
      let wrong = 0;
      for (let i = 0; i < seen.length; i++) if (seen[i] !== 1) wrong++;
      if (wrong > 0) {
        throw new CorrectnessError(`${wrong} of ${seen.length} items were not consumed exactly once`);
      }
      return ok(spans(results, 1).map((ns) => items / (ns / 1e9)));
    });

// 4. Broadcast ----------------------------------------------------------------------------------------------

export const BROADCAST_WAITERS = 8;

const broadcastRunner =
  (contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  (ctx) =>
    guarded(async () => {
      const skip = v8Guard(ctx, contender);
      if (skip) return skip;
      const f = factoryFor(contender);
      const state = {
        m: f.mutex(),
        c: f.cond(),
        ack: f.cond(),
        meta: shared(BROADCAST_META_WORDS),
        lastAck: new Float64Array(new SharedArrayBuffer(8)),
        counters: shared(FUTEX_COUNTER_WORDS),
      };
      const params = {
        waiters: BROADCAST_WAITERS,
        rounds: ctx.quick ? 20 : 100,
        warm: ctx.quick ? 3 : 20,
        // V8 parks in its own queue, not in Atomics.wait: nothing to count.
        countRounds: contender === 'v8' ? 0 : ctx.quick ? 10 : 40,
      };
      const [first] = await runWorkers(
        ctx,
        { workload: 'broadcast', contender, params, state },
        BROADCAST_WAITERS + 1,
      );
      return ok(first.samples ?? [], first.extra);
    });

// 5. Contended mutex ----------------------------------------------------------------------------------------

const contendedRunner =
  (threads: number, contender: 'qemu-thread' | 'classic' | 'v8'): Runner =>
  (ctx) =>
    guarded(async () => {
      const skip = v8Guard(ctx, contender);
      if (skip) return skip;
      const f = factoryFor(contender);
      const state = { m: f.mutex(), counter: shared(1), atomicCounter: shared(1) };
      const params = ctx.quick ? { ms: 60, reps: 3 } : { ms: 250, reps: 3 };
      const results = await runWorkers(ctx, { workload: 'contended', contender, params, state }, threads);
      const failures = results.flatMap((r) => r.failures ?? []);
      if (failures.length > 0) throw new CorrectnessError(failures.join('; '));
      const rates: number[] = [];
      const mins: number[] = [];
      const maxes: number[] = [];
      const durations = spans(results, 1);
      for (let r = 1; r < params.reps; r++) {
        const counts = results.map((x) => x.counts![r]);
        rates.push(counts.reduce((a, b) => a + b, 0) / (durations[r - 1] / 1e9));
        mins.push(Math.min(...counts));
        maxes.push(Math.max(...counts));
      }
      return ok(rates, { minPerThread: median(mins), maxPerThread: median(maxes) });
    });

// 6. vCPU start -------------------------------------------------------------------------------------------

function vcpuShape(ctx: Context) {
  return ctx.quick ? { runs: 1, threads: 2 } : { runs: 1, threads: 4 };
}

const vcpuRunner =
  (which: 'qemu-thread' | 'classic' | 'reference'): Runner =>
  (ctx) =>
    guarded(async () => {
      const { runs, threads } = vcpuShape(ctx);
      const samples: number[] = [];
      for (let run = 0; run < runs; run++) {
        if (which === 'qemu-thread') samples.push(...vcpuQemu(threads));
        else if (which === 'classic') samples.push(...(await vcpuClassic(threads)));
        else samples.push(...(await bareWorkerStart(threads)));
      }
      if (which === 'reference') {
        const blocked: number[] = [];
        for (let run = 0; run < runs; run++) blocked.push(...(await bareWorkerStartBlocked(threads)));
        return ok(samples, { blockedCreatorMsPerThread: median(blocked) });
      }
      if (which !== 'qemu-thread') return ok(samples);
      // The same with the library's pre-started pool, booted beforehand (the boot is not timed).
      const prestart = prestartFunction();
      if (!prestart) return ok(samples);
      const pooled: number[] = [];
      for (let run = 0; run < runs; run++) {
        prestart(threads);
        await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 500 : 1000));
        pooled.push(...vcpuQemu(threads));
      }
      return ok(samples, { prestartedMsPerThread: median(pooled) });
    });

// The table --------------------------------------------------------------------------------------------------

const V8_SCOPE =
  "outside the V8 contender's scope (issue 5: lock, ping-pong, bounded buffer, broadcast, contended)";

export const WORKLOADS: readonly WorkloadDef[] = [
  {
    id: 'lock',
    title: '1. uncontended lock+unlock',
    unit: 'ns/pair',
    better: 'lower',
    reference: 'engine floor: a bare Atomics.compareExchange + Atomics.exchange on a shared Int32Array',
    runners: {
      'qemu-thread': lockRunner('qemu-thread'),
      v8: lockRunner('v8'),
      classic: lockRunner('classic'),
      reference: (ctx) => guarded(async () => ok(await lockSamples(ctx, 'floor', { w: shared(1) }))),
    },
  },
  {
    id: 'pingpong',
    title: '2. cond ping-pong',
    unit: 'ns/hand-off',
    better: 'lower',
    runners: {
      'qemu-thread': handoffRunner('pingpong', 'qemu-thread'),
      v8: handoffRunner('pingpong', 'v8'),
      classic: handoffRunner('pingpong', 'classic'),
    },
  },
  {
    id: 'bb-1x1',
    title: '3. bounded buffer(64) 1+1',
    unit: 'items/s',
    better: 'higher',
    runners: {
      'qemu-thread': bbRunner(1, 1, 'qemu-thread'),
      v8: bbRunner(1, 1, 'v8'),
      classic: bbRunner(1, 1, 'classic'),
    },
  },
  {
    id: 'bb-2x2',
    title: '3. bounded buffer(64) 2+2',
    unit: 'items/s',
    better: 'higher',
    runners: {
      'qemu-thread': bbRunner(2, 2, 'qemu-thread'),
      v8: bbRunner(2, 2, 'v8'),
      classic: bbRunner(2, 2, 'classic'),
    },
  },
  {
    id: 'broadcast',
    title: '4. broadcast to 8 waiters',
    unit: 'us/round',
    better: 'lower',
    runners: {
      'qemu-thread': broadcastRunner('qemu-thread'),
      v8: broadcastRunner('v8'),
      classic: broadcastRunner('classic'),
    },
  },
  {
    id: 'contended-2',
    title: '5. contended mutex, 2 threads',
    unit: 'incr/s',
    better: 'higher',
    runners: {
      'qemu-thread': contendedRunner(2, 'qemu-thread'),
      v8: contendedRunner(2, 'v8'),
      classic: contendedRunner(2, 'classic'),
    },
  },
  {
    id: 'contended-4',
    title: '5. contended mutex, 4 threads',
    unit: 'incr/s',
    better: 'higher',
    runners: {
      'qemu-thread': contendedRunner(4, 'qemu-thread'),
      v8: contendedRunner(4, 'v8'),
      classic: contendedRunner(4, 'classic'),
    },
  },
  {
    id: 'vcpu',
    title: '6. vCPU start (create+handshake)',
    unit: 'ms/thread',
    better: 'lower',
    reference: 'a bare `new Worker` until its first message (no library, no handshake)',
    runners: {
      'qemu-thread': vcpuRunner('qemu-thread'),
      classic: vcpuRunner('classic'),
      reference: vcpuRunner('reference'),
    },
    notApplicable: { v8: V8_SCOPE },
  },
  {
    id: 'sem',
    title: '7. semaphore post/wait hand-off',
    unit: 'ns/hand-off',
    better: 'lower',
    runners: {
      'qemu-thread': handoffRunner('sem', 'qemu-thread'),
      classic: handoffRunner('sem', 'classic'),
    },
    notApplicable: { v8: `${V8_SCOPE}; V8 has no semaphore` },
  },
  {
    id: 'event',
    title: '7. event set/wait hand-off',
    unit: 'ns/hand-off',
    better: 'lower',
    runners: {
      'qemu-thread': handoffRunner('event', 'qemu-thread'),
      classic: handoffRunner('event', 'classic'),
    },
    notApplicable: { v8: `${V8_SCOPE}; V8 has no event` },
  },
];

/** One cell from the cells of several rounds: samples pooled, side figures the median of the rounds'. */
export function mergeCells(cells: readonly Cell[]): Cell {
  const notOk = cells.find((c) => c.status !== 'ok');
  if (notOk || cells.length === 1) return notOk ?? cells[0];
  const oks = cells as Extract<Cell, { status: 'ok' }>[];
  const keys = [...new Set(oks.flatMap((c) => Object.keys(c.extra ?? {})))];
  const extra = Object.fromEntries(
    keys.map((k) => [k, median(oks.flatMap((c) => (c.extra?.[k] === undefined ? [] : [c.extra[k]])))]),
  );
  const merged = ok(
    oks.flatMap((c) => c.samples),
    extra,
  );
  const notes = [...new Set(oks.flatMap((c) => (c.note ? [c.note] : [])))];
  return merged.status === 'ok' && notes.length > 0 ? { ...merged, note: notes.join('; ') } : merged;
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
