/**
 * The chaos soak (`npm run soak -- --chaos`): worker threads (worker.ts) run every primitive on shared
 * state with exact invariants while this thread, the controller, terminates random ones at random moments
 * (parked in each kind of wait, holding locks, joining, streaming a result) and starts replacements.
 * Only the creator of a thread may terminate it, so the controller creates every worker and joinee; its
 * loop never blocks (every wait here is async), since the end of a terminated thread is recorded from its
 * event loop (which is what makes a dead thread's locks come back with EOWNERDEAD).
 *
 * A run: a scripted prologue (prologue.ts: each kind of termination once, arranged step by step, each step
 * waiting for something observable), then epochs of random terminations, each closed by an audit. At an audit every
 * live thread waits at a barrier holding nothing, so the shared state must be exactly what the dead left:
 * every lock free or held by a dead thread (taken here, with EOWNERDEAD), every bank's sum intact, tickets
 * and semaphore units all back (less the units that threads died holding at an unknowable moment, which
 * are counted and returned), waiter counts back to 0. A hang (a thread, or this loop, without progress
 * for the watchdog period) is reported by the watchdog thread (watchdog.ts) with every thread's state.
 *
 * Exit status: 0 when there was no violation and no hang; 1 otherwise; 2 for bad options. The last line of
 * output is `soak-result {json}`; with --json, stdout is that JSON object alone.
 */
import { writeSync } from 'node:fs';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThread,
  QemuThreadError,
} from 'qemu-thread';
import {
  ACCOUNTS,
  ACTIVITIES,
  ARMABLE,
  BANK,
  CHAOS_FAULTS,
  type ChaosArg,
  type ChaosFault,
  type ChaosPrims,
  CLASS_NAMES,
  type DefectClass,
  decodeRequest,
  G,
  INITIAL,
  isStreamed,
  J,
  JOIN_OUTCOMES,
  JOINEE_TARGET,
  JOINEES,
  type JoineeArg,
  JS_CLAIMED,
  JS_FREE,
  JS_READY,
  joineeWord,
  LOCKS,
  type LockName,
  MAIN_SLOT,
  MAIN_TOKEN,
  MAX_GENERATION,
  MAX_SLOTS,
  P,
  REQ_CLAIMED,
  S,
  SEM_UNITS,
  STATES,
  type StateName,
  skippedMask,
  slotOfToken,
  slotWord,
  TICKETS,
  TOTAL_WORDS,
  tokenOf,
  VIOLATION_KINDS,
  type WatchdogArg,
} from './layout.js';
import { prologue } from './prologue.js';
import {
  checkBank,
  checkTickets,
  describeAll,
  enterGauge,
  joineeHandles,
  leaveGauge,
  liveSlotOfThread,
  moveTickets,
  ownerDead,
  prng,
  repairBank,
  repairList,
  stateName,
  totalViolations,
  violation,
  waitAsync,
} from './shared.js';
import { checkJoinOutcome } from './verify.js';

const HELP = `usage: npm run soak -- --chaos [options]   (or: node build/soak/main.js --chaos [options])
  --seconds N      run the random phase for N seconds (default 60)
  --quick          a smoke run: the scripted prologue and about 3 seconds of random terminations
  --threads N      worker threads, 4..${MAX_SLOTS} (default 6; every third one uses the async waits)
  --seed N         seed of every random choice (default: from the clock, printed)
  --watchdog S     no progress for S seconds is a hang (default 15)
  --kill-rate N    random terminations aimed at per second (default 10; one at a time, each with
                   its replacement started, so a loaded machine gets fewer)
  --epoch MS       milliseconds between audits (default 2000; 700 with --quick)
  --skip LIST      classes of known defects not to provoke, comma-separated, or 'known' for all:
                   ${CLASS_NAMES.join(', ')}
  --no-script      skip the scripted prologue
  --inject-fault stall|lost-wakeup
                   a deliberate bug (a thread that stops; a ticket returned without a signal), to check
                   that the watchdog reports it
  --json           print only the summary, as JSON
  --help           this text
Exit status: 0 no violation and no hang; 1 otherwise; 2 bad options.
`;

interface Options {
  seconds: number;
  threads: number;
  seed: number;
  watchdogMs: number;
  killRate: number;
  epochMs: number;
  skip: DefectClass[];
  script: boolean;
  fault: ChaosFault | null;
  json: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options | null {
  const opts: Options = {
    seconds: 60,
    threads: 6,
    seed: Date.now() % 1_000_000,
    watchdogMs: 15_000,
    killRate: 10,
    epochMs: 0,
    skip: [],
    script: true,
    fault: null,
    json: false,
  };
  let quick = false;
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
    else if (a === '--chaos') continue;
    else if (a === '--quick') quick = true;
    else if (a === '--seconds') opts.seconds = int(a, argv[++i], 1, 1_000_000);
    else if (a === '--threads') opts.threads = int(a, argv[++i], 4, MAX_SLOTS);
    else if (a === '--seed') opts.seed = int(a, argv[++i], 0, 2 ** 31 - 1);
    else if (a === '--watchdog') opts.watchdogMs = 1000 * int(a, argv[++i], 1, 3600);
    else if (a === '--kill-rate') opts.killRate = int(a, argv[++i], 0, 1000);
    else if (a === '--epoch') opts.epochMs = int(a, argv[++i], 100, 3_600_000);
    else if (a === '--no-script') opts.script = false;
    else if (a === '--json') opts.json = true;
    else if (a === '--skip') {
      const list = argv[++i] ?? '';
      for (const name of list.split(',').filter(Boolean)) {
        if (name === 'known') opts.skip.push(...CLASS_NAMES);
        else if ((CLASS_NAMES as string[]).includes(name)) opts.skip.push(name as DefectClass);
        else
          throw new UsageError(`--skip: unknown class '${name}'; classes: ${CLASS_NAMES.join(', ')}, known`);
      }
    } else if (a === '--inject-fault') {
      const f = argv[++i];
      if (!CHAOS_FAULTS.includes(f as ChaosFault)) {
        throw new UsageError(`--inject-fault expects ${CHAOS_FAULTS.join(' or ')}`);
      }
      opts.fault = f as ChaosFault;
    } else throw new UsageError(`unknown option '${a}'`);
  }
  if (quick) opts.seconds = 3;
  if (opts.epochMs === 0) opts.epochMs = quick ? 700 : 2000;
  opts.skip = [...new Set(opts.skip)];
  return opts;
}

// Never a negative delay: Node 24 and later warn on stderr for one (TimeoutNegativeWarning).
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Thrown out of the controller's steps once the run has failed fatally; the exit is already under way. */
class Fatal extends Error {}

export async function runChaos(argv: string[]): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeSync(2, `soak --chaos: ${error.message}\n${HELP}`);
    return 2;
  }
  if (opts === null) {
    writeSync(1, HELP);
    return 0;
  }
  return new Controller(opts).run();
}

export class Controller {
  readonly w = new Int32Array(new SharedArrayBuffer(4 * TOTAL_WORDS));
  readonly p: ChaosPrims;
  readonly joinees = new SharedArrayBuffer(JOINEES * QemuThread.BYTES);
  readonly handles = joineeHandles(this.joinees);
  readonly threads: QemuThread[] = [];
  readonly generation: number[] = [];
  readonly random: () => number;
  /** States not to terminate threads in: for blocking threads, for async ones. */
  readonly skipMasks: [number, number];
  readonly started = performance.now();
  readonly kills = new Map<string, number>();
  readonly asyncKills = new Map<string, number>();
  readonly scripted = new Map<string, string>();
  /** The slowest hand-over of a wake-up after its waiter was terminated, per scripted kind (ms). */
  readonly latencies = new Map<string, number>();
  /** Deaths whose moment leaves a semaphore unit / lockcnt visit unknowable (taken or not, given back or not). */
  semUnknown = 0;
  lockcntUnknown = 0;
  semLost = 0;
  lockcntLost = 0;
  audits = 0;
  randomKills = false;
  directedKills = false;
  autoJoinees = false;
  killBusy = false;
  /** Slots whose thread is being terminated (or has ended): their end is expected. */
  readonly terminating = new Set<number>();
  stopping = false;
  armedAt = 0;
  finished = false;
  chain: Promise<unknown> = Promise.resolve();
  readonly mainJoins = new Set<Promise<void>>();
  readonly lastSet: { want: number; token: number }[] = [];
  readonly reportedWaiterLeaks = new Set<string>();
  watchdogThread: QemuThread | null = null;
  ticker: ReturnType<typeof setInterval> | null = null;

  constructor(readonly opts: Options) {
    this.random = prng(opts.seed * 7 + 1);
    this.skipMasks = [skippedMask(opts.skip, false), skippedMask(opts.skip, true)];
    const w = this.w;
    for (const bank of [G.BANK_M, G.BANK_R, G.BANK_S]) {
      for (let i = 0; i < ACCOUNTS; i++) w[bank + BANK.ACC + i] = INITIAL;
    }
    w[G.T_FREE] = TICKETS;
    w[G.L_PTR] = 1;
    w[G.L_ALIVE] = 1;
    for (let s = 0; s <= MAIN_SLOT; s++) w[slotWord(s, P.GATE_SEEN)] = -1;
    w[slotWord(MAIN_SLOT, P.TOKEN)] = MAIN_TOKEN;
    this.p = {
      m: QemuMutex.create(),
      r: QemuRecMutex.create(),
      s: QemuSpin.create(),
      l: QemuLockCnt.create(),
      sem: QemuSemaphore.create(SEM_UNITS),
      tm: QemuMutex.create(),
      tc: QemuCond.create(),
      gm: QemuMutex.create(),
      gc: QemuCond.create(),
      events: Array.from({ length: opts.threads }, () => QemuEvent.create(false)),
    };
  }

  say(text: string): void {
    if (!this.opts.json) writeSync(1, `${text}\n`);
  }

  nowMs(): number {
    return Math.floor(performance.now() - this.started);
  }

  async run(): Promise<number> {
    const { opts, w } = this;
    this.say(
      `chaos: ${opts.threads} threads (${this.asyncSlots()} async), ${opts.seconds} s, seed ${opts.seed}, ` +
        `${opts.killRate} terminations/s, audit every ${opts.epochMs} ms, watchdog ${opts.watchdogMs / 1000} s` +
        `${opts.skip.length ? `, skipping ${opts.skip.join(', ')}` : ''}${opts.fault ? `, injected fault: ${opts.fault}` : ''}`,
    );
    Atomics.store(w, G.NOW_MS, 0);
    this.ticker = setInterval(() => this.tick(), 2);
    this.watchForFatal();
    const watchdogArg: WatchdogArg = {
      words: w,
      p: this.p,
      threads: opts.threads,
      watchdogMs: opts.watchdogMs,
      joinees: this.joinees,
    };
    this.watchdogThread = QemuThread.create(
      'chaos-watchdog',
      new URL('./watchdog.js#watchdog', import.meta.url),
      watchdogArg,
    );
    for (let slot = 0; slot < opts.threads; slot++) this.startWorker(slot);
    void this.serveRequests();
    try {
      if (opts.script || opts.fault === 'lost-wakeup') {
        await this.quiesce();
        await prologue(this);
        await this.audit();
        this.release();
      }
      this.autoJoinees = true;
      const deadline = performance.now() + opts.seconds * 1000;
      let nextReport = performance.now() + 10_000;
      while (performance.now() < deadline) {
        this.randomKills = true;
        this.directedKills = true;
        const until = Math.min(deadline, performance.now() + opts.epochMs);
        while (performance.now() < until) await sleep(Math.min(50, until - performance.now()));
        this.randomKills = false;
        this.directedKills = false;
        Atomics.store(w, G.ARM, 0);
        await this.idle();
        await this.quiesce();
        await this.audit();
        this.release();
        if (performance.now() >= nextReport) {
          nextReport += opts.seconds > 600 ? 60_000 : 10_000;
          this.say(
            `chaos: ${Math.round((performance.now() - this.started) / 1000)} s, ${this.totalKills()} terminations, ` +
              `${this.totalOps()} operations, ${totalViolations(w)} violations`,
          );
        }
      }
      this.autoJoinees = false;
      await this.finish();
    } catch (error) {
      if (error instanceof Fatal) return new Promise<number>(() => {});
      this.record(`controller: ${error instanceof Error ? error.stack : String(error)}`);
      return new Promise<number>(() => {});
    }
    return this.report();
  }

  asyncSlots(): number {
    let n = 0;
    for (let s = 0; s < this.opts.threads; s++) if (this.isAsyncSlot(s)) n++;
    return n;
  }

  isAsyncSlot(slot: number): boolean {
    return slot % 3 === 2;
  }

  maskOf(slot: number): number {
    return this.skipMasks[this.isAsyncSlot(slot) ? 1 : 0];
  }

  // --- Threads ----------------------------------------------------------------------------------------

  startWorker(slot: number): void {
    const w = this.w;
    this.generation[slot] = (this.generation[slot] ?? 0) + 1;
    if (this.generation[slot] >= MAX_GENERATION)
      this.fail(`slot ${slot}: more than ${MAX_GENERATION} generations`);
    const token = tokenOf(slot, this.generation[slot]);
    const at = (i: number) => slotWord(slot, i);
    for (const i of [
      P.SCRIPT,
      P.SCRIPT_ACK,
      P.HOLD_T,
      P.SEM_INTENT,
      P.SEM_HELD,
      P.L_VISIT,
      P.WANT,
      P.JOINING,
      P.REQ,
      P.ACTIVITY,
    ]) {
      Atomics.store(w, at(i), 0);
    }
    // No thread id for the slot until the new thread's is known: the old one's is dead (shared.ts).
    Atomics.store(w, at(P.TID), -1);
    Atomics.store(w, at(P.GATE_SEEN), -1);
    Atomics.store(w, at(P.STATE), S.starting);
    Atomics.store(w, at(P.STATE_SINCE), this.nowMs());
    Atomics.store(w, at(P.TOKEN), token);
    Atomics.store(w, at(P.PENDING), 0);
    const arg: ChaosArg = {
      slot,
      token,
      threads: this.opts.threads,
      words: w,
      p: this.p,
      joinees: this.joinees,
      seed: (this.opts.seed * 131 + slot * 17 + this.generation[slot] * 7919) | 0,
      async: this.isAsyncSlot(slot),
      skipMask: this.maskOf(slot),
      fault: this.opts.fault,
    };
    const t = new QemuThread();
    t.start(`chaos-${slot}`, new URL('./worker.js#chaosWorker', import.meta.url), arg);
    Atomics.store(w, at(P.TID), t.threadId());
    this.threads[slot] = t;
    this.terminating.delete(slot);
  }

  startJoinee(j: number, spec?: { size: number; mode: number; workMs: number; gate: boolean }): void {
    const w = this.w;
    const r = this.random;
    const u = r();
    const size =
      spec?.size ??
      (u < 0.5
        ? Math.floor(r() * 180)
        : u < 0.9
          ? 256 + Math.floor(r() * 16_384)
          : 65_536 + Math.floor(r() * 1_000_000));
    const v = r();
    const mode = spec?.mode ?? (v < 0.8 ? 0 : v < 0.9 ? 1 : 2);
    const seed = Math.floor(r() * 1_000_000);
    const at = (i: number) => joineeWord(j, i);
    Atomics.store(w, at(J.SIZE), size);
    Atomics.store(w, at(J.SEED), seed);
    Atomics.store(w, at(J.MODE), mode);
    Atomics.store(w, at(J.WORK_MS), spec?.workMs ?? Math.floor(r() * 10));
    for (const i of [J.FLAG, J.KILLED, J.PENDING, J.ORPHANED, J.CLAIM]) Atomics.store(w, at(i), 0);
    const skip = this.opts.skip;
    const fence = skip.includes('join-publish') || (skip.includes('join-transfer') && isStreamed(size, mode));
    Atomics.store(w, at(J.FENCE), fence ? 1 : 0);
    Atomics.store(w, at(J.GATE), spec?.gate ? 1 : 0);
    Atomics.add(w, at(J.STARTS), 1);
    const arg: JoineeArg = { j, words: w, size, seed, mode };
    this.handles[j].start(`joinee-${j}`, new URL('./joinee.js#joinee', import.meta.url), arg);
    Atomics.store(w, at(J.STATE), JS_READY);
  }

  /** Runs `step` after every step queued before it: terminations and their aftermath never overlap. */
  serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => {});
    return next;
  }

  async idle(): Promise<void> {
    while (this.killBusy) await sleep(2);
    await this.serial(async () => {});
  }

  /**
   * Terminates the worker in `slot` (if it still has token `expect`) unless it is in a state that must not
   * be terminated; counts the termination under `kind` (default: its state), checks what its joiner sees,
   * returns what it held, and starts a replacement. `afterStop` runs as soon as it has stopped.
   */
  async killWorker(slot: number, kind?: string, expect?: number, afterStop?: () => void): Promise<boolean> {
    const w = this.w;
    const token = Atomics.load(w, slotWord(slot, P.TOKEN));
    if (expect !== undefined && token !== expect) return false;
    Atomics.store(w, slotWord(slot, P.PENDING), 1);
    const state = Atomics.load(w, slotWord(slot, P.STATE));
    if ((this.maskOf(slot) >>> state) & 1 || state === S.fenced) {
      Atomics.store(w, slotWord(slot, P.PENDING), 0);
      Atomics.notify(w, slotWord(slot, P.PENDING));
      return false;
    }
    const name = kind ?? stateName(state);
    // Recorded before the thread stops, so nobody can see it dead without the record (shared.ts).
    Atomics.store(w, slotWord(slot, P.KILLING), token);
    const t = this.threads[slot];
    this.terminating.add(slot);
    await t.terminate();
    afterStop?.();
    this.count(this.kills, name);
    if (this.isAsyncSlot(slot)) this.count(this.asyncKills, name);
    try {
      await t.joinAsync();
      violation(w, 'termination', `slot ${slot}: the join of a terminated thread returned`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!/was terminated by/.test(message)) {
        violation(w, 'termination', `slot ${slot}: the join of a terminated thread threw ${message}`);
      }
    }
    await this.reclaim(slot, token);
    this.startWorker(slot);
    return true;
  }

  async killJoinee(j: number): Promise<boolean> {
    const w = this.w;
    const at = (i: number) => joineeWord(j, i);
    if (Atomics.load(w, at(J.STATE)) === JS_FREE) return false;
    Atomics.store(w, at(J.PENDING), 1);
    // Classified after PENDING is set (the fence's order, joinee.ts): in its function; returning, up to the
    // publication of its outcome (its handle says 'exited' after); streaming a published outcome.
    const flag = Atomics.load(w, at(J.FLAG));
    const streamed = isStreamed(Atomics.load(w, at(J.SIZE)), Atomics.load(w, at(J.MODE)));
    const published = /exited/.test(String(this.handles[j]));
    const kind =
      flag < 2 ? 'joinee-running' : !published ? 'joinee-returning' : streamed ? 'joinee-streaming' : null;
    if (kind === null || (this.skipMasks[0] >>> S[kind]) & 1) {
      Atomics.store(w, at(J.PENDING), 0);
      Atomics.notify(w, at(J.PENDING));
      return false;
    }
    Atomics.store(w, at(J.KILLED), 1);
    await this.handles[j].terminate();
    Atomics.store(w, at(J.PENDING), 0);
    this.count(this.kills, kind);
    return true;
  }

  /**
   * After a worker was terminated: gives back what it held (tickets, semaphore units, lockcnt visits),
   * counts the deaths whose moment makes that unknowable, and hands its join claims to other joiners.
   * Locks it held stay held: their next locker must get EOWNERDEAD.
   */
  async reclaim(slot: number, token: number): Promise<void> {
    const w = this.w;
    const at = (i: number) => slotWord(slot, i);
    const tickets = Atomics.load(w, at(P.HOLD_T));
    if (tickets > 0) {
      await this.lockTickets();
      moveTickets(w, slot, MAIN_TOKEN, -tickets);
      checkTickets(w, false);
      this.p.tc.broadcast();
      this.unlockTickets();
    }
    const held = Atomics.load(w, at(P.SEM_HELD));
    if (held === 1) {
      Atomics.store(w, at(P.SEM_HELD), 0);
      this.p.sem.post();
    } else if (held === 2 || Atomics.load(w, at(P.SEM_INTENT)) === 1) {
      this.semUnknown++;
    }
    const visit = Atomics.load(w, at(P.L_VISIT));
    if (visit === 2) this.p.l.dec();
    else if (visit === 1 || visit === 3) this.lockcntUnknown++;
    for (let j = 0; j < JOINEES; j++) {
      if (Atomics.load(w, joineeWord(j, J.CLAIM)) !== token) continue;
      Atomics.store(w, joineeWord(j, J.ORPHANED), 1);
      Atomics.store(w, joineeWord(j, J.CLAIM), 0);
      Atomics.store(w, joineeWord(j, J.STATE), JS_READY);
    }
    for (const i of [P.HOLD_T, P.SEM_HELD, P.SEM_INTENT, P.L_VISIT, P.WANT, P.JOINING])
      Atomics.store(w, at(i), 0);
    Atomics.store(w, at(P.GATE_SEEN), -1);
  }

  /** Takes the ticket mutex (async), recovering it from a dead holder. */
  async lockTickets(): Promise<void> {
    const recovered = await this.lockAsync(this.p.tm, G.T_HOLDER, 'ticket-mutex', () =>
      checkTickets(this.w, true),
    );
    if (!recovered) checkTickets(this.w, false);
  }

  unlockTickets(): void {
    leaveGauge(this.w, G.T_HOLDER, MAIN_TOKEN, 'ticket-mutex');
    this.p.tm.unlock();
  }

  async lockAsync(m: QemuMutex, gauge: number, lock: LockName, repair: () => void): Promise<boolean> {
    let error: unknown;
    try {
      await m.lockAsync();
    } catch (e) {
      ownerDead(this.w, e, lock);
      error = e;
    }
    enterGauge(this.w, gauge, MAIN_TOKEN, lock, this.opts.threads, error !== undefined, error);
    if (error !== undefined) {
      repair();
      m.consistent();
    }
    return error !== undefined;
  }

  // --- The loop's services -------------------------------------------------------------------------

  /** Every 2 ms: the clock, the heartbeat, event sets, joinees, and the random terminations. */
  tick(): void {
    if (Atomics.load(this.w, G.FATAL) !== 0) return;
    try {
      this.tickSteps();
    } catch (error) {
      this.record(`tick: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }

  tickSteps(): void {
    const w = this.w;
    Atomics.store(w, G.NOW_MS, this.nowMs());
    Atomics.add(w, G.MAIN_BEAT, 1);
    const tick = Atomics.add(w, G.TICK, 1) + 1;
    for (let s = 0; s < this.opts.threads; s++) {
      const want = Atomics.load(w, slotWord(s, P.WANT));
      const token = Atomics.load(w, slotWord(s, P.TOKEN));
      const last = this.lastSet[s];
      if (want > 0 && tick >= want && (last?.want !== want || last.token !== token)) {
        this.lastSet[s] = { want, token };
        this.p.events[s].set();
      }
    }
    if (!this.stopping) this.watchForDeaths();
    if (this.autoJoinees) {
      for (let j = 0; j < JOINEES; j++) {
        if (Atomics.load(w, joineeWord(j, J.STATE)) === JS_FREE) this.startJoinee(j);
      }
      if (this.mainJoins.size === 0 && this.random() < 0.02) this.joinFromMain();
    }
    // Half the terminations aim at a random moment, half are armed (G.ARM) for a state held briefly.
    const dt = 2;
    const now = performance.now();
    if (Atomics.load(w, G.ARM) !== 0 && now - this.armedAt > 100) Atomics.store(w, G.ARM, 0);
    if (
      this.randomKills &&
      Atomics.load(w, G.ARM) === 0 &&
      this.random() < (this.opts.killRate * dt) / 2000
    ) {
      const armable = ARMABLE.filter((k) => this.enabled(k));
      if (armable.length > 0) {
        Atomics.store(w, G.ARM, S[armable[Math.floor(this.random() * armable.length)]] + 1);
        this.armedAt = now;
      }
    }
    if (this.randomKills && !this.killBusy && this.random() < (this.opts.killRate * dt) / 2000) {
      this.killBusy = true;
      this.serial(() => this.randomKill())
        .catch((error) =>
          this.record(`random termination: ${error instanceof Error ? error.stack : String(error)}`),
        )
        .finally(() => {
          this.killBusy = false;
        });
    }
  }

  /**
   * A worker must end only when terminated (or at the end): one that ended otherwise (an uncaught error,
   * the runtime giving up) is reported with what its join says, and the run stops.
   */
  watchForDeaths(): void {
    for (let slot = 0; slot < this.opts.threads; slot++) {
      const t = this.threads[slot];
      if (this.terminating.has(slot) || !/exited/.test(String(t))) continue;
      this.terminating.add(slot);
      t.joinAsync().then(
        (value) =>
          this.record(`slot ${slot}'s thread ${t.threadId()} ended on its own, returning ${String(value)}`),
        (error) =>
          this.record(
            `slot ${slot}'s thread ${t.threadId()} ended on its own: ${error instanceof Error ? error.stack : String(error)}`,
          ),
      );
    }
  }

  /** Terminates a random joinee, or a random worker chosen by state first, so rare states get their share. */
  async randomKill(): Promise<void> {
    const w = this.w;
    if (this.random() < 0.15) {
      const live = [];
      for (let j = 0; j < JOINEES; j++) {
        const flag = Atomics.load(w, joineeWord(j, J.FLAG));
        if (
          flag > 0 &&
          Atomics.load(w, joineeWord(j, J.STATE)) !== JS_FREE &&
          !Atomics.load(w, joineeWord(j, J.KILLED))
        )
          live.push(j);
      }
      if (live.length > 0) await this.killJoinee(live[Math.floor(this.random() * live.length)]);
      return;
    }
    const byState = new Map<number, number[]>();
    for (let s = 0; s < this.opts.threads; s++) {
      const state = Atomics.load(w, slotWord(s, P.STATE));
      // Held states are left to arming, so that a termination counted as '...-held' is one that held.
      if (state === S.barrier || state === S.fenced || (this.maskOf(s) >>> state) & 1) continue;
      if (ARMABLE.includes(STATES[state])) continue;
      byState.set(state, [...(byState.get(state) ?? []), s]);
    }
    // A thread still starting up is terminated now and then, not as often as its long start-up (under
    // load) would make it.
    if (byState.size > 1 && this.random() < 0.9) byState.delete(S.starting);
    const states = [...byState.values()];
    if (states.length === 0) return;
    const slots = states[Math.floor(this.random() * states.length)];
    await this.killWorker(slots[Math.floor(this.random() * slots.length)]);
  }

  /** Serves the terminations workers ask for (worker.ts: requestKill), one at a time. */
  async serveRequests(): Promise<void> {
    const w = this.w;
    let bell = Atomics.load(w, G.REQ_BELL);
    while (!this.finished) {
      await waitAsync(w, G.REQ_BELL, bell, 50);
      bell = Atomics.load(w, G.REQ_BELL);
      for (let s = 0; s < this.opts.threads; s++) {
        const word = slotWord(s, P.REQ);
        const request = Atomics.load(w, word);
        if (request <= 0) continue;
        const answer = () => {
          if (Atomics.compareExchange(w, word, REQ_CLAIMED, 0) === REQ_CLAIMED) Atomics.notify(w, word);
        };
        // Claimed only once its turn has come: until then the requester may withdraw it (it may hold a
        // mutex that a step queued before it needs).
        await this.serial(async () => {
          if (Atomics.compareExchange(w, word, request, REQ_CLAIMED) !== request) return;
          try {
            await this.serveRequest(request, answer);
          } finally {
            answer();
          }
        }).catch((error) =>
          this.record(`directed termination: ${error instanceof Error ? error.stack : String(error)}`),
        );
      }
    }
  }

  /** Serves one request; `answer` tells the requester (as soon as the target has stopped). */
  async serveRequest(request: number, answer: () => void): Promise<void> {
    const w = this.w;
    const { target, kind } = decodeRequest(request);
    if (!this.directedKills) return;
    if (target & JOINEE_TARGET) {
      answer();
      // A joinee to terminate while it streams its result: wait (briefly) for it to start returning.
      const j = target & ~JOINEE_TARGET;
      for (let i = 0; i < 100 && Atomics.load(w, joineeWord(j, J.FLAG)) !== 2; i++) {
        if (Atomics.load(w, joineeWord(j, J.STATE)) === JS_FREE) return;
        await sleep(1);
      }
      if (Atomics.load(w, joineeWord(j, J.FLAG)) === 2) {
        await sleep(this.random() * 3);
        await this.killJoinee(j);
      }
      return;
    }
    await this.killWorker(slotOfToken(target), stateName(kind), target, answer);
  }

  /** The controller joins a joinee itself now and then, with joinAsync. */
  joinFromMain(): void {
    const w = this.w;
    for (let j = 0; j < JOINEES; j++) {
      if (Atomics.load(w, joineeWord(j, J.STATE)) !== JS_READY) continue;
      if (Atomics.compareExchange(w, joineeWord(j, J.CLAIM), 0, MAIN_TOKEN) !== 0) continue;
      if (Atomics.compareExchange(w, joineeWord(j, J.STATE), JS_READY, JS_CLAIMED) !== JS_READY) {
        Atomics.store(w, joineeWord(j, J.CLAIM), 0);
        continue;
      }
      const join = this.joinClaimed(j).finally(() => this.mainJoins.delete(join));
      this.mainJoins.add(join);
      return;
    }
  }

  async joinClaimed(j: number): Promise<void> {
    const w = this.w;
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await this.handles[j].joinAsync() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    checkJoinOutcome(w, j, outcome, 'the controller');
    Atomics.store(w, joineeWord(j, J.CLAIM), 0);
    Atomics.store(w, joineeWord(j, J.STATE), JS_FREE);
  }

  watchForFatal(): void {
    const w = this.w;
    const watch = async () => {
      while (Atomics.load(w, G.FATAL) === 0) {
        await waitAsync(w, G.FATAL, 0, 1000);
        if (this.finished && Atomics.load(w, G.FATAL) === 0) return;
      }
      // A worker's unexpected error: the watchdog did not print the state, so print it here.
      if (Atomics.load(w, G.FATAL) === 1) {
        writeSync(
          2,
          `chaos: state at the error:\n${describeAll(w, this.p, this.opts.threads, this.joinees)}\n`,
        );
      }
      const code = this.report();
      process.exit(code === 0 ? 1 : code);
    };
    void watch();
  }

  /** A fatal failure seen by the controller: counted as a hang and reported; the run ends. */
  record(what: string): void {
    const w = this.w;
    if (Atomics.compareExchange(w, G.FATAL, 0, 3) === 0) {
      Atomics.add(w, G.HANGS, 1);
      violation(w, 'hang', what);
      writeSync(
        2,
        `chaos: state at the failure:\n${describeAll(w, this.p, this.opts.threads, this.joinees)}\n`,
      );
      Atomics.notify(w, G.FATAL);
    }
  }

  fail(what: string): never {
    this.record(what);
    throw new Fatal(what);
  }

  /** Waits (async) until `done()`; a wait longer than three watchdog periods fails the run. */
  async until(done: () => boolean, what: string): Promise<void> {
    const limit = performance.now() + 3 * this.opts.watchdogMs;
    while (!done()) {
      if (Atomics.load(this.w, G.FATAL) !== 0) throw new Fatal(what);
      if (performance.now() > limit) this.fail(`waited ${(3 * this.opts.watchdogMs) / 1000} s for ${what}`);
      await sleep(1);
    }
  }

  // --- Audits ---------------------------------------------------------------------------------------

  /** Brings every worker to the barrier (opening the gate, which a thread may wait at, first). */
  async quiesce(): Promise<void> {
    const w = this.w;
    Atomics.store(w, G.QUIESCE, 1);
    await this.lockAsync(this.p.gm, G.GATE_HOLDER, 'gate-mutex', () => {});
    Atomics.add(w, G.GATE_GEN, 1);
    this.p.gc.broadcast();
    leaveGauge(w, G.GATE_HOLDER, MAIN_TOKEN, 'gate-mutex');
    this.p.gm.unlock();
    await this.until(() => this.allAtBarrier(), 'every thread to reach the barrier');
  }

  allAtBarrier(): boolean {
    for (let s = 0; s < this.opts.threads; s++) {
      if (Atomics.load(this.w, slotWord(s, P.STATE)) !== S.barrier) return false;
    }
    return true;
  }

  release(): void {
    const w = this.w;
    Atomics.store(w, G.QUIESCE, 0);
    Atomics.add(w, G.BARRIER_GEN, 1);
    Atomics.notify(w, G.BARRIER_GEN);
  }

  /**
   * With every worker at the barrier: nothing may be held but what dead threads held. Takes every lock
   * once (EOWNERDEAD exactly when a dead thread held it), checks every balance, returns the semaphore
   * units and lockcnt visits lost with threads that died at an unknowable moment (no more than counted),
   * and checks that waiter counts are back to 0.
   */
  async audit(): Promise<void> {
    const { w, p } = this;
    this.audits++;
    const idle: [string, number, number][] = [
      ['tickets', P.HOLD_T, 0],
      ['semaphore units', P.SEM_HELD, 0],
      ['a semaphore wait', P.SEM_INTENT, 0],
      ['a lockcnt visit', P.L_VISIT, 0],
      ['an event wait', P.WANT, 0],
      ['a join', P.JOINING, 0],
      ['a gate wait', P.GATE_SEEN, -1],
    ];
    for (let s = 0; s < this.opts.threads; s++) {
      for (const [what, word, value] of idle) {
        const v = Atomics.load(w, slotWord(s, word));
        if (v !== value)
          violation(w, 'conservation', `audit: slot ${s} waits at the barrier, but its ${what} word is ${v}`);
      }
    }
    this.auditLock(
      'mutex',
      G.BANK_M + BANK.HOLDER,
      () => p.m.tryLock(),
      () => p.m.consistent(),
      () => p.m.unlock(),
      () => repairBank(w, G.BANK_M, 'mutex bank'),
    );
    checkBank(w, G.BANK_M, 'mutex bank');
    this.auditLock(
      'rec-mutex',
      G.BANK_R + BANK.HOLDER,
      () => p.r.tryLock(),
      () => p.r.consistent(),
      () => p.r.unlock(),
      () => repairBank(w, G.BANK_R, 'rec-mutex bank'),
    );
    checkBank(w, G.BANK_R, 'rec-mutex bank');
    // A spinlock or lockcnt that a dead thread holds is taken over by lock() (EOWNERDEAD after a nap),
    // which blocks this thread for a moment: only when no live thread holds it (no consistent() either).
    this.auditLock(
      'spin',
      G.BANK_S + BANK.HOLDER,
      () => p.s.tryLock() || this.lockIfHeldByDead(p.s),
      () => {},
      () => p.s.unlock(),
      () => repairBank(w, G.BANK_S, 'spin bank'),
    );
    checkBank(w, G.BANK_S, 'spin bank');
    let recovered = false;
    this.auditLock(
      'ticket-mutex',
      G.T_HOLDER,
      () => p.tm.tryLock(),
      () => p.tm.consistent(),
      () => p.tm.unlock(),
      () => {
        recovered = true;
        checkTickets(w, true);
      },
    );
    if (!recovered) checkTickets(w, false);
    const free = Atomics.load(w, G.T_FREE);
    const mainTickets = Atomics.load(w, slotWord(MAIN_SLOT, P.HOLD_T));
    if (free !== TICKETS - mainTickets)
      violation(w, 'conservation', `audit: ${free} tickets free, not ${TICKETS - mainTickets}`);
    this.auditLock(
      'gate-mutex',
      G.GATE_HOLDER,
      () => p.gm.tryLock(),
      () => p.gm.consistent(),
      () => p.gm.unlock(),
      () => {},
    );
    // Semaphore units: all back, less at most one per unknowable death; those are given back here.
    const expected = SEM_UNITS - Atomics.load(w, slotWord(MAIN_SLOT, P.SEM_HELD));
    const lost = expected - p.sem.value();
    if (lost < 0 || lost > this.semUnknown) {
      violation(
        w,
        'conservation',
        `audit: semaphore count ${p.sem.value()}, expected ${expected} less at most ${this.semUnknown}`,
      );
    }
    for (let i = 0; i < lost; i++) p.sem.post();
    this.semLost += Math.max(0, lost);
    this.semUnknown = 0;
    // Lockcnt: its lock free (or held by the dead: taken over); no visitor left, less at most one per
    // unknowable death; the list alive.
    if (!/unlocked/.test(String(p.l))) {
      this.auditLock(
        'lockcnt',
        G.L_HOLDER,
        () => this.lockIfHeldByDead(p.l),
        () => {},
        () => p.l.unlock(),
        () => repairList(w),
      );
    }
    if (/unlocked/.test(String(p.l))) {
      const count = p.l.count();
      if (count > this.lockcntUnknown) {
        violation(
          w,
          'conservation',
          `audit: lockcnt count ${count}, expected at most ${this.lockcntUnknown}`,
        );
      }
      for (let i = 0; i < count; i++) p.l.dec();
      this.lockcntLost += count;
      this.lockcntUnknown = 0;
    }
    if (Atomics.load(w, G.L_ALIVE) !== Atomics.load(w, G.L_PTR))
      violation(w, 'conservation', 'audit: the lockcnt list is freed');
    if (!this.opts.skip.includes('waiter-counts')) this.auditWaiterCounts();
    if (!this.opts.skip.includes('parked-lists')) this.auditParkedLists();
  }

  /**
   * Takes `lock` (a spinlock or lockcnt) if its toString says that a thread that is not live holds it:
   * lock() then fails with EOWNERDEAD holding it. False, without waiting, if a live thread holds it.
   */
  lockIfHeldByDead(lock: QemuSpin | QemuLockCnt): boolean {
    const holder = /locked by thread (\d+)/.exec(String(lock));
    if (holder === null || liveSlotOfThread(this.w, Number(holder[1]), this.opts.threads) >= 0) return false;
    lock.lock();
    return true;
  }

  /** Takes a lock that nobody live may hold; EOWNERDEAD is checked against the holder gauge. */
  auditLock(
    lock: LockName,
    gauge: number,
    tryLock: () => boolean,
    consistent: () => void,
    unlock: () => void,
    repair: () => void,
  ): void {
    const w = this.w;
    let error: unknown;
    let taken: boolean;
    try {
      taken = tryLock();
    } catch (e) {
      ownerDead(w, e, lock);
      error = e;
      taken = true;
    }
    if (!taken) {
      violation(
        w,
        'hang',
        `audit: the ${lock} is held (by ${describeLock(this.p, lock)}) while every thread is at the barrier`,
      );
      return;
    }
    enterGauge(w, gauge, MAIN_TOKEN, lock, this.opts.threads, error !== undefined, error);
    if (error !== undefined) {
      repair();
      consistent();
    }
    leaveGauge(w, gauge, MAIN_TOKEN, lock);
    unlock();
  }

  /**
   * No live thread waits (all are at the barrier), so the cond, semaphore and event must each accept
   * destroy and init again, even if threads were terminated waiting on them (their counts may still
   * include those: waiters() and the toString are snapshots). Each refusal is reported once.
   */
  auditWaiterCounts(): void {
    const { p } = this;
    this.reinit('ticket cond', () => {
      p.tc.destroy();
      p.tc.init();
    });
    this.reinit('gate cond', () => {
      p.gc.destroy();
      p.gc.init();
    });
    const units = p.sem.value();
    this.reinit('semaphore', () => {
      p.sem.destroy();
      p.sem.init(units);
    });
    p.events.forEach((e, i) => {
      const set = e.isSet();
      this.reinit(`event ${i}`, () => {
        e.destroy();
        e.init(set);
      });
    });
  }

  reinit(what: string, destroyAndInit: () => void): void {
    try {
      destroyAndInit();
    } catch (error) {
      if (!(error instanceof QemuThreadError) || error.code !== 'EBUSY') throw error;
      this.leak(what, `destroy: ${error.message}`);
    }
  }

  leak(what: string, detail: string): void {
    if (this.reportedWaiterLeaks.has(what)) return;
    this.reportedWaiterLeaks.add(what);
    violation(this.w, 'waiter-count', `audit: ${what}: ${detail}, although no thread waits`);
  }

  /** Who is parked where (QemuMutex.waiters, QemuCond.parkedThreads): no thread, all are at the barrier. */
  auditParkedLists(): void {
    const { p } = this;
    const parked: [string, { threadId: number }[]][] = [
      ['mutex', p.m.waiters()],
      ['ticket mutex', p.tm.waiters()],
      ['gate mutex', p.gm.waiters()],
      ['ticket cond', p.tc.parkedThreads()],
      ['gate cond', p.gc.parkedThreads()],
    ];
    for (const [what, list] of parked) {
      if (list.length > 0) {
        this.leak(
          `${what} (parked list)`,
          `lists thread(s) ${list.map((x) => x.threadId).join(', ')} as parked`,
        );
      }
    }
  }

  // --- The scripted prologue --------------------------------------------------------------------------

  /** Whether terminations of this kind are provoked (in async threads too, if `async`). */
  enabled(kind: StateName, async = false): boolean {
    return ((this.skipMasks[async ? 1 : 0] >>> S[kind]) & 1) === 0;
  }

  tid(slot: number): number {
    return Atomics.load(this.w, slotWord(slot, P.TID));
  }

  command(slot: number, command: number, param = 0): void {
    const w = this.w;
    Atomics.store(w, slotWord(slot, P.SCRIPT_ACK), 0);
    Atomics.store(w, slotWord(slot, P.SCRIPT), command | (param << 8));
    Atomics.notify(w, G.BARRIER_GEN);
  }

  async ack(slot: number, what: string): Promise<number> {
    await this.until(() => Atomics.load(this.w, slotWord(slot, P.SCRIPT_ACK)) !== 0, what);
    return Atomics.load(this.w, slotWord(slot, P.SCRIPT_ACK));
  }

  /** Terminates `slot` as kind `kind` and waits for its replacement to reach the barrier. */
  async scriptKill(slot: number, kind: string, afterStop?: () => void): Promise<void> {
    if (!(await this.killWorker(slot, kind, undefined, afterStop))) {
      this.fail(`script ${kind}: slot ${slot} could not be terminated`);
    }
    await this.until(
      () => Atomics.load(this.w, slotWord(slot, P.STATE)) === S.barrier,
      `slot ${slot}'s replacement at the barrier`,
    );
  }

  /**
   * How long the other waiter took to get through after the woken one was terminated (the wake-up it was
   * owed reaches it late if only a periodic re-check finds it): for the report, never a verdict.
   */
  noteLatency(kind: string, ms: number): void {
    this.latencies.set(kind, Math.max(this.latencies.get(kind) ?? 0, Math.round(ms)));
  }

  /** Runs one scripted scenario, if its kind is not skipped, and records that it ran. */
  async scenario(
    kind: string,
    needs: StateName[],
    body: () => Promise<void>,
    async = false,
    checked = true,
  ): Promise<void> {
    if (!checked || !needs.every((k) => this.enabled(k, async))) {
      this.scripted.set(kind, 'skipped');
      return;
    }
    await body();
    if (!this.scripted.has(kind)) this.scripted.set(kind, 'done');
  }

  /** Takes `n` free tickets for the controller (all of them if n is undefined). */
  async holdTickets(n?: number): Promise<void> {
    await this.lockTickets();
    moveTickets(this.w, MAIN_SLOT, MAIN_TOKEN, n ?? Atomics.load(this.w, G.T_FREE));
    this.unlockTickets();
  }

  async returnTickets(
    n: number,
    how: 'signal' | 'broadcast' | 'none',
    whileHeld?: () => Promise<void>,
  ): Promise<void> {
    await this.lockTickets();
    moveTickets(this.w, MAIN_SLOT, MAIN_TOKEN, -n);
    checkTickets(this.w, false);
    if (how === 'signal') this.p.tc.signal();
    else if (how === 'broadcast') this.p.tc.broadcast();
    await whileHeld?.();
    this.unlockTickets();
  }

  parkedOn(cond: QemuCond, slot: number): boolean {
    return cond.parkedThreads().some((x) => x.threadId === this.tid(slot));
  }

  semWaiters(): number {
    return Number(/waiters: (\d+)/.exec(String(this.p.sem))?.[1] ?? 0);
  }

  drainSem(): void {
    while (this.p.sem.tryWait()) Atomics.add(this.w, slotWord(MAIN_SLOT, P.SEM_HELD), 1);
  }

  postSem(n: number): void {
    for (let i = 0; i < n; i++) {
      Atomics.sub(this.w, slotWord(MAIN_SLOT, P.SEM_HELD), 1);
      this.p.sem.post();
    }
  }

  // --- The end --------------------------------------------------------------------------------------

  async finish(): Promise<void> {
    const w = this.w;
    await this.idle();
    await this.quiesce();
    await Promise.all([...this.mainJoins]);
    await this.audit();
    this.checkRecoveries();
    this.stopping = true;
    Atomics.store(w, G.STOP, 1);
    this.release();
    for (let slot = 0; slot < this.opts.threads; slot++) {
      try {
        await this.threads[slot].joinAsync();
      } catch (error) {
        violation(
          w,
          'unexpected-error',
          `slot ${slot} ended with ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
    for (let j = 0; j < JOINEES; j++) {
      if (
        Atomics.load(w, joineeWord(j, J.STATE)) === JS_READY &&
        Atomics.load(w, joineeWord(j, J.CLAIM)) === 0
      ) {
        Atomics.store(w, joineeWord(j, J.STATE), JS_CLAIMED);
        Atomics.store(w, joineeWord(j, J.CLAIM), MAIN_TOKEN);
        await this.joinClaimed(j);
      }
    }
    // A joinee whose joiner was terminated after claiming it, before reading it, is still unjoined: its
    // outcome is nobody's to check any more (the join counted as orphaned), but a failure left unjoined is
    // reported on stderr when this thread ends. Joined here, whatever its outcome.
    for (let j = 0; j < JOINEES; j++) {
      if (/exited/.test(String(this.handles[j]))) await this.handles[j].joinAsync().catch(() => undefined);
    }
    this.finished = true;
    if (this.ticker) clearInterval(this.ticker);
    Atomics.store(w, G.STOP, 2);
    if (this.watchdogThread) await this.watchdogThread.joinAsync();
    // Every primitive idle: each destroy must succeed (EBUSY if anything is held or waited on).
    const p = this.p;
    const destroy = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        // A waiter count that leaked makes destroy fail with EBUSY: known, and skipped with waiter-counts.
        const waitable = /cond|semaphore|event/.test(what);
        if (waitable && error instanceof QemuThreadError && error.code === 'EBUSY') {
          if (this.opts.skip.includes('waiter-counts') || this.reportedWaiterLeaks.has(what)) return;
        }
        violation(
          w,
          waitable ? 'waiter-count' : 'conservation',
          `destroy ${what}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    };
    destroy('mutex', () => p.m.destroy());
    destroy('rec mutex', () => p.r.destroy());
    destroy('spin', () => p.s.destroy());
    destroy('lockcnt', () => p.l.destroy());
    destroy('semaphore', () => p.sem.destroy());
    destroy('ticket mutex', () => p.tm.destroy());
    destroy('ticket cond', () => p.tc.destroy());
    destroy('gate mutex', () => p.gm.destroy());
    destroy('gate cond', () => p.gc.destroy());
    p.events.forEach((e, i) => {
      destroy(`event ${i}`, () => e.destroy());
    });
  }

  /**
   * Every lock a terminated thread held came back with EOWNERDEAD: by the final audit every such lock has
   * been taken again, so each lock has at least as many recoveries as threads terminated holding it (a
   * thread counted as '...-held' was stopped there: armed or scripted). More are fine: a thread may also
   * die holding a lock in the instant between taking it and saying so.
   */
  checkRecoveries(): void {
    const w = this.w;
    const kills = (kind: StateName) => this.kills.get(kind) ?? 0;
    const recoveries = (lock: LockName) => Atomics.load(w, G.RECOVERIES + LOCKS.indexOf(lock));
    const check = (what: string, got: number, held: number) => {
      if (got < held) {
        violation(
          w,
          'missing-eownerdead',
          `${what}: ${got} EOWNERDEAD recoveries, but ${held} threads were terminated holding it`,
        );
      }
    };
    check('mutex', recoveries('mutex'), kills('mutex-held'));
    check('rec mutex', recoveries('rec-mutex'), kills('rec-mutex-held'));
    check(
      'ticket and gate mutexes',
      recoveries('ticket-mutex') + recoveries('gate-mutex'),
      kills('cond-mutex-held'),
    );
    check('spinlock', recoveries('spin'), kills('spin-held'));
    check("lockcnt's lock", recoveries('lockcnt'), kills('lockcnt-held'));
  }

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  totalKills(): number {
    return [...this.kills.values()].reduce((a, b) => a + b, 0);
  }

  totalOps(): number {
    let n = 0;
    for (let i = 0; i < ACTIVITIES.length; i++) n += Atomics.load(this.w, G.OPS + i) >>> 0;
    return n;
  }

  /** Prints the summary; returns the exit status. */
  report(): number {
    const { w, opts } = this;
    const seconds = Number(((performance.now() - this.started) / 1000).toFixed(3));
    const byKind = Object.fromEntries([...this.kills].sort(([a], [b]) => a.localeCompare(b)));
    const violationsByKind = Object.fromEntries(
      VIOLATION_KINDS.map((k, i) => [k, Atomics.load(w, G.VIOLATIONS + i)]),
    );
    const result = {
      mode: 'chaos',
      seconds,
      threads: opts.threads,
      asyncThreads: this.asyncSlots(),
      seed: opts.seed,
      skip: opts.skip,
      fault: opts.fault,
      terminations: {
        total: this.totalKills(),
        byKind,
        async: Object.fromEntries(this.asyncKills),
      },
      scripted: Object.fromEntries(this.scripted),
      wakeAfterTerminationMs: Object.fromEntries(this.latencies),
      recoveries: Object.fromEntries(LOCKS.map((l, i) => [l, Atomics.load(w, G.RECOVERIES + i)])),
      ops: Object.fromEntries(ACTIVITIES.map((k, i) => [k, Atomics.load(w, G.OPS + i) >>> 0])),
      joins: Object.fromEntries(JOIN_OUTCOMES.map((k, i) => [k, Atomics.load(w, G.JOINS + i)])),
      lost: { semUnits: this.semLost, lockcntVisits: this.lockcntLost },
      audits: this.audits,
      violations: totalViolations(w),
      violationsByKind,
      hangs: Atomics.load(w, G.HANGS),
    };
    if (opts.json) {
      writeSync(1, `${JSON.stringify(result)}\n`);
    } else {
      const line = (o: Record<string, number | string>) =>
        Object.entries(o)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
      this.say(
        `chaos: ${seconds.toFixed(1)} s, ${opts.threads} threads (${result.asyncThreads} async), seed ${opts.seed}`,
      );
      this.say(`  terminations: ${result.terminations.total} (${line(byKind)})`);
      if (this.asyncKills.size) this.say(`    of async threads: ${line(result.terminations.async)}`);
      if (this.scripted.size) this.say(`  scripted: ${line(result.scripted)}`);
      if (this.latencies.size) {
        this.say(
          `  the other waiter through after the woken one was terminated (ms): ${line(result.wakeAfterTerminationMs)}`,
        );
      }
      this.say(`  EOWNERDEAD recoveries: ${line(result.recoveries)}`);
      this.say(`  operations: ${line(result.ops)}`);
      this.say(`  joins: ${line(result.joins)}`);
      this.say(
        `  lost with threads that died at an unknowable moment: ${result.lost.semUnits} semaphore unit(s), ${result.lost.lockcntVisits} lockcnt visit(s)`,
      );
      this.say(`  audits: ${result.audits}`);
      const nonZero = Object.fromEntries(Object.entries(violationsByKind).filter(([, v]) => v > 0));
      this.say(
        `chaos: ${result.violations} violation(s)${result.violations ? ` (${line(nonZero)})` : ''}, ${result.hangs} hang(s)`,
      );
      writeSync(1, `soak-result ${JSON.stringify(result)}\n`);
    }
    return result.violations === 0 && result.hangs === 0 ? 0 : 1;
  }
}

function describeLock(p: ChaosPrims, lock: LockName): string {
  switch (lock) {
    case 'mutex':
      return String(p.m);
    case 'rec-mutex':
      return String(p.r);
    case 'ticket-mutex':
      return String(p.tm);
    case 'gate-mutex':
      return String(p.gm);
    case 'spin':
      return String(p.s);
    case 'lockcnt':
      return String(p.l);
  }
}
