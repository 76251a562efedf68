/**
 * The model checker's scheduler and explorer (stateless, CHESS-style): every schedule re-runs the scenario
 * from a freshly set-up arena, and a depth-first search over the scheduling choices enumerates the
 * schedules, bounded by the number of preemptions (switching away from a thread that could still run), or
 * unbounded with sleep sets, which skip schedules that only reorder commuting operations of ones already
 * run (operations of different threads on different words, or two loads; wake-ups and time-outs commute
 * with nothing). Sleep sets assume the scenario is data-race-free outside the arena's atomics, which every
 * scenario here is: plain words are only touched under a lock or after a synchronizing operation.
 *
 * One step is one transition of one thread: perform its announced arena operation (and let it run to its
 * next one), deliver the wake-up of a notified waiter, or fire a waiter's time-out. The scheduler keeps
 * the futex model: a wait compares and enqueues atomically at its turn, a notify wakes FIFO, a time-out
 * fires only when the scheduler chooses it, earliest deadline first, and moves the virtual clock to that
 * deadline. A time-out chosen while another thread could run ("early") is bounded per schedule; one that
 * fires because nothing else can run ("forced") is, by default, a hang: the waiter was forgotten.
 *
 * Async waits (`Atomics.waitAsync`, model-atomics.ts) are entries in the same FIFO queues as blocked
 * threads, so a notify of one may land on either, as in V8. A settled entry (notified, or its time-out
 * fired) is delivered to its thread only when that thread is suspended in an await (or finished): a
 * thread blocked elsewhere cannot run its continuations, which is exactly the situation park.ts's
 * wake-all guards against. Delivering is a step of that thread: its continuations run, announcing their
 * operations as usual, until it is suspended again. A thread is finished when its function's promise
 * settles; an async wait still queued when nothing else can happen is a lost wake-up like a blocked one.
 *
 * Time: when nothing but time-outs can happen and the last one changed nothing but the clock (a waiter
 * that looks again periodically and finds nothing to do), the next one fires after a jump of the clock
 * past every deadline of a scenario, instead of one period at a time; if that changes nothing either, it
 * is a deadlock.
 *
 * Kills (Scenario.killable): one more kind of transition, offered at every step of a killable thread
 * while anything else could happen, at most `kills` per schedule and free of the preemption bound: the
 * thread stops where it is (its host unwinds and is reused), its waits leave their queues, a wake-up
 * delivered to it but not yet acted on is gone with it, and the library's table of ended threads says it
 * has ended (liveness.ts); with Scenario.exited, the kill also tells the thread's creator (a word set and
 * its waiters woken, in the same step). After a kill a forced time-out is no hang: a sleeper that re-checks
 * periodically is how the library recovers what a dead thread took with it. Where the killed thread was
 * (parked, woken but not yet running, before which operation) is recorded: RunInfo.killedAt, and over a
 * search ExploreResult.killPoints.
 *
 * Failures: a thread function throws (its assertions, or the library's), no thread can run and some are
 * still waiting (a deadlock), a forced time-out (a hang: every wait of the library is timed, since park.ts
 * compares its word again every RECHECK_MS, so a lost wake-up usually shows as this; the message names
 * every thread left waiting), a schedule longer than the step limit, or the scenario's final check. The
 * first failure stops the search (unless `keepGoing`: then the search counts the failing schedules and
 * goes on) and is replayed once with code locations on, to print a readable trace and the schedule that
 * reproduces it.
 */
import { getEnvironmentData, setEnvironmentData, Worker } from 'node:worker_threads';
import { Liveness } from './liveness.js';
import {
  ABORT,
  ABORTED,
  ANNOUNCED,
  awaitChange,
  type Control,
  controlBlock,
  DONE,
  FAILED,
  H_TRACE,
  NOTIFY_ALL,
  OP,
  OP_NAMES,
  type OpName,
  RESUME,
  RUN,
  readText,
  S_A,
  S_B,
  S_INDEX,
  S_OP,
  S_RESULT,
  S_STATE,
  SETTLE,
  SUSPENDED,
  slotWord,
  WAIT_ASYNC,
  WAIT_NOT_EQUAL,
  WAIT_OK,
  WAIT_TIMED_OUT_EARLY,
  WAIT_TIMED_OUT_FORCED,
} from './protocol.js';
import {
  type Arena,
  arenaOn,
  type Layout,
  layoutOf,
  type Parts,
  type RunInfo,
  type Scenario,
} from './scenario.js';

export interface ExploreOptions {
  /** Preemption bound (default 2); Infinity explores every interleaving. */
  preemptions?: number;
  /** Stop after this many schedules (default 100 000); the result then says the search was cut. */
  maxSchedules?: number;
  /** Steps in one schedule before it counts as a livelock (default 2000). */
  maxSteps?: number;
  /**
   * Sleep sets (Godefroid's partial-order reduction): skip a schedule that only reorders independent
   * operations (different words, or two loads) of one already explored. Sound for an unbounded search of
   * a data-race-free scenario; under a preemption bound it may skip schedules the bound would allow, so
   * the default is on only when `preemptions` is Infinity.
   */
  sleepSets?: boolean;
  /** Early time-outs per schedule (default: Scenario.earlyTimeouts, else 1). */
  earlyTimeouts?: number;
  /** Kills per schedule (Scenario.killable; default 1 if the scenario has killable threads, else 0). */
  kills?: number;
  /**
   * Go on after a failure (default false): the search then visits every schedule within the bounds,
   * counts the failing ones (`failures`) and keeps the first; `outcomes` are the passing schedules'.
   */
  keepGoing?: boolean;
}

export interface Failure {
  message: string;
  /** Replays the failure: `checker.replay(schedule)`. One token per step: `2` runs T2, `2t` times T2 out,
   * `2a` lets T2 take up its first settled async wait, `2at` fires the time-out of T2's earliest async wait,
   * `2k` kills T2. */
  schedule: string;
  /** One line per step, then the failure. */
  trace: string;
}

export interface ExploreResult {
  scenario: string;
  preemptions: number;
  schedules: number;
  /** The longest schedule, in steps. */
  maxDepth: number;
  /** The search visited every schedule within the bounds (not cut by maxSchedules, not stopped by a failure). */
  complete: boolean;
  /** Some choice was left out because of the preemption bound. */
  bounded: boolean;
  /** Some time-out was not fired early because of the scenario's early time-out bound. */
  timeoutBounded: boolean;
  /** Sleep sets were on. */
  sleepSets: boolean;
  /** The scenario's bound on early time-outs per schedule. */
  earlyTimeouts: number;
  /** The distinct outcomes (Scenario.outcome) the passing schedules reached, sorted. */
  outcomes: string[];
  /** Kills allowed per schedule. */
  kills: number;
  /** Schedules that failed: 0 or 1, unless the search went on after failures (`keepGoing`). */
  failures: number;
  /** Schedules abandoned by the sleep sets (redundant reorderings), not counted in `schedules`. */
  pruned: number;
  /**
   * Where the killed threads were when they were killed, over the whole search (RunInfo.killedAt), sorted:
   * 'parked in wait(s.COUNT)', 'woken from wait(s.COUNT), before it ran', 'before its load(s.COUNT)'...
   */
  killPoints: string[];
  failure: Failure | null;
  ms: number;
}

interface Choice {
  t: number;
  timeout: boolean;
  /** Delivers the thread's first settled async wait (or, with `timeout`, fires its earliest async time-out). */
  async: boolean;
  /** The arena word its operation touches; -1 for a wake-up or time-out (dependent on everything). */
  word: number;
  /** Whether its operation only reads (two reads of one word commute). */
  read: boolean;
  /** Kills the thread (Scenario.killable). */
  kill: boolean;
  /** Preemptions and early time-outs this choice spends. */
  preempts: number;
  early: number;
}

/** How far the clock jumps when time-outs change nothing (#letTimePass): past every scenario's deadline. */
const TIME_JUMP_MS = 1e9;

/** A host that does not answer for this long is dead or stuck outside the model: give up. */
const HOST_TIMEOUT_MS = 60_000;

/**
 * `idle`: suspended in an await, runnable only when one of its async waits has settled. `killed`: stopped
 * by a kill; like `done`, it waits for nothing.
 */
type Status = 'ready' | 'blocked' | 'woken' | 'idle' | 'done' | 'killed';

/** The result of an async wait whose thread was killed: never delivered, and not a lost wake-up. */
const DROPPED = 100;

/** A queued `Atomics.waitAsync`. */
interface AsyncEntry {
  id: number;
  t: number;
  word: number;
  value: number;
  deadline: number;
  /** WAIT_OK / WAIT_TIMED_OUT_*, once settled; -1 while queued. */
  result: number;
}

/** One place in a futex queue: a blocked thread, or an async wait. */
interface Waiter {
  t: number;
  entry: AsyncEntry | null;
}

/** A process-wide block of the library scheduled like the arena (Scenario.shared). */
interface SharedBlock {
  key: string;
  ints: Int32Array;
  /** Its first word's index after the arena's words. */
  base: number;
}

interface Step {
  t: number;
  text: string;
  where: string;
}

export class ModelChecker<P extends Parts = Parts> {
  readonly scenario: Scenario<P>;
  readonly #arenaSab: SharedArrayBuffer;
  readonly #arena: Arena<P>;
  readonly #control: Control;
  readonly #workers: Worker[];
  readonly #n: number;
  readonly #shared: SharedBlock[];
  readonly #wordNames: string[];
  /** The arena index of word 0 of the scenario's `exited` part (-1 if it has none). */
  readonly #exited: number;
  /** The hosts' thread ids, and the library's table of ended threads, for kills. */
  readonly #tids: number[];
  readonly #liveness: Liveness | null;
  // The state of the current run.
  #status: Status[] = [];
  #deadline: number[] = [];
  #queues = new Map<number, Waiter[]>();
  /** This run's async waits, by number. */
  #entries: AsyncEntry[] = [];
  /** Per thread: its settled async waits not yet delivered, in the order they settled. */
  #settled: AsyncEntry[][] = [];
  #early: number[] = [];
  #forced: number[] = [];
  #failure: string | null = null;
  #steps: Step[] | null = null;
  /** The threads killed in this run, where they were then, and how many kills a schedule may have. */
  #killed: number[] = [];
  #killedAt: string[] = [];
  #killBound = 0;
  /** What the run looked like when last only time-outs could happen, and whether time jumps (#letTimePass). */
  #quiet = '';
  #jump = false;
  #jumped = false;

  private constructor(
    scenario: Scenario<P>,
    layout: Layout,
    sab: SharedArrayBuffer,
    control: Control,
    workers: Worker[],
    shared: SharedBlock[],
  ) {
    this.scenario = scenario;
    this.#arenaSab = sab;
    this.#arena = arenaOn(scenario.parts, layout, sab);
    this.#control = control;
    this.#workers = workers;
    this.#n = scenario.threads.length;
    this.#shared = shared;
    this.#tids = workers.map((w) => w.threadId);
    this.#liveness = (scenario.killable ?? []).length > 0 ? new Liveness() : null;
    this.#wordNames = [...layout.wordNames];
    const exited = scenario.exited;
    if (exited !== undefined && !(exited in layout.offsets))
      throw new Error(`${scenario.name}: no part '${exited}' for Scenario.exited`);
    this.#exited = exited === undefined ? -1 : layout.offsets[exited] >> 2;
    for (const b of shared) {
      const name = b.key.replace(/^qemu-thread\./, '');
      for (let k = 0; k < b.ints.length; k++)
        this.#wordNames[b.base + k] = b.ints.length === 1 ? name : `${name}[${k}]`;
    }
  }

  /** Loads the scenario exported as `exportName` by `module`, and starts one thread host per thread. */
  static async open(module: URL, exportName: string): Promise<ModelChecker> {
    const scenario = (await import(module.href))[exportName] as Scenario | undefined;
    if (scenario === undefined) throw new Error(`${module.href} has no scenario '${exportName}'`);
    const layout = layoutOf(scenario.parts);
    const sab = new SharedArrayBuffer(layout.bytes);
    const n = scenario.threads.length;
    const control = controlBlock(n);
    // The library's process-wide blocks live in Node's environment data, which every worker gets a copy
    // of when it is created: made here first (if loading the scenario has not made them already), the
    // hosts and this thread share them, as the threads of one process do. (Loading the scenario has loaded
    // the library, which made them at their size; 4 bytes is ASYNC_WAITS's, in case it has not.)
    let base = layout.bytes >> 2;
    const shared: SharedBlock[] = (scenario.shared ?? []).map((key) => {
      let b = getEnvironmentData(key);
      if (!(b instanceof SharedArrayBuffer)) {
        b = new SharedArrayBuffer(4);
        setEnvironmentData(key, b);
      }
      const block = { key, ints: new Int32Array(b as SharedArrayBuffer), base };
      base += block.ints.length;
      return block;
    });
    const workers = Array.from(
      { length: n },
      (_, index) =>
        new Worker(new URL('./thread-host.js', import.meta.url), {
          workerData: {
            control: control.sab,
            threads: n,
            index,
            arena: sab,
            moduleUrl: module.href,
            exportName,
            shared: scenario.shared ?? [],
            cores: scenario.cores ?? 1,
            spin: scenario.spin ?? 0,
          },
        }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.once('exit', (code) =>
              reject(new Error(`thread host exited with code ${code} before it was ready`)),
            );
          }),
      ),
    );
    for (const w of workers) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
    }
    return new ModelChecker(scenario, layout, sab, control, workers, shared);
  }

  async close(): Promise<void> {
    // Hosts may be anywhere (even inside a thread function, if the search threw): terminate, which also
    // interrupts a host sleeping in Atomics.wait.
    await Promise.all(this.#workers.map((w) => w.terminate()));
    // Leave the process-wide blocks as a process without pending async waits has them.
    for (const b of this.#shared) b.ints.fill(0);
  }

  /** Depth-first search over the schedules within the bounds; stops at the first failure. */
  explore(options: ExploreOptions = {}): ExploreResult {
    const bound = options.preemptions ?? 2;
    const maxSchedules = options.maxSchedules ?? 100_000;
    const maxSteps = options.maxSteps ?? 2000;
    const sleepSets = options.sleepSets ?? bound === Number.POSITIVE_INFINITY;
    const earlyBound = options.earlyTimeouts ?? this.scenario.earlyTimeouts ?? 1;
    const killBound = options.kills ?? ((this.scenario.killable ?? []).length > 0 ? 1 : 0);
    const keepGoing = options.keepGoing ?? false;
    this.#killBound = killBound;
    const started = performance.now();
    const stack: { options: Choice[]; next: number; sleep: Choice[] }[] = [];
    let schedules = 0;
    let pruned = 0;
    let maxDepth = 0;
    let bounded = false;
    let timeoutBounded = false;
    const outcomes = new Set<string>();
    const killPoints = new Set<string>();
    let failure: Failure | null = null;
    let failures = 0;
    for (;;) {
      let depth = 0;
      let preempts = 0;
      let early = 0;
      const path: Choice[] = [];
      const message = this.#run(maxSteps, (available) => {
        let frame = stack[depth];
        if (frame === undefined) {
          let allowed = available.filter((c, i) => {
            if (i === 0) return true;
            if (early + c.early > earlyBound) timeoutBounded = true;
            else if (preempts + c.preempts > bound) bounded = true;
            else return true;
            return false;
          });
          let sleep: Choice[] = [];
          if (sleepSets && depth > 0) {
            // Asleep here: what was asleep before the parent's choice, and the parent's choices already
            // explored, as long as they commute with the choice just taken.
            const parent = stack[depth - 1];
            const taken = parent.options[parent.next];
            sleep = [...parent.sleep, ...parent.options.slice(0, parent.next)].filter((c) =>
              independent(c, taken),
            );
            allowed = allowed.filter((c) => !sleep.some((z) => sameKind(z, c)));
          }
          if (allowed.length === 0) return null;
          frame = { options: allowed, next: 0, sleep };
          stack.push(frame);
        } else if (!sameChoices(frame.options, available)) {
          throw new Error(
            `${this.scenario.name}: the scenario is not deterministic (step ${depth + 1} differs on replay)`,
          );
        }
        const choice = frame.options[frame.next];
        preempts += choice.preempts;
        early += choice.early;
        depth++;
        path.push(choice);
        return choice;
      });
      if (message === PRUNED) pruned++;
      else schedules++;
      for (const k of this.#killedAt) killPoints.add(k);
      if (message === null) outcomes.add(this.scenario.outcome(this.#arena, this.#runInfo()));
      maxDepth = Math.max(maxDepth, depth);
      if (message !== null && message !== PRUNED) {
        failures++;
        failure ??= this.#explain(path, message);
        if (!keepGoing) break;
      }
      while (stack.length > 0 && stack[stack.length - 1].next + 1 >= stack[stack.length - 1].options.length) {
        stack.pop();
      }
      if (stack.length === 0 || schedules >= maxSchedules) break;
      stack[stack.length - 1].next++;
    }
    return {
      scenario: this.scenario.name,
      preemptions: bound,
      schedules,
      maxDepth,
      complete: (failure === null || keepGoing) && stack.length === 0,
      bounded,
      timeoutBounded,
      sleepSets,
      earlyTimeouts: earlyBound,
      outcomes: [...outcomes].sort(),
      kills: killBound,
      failures,
      pruned,
      killPoints: [...killPoints].sort(),
      failure,
      ms: Math.round(performance.now() - started),
    };
  }

  /** Runs one schedule given as tokens (see {@link Failure.schedule}), with a trace. */
  /**
   * Runs one schedule given as tokens (see {@link Failure.schedule}), with a trace. A hand-written
   * schedule may also say `2+`: T2's steps as long as it can run (until it parks or ends). Once the tokens
   * are used up, the run goes on with the default choice (the current thread, else the lowest).
   */
  replay(schedule: string): { failure: string | null; trace: string } {
    const tokens = schedule.split(/\s+/).filter((s) => s !== '');
    const choices = tokens.map((s) => ({
      t: Number.parseInt(s, 10) - 1,
      timeout: s.includes('t'),
      async: s.includes('a'),
      kill: s.endsWith('k'),
      word: -1,
      read: false,
      preempts: 0,
      early: 0,
      repeat: s.endsWith('+'),
    }));
    // Offer as many kills as the schedule makes (a kill is only ever taken when a token asks for it).
    this.#killBound = choices.filter((c) => c.kill).length;
    const failure = this.#explainRun(choices);
    return { failure: failure.message, trace: failure.trace };
  }

  #explain(path: Choice[], message: string): Failure {
    const replayed = this.#explainRun(path);
    // The replay knows code locations, so its message may say more; otherwise it must be the same.
    const bare = (m: string | null) => m && withoutLocations(m);
    if (bare(replayed.message) !== bare(message)) {
      throw new Error(
        `${this.scenario.name}: replay did not reproduce the failure: '${message}' vs '${replayed.message}'`,
      );
    }
    return {
      message: replayed.message ?? message,
      schedule: path.map(token).join(' '),
      trace: replayed.trace,
    };
  }

  #explainRun(path: (Choice & { repeat?: boolean })[]): { message: string | null; trace: string } {
    this.#steps = [];
    Atomics.store(this.#control.ints, H_TRACE, 1);
    let i = 0;
    let message: string | null;
    try {
      message = this.#run(10_000, (available) => {
        // A repeated token stands for as many steps of its thread as it can take, then for none.
        while (path[i]?.repeat && !available.some((c) => sameKind(c, path[i]))) i++;
        const wanted = path[i]?.repeat ? path[i] : path[i++];
        const found = wanted && available.find((c) => sameKind(c, wanted));
        return found ?? available[0];
      });
    } finally {
      Atomics.store(this.#control.ints, H_TRACE, 0);
    }
    const steps = this.#steps;
    this.#steps = null;
    const width = Math.max(8, ...steps.map((s) => s.where.length));
    const lines = steps.map(
      (s, k) => `${String(k + 1).padStart(4)}  T${s.t + 1}  ${s.where.padEnd(width)}  ${s.text}`,
    );
    if (message !== null) lines.push(`=> ${message}`);
    return { message, trace: lines.join('\n') };
  }

  /**
   * One schedule: `choose` picks among the available transitions (the default first), or returns null to
   * abandon the run (then the result is {@link PRUNED}). Returns the failure, or null.
   */
  #run(maxSteps: number, choose: (available: Choice[]) => Choice | null): string | null {
    this.#reset();
    let current = -1;
    let steps = 0;
    for (let t = 0; t < this.#n && this.#failure === null; t++) this.#start(t);
    while (this.#failure === null) {
      const available = this.#available(current);
      if (available.length === 0) {
        const stuck = this.#stuck();
        if (stuck !== '') this.#failure = `deadlock: ${stuck}`;
        break;
      }
      // A time-out is early if a thread could run instead (a kill does not count: it is a fault, not work).
      const early = available.some((c) => !c.timeout && !c.kill);
      // Only time-outs can happen (and kills): time passes.
      if (!early && !this.#letTimePass()) break;
      if (++steps > maxSteps) {
        this.#failure = `no progress after ${maxSteps} steps (livelock?)`;
        break;
      }
      const choice = choose(available);
      if (choice === null) {
        this.#abortAll();
        return PRUNED;
      }
      current = choice.t;
      if (choice.kill) this.#kill(choice.t);
      else if (choice.timeout && choice.async) this.#asyncTimeOut(choice.t, early);
      else if (choice.timeout) this.#timeOut(choice.t, early);
      else if (choice.async) this.#deliverAsync(choice.t);
      else if (this.#status[choice.t] === 'woken') this.#wakeUp(choice.t);
      else this.#perform(choice.t);
    }
    this.#abortAll();
    if (this.#failure === null && this.scenario.check) {
      this.#failure = this.scenario.check(this.#arena, this.#runInfo());
    }
    return this.#failure;
  }

  /** The threads still waiting, and async waits still queued, in words ('' if there are none). */
  #stuck(): string {
    return this.#stuckList().join('; ');
  }

  /** What {@link #stuck} names, one item each, leaving out thread `except`'s. */
  #stuckList(except = -1): string[] {
    const stuck = this.#status
      .map((s, t) => (s === 'done' || s === 'killed' || t === except ? -1 : t))
      .filter((t) => t >= 0);
    // An async wait still queued now can never settle: its wake-up was lost, even if its thread ended.
    // (A suspended thread's queued waits are named with it.)
    const lost = this.#entries.filter((e) => e.result < 0 && this.#status[e.t] !== 'idle' && e.t !== except);
    return [...stuck.map((t) => this.#describeStuck(t)), ...lost.map((e) => this.#describeEntry(e))];
  }

  /**
   * Called when nothing but time-outs can happen. A time-out that fires then only makes its waiter look
   * again; if the last one changed nothing but the clock (the same memory, the same waits on the same
   * values), firing more one period at a time would only repeat that until some deadline the model cannot
   * see passes (a timed wait's own, kept in its thread): so the next one fires after a jump of the clock
   * by TIME_JUMP_MS, past every deadline of a scenario. If even that changes nothing, every waiter waits
   * for good: a deadlock (false, with the failure recorded).
   */
  #letTimePass(): boolean {
    const now = this.#snapshot();
    if (now !== this.#quiet) {
      this.#quiet = now;
      this.#jump = false;
      this.#jumped = false;
      return true;
    }
    if (!this.#jumped) {
      this.#jump = true;
      return true;
    }
    this.#failure = `deadlock: ${this.#stuck()} (its time-outs change nothing: it waits for good)`;
    return false;
  }

  /** The arena, the scheduled shared blocks, and what each thread waits for. */
  #snapshot(): string {
    const ints = this.#control.ints;
    const parts = [new Int32Array(this.#arenaSab).join(), ...this.#shared.map((b) => b.ints.join())];
    for (let t = 0; t < this.#n; t++) {
      const on =
        this.#status[t] === 'blocked' ? `${ints[slotWord(t, S_INDEX)]}=${ints[slotWord(t, S_A)]}` : '';
      parts.push(`${this.#status[t]}${on}`);
    }
    for (const e of this.#entries) if (e.result < 0) parts.push(`T${e.t}:${e.word}=${e.value}`);
    return parts.join('|');
  }

  #runInfo(): RunInfo {
    return {
      earlyTimeouts: [...this.#early],
      forcedTimeouts: [...this.#forced],
      killed: [...this.#killed],
      killedAt: [...this.#killedAt],
    };
  }

  #reset(): void {
    new Int32Array(this.#arenaSab).fill(0);
    for (const b of this.#shared) b.ints.fill(0);
    this.scenario.setup(
      this.#arena,
      Object.fromEntries(this.#shared.map((b) => [b.key, b.ints])),
      this.#tids,
    );
    this.#control.floats[0] = 0;
    this.#status = new Array(this.#n).fill('ready');
    this.#deadline = new Array(this.#n).fill(Number.POSITIVE_INFINITY);
    this.#early = new Array(this.#n).fill(0);
    this.#forced = new Array(this.#n).fill(0);
    this.#queues.clear();
    this.#entries = [];
    this.#settled = Array.from({ length: this.#n }, () => []);
    this.#failure = null;
    this.#killed = [];
    this.#killedAt = [];
    this.#quiet = '';
    this.#jump = false;
    this.#jumped = false;
    if (this.#liveness) for (const tid of this.#tids) this.#liveness.markAlive(tid);
  }

  /** The memory and index of word `i` of the arena, or of a scheduled shared block after it. */
  #memoryOf(i: number): [Int32Array, number] {
    for (const b of this.#shared) if (i >= b.base && i < b.base + b.ints.length) return [b.ints, i - b.base];
    return [new Int32Array(this.#arenaSab), i];
  }

  /** An async wait of thread `t` ready for it to take up: it has settled, and `t` is in an await. */
  #deliverable(t: number): boolean {
    return (this.#status[t] === 'idle' || this.#status[t] === 'done') && this.#settled[t].length > 0;
  }

  /** Thread `t`'s queued async wait with the earliest deadline (the first queued among equals). */
  #earliestEntry(t: number): AsyncEntry | undefined {
    let best: AsyncEntry | undefined;
    for (const e of this.#entries)
      if (e.t === t && e.result < 0 && (!best || e.deadline < best.deadline)) best = e;
    return best;
  }

  /** The transitions that can be taken now, the one that continues the current thread (or else the lowest) first. */
  #available(current: number): Choice[] {
    const runnable: number[] = [];
    for (let t = 0; t < this.#n; t++)
      if (this.#status[t] === 'ready' || this.#status[t] === 'woken' || this.#deliverable(t))
        runnable.push(t);
    const currentRuns = runnable.includes(current);
    // Time-outs fire earliest deadline first, blocked waits and queued async waits alike.
    let earliest = Number.POSITIVE_INFINITY;
    for (let t = 0; t < this.#n; t++) {
      if (this.#status[t] === 'blocked') earliest = Math.min(earliest, this.#deadline[t]);
    }
    for (const e of this.#entries) if (e.result < 0) earliest = Math.min(earliest, e.deadline);
    const timeouts: { t: number; async: boolean }[] = [];
    if (earliest !== Number.POSITIVE_INFINITY) {
      for (let t = 0; t < this.#n; t++) {
        if (this.#status[t] === 'blocked' && this.#deadline[t] === earliest)
          timeouts.push({ t, async: false });
        if (this.#earliestEntry(t)?.deadline === earliest) timeouts.push({ t, async: true });
      }
    }
    const ints = this.#control.ints;
    const run = (t: number, preempts: number): Choice => {
      const woken = this.#status[t] === 'woken';
      const async = this.#deliverable(t);
      const op = ints[slotWord(t, S_OP)];
      return {
        t,
        timeout: false,
        async,
        kill: false,
        word: woken || async ? -1 : ints[slotWord(t, S_INDEX)],
        read: op === OP.load,
        preempts,
        early: 0,
      };
    };
    const timeout = (
      { t, async }: { t: number; async: boolean },
      preempts: number,
      early: number,
    ): Choice => ({
      t,
      timeout: true,
      async,
      kill: false,
      word: -1,
      read: false,
      preempts,
      early,
    });
    const out: Choice[] = [];
    if (runnable.length > 0) {
      const first = currentRuns ? current : runnable[0];
      out.push(run(first, 0));
      const cost = currentRuns ? 1 : 0;
      for (const t of runnable) if (t !== first) out.push(run(t, cost));
      for (const t of timeouts) out.push(timeout(t, cost, 1));
    } else {
      for (const t of timeouts) out.push(timeout(t, 0, 0));
    }
    // A kill is offered while something else could happen (never as the way out of a deadlock, which it
    // would hide), at any step of a killable thread that is still there.
    if (out.length > 0 && this.#killed.length < this.#killBound) {
      for (const t of this.scenario.killable ?? []) {
        if (this.#status[t] === 'done' || this.#status[t] === 'killed') continue;
        out.push({
          t,
          timeout: false,
          async: false,
          kill: true,
          word: -1,
          read: false,
          preempts: 0,
          early: 0,
        });
      }
    }
    return out;
  }

  /**
   * Kills thread `t` where it is, as `Worker.terminate()` would: its pending operation never happens, its
   * waits leave their queues (a wake-up it was given but has not acted on is lost with it), and the
   * library learns that it has ended. Its host unwinds (every further arena operation throws), ready for
   * the next run.
   */
  #kill(t: number): void {
    const ints = this.#control.ints;
    const op = OP_NAMES[ints[slotWord(t, S_OP)]];
    const name = this.#wordNames[ints[slotWord(t, S_INDEX)]];
    const where = {
      ready: `before its ${op}(${name})`,
      blocked: `parked in wait(${name})`,
      woken: `woken from wait(${name}), before it ran`,
      idle: 'suspended in an await',
      done: '',
      killed: '',
    }[this.#status[t]];
    const lost = this.#status[t] === 'woken' ? ': the wake-up is lost with it' : '';
    this.#steps?.push({ t, text: `killed ${where}${lost}`, where: readText(this.#control, t) });
    for (const q of this.#queues.values()) {
      for (let i = q.length - 1; i >= 0; i--) if (q[i].t === t) q.splice(i, 1);
    }
    for (const e of this.#entries) if (e.t === t && e.result < 0) e.result = DROPPED;
    this.#settled[t] = [];
    this.#abortHost(t);
    this.#status[t] = 'killed';
    this.#killed.push(t);
    this.#killedAt.push(where);
    this.#liveness?.markEnded(this.#tids[t]);
    if (this.#exited >= 0) this.#announceExit(t);
  }

  /**
   * Scenario.exited: the platform tells the creator of killed thread `t` that its worker has ended (word t
   * of the part := 1), and its waiters wake, within the kill's step.
   */
  #announceExit(t: number): void {
    const i = this.#exited + t;
    Atomics.store(new Int32Array(this.#arenaSab), i, 1);
    const q = this.#queues.get(i) ?? [];
    const woken = q.splice(0, q.length);
    for (const w of woken) {
      if (w.entry === null) this.#status[w.t] = 'woken';
      else this.#settle_(w.entry, WAIT_OK);
    }
    const who = woken.map((w) => `T${w.t + 1}`).join(', ');
    this.#steps?.push({
      t,
      text: `its end is announced: ${this.#wordNames[i]} = 1${who ? ` (woke ${who})` : ''}`,
      where: '',
    });
  }

  #start(t: number): void {
    const state = slotWord(t, S_STATE);
    Atomics.store(this.#control.ints, state, RUN);
    Atomics.notify(this.#control.ints, state);
    this.#settle(t, awaitChange(Atomics, this.#control.ints, state, RUN, HOST_TIMEOUT_MS));
  }

  /** Hands thread `t` the result of its pending operation and waits for its next one. */
  #deliver(t: number, result: number): void {
    const ints = this.#control.ints;
    ints[slotWord(t, S_RESULT)] = result;
    Atomics.store(ints, slotWord(t, S_STATE), RESUME);
    Atomics.notify(ints, slotWord(t, S_STATE));
    this.#settle(t, awaitChange(Atomics, ints, slotWord(t, S_STATE), RESUME, HOST_TIMEOUT_MS));
  }

  #settle(t: number, state: number): void {
    if (state === ANNOUNCED) {
      this.#status[t] = 'ready';
    } else if (state === SUSPENDED) {
      this.#status[t] = 'idle';
    } else if (state === DONE) {
      this.#status[t] = 'done';
    } else if (state === FAILED) {
      this.#status[t] = 'done';
      this.#failure = `T${t + 1} threw ${readText(this.#control, t)}`;
    } else {
      throw new Error(`thread host T${t + 1} is in unexpected state ${state}`);
    }
  }

  #perform(t: number): void {
    const ints = this.#control.ints;
    const op = OP_NAMES[ints[slotWord(t, S_OP)]] as OpName;
    const i = ints[slotWord(t, S_INDEX)];
    const a = ints[slotWord(t, S_A)];
    const b = ints[slotWord(t, S_B)];
    const [mem, at] = this.#memoryOf(i);
    const name = this.#wordNames[i] ?? `word ${i}`;
    const where = this.#steps ? readText(this.#control, t) : '';
    const note = (text: string) => this.#steps?.push({ t, text, where });
    let r: number;
    switch (op) {
      case 'wait':
      case 'waitAsync': {
        // Both compare and enqueue at their turn, in the same FIFO queue; they differ in what waits: the
        // thread itself (blocked), or an entry its promise will be settled from (the thread runs on).
        const timeout = this.#control.floats[1 + t];
        const shown = `${op}(${name}, ${a}${timeout === Number.POSITIVE_INFINITY ? '' : `, ${timeout} ms`})`;
        if (Atomics.load(mem, at) !== a) {
          note(`${shown} -> not-equal (${Atomics.load(mem, at)})`);
          this.#deliver(t, WAIT_NOT_EQUAL);
        } else if (timeout === 0) {
          note(`${shown} -> timed-out (0 ms)`);
          this.#deliver(t, WAIT_TIMED_OUT_EARLY);
        } else if (op === 'wait') {
          note(`${shown} -> parks`);
          this.#status[t] = 'blocked';
          this.#deadline[t] = this.#control.floats[0] + timeout;
          this.#enqueue(i, { t, entry: null });
        } else {
          const entry: AsyncEntry = {
            id: this.#entries.length,
            t,
            word: i,
            value: a,
            deadline: this.#control.floats[0] + timeout,
            result: -1,
          };
          this.#entries.push(entry);
          this.#enqueue(i, { t, entry });
          note(`${shown} -> queued (async wait #${entry.id})`);
          this.#deliver(t, WAIT_ASYNC + entry.id);
        }
        return;
      }
      case 'notify': {
        const q = this.#queues.get(i) ?? [];
        const woken = q.splice(0, a === NOTIFY_ALL ? q.length : a);
        for (const w of woken) {
          if (w.entry === null) this.#status[w.t] = 'woken';
          else this.#settle_(w.entry, WAIT_OK);
        }
        const who = (w: Waiter) =>
          w.entry === null ? `T${w.t + 1}` : `T${w.t + 1}'s async wait #${w.entry.id}`;
        note(
          `notify(${name}, ${a === NOTIFY_ALL ? 'all' : a}) -> ${woken.length}${woken.length ? ` (woke ${woken.map(who).join(', ')})` : ''}`,
        );
        this.#deliver(t, woken.length);
        return;
      }
      case 'load':
        r = Atomics.load(mem, at);
        note(`load(${name}) -> ${r}`);
        break;
      case 'store':
        r = Atomics.store(mem, at, a);
        note(`store(${name}, ${a})`);
        break;
      case 'compareExchange':
        r = Atomics.compareExchange(mem, at, a, b);
        note(`compareExchange(${name}, ${a}, ${b}) -> ${r}${r === a ? '' : ' (failed)'}`);
        break;
      default: {
        r = Atomics[op as 'add'](mem, at, a);
        note(`${op}(${name}, ${a}) -> ${r} (now ${Atomics.load(mem, at)})`);
      }
    }
    this.#deliver(t, r);
  }

  #wakeUp(t: number): void {
    this.#steps?.push({ t, text: 'wakes from wait -> ok', where: '' });
    this.#deliver(t, WAIT_OK);
  }

  #timeOut(t: number, early: boolean): void {
    for (const q of this.#queues.values()) {
      const at = q.findIndex((w) => w.t === t && w.entry === null);
      if (at >= 0) q.splice(at, 1);
    }
    if (!this.#fireTimeOut(t, this.#deadline[t], 'time-out', early, () => this.#describeStuck(t))) return;
    this.#deliver(t, early ? WAIT_TIMED_OUT_EARLY : WAIT_TIMED_OUT_FORCED);
  }

  /**
   * What every time-out does, a blocked wait's or an async wait's: moves the virtual clock to its deadline,
   * logs the step, and counts it as early or forced. A forced one (nothing else could run) is a lost
   * wake-up unless the scenario says otherwise: then it records the failure and returns false.
   */
  #fireTimeOut(t: number, deadline: number, what: string, early: boolean, stuck: () => string): boolean {
    const jump = this.#jump && !early ? TIME_JUMP_MS : 0;
    if (jump > 0) this.#jumped = true;
    this.#jump = false;
    this.#control.floats[0] = Math.max(this.#control.floats[0], deadline) + jump;
    const how = early
      ? 'early'
      : `forced: nothing else can run${jump ? '; nothing changes before, so time jumps' : ''}`;
    this.#steps?.push({
      t,
      text: `${what} fires at ${this.#control.floats[0]} ms -> timed-out (${how})`,
      where: '',
    });
    if (early) {
      this.#early[t]++;
      return true;
    }
    this.#forced[t]++;
    if (!(this.scenario.forcedTimeoutIsHang ?? true) || this.#killed.length > 0) return true;
    // Every wait of the library is timed (park.ts re-checks its word every RECHECK_MS), so a lost wake-up
    // shows here, as a forced time-out, rather than as a deadlock: name every thread left waiting.
    const others = this.#stuckList(t);
    this.#failure = `hang: ${[stuck(), ...others].join('; ')}; only time-outs can end these waits, nothing else can run: a wake-up was lost`;
    return false;
  }

  #enqueue(word: number, w: Waiter): void {
    const q = this.#queues.get(word);
    if (q) q.push(w);
    else this.#queues.set(word, [w]);
  }

  /** Marks an async wait settled: its thread takes it up when it is next in an await. */
  #settle_(e: AsyncEntry, result: number): void {
    e.result = result;
    this.#settled[e.t].push(e);
  }

  /** Thread `t` takes up its first settled async wait: the host resolves its promise and runs on. */
  #deliverAsync(t: number): void {
    const e = this.#settled[t].shift();
    if (e === undefined) throw new Error(`T${t + 1} has no settled async wait`);
    const text = e.result === WAIT_OK ? 'ok' : 'timed-out';
    this.#steps?.push({
      t,
      text: `async wait #${e.id} on ${this.#wordNames[e.word]} resolves -> ${text}`,
      where: '',
    });
    const ints = this.#control.ints;
    ints[slotWord(t, S_A)] = e.id;
    ints[slotWord(t, S_RESULT)] = e.result;
    Atomics.store(ints, slotWord(t, S_STATE), SETTLE);
    Atomics.notify(ints, slotWord(t, S_STATE));
    this.#settle(t, awaitChange(Atomics, ints, slotWord(t, S_STATE), SETTLE, HOST_TIMEOUT_MS));
  }

  /** Fires the time-out of thread `t`'s earliest queued async wait. */
  #asyncTimeOut(t: number, early: boolean): void {
    const e = this.#earliestEntry(t);
    if (e === undefined) throw new Error(`T${t + 1} has no queued async wait`);
    const q = this.#queues.get(e.word) ?? [];
    const at = q.findIndex((w) => w.entry === e);
    if (at >= 0) q.splice(at, 1);
    const what = `time-out of async wait #${e.id}`;
    if (!this.#fireTimeOut(t, e.deadline, what, early, () => this.#describeEntry(e))) return;
    this.#settle_(e, early ? WAIT_TIMED_OUT_EARLY : WAIT_TIMED_OUT_FORCED);
  }

  #describeEntry(e: AsyncEntry): string {
    return `T${e.t + 1}'s async wait #${e.id} waitAsync(${this.#wordNames[e.word]}, ${e.value}) is never resolved`;
  }

  #describeStuck(t: number): string {
    const ints = this.#control.ints;
    const name = this.#wordNames[ints[slotWord(t, S_INDEX)]];
    const where = this.#steps ? readText(this.#control, t) : '';
    if (this.#status[t] === 'blocked' && ints[slotWord(t, S_OP)] === OP.wait) {
      return `T${t + 1} waits in wait(${name}, ${ints[slotWord(t, S_A)]})${where ? ` at ${where}` : ''}`;
    }
    if (this.#status[t] === 'idle') {
      const queued = this.#entries.filter((e) => e.t === t && e.result < 0);
      if (queued.length > 0) return queued.map((e) => this.#describeEntry(e)).join('; ');
      return `T${t + 1} is suspended in an await that nothing can resolve`;
    }
    return `T${t + 1} is ${this.#status[t]}`;
  }

  /** Unwinds every thread still inside its function, so that the hosts are ready for the next run. */
  #abortAll(): void {
    for (let t = 0; t < this.#n; t++) {
      if (this.#status[t] === 'done' || this.#status[t] === 'killed') continue;
      this.#abortHost(t);
      this.#status[t] = 'done';
    }
  }

  /** Makes thread `t`'s host give up its run: its pending operation throws, and its function unwinds. */
  #abortHost(t: number): void {
    const ints = this.#control.ints;
    const state = slotWord(t, S_STATE);
    Atomics.store(ints, state, ABORT);
    Atomics.notify(ints, state);
    const end = awaitChange(Atomics, ints, state, ABORT, HOST_TIMEOUT_MS);
    if (end !== ABORTED && end !== FAILED && end !== DONE)
      throw new Error(`thread host T${t + 1} did not abort (${end})`);
  }
}

/** What {@link ModelChecker.#run} returns for a run abandoned by the sleep sets. */
const PRUNED = '(pruned)';

/** Two transitions of different threads commute: they touch different words, or both only read. */
function independent(a: Choice, b: Choice): boolean {
  return a.t !== b.t && a.word >= 0 && b.word >= 0 && (a.word !== b.word || (a.read && b.read));
}

function token(c: Choice): string {
  return `${c.t + 1}${c.async ? 'a' : ''}${c.timeout ? 't' : ''}${c.kill ? 'k' : ''}`;
}

/** The same transition: same thread, same kind (run, time-out, async delivery, async time-out, kill). */
function sameKind(a: Choice, b: Choice): boolean {
  return a.t === b.t && a.timeout === b.timeout && a.async === b.async && a.kill === b.kill;
}

function sameChoices(a: Choice[], b: Choice[]): boolean {
  // A frame keeps only the choices within the bound and not asleep: each of them must be available again.
  return a.every((c) => b.some((d) => sameKind(c, d) && d.word === c.word));
}

/** Opens, explores and closes: the usual use from a test. */
export async function check(
  module: URL,
  exportName: string,
  options?: ExploreOptions,
): Promise<ExploreResult> {
  const checker = await ModelChecker.open(module, exportName);
  try {
    return checker.explore(options);
  } finally {
    await checker.close();
  }
}

/** A failure's message without the code locations a replay adds (' at park src/park.ts:38'). */
export function withoutLocations(message: string): string {
  return message.replace(/ at [^;(]*(?= \(|;|$)/g, '');
}

/** How a search ended, in words. */
export function searchOutcome(r: ExploreResult): string {
  if (r.failure && !r.complete) return 'stopped at the failure';
  if (!r.complete) return 'cut at the schedule limit';
  const early = r.timeoutBounded ? `, <= ${r.earlyTimeouts} early time-out(s)` : '';
  const kills = r.kills > 0 ? `, <= ${r.kills} kill(s) at any step` : '';
  if (r.bounded) return `every schedule within the bound${early}${kills}`;
  return `every interleaving${r.sleepSets ? ' (sleep sets)' : ''}${early}${kills}`;
}

/** One line for a result: schedules explored and how the search ended. */
export function summary(r: ExploreResult): string {
  const bound =
    r.preemptions === Number.POSITIVE_INFINITY ? 'no preemption bound' : `${r.preemptions} preemptions`;
  const pruned = r.pruned > 0 ? ` + ${r.pruned} pruned` : '';
  const how = r.failure
    ? r.complete
      ? `${searchOutcome(r)}: ${r.failures} FAILED`
      : 'FAILED (stopped at the failure)'
    : searchOutcome(r);
  return `${r.scenario}: ${r.schedules} schedules${pruned} (max ${r.maxDepth} steps, ${bound}), ${how}, ${r.ms} ms`;
}
