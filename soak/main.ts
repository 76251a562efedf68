/**
 * The soak: `npm run soak -- [--seconds N] [--threads N] [--quick] [--seed N]`, or after a build
 * `node build/soak/main.js ...`. (With `--chaos`, the fault-injection soak instead: soak/chaos/controller.ts,
 * which terminates threads at random points while the others work.) Worker threads (qemu_thread_create) run every primitive in a random mix
 * (soak/worker.ts) and check invariants as they go; this thread watches their progress and, at the end,
 * stops them, checks the final state and prints how many operations of each kind were done and how many
 * violations were found.
 *
 * Exit status: 0 when no violation was found; 1 on any violation, including a thread that made no
 * progress for WATCHDOG_MS (a lost wake-up or a deadlock: the state of every primitive is printed, and the
 * process ends without joining the stuck threads); 2 for bad options. The last line of output is
 * `soak-result {json}`, for scripts and the smoke test.
 */
import { writeSync } from 'node:fs';
import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThread,
  QemuThreadError,
  qemu_cond_broadcast,
  qemu_cond_destroy,
  qemu_event_destroy,
  qemu_event_set,
  qemu_lockcnt_count,
  qemu_lockcnt_destroy,
  qemu_mutex_destroy,
  qemu_rec_mutex_destroy,
  qemu_sem_destroy,
  qemu_spin_destroy,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import {
  CAPACITY,
  FAULTS,
  type Fault,
  ITEM_SHIFT,
  KINDS,
  SEM_UNITS,
  type SoakArg,
  type SoakPrims,
  T_CONSUMED,
  T_EXPECT,
  T_PRODUCED,
  T_PROGRESS,
  threadWord,
  W,
  wordsFor,
} from './layout.js';

const HELP = `usage: node build/soak/main.js [options]   (or: npm run soak -- [options])
  --seconds N   run for N seconds (default 60; hours are fine)
  --quick       a smoke run of about 3 seconds
  --threads N   worker threads, 2..64 (default 4)
  --seed N      seed of the threads' activity order (default: from the clock, printed)
  --watchdog S  a thread without progress for S seconds is a violation (default 10)
  --inject-fault mutex|stall
                a deliberate bug (an update outside the lock / a thread that stops), to check the checks
  --chaos       the fault-injection soak instead (--chaos --help for its options)
  --help        this text
Exit status: 0 no violation; 1 a violation or a thread without progress; 2 bad options.
`;

/** How often this thread samples the counters. */
const TICK_MS = 250;

interface Options {
  seconds: number;
  threads: number;
  seed: number;
  /** A thread that completes no operation for this long is stuck: a lost wake-up or a deadlock. */
  watchdogMs: number;
  fault: Fault | null;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options | null {
  const opts: Options = {
    seconds: 60,
    threads: 4,
    seed: Date.now() % 1_000_000,
    watchdogMs: 10_000,
    fault: null,
  };
  const int = (name: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`${name} expects an integer from ${min} to ${max}, got ${value ?? 'nothing'}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return null;
    else if (a === '--quick') opts.seconds = 3;
    else if (a === '--seconds') opts.seconds = int(a, argv[++i], 1, 1_000_000);
    else if (a === '--threads') opts.threads = int(a, argv[++i], 2, 64);
    else if (a === '--seed') opts.seed = int(a, argv[++i], 0, 2 ** 31 - 1);
    else if (a === '--watchdog') opts.watchdogMs = 1000 * int(a, argv[++i], 1, 3600);
    else if (a === '--inject-fault') {
      const f = argv[++i];
      if (!FAULTS.includes(f as Fault)) throw new UsageError(`--inject-fault expects ${FAULTS.join(' or ')}`);
      opts.fault = f as Fault;
    } else throw new UsageError(`unknown option '${a}'`);
  }
  return opts;
}

const say = (text: string) => writeSync(1, `${text}\n`);
const napWord = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => Atomics.wait(napWord, 0, 0, ms);

function createPrims(threads: number): SoakPrims {
  return {
    m: QemuMutex.create(),
    r: QemuRecMutex.create(),
    s: QemuSpin.create(),
    l: QemuLockCnt.create(),
    sem: QemuSemaphore.create(SEM_UNITS),
    events: Array.from({ length: threads }, () => QemuEvent.create(false)),
    cm: QemuMutex.create(),
    cc: QemuCond.create(),
    bm: QemuMutex.create(),
    notFull: QemuCond.create(),
    notEmpty: QemuCond.create(),
  };
}

function describePrims(p: SoakPrims): string {
  const all = { ...p, events: undefined };
  const lines = Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${k}: ${String(v)}`);
  p.events.forEach((e, i) => {
    lines.push(`  events[${i}]: ${String(e)}`);
  });
  return lines.join('\n');
}

export function main(argv: string[]): number {
  let opts: Options | null;
  try {
    opts = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeSync(2, `soak: ${error.message}\n${HELP}`);
    return 2;
  }
  if (opts === null) {
    say(HELP.trimEnd());
    return 0;
  }
  const { seconds, threads: n, seed, watchdogMs: WATCHDOG_MS, fault } = opts;
  const words = new Int32Array(new SharedArrayBuffer(4 * wordsFor(n)));
  words[W.L_PTR] = 1;
  words[W.L_ALIVE] = 1;
  const p = createPrims(n);
  say(
    `soak: ${n} threads, ${seconds} s, seed ${seed}, watchdog ${WATCHDOG_MS / 1000} s` +
      (fault ? `, injected fault: ${fault}` : ''),
  );

  const started = performance.now();
  const threads: QemuThread[] = [];
  for (let index = 0; index < n; index++) {
    const t = new QemuThread();
    const arg: SoakArg = { index, threads: n, words, p, seed: seed * 64 + index, fault };
    qemu_thread_create(
      t,
      `soak-${index}`,
      new URL('./worker.js#soakThread', import.meta.url),
      arg,
      QEMU_THREAD_JOINABLE,
    );
    threads.push(t);
  }

  // Operations per kind, accumulated from the 32-bit shared counters (which may wrap in a long run).
  const ops = new Map<string, number>(KINDS.map((k) => [k, 0]));
  const lastOps = KINDS.map(() => 0);
  const sample = () => {
    KINDS.forEach((k, i) => {
      const now = Atomics.load(words, W.OPS + i);
      ops.set(k, (ops.get(k) ?? 0) + ((now - lastOps[i]) >>> 0));
      lastOps[i] = now;
    });
  };
  const progress = Array.from({ length: n }, () => ({ value: 0, since: performance.now() }));
  let stalled = '';
  const deadline = started + seconds * 1000;
  let nextReport = started + 10_000;
  while (performance.now() < deadline && !stalled && Atomics.load(words, W.DONE) === 0) {
    nap(TICK_MS);
    sample();
    const now = performance.now();
    progress.forEach((pr, t) => {
      const v = Atomics.load(words, threadWord(t, T_PROGRESS));
      if (v !== pr.value) [pr.value, pr.since] = [v, now];
      else if (now - pr.since > WATCHDOG_MS && !stalled) {
        stalled = `thread ${t} completed no operation for ${WATCHDOG_MS / 1000} s`;
      }
    });
    if (now >= nextReport && seconds > 10) {
      nextReport += seconds > 600 ? 60_000 : 10_000;
      const total = [...ops.values()].reduce((a, b) => a + b, 0);
      say(
        `soak: ${Math.round((now - started) / 1000)} s, ${total} operations, ${Atomics.load(words, W.VIOLATIONS)} violations`,
      );
    }
  }

  // Stop: raise the flag, then wake whatever may sleep until every thread has finished (bounded).
  Atomics.store(words, W.STOP, 1);
  const stopBy = performance.now() + (stalled ? 2_000 : WATCHDOG_MS);
  while (Atomics.load(words, W.DONE) < n && performance.now() < stopBy) {
    for (const e of p.events) qemu_event_set(e);
    for (const c of [p.cc, p.notFull, p.notEmpty]) qemu_cond_broadcast(c);
    Atomics.wait(words, W.DONE, Atomics.load(words, W.DONE), 20);
  }
  sample();
  const violations: string[] = [];
  const finished = Atomics.load(words, W.DONE) >= n;
  if (stalled) violations.push(`watchdog: ${stalled}`);
  if (!finished) {
    violations.push(`${n - Atomics.load(words, W.DONE)} thread(s) did not stop`);
    writeSync(2, `soak: state of the primitives:\n${describePrims(p)}\n`);
  } else {
    for (const t of threads) {
      try {
        qemu_thread_join(t);
      } catch (error) {
        violations.push(`a thread died: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    violations.push(...finalChecks(words, p, n, ops.get('cond') ?? 0));
  }
  const inThreads = Atomics.load(words, W.VIOLATIONS);
  const elapsed = (performance.now() - started) / 1000;

  say(`soak: ${elapsed.toFixed(1)} s, ${n} threads`);
  for (const [k, v] of ops) say(`  ${k.padEnd(10)} ${String(v).padStart(12)} ops`);
  for (const v of violations) say(`  VIOLATION: ${v}`);
  const total = inThreads + violations.length;
  say(`soak: ${total} violation(s)${inThreads ? ` (${inThreads} reported by the threads above)` : ''}`);
  const result = {
    seconds: Number(elapsed.toFixed(3)),
    threads: n,
    seed,
    ops: Object.fromEntries(ops),
    violations: total,
  };
  say(`soak-result ${JSON.stringify(result)}`);
  if (!finished) {
    // Stuck threads cannot be joined and would keep the process alive.
    process.exit(1);
  }
  return total === 0 ? 0 : 1;
}

/** The invariants of the final state, once every thread has stopped; returns the violations. */
function finalChecks(w: Int32Array, p: SoakPrims, n: number, condOps: number): string[] {
  const out: string[] = [];
  const expectEqual = (what: string, got: number, want: number) => {
    if (got !== want) out.push(`${what}: ${got}, expected ${want}`);
  };
  expectEqual('mutex: locked counter vs atomic counter', w[W.M_PLAIN], Atomics.load(w, W.M_ATOMIC));
  expectEqual('rec mutex: locked counter vs atomic counter', w[W.R_PLAIN], Atomics.load(w, W.R_ATOMIC));
  expectEqual('spin: locked counter vs atomic counter', w[W.S_PLAIN], Atomics.load(w, W.S_ATOMIC));
  expectEqual('lockcnt: alive list', w[W.L_ALIVE], w[W.L_PTR]);
  expectEqual('lockcnt: visitors left', qemu_lockcnt_count(p.l), 0);
  expectEqual('semaphore: units', p.sem.value(), SEM_UNITS);
  expectEqual('semaphore: units in use', w[W.SEM_IN_USE], 0);
  expectEqual('cond: ball vs shadow', w[W.C_BALL], w[W.C_SHADOW]);
  expectEqual('cond: ball vs moves counted', w[W.C_BALL] >>> 0, condOps % 2 ** 32);
  // The buffer: what each producer put in was consumed, or is still in the ring, exactly once.
  const left = new Array(n).fill(0);
  for (let i = 0; i < w[W.B_FILL]; i++) {
    left[w[W.B_SLOTS + ((w[W.B_HEAD] + i) % CAPACITY)] & ((1 << ITEM_SHIFT) - 1)]++;
  }
  for (let t = 0; t < n; t++) {
    const produced = w[threadWord(t, T_PRODUCED)];
    const consumed = w[threadWord(t, T_CONSUMED)];
    // 32-bit counters, compared as such (they may wrap in a run of days).
    expectEqual(`buffer: items of producer ${t} consumed + left`, (consumed + left[t]) | 0, produced);
    expectEqual(`buffer: next expected item of producer ${t}`, w[threadWord(t, T_EXPECT)], consumed);
  }
  // Every lock free and nobody waiting: every destroy succeeds (EBUSY otherwise).
  const destroy = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      out.push(`${what}: ${error instanceof QemuThreadError ? error.message : String(error)}`);
    }
  };
  destroy('mutex', () => qemu_mutex_destroy(p.m));
  destroy('rec mutex', () => qemu_rec_mutex_destroy(p.r));
  destroy('spin', () => qemu_spin_destroy(p.s));
  destroy('lockcnt', () => qemu_lockcnt_destroy(p.l));
  destroy('semaphore', () => qemu_sem_destroy(p.sem));
  p.events.forEach((e, i) => {
    destroy(`event ${i}`, () => qemu_event_destroy(e));
  });
  destroy('cond mutex', () => qemu_mutex_destroy(p.cm));
  destroy('cond', () => qemu_cond_destroy(p.cc));
  destroy('buffer mutex', () => qemu_mutex_destroy(p.bm));
  destroy('buffer not-full cond', () => qemu_cond_destroy(p.notFull));
  destroy('buffer not-empty cond', () => qemu_cond_destroy(p.notEmpty));
  return out;
}

const argv = process.argv.slice(2);
if (argv.includes('--chaos')) {
  // The chaos soak (soak/chaos/controller.ts) has options and an async loop of its own.
  const { runChaos } = await import('./chaos/controller.js');
  process.exitCode = await runChaos(argv);
} else {
  process.exitCode = main(argv);
}
