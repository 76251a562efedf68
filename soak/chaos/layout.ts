/**
 * The chaos soak's shared state: word indexes, thread states (which are also the kinds of termination),
 * the defect classes that `--skip` turns off, tokens, and the argument each thread receives. No side
 * effects at import.
 *
 * Identity: every worker thread runs in a slot (0..MAX_SLOTS-1) and has a token `(generation << 6) | slot`;
 * a replacement started in the slot of a terminated thread gets the next generation. Tokens, not thread ids,
 * are what the shared state records (who holds a lock, who holds a ticket, who joins what), so that the
 * state a dead thread left behind can be told apart from a live thread's: a token is dead once its slot has
 * moved on to a later generation, or once the controller has written it into KILLING (which it does before
 * it terminates the thread, so no observer can ever see the effect of a death before the record of it).
 */
import type {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
} from 'qemu-thread';

/** Worker slots (the controller and the watchdog are not in a slot). */
export const MAX_SLOTS = 32;
/** The slot number in the controller's (main thread's) token; it is never terminated. */
export const MAIN_SLOT = 63;
export const MAIN_TOKEN = (1 << 6) | MAIN_SLOT;
export const tokenOf = (slot: number, generation: number) => (generation << 6) | slot;
export const slotOfToken = (token: number) => token & 63;
export const generationOf = (token: number) => token >>> 6;

/**
 * What a thread is doing, as it publishes it in its STATE word. Every state is also a kind of termination:
 * a thread terminated while in it is counted under its name. The last four are never states: they name
 * terminations aimed at a moment (a waiter just woken by a signal, post or broadcast; a joinee streaming
 * its result) that only the thread arranging them knows.
 */
export const STATES = [
  'running', // between operations
  'starting', // created, its function not yet running
  'fenced', // waiting to be terminated, outside any skipped region
  'barrier', // at the audit barrier
  'mutex-wait',
  'mutex-held',
  'rec-mutex-wait',
  'rec-mutex-held',
  'cond-mutex-wait', // locking the ticket or gate mutex
  'cond-mutex-held',
  'cond-wait', // parked in a cond wait (tickets: signal)
  'gate-wait', // parked in a cond wait (gate: broadcast)
  'sem-wait',
  'sem-held',
  'event-wait',
  'spin-wait',
  'spin-held',
  'lockcnt-visit',
  'lockcnt-wait',
  'lockcnt-held',
  'join-wait', // joining a thread whose result is small
  'join-large', // joining a thread whose result is streamed (> 224 bytes)
  'script-hold', // scripted: holding what the script asked for, until terminated
  // Terminations only:
  'cond-woken',
  'gate-woken',
  'sem-woken',
  'joinee-running', // in its function
  'joinee-returning', // returned (or threw), its outcome not yet published: the thread is in qemu-thread's code
  'joinee-streaming', // its outcome published, the rest of a streamed one going to the joiner
] as const;
export type StateName = (typeof STATES)[number];
export const S = Object.fromEntries(STATES.map((s, i) => [s, i])) as { [K in StateName]: number };

/**
 * Classes of known defects (issue #11), each a set of termination kinds. `--skip CLASS` stops the soak
 * from terminating threads in those states (threads fence themselves before entering them while a
 * termination is pending), and `waiter-counts` skips the check that waiter counts come back to 0.
 */
export const CLASSES = {
  'sem-terminate': ['sem-wait', 'sem-woken'],
  'cond-terminate': ['cond-wait', 'cond-woken', 'gate-wait', 'gate-woken'],
  'join-transfer': ['joinee-streaming'],
  /** A thread terminated while it publishes its outcome (after its function, before its joiner can read). */
  'join-publish': ['joinee-returning'],
  /** The joiner terminated while it reads a streamed result; another thread then joins in its place. */
  'join-reader': ['join-large'],
  // The wait states too: a thread there may already hold the lock (it publishes 'held' only after).
  spin: ['spin-wait', 'spin-held'],
  lockcnt: ['lockcnt-held', 'lockcnt-wait'],
  /** Async threads only: a terminated async waiter leaves a process-wide count of pending async waits up. */
  'async-wait': [
    'mutex-wait',
    'rec-mutex-wait',
    'cond-mutex-wait',
    'cond-wait',
    'gate-wait',
    'sem-wait',
    'event-wait',
    'join-wait',
    'join-large',
  ],
  /** Checks: destroy and init refused (EBUSY) for waiters that were terminated. */
  'waiter-counts': [],
  /** Checks: QemuMutex.waiters() and QemuCond.parkedThreads() list only live threads. */
  'parked-lists': [],
  /** Checks: a terminated async waiter does not turn every later single wake-up into a wake-all. */
  'async-wake-all': [],
} as const satisfies Record<string, readonly StateName[]>;
export type DefectClass = keyof typeof CLASSES;
export const CLASS_NAMES = Object.keys(CLASSES) as DefectClass[];

/** The states that are armed (G.ARM): holding a lock, a ticket, a unit, a visit. */
export const ARMABLE: readonly StateName[] = [
  'mutex-held',
  'rec-mutex-held',
  'cond-mutex-held',
  'sem-held',
  'spin-held',
  'lockcnt-visit',
  'lockcnt-held',
];

/** Bit mask of the states in which a (blocking or async) thread must not be terminated. */
export function skippedMask(skip: readonly DefectClass[], async: boolean): number {
  let mask = 0;
  for (const c of skip) {
    if (c === 'async-wait' && !async) continue;
    for (const s of CLASSES[c]) mask |= 1 << S[s];
  }
  return mask;
}

/** The activities, each a few operations on one primitive (or pattern), with its invariant. */
export const ACTIVITIES = [
  'bank', // robust mutex: transfers between accounts, the sum never changes; one holder at a time
  'rec-bank', // recursive mutex, nested twice, the same transfers
  'tickets', // mutex + cond + signal: K tickets, taken and returned; tickets + held == K exactly
  'gate', // mutex + cond + broadcast: every waiter gets through each opening of the gate
  'sem', // semaphore: never more than K units held; all K back at every audit
  'event', // per-thread event set by the controller's ticks (and peers): every set is seen
  'spin', // spin lock: transfers, one holder at a time
  'lockcnt', // visitors never see the list freed
  'join', // joins another thread (small or streamed result, returned, thrown or exited), checks it exactly
] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** How joins ended (all of them as expected: anything else is a violation). */
export const JOIN_OUTCOMES = [
  'returned',
  'threw',
  'exited',
  'terminated', // the joinee was terminated: the joiner got an error
  'terminated-late', // the joinee was terminated after it had ended: the joiner got its outcome
  'orphan', // the joiner died after its join had completed; the next one got EINVAL (already joined)
] as const;
export type JoinOutcome = (typeof JOIN_OUTCOMES)[number];

/** Violation categories, counted in shared memory (texts go to stderr). */
export const VIOLATION_KINDS = [
  'mutual-exclusion',
  'missing-eownerdead', // a lock a dead thread held came back without EOWNERDEAD
  'false-eownerdead', // EOWNERDEAD although the previous holder is alive
  'conservation', // a sum, count or ticket balance is off
  'lost-wakeup',
  'join-result',
  'termination', // a terminated thread's joiner did not get "was terminated by"
  'waiter-count',
  'unexpected-error',
  'hang',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** The locks with a holder gauge and EOWNERDEAD recovery. */
export const LOCKS = ['mutex', 'rec-mutex', 'ticket-mutex', 'gate-mutex', 'spin', 'lockcnt'] as const;
export type LockName = (typeof LOCKS)[number];

/** Accounts per bank; each starts with INITIAL, so every bank's sum is ACCOUNTS * INITIAL. */
export const ACCOUNTS = 8;
export const INITIAL = 1000;
/** Tickets of the cond's ticket pool, and units of the semaphore. */
export const TICKETS = 2;
export const SEM_UNITS = 2;
/** Joinee slots, and the largest result that fits a QemuThread's window (bigger ones are streamed). */
export const JOINEES = 3;
export const WINDOW_BYTES = 224;
/**
 * Whether a joinee's outcome is streamed through the window in more than one chunk: a result with its
 * serialization header, or a thrown error (whose record carries a stack).
 */
export function isStreamed(size: number, mode: number): boolean {
  return mode === 1 || size > WINDOW_BYTES - 32;
}

/** A bank: a holder gauge, an intent log, the accounts. */
export const BANK = { HOLDER: 0, LOG_VALID: 1, LOG_FROM: 2, LOG_FROM_V: 3, LOG_TO: 4, LOG_TO_V: 5, ACC: 6 };
export const BANK_WORDS = 6 + ACCOUNTS;

let next = 0;
const take = (n = 1) => {
  const at = next;
  next += n;
  return at;
};
/** Global words. */
export const G = {
  STOP: take(),
  QUIESCE: take(),
  BARRIER_GEN: take(),
  /** Set (to 1) by the watchdog or a thread when the run must end now; the controller reports and exits. */
  FATAL: take(),
  HANGS: take(),
  /** Bumped by the controller's loop: the watchdog checks that it moves. */
  MAIN_BEAT: take(),
  /** The controller's clock for events: a waiter waits until TICK reaches its WANT. */
  TICK: take(),
  VIOLATIONS: take(VIOLATION_KINDS.length),
  OPS: take(ACTIVITIES.length),
  RECOVERIES: take(LOCKS.length),
  JOINS: take(6),
  /** Rung (bumped and notified) by a worker that posts a request in its REQ word. */
  REQ_BELL: take(),
  /**
   * An armed termination: a state (+1) that the next thread to enter it asks to be terminated in, from
   * where it stands (worker.ts: armPoint). This is how threads die inside critical sections, which last
   * microseconds and are seldom caught by a termination aimed at a random moment.
   */
  ARM: take(),
  /** Banks for the mutex, the recursive mutex and the spin lock. */
  BANK_M: take(BANK_WORDS),
  BANK_R: take(BANK_WORDS),
  BANK_S: take(BANK_WORDS),
  /** Ticket pool under the ticket mutex: free tickets, holder gauge, token of an update in progress. */
  T_FREE: take(),
  T_HOLDER: take(),
  T_PENDING: take(),
  /** Gate under the gate mutex: generation (each opening bumps it), holder gauge. */
  GATE_GEN: take(),
  GATE_HOLDER: take(),
  /** The lockcnt's "list": its id and whether it is alive (0 = freed); the holder of its lock. */
  L_PTR: take(),
  L_ALIVE: take(),
  L_HOLDER: take(),
  /** Milliseconds since the run started, written by the controller's loop (for STATE_SINCE). */
  NOW_MS: take(),
} as const;

/**
 * A requested termination in one word, so that it is posted and withdrawn atomically: the kind (a state)
 * in bits 24-30, and a worker's token, or JOINEE_TARGET | joinee, in bits 0-23.
 */
export const JOINEE_TARGET = 1 << 23;
export function encodeRequest(target: number, kind: number): number {
  return (kind << 24) | target;
}
export function decodeRequest(request: number): { target: number; kind: number } {
  return { target: request & 0xffffff, kind: request >>> 24 };
}
/** Generations stay below this, so a token fits a request (with room for JOINEE_TARGET). */
export const MAX_GENERATION = 1 << 17;

/** Per-slot words (for slots 0..63; slot 63 is the controller's). */
export const P = {
  TOKEN: 0,
  TID: 1,
  STATE: 2,
  STATE_SINCE: 3,
  PROGRESS: 4,
  /** Set by the controller before it terminates the thread (see the fence in worker.ts). */
  PENDING: 5,
  KILLING: 6,
  /** Scripted command (0: none) and its answer. */
  SCRIPT: 7,
  SCRIPT_ACK: 8,
  /** Tickets held (0 or 1; the controller may hold several). */
  HOLD_T: 9,
  /** Semaphore: 1 while about to wait (a unit may be taken by then), held units, 2 while releasing. */
  SEM_INTENT: 10,
  SEM_HELD: 11,
  /** Lockcnt visitor: 1 entering, 2 inside, 3 leaving. */
  L_VISIT: 12,
  /** Event: the tick this slot waits for (0: not waiting). */
  WANT: 13,
  /** Gate: the generation this slot waits to see change (-1: not waiting). */
  GATE_SEEN: 14,
  ASYNC: 15,
  /** Which joinee this slot joins (+1), 0 when none. */
  JOINING: 16,
  /**
   * A termination this thread asks for (encodeRequest), REQ_CLAIMED once the controller has taken it, 0
   * when none (or served).
   */
  REQ: 17,
  /** The activity under way (+1), 0 between activities: for hang reports. */
  ACTIVITY: 18,
} as const;
export const PER_SLOT = 19;
export const REQ_CLAIMED = -1;
export const SLOT_BASE = next;

export const slotWord = (slot: number, which: number) => SLOT_BASE + PER_SLOT * slot + which;

/** Per-joinee words, after the slots. */
export const J = {
  STATE: 0, // FREE, READY (running or ended, not yet joined), or CLAIMED
  CLAIM: 1, // token of its joiner (0: nobody)
  SIZE: 2,
  SEED: 3,
  MODE: 4, // 0 return, 1 throw, 2 qemu_thread_exit
  FLAG: 5, // 0 not started, 1 running, 2 returning
  KILLED: 6, // set by the controller before it terminates the joinee
  PENDING: 7, // the joinee's fence (as P.PENDING)
  GATE: 8, // scripted: the joinee waits while this is 1
  STARTS: 9,
  /** 1 if the joinee must fence before it returns: a termination then must not land after that. */
  FENCE: 10,
  ORPHANED: 11, // its joiner died after claiming it: the join may have completed already
  WORK_MS: 12,
} as const;
export const PER_JOINEE = 13;
export const JOINEE_BASE = SLOT_BASE + PER_SLOT * 64;
export const joineeWord = (j: number, which: number) => JOINEE_BASE + PER_JOINEE * j + which;
export const JS_FREE = 0;
export const JS_READY = 1;
export const JS_CLAIMED = 2;

export const TOTAL_WORDS = JOINEE_BASE + PER_JOINEE * JOINEES;

/** Scripted commands a worker at the barrier carries out (see worker.ts: script). */
export const SCRIPT = {
  HOLD_MUTEX: 1,
  LOCK_MUTEX: 2,
  HOLD_REC: 3,
  TAKE_TICKET: 4,
  HOLD_SPIN: 5,
  SPIN_ONCE: 6,
  HOLD_LOCKCNT: 7,
  LOCKCNT_ONCE: 8,
  VISIT_LOCKCNT: 9,
  SEM_TAKE: 10,
  EVENT_WAIT: 11,
  JOIN: 12,
  GATE_WAIT: 13,
  LOCK_REC: 14,
} as const;
/** SCRIPT_ACK values. */
export const ACK_IN_POSITION = 1;
export const ACK_DONE = 2;
export const ACK_RECOVERED = 3;

export interface ChaosPrims {
  m: QemuMutex;
  r: QemuRecMutex;
  s: QemuSpin;
  l: QemuLockCnt;
  sem: QemuSemaphore;
  tm: QemuMutex;
  tc: QemuCond;
  gm: QemuMutex;
  gc: QemuCond;
  /** One per slot: only the slot's thread resets it; the controller's ticks and peers set it. */
  events: QemuEvent[];
}

export interface ChaosArg {
  slot: number;
  token: number;
  threads: number;
  words: Int32Array;
  p: ChaosPrims;
  /** Storage of the joinees' QemuThread handles (JOINEES of them, QemuThread.BYTES apart). */
  joinees: SharedArrayBuffer;
  seed: number;
  async: boolean;
  skipMask: number;
  fault: ChaosFault | null;
}

export interface JoineeArg {
  j: number;
  words: Int32Array;
  size: number;
  seed: number;
  mode: number;
}

export interface WatchdogArg {
  words: Int32Array;
  p: ChaosPrims;
  threads: number;
  watchdogMs: number;
  joinees: SharedArrayBuffer;
}

export const CHAOS_FAULTS = ['stall', 'lost-wakeup'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

/** The bytes a joinee returns: a function of its seed, so the joiner can check every one. */
export function resultByte(seed: number, i: number): number {
  return (seed + i * 31 + (i >>> 8)) & 255;
}
