/**
 * What a model-checking scenario is: an arena (one SharedArrayBuffer holding the primitives and variables
 * under test, each word with a name for the trace), a setup run by the scheduler before every schedule, the
 * thread functions (run in the thread hosts, on the production code of the library), and a final check.
 *
 * Only operations on the arena are scheduling points, so everything whose interleavings matter must live
 * in it; plain (non-atomic) reads and writes of arena words between two operations happen as part of the
 * thread's step, which is how a data-race-free program sees them.
 */
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuThread,
} from 'qemu-thread';

/** One named region of the arena. */
export interface Part<T> {
  bytes: number;
  /** Names of its words, for the trace ('' for a one-word variable). */
  fields: string[];
  make(sab: SharedArrayBuffer, byteOffset: number): T;
}

const prim = <T>(bytes: number, fields: string[], make: (b: SharedArrayBuffer, o: number) => T): Part<T> => ({
  bytes,
  fields,
  make,
});

export const mutex = prim(QemuMutex.BYTES, ['LOCK', 'ID'], (b, o) => new QemuMutex(b, o));
export const recMutex = prim(QemuRecMutex.BYTES, ['LOCK', 'ID', 'DEPTH'], (b, o) => new QemuRecMutex(b, o));
export const cond = prim(
  QemuCond.BYTES,
  ['STATE', 'SEQ', 'COUNTS', 'OWED', 'ID'],
  (b, o) => new QemuCond(b, o),
);
export const semaphore = prim(
  QemuSemaphore.BYTES,
  ['STATE', 'COUNT', 'WAITERS'],
  (b, o) => new QemuSemaphore(b, o),
);
export const event = prim(QemuEvent.BYTES, ['STATE', 'VALUE', 'WAITERS'], (b, o) => new QemuEvent(b, o));
export const lockcnt = prim(
  QemuLockCnt.BYTES,
  ['STATE', 'WORD', 'OWNER', 'ID'],
  (b, o) => new QemuLockCnt(b, o),
);
/** The words of a QemuThread (thread.ts, result-pipe.ts), for the trace; the pipe's window follows. */
export const THREAD_FIELDS = [
  'STATE',
  'TID',
  'MODE',
  'JOINER',
  'OUTCOME',
  'LENGTH',
  'CHUNK',
  'GENERATION',
  'TERMINATED_BY',
];
export const thread = prim(QemuThread.BYTES, THREAD_FIELDS, (b, o) => new QemuThread(b, o));
/** `n` plain Int32 words (a variable the scenario's threads and check use). */
export function words(n: number, names?: string[]): Part<Int32Array> {
  return prim(
    4 * n,
    names ?? (n === 1 ? [''] : Array.from({ length: n }, (_, i) => `[${i}]`)),
    (b, o) => new Int32Array(b, o, n),
  );
}
/** Raw words of the arena, for a scenario's own protocol (e.g. a broken primitive in test/model/broken). */
export const word = words(1);

export type Parts = Record<string, Part<unknown>>;
export type Arena<P extends Parts> = { [K in keyof P]: P[K] extends Part<infer T> ? T : never };

/**
 * Throws unless `ms` have passed on the clock since `start` (both `performance.now()`, which the model
 * makes virtual): for a timed wait that returned false. The clock moves only when the scheduler fires a
 * time-out, the thread's own or another's, and every wait of the library is timed (park.ts compares its
 * word again every RECHECK_MS): so a timed wait may rightly give up without a time-out of its own, when,
 * woken, it finds its deadline already passed by another thread's. Giving up before the deadline is wrong.
 */
export function assertDeadlinePassed(start: number, ms: number, what = 'timedWait'): void {
  const waited = performance.now() - start;
  if (waited < ms) throw new Error(`${what} returned false after ${waited} of its ${ms} ms`);
}

/** What a thread function may ask of the model while it runs. */
export interface ThreadContext {
  /** The thread's number in the scenario (0-based; traces print T1, T2...). */
  readonly index: number;
  /** Modelled `Atomics.wait` calls of this thread that ended in a time-out, so far in this run. */
  timeouts(): { early: number; forced: number };
}

/** A thread's body; an async one is finished when its promise settles (see thread-host.ts). */
export type ThreadFn<P extends Parts> = (a: Arena<P>, ctx: ThreadContext) => void | Promise<void>;

/** What the scheduler knows about a finished run, for the scenario's check and outcome. */
export interface RunInfo {
  /** Per thread: time-outs that fired while another thread could still run. */
  earlyTimeouts: number[];
  /** Per thread: time-outs that fired because nothing else could run. */
  forcedTimeouts: number[];
  /** The threads the scheduler killed in this run (Scenario.killable), in the order it killed them. */
  killed: number[];
  /** Where each of them was when it was killed ('parked in wait(s.COUNT)', ...), in the same order. */
  killedAt: string[];
}

export interface Scenario<P extends Parts = Parts> {
  name: string;
  parts: P;
  /**
   * Runs in the scheduler's thread (real Atomics) on a zeroed arena and zeroed shared blocks, before every
   * schedule. `tids` are the runtime's thread ids of the simulated threads (their hosts' `threadId`), for a
   * scenario that must name them in the arena (a QemuThread's TID, whose end the library looks up).
   */
  setup(a: Arena<P>, shared: Record<string, Int32Array>, tids: readonly number[]): void;
  /**
   * Keys of process-wide blocks (platform.processShared) of the library whose operations are scheduling
   * points too, as if they were words of the arena: e.g. park.ts's count of pending async waits,
   * ASYNC_WAITS, on which a wake's choice between one and all waiters depends. Zeroed before every schedule.
   */
  shared?: string[];
  threads: ThreadFn<P>[];
  /** Runs in the scheduler's thread once every thread has returned; a message on failure. */
  check?(a: Arena<P>, run: RunInfo): string | null;
  /**
   * The final state in a few words, collected over a search (the distinct outcomes it reached); the
   * catalog (catalog.ts) lists the exact set each scenario must reach.
   */
  outcome(a: Arena<P>, run: RunInfo): string;
  /**
   * How many cores the library sees (platform.cores, default 1). It sizes the cond's broadcast: with one
   * core every woken waiter passes the broadcast on (the chain), with more the broadcaster wakes that many
   * at once and the chain starts only after them.
   */
  cores?: number;
  /**
   * Spinning (park.ts): 0 (the default) turns it off, so a waiter parks at once; n > 0 makes every spin
   * exactly n reads of the word, each a scheduling point, so that the spin paths (a lock taken while
   * spinning, a wake-up seen before parking) are explored too.
   */
  spin?: number;
  /**
   * Threads that the scheduler may kill (as `Worker.terminate()` does) at any of their scheduling points,
   * at most one kill per schedule: the thread stops where it is, a wait it was in leaves its queue (a
   * wake-up already delivered to it, but not yet acted on, is gone with it), and the library's table of
   * ended threads says it has ended (as its creator reports it). After a kill, a time-out that fires
   * because nothing else can run is not a hang: it is how a sleeper that re-checks periodically recovers
   * what the dead thread took with it.
   */
  killable?: number[];
  /**
   * The name of a part with one word per thread (`words(n)`) that says which threads have ended, as their
   * creator learns it from the platform (a worker's 'exit' event): when the scheduler kills thread t it
   * sets word t to 1 and wakes whoever waits on it, in the same step. A thread that ends normally sets its
   * own word as its last step. A scenario uses it to model the creator's report of a dead thread (see
   * scenarios/kill.ts, killJoinExiting).
   */
  exited?: string;
  /**
   * Time-outs that may fire while another thread could still run (default 1); each is a branch of the
   * search. Time-outs that fire because nothing else can run are not bounded by this.
   */
  earlyTimeouts?: number;
  /**
   * Whether a forced time-out is a failure (default true): with it, a thread left waiting when nothing
   * else can run has been forgotten (a lost wake-up), even if its wait has a time-out.
   */
  forcedTimeoutIsHang?: boolean;
}

/** park.ts's process-wide count of pending async waits (see `wake` there). */
export const ASYNC_WAITS = 'qemu-thread.async-waits';

export function defineScenario<P extends Parts>(s: Scenario<P>): Scenario<P> {
  return s;
}

/** Where each part lives in the arena, and a name for every word. */
export interface Layout {
  bytes: number;
  offsets: Record<string, number>;
  wordNames: string[];
}

export function layoutOf(parts: Parts): Layout {
  const offsets: Record<string, number> = {};
  const wordNames: string[] = [];
  let at = 0;
  for (const [name, part] of Object.entries(parts)) {
    offsets[name] = at;
    for (let i = 0; i < part.bytes / 4; i++) {
      const field = part.fields[i] ?? `+${i}`;
      wordNames.push(field === '' ? name : field.startsWith('[') ? `${name}${field}` : `${name}.${field}`);
    }
    at += part.bytes;
  }
  return { bytes: Math.max(at, 4), offsets, wordNames };
}

export function arenaOn<P extends Parts>(parts: P, layout: Layout, sab: SharedArrayBuffer): Arena<P> {
  const arena: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(parts)) arena[name] = part.make(sab, layout.offsets[name]);
  return arena as Arena<P>;
}
