/**
 * Hand-off costs on the runtime that runs this script, to compare runtimes (why is a hand-off slower on
 * one than on another?): two plain workers pass a turn back and forth, N times per repetition, through
 *
 * - `futex`: Atomics.wait / Atomics.notify only (every hand-off a sleep and a wake-up: the engine's park);
 * - `spin`: Atomics.load only (never sleeps: the engine's loads and the cache line's transfer);
 * - `cond`: QemuMutex + QemuCond, as the bench's workload 2 (the library's spin, then park);
 * - `sem`: two QemuSemaphores, as the bench's workload 7;
 * - `mutex`, `qspin`: not a hand-off but the other spin loops: both workers lock and unlock one QemuMutex
 *   (or QemuSpin) around an increment, N times each (nanoseconds per lock+unlock and worker).
 *
 * Prints one line per workload: the median nanoseconds per hand-off and, for the library's, the sleeps
 * (Atomics.wait calls) per hand-off; `--json` prints the same as JSON. Timings only, no pass/fail: it is a
 * measuring aid (see docs/runtimes.md), run as `<runtime> build/tools/runtimes-handoff.js [--only w,...]`.
 */
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { parkStats, QemuCond, QemuMutex, QemuSemaphore, QemuSpin, resetParkStats } from 'qemu-thread';

type Workload = 'futex' | 'spin' | 'cond' | 'sem' | 'mutex' | 'qspin';
const WORKLOADS: Workload[] = ['futex', 'spin', 'cond', 'sem', 'mutex', 'qspin'];

interface Job {
  workload: Workload;
  side: 0 | 1;
  rounds: number;
  reps: number;
  turn: Int32Array;
  /** [0]: sides ready for the next repetition (a barrier, so both start each one together). */
  barrier: Int32Array;
  m: QemuMutex;
  c: QemuCond;
  a: QemuSemaphore;
  b: QemuSemaphore;
  s: QemuSpin;
}

interface SideResult {
  /** Nanoseconds per hand-off, one per repetition. */
  ns: number[];
  parks: number;
}

function barrier(words: Int32Array, generation: number): void {
  Atomics.add(words, 0, 1);
  Atomics.notify(words, 0);
  const target = 2 * generation;
  for (let v = Atomics.load(words, 0); v < target; v = Atomics.load(words, 0)) Atomics.wait(words, 0, v);
}

/** One side's `rounds` turns: waits for its turn, then hands it to the other side. */
function turns(job: Job): void {
  const { turn, side, rounds } = job;
  const other = 1 - side;
  switch (job.workload) {
    case 'futex':
      for (let i = 0; i < rounds; i++) {
        for (let v = Atomics.load(turn, 0); v !== side; v = Atomics.load(turn, 0)) Atomics.wait(turn, 0, v);
        Atomics.store(turn, 0, other);
        Atomics.notify(turn, 0, 1);
      }
      return;
    case 'spin':
      for (let i = 0; i < rounds; i++) {
        while (Atomics.load(turn, 0) !== side) {}
        Atomics.store(turn, 0, other);
      }
      return;
    case 'cond':
      for (let i = 0; i < rounds; i++) {
        job.m.lock();
        while (turn[0] !== side) job.c.wait(job.m);
        turn[0] = other;
        job.c.signal();
        job.m.unlock();
      }
      return;
    case 'mutex':
      for (let i = 0; i < rounds; i++) {
        job.m.lock();
        turn[0]++;
        job.m.unlock();
      }
      return;
    case 'qspin':
      for (let i = 0; i < rounds; i++) {
        job.s.lock();
        turn[0]++;
        job.s.unlock();
      }
      return;
    case 'sem': {
      const [mine, theirs] = side === 0 ? [job.a, job.b] : [job.b, job.a];
      for (let i = 0; i < rounds; i++) {
        if (side === 0) {
          theirs.post();
          mine.wait();
        } else {
          mine.wait();
          theirs.post();
        }
      }
    }
  }
}

function runSide(job: Job): SideResult {
  job.m = QemuMutex.from(job.m);
  job.c = QemuCond.from(job.c);
  job.a = QemuSemaphore.from(job.a);
  job.b = QemuSemaphore.from(job.b);
  job.s = QemuSpin.from(job.s);
  const ns: number[] = [];
  let parks = 0;
  for (let rep = 0; rep < job.reps; rep++) {
    barrier(job.barrier, rep + 1);
    resetParkStats();
    const t0 = performance.now();
    turns(job);
    // A hand-off round is two hand-offs (there and back); a contended round one lock+unlock.
    const perRound = job.workload === 'mutex' || job.workload === 'qspin' ? 1 : 2;
    ns.push(((performance.now() - t0) * 1e6) / (perRound * job.rounds));
    parks += parkStats().parks;
  }
  return { ns, parks };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function measure(workload: Workload, rounds: number, reps: number) {
  const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
  const common = {
    workload,
    rounds,
    reps,
    turn: shared(1),
    barrier: shared(1),
    m: QemuMutex.create(),
    c: QemuCond.create(),
    a: QemuSemaphore.create(0),
    b: QemuSemaphore.create(0),
    s: QemuSpin.create(),
  };
  const sides = ([0, 1] as const).map(
    (side) =>
      new Promise<SideResult>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { ...common, side } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  const [first, second] = await Promise.all(sides);
  // The first repetition warms up the code and the workers; it is left out.
  return {
    workload,
    nsPerOp: Math.round(median(first.ns.slice(1))),
    samples: first.ns.slice(1).map(Math.round),
    sleepsPerOp:
      workload !== 'futex' && workload !== 'spin'
        ? Math.round(((first.parks + second.parks) / (2 * rounds * reps)) * 1000) / 1000
        : null,
  };
}

if (isMainThread) {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      rounds: { type: 'string', default: '5000' },
      reps: { type: 'string', default: '6' },
      json: { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',') as Workload[] | undefined;
  const results = [];
  for (const w of WORKLOADS.filter((x) => only === undefined || only.includes(x))) {
    const r = await measure(w, Number(values.rounds), Number(values.reps));
    results.push(r);
    if (!values.json) {
      const sleeps = r.sleepsPerOp === null ? '' : `, ${r.sleepsPerOp} sleeps/op`;
      process.stdout.write(
        `${w.padEnd(6)} ${String(r.nsPerOp).padStart(7)} ns/op${sleeps}  [${r.samples.join(' ')}]\n`,
      );
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const { parentPort } = await import('node:worker_threads');
  parentPort!.postMessage(runSide(workerData as Job));
}
