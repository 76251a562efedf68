/**
 * Threads killed in the middle of a wait (Scenario.killable): the checker kills one thread at every one of
 * its scheduling points (parked in its wait, woken but not yet running, or between two operations), as
 * `QemuThread.terminate()` / `Worker.terminate()` would, in every schedule within the bounds, once per
 * schedule. What must hold after: every thread still alive gets through (no hang), a lock the dead thread
 * held reaches the next locker with EOWNERDEAD, no live waiter gives up (times out) because of a wake-up
 * that died with the killed thread, a join settles (with the result, intact, or the error that says why).
 *
 * The waits that could legitimately outlast the scenario (a second waiter when there is one post or one
 * signal) are timed waits with a long time-out (60 s of virtual time, far more than park.ts's RECHECK_MS;
 * the checker jumps over re-checks that change nothing); early time-outs are off, so a time-out fires only
 * when nothing else can run, and at that moment the state it gave up on is final. A forced time-out is
 * then no hang in itself: the checks say when giving up was wrong.
 *
 * What recovers from a kill (issue #11): a wake-up taken by a waiter killed before it acted is not passed
 * on by anyone, but the other sleepers compare their word again every RECHECK_MS (park.ts) and find the
 * post's count or the signal's sequence number changed; the two sides of a join's result pipe park in
 * slices too and look whether their peer has ended (result-pipe.ts), and the creator of a dead thread
 * reports it (thread.ts).
 */
import { serialize } from 'node:v8';
import { publishOutcome, streamOutcome } from '#internal/thread';
import { resultPipe } from '../internals.js';
import type { RunInfo, ThreadContext } from '../scenario.js';
import { cond, defineScenario, event, mutex, semaphore, thread, word, words } from '../scenario.js';
import { enterExclusive, leave } from './mutex.js';

type Mutex = import('qemu-thread').QemuMutex;

const LONG_MS = 60_000;
const codeOf = (error: unknown) => (error as { code?: string }).code;

/** Locks `m`; if its holder died, repairs (`repair`) and marks it consistent, and records who got EOWNERDEAD. */
function lockRobust(m: Mutex, ownerDead: Int32Array, ctx: ThreadContext, repair = () => {}): void {
  try {
    m.lock();
  } catch (error) {
    if (codeOf(error) !== 'EOWNERDEAD') throw error;
    repair();
    m.consistent();
    ownerDead[0] = ctx.index + 1;
  }
}

const wasKilled = (run: RunInfo, t: number) => run.killed.includes(t);
const ownerDeadTo = (ownerDead: Int32Array) => (ownerDead[0] ? `T${ownerDead[0]}` : 'nobody');

// The mutex: three lockers, T2 killed anywhere in its lock, critical section or unlock.

/** PROGRESS[t]: 1 once thread t holds the lock (its unlock is its last step: it cannot die after it). */
type MutexArena = { m: Mutex; inside: Int32Array; ownerDead: Int32Array; progress: Int32Array };

function robustLocker(a: MutexArena, ctx: ThreadContext): void {
  // A holder that died inside left INSIDE at 1: that is the state to repair.
  lockRobust(a.m, a.ownerDead, ctx, () => Atomics.store(a.inside, 0, 0));
  a.progress[ctx.index] = 1;
  enterExclusive(a.inside);
  leave(a.inside);
  a.m.unlock();
}

const MUTEX_FATE = ['killed before it held the lock', 'killed holding the lock'];

export const killMutexLock = defineScenario({
  name: 'kill: a locker killed anywhere in lock / unlock, 3 lockers',
  parts: { m: mutex, inside: word, ownerDead: word, progress: words(3) },
  killable: [1],
  earlyTimeouts: 0,
  setup: (a) => a.m.init(),
  threads: [robustLocker, robustLocker, robustLocker],
  outcome: (a, run) =>
    `T2 ${wasKilled(run, 1) ? MUTEX_FATE[a.progress[1]] : 'finished'}, EOWNERDEAD to ${ownerDeadTo(a.ownerDead)}`,
});

// The cond: two timed waiters and one signal (or broadcast); T1 killed anywhere in its wait.

/** FATE[t]: how thread t's wait loop ended (NO_WAIT, WOKEN, TIMED_OUT; 0 while it has not). */
type CondArena = {
  m: Mutex;
  c: import('qemu-thread').QemuCond;
  pred: Int32Array;
  ownerDead: Int32Array;
  fate: Int32Array;
};
const NO_WAIT = 1;
const WOKEN = 2;
const TIMED_OUT = 3;

function timedCondWaiter(a: CondArena, ctx: ThreadContext): void {
  lockRobust(a.m, a.ownerDead, ctx);
  let fate = NO_WAIT;
  while (a.pred[0] === 0) {
    // Timed out means waited the whole time-out (virtual time), whatever the wait returned: a relock that
    // finds the mutex's holder dead throws EOWNERDEAD instead (this thread then holds the mutex).
    const start = performance.now();
    try {
      a.c.timedWait(a.m, LONG_MS);
    } catch (error) {
      if (codeOf(error) !== 'EOWNERDEAD') throw error;
      a.m.consistent();
      a.ownerDead[0] = ctx.index + 1;
    }
    fate = performance.now() - start >= LONG_MS ? TIMED_OUT : WOKEN;
  }
  a.fate[ctx.index] = fate;
  a.m.unlock();
}

function condSetter(wake: 'signal' | 'broadcast') {
  return (a: CondArena, ctx: ThreadContext) => {
    lockRobust(a.m, a.ownerDead, ctx);
    a.pred[0] = 1;
    a.m.unlock();
    a.c[wake]();
  };
}

/**
 * A waiter's fate for the outcome: whether it waited, or where it was killed (before its wait returned, or
 * after). Not whether a wait ended woken or timed out: with one signal, a waiter that looks again
 * periodically may end woken where one that does not times out, and both are right.
 */
function fateOf(a: CondArena, run: RunInfo, t: number): string {
  if (wasKilled(run, t)) return a.fate[t] === 0 ? 'killed in its wait' : 'killed after its wait';
  return a.fate[t] === NO_WAIT ? 'no wait' : 'waited';
}

function condScenario(wake: 'signal' | 'broadcast') {
  return defineScenario({
    name: `kill: a cond waiter killed anywhere in its wait, 2 timed waiters, one ${wake}`,
    parts: { m: mutex, c: cond, pred: word, ownerDead: word, fate: words(2) },
    killable: [0],
    earlyTimeouts: 0,
    forcedTimeoutIsHang: false,
    setup: (a) => {
      a.m.init();
      a.c.init();
    },
    threads: [timedCondWaiter, timedCondWaiter, condSetter(wake)],
    check: (a, run) => {
      // T1 was killed before its wait returned, and T2 waited until its time-out: whatever woke T1 died
      // with it. (Killed after its wait, T1 had had its wake-up.)
      if (fateOf(a, run, 0) === 'killed in its wait' && a.fate[1] === TIMED_OUT)
        return `T2 waited its whole time-out although the predicate was set and the ${wake} sent: the wake-up went to the killed T1 and was lost`;
      return null;
    },
    outcome: (a, run) => `T1 ${fateOf(a, run, 0)}, T2 ${fateOf(a, run, 1)}`,
  });
}

export const killCondSignal = condScenario('signal');
export const killCondBroadcast = condScenario('broadcast');

// The semaphore: two timed waiters and one post; T1 killed anywhere in its wait.

/** GOT[t]: 1 if thread t took a unit, 2 if it timed out. */
type SemArena = { s: import('qemu-thread').QemuSemaphore; got: Int32Array };

function timedSemWaiter(a: SemArena, ctx: ThreadContext): void {
  a.got[ctx.index] = a.s.timedWait(LONG_MS) ? 1 : 2;
}

export const killSemWait = defineScenario({
  name: 'kill: a semaphore waiter killed anywhere in its wait, 2 timed waiters, one post',
  parts: { s: semaphore, got: words(2) },
  killable: [0],
  earlyTimeouts: 0,
  forcedTimeoutIsHang: false,
  setup: (a) => a.s.init(0),
  threads: [timedSemWaiter, timedSemWaiter, (a) => a.s.post()],
  check: (a) => {
    // A time-out fires only when nothing else can run: the count it left is the count it saw.
    if (a.got[1] === 2 && a.s.value() !== 0)
      return `T2 timed out with ${a.s.value()} unit(s) in the count: the post's wake-up went to the killed T1 and was lost`;
    if (a.got[0] === 2 && a.s.value() !== 0) return `T1 timed out with ${a.s.value()} unit(s) in the count`;
    return null;
  },
  outcome: (a, run) => {
    const fate = (g: number) => ['killed', 'took the unit', 'timed out'][g];
    return `T1 ${wasKilled(run, 0) ? 'killed' : fate(a.got[0])}, T2 ${fate(a.got[1])}, ${a.s.value()} left`;
  },
});

// The event: two waiters, one set; T1 killed anywhere in its wait. A set wakes everyone.

export const killEventWait = defineScenario({
  name: 'kill: an event waiter killed anywhere in its wait, 2 waiters, one set',
  parts: { e: event, returned: words(2) },
  killable: [0],
  earlyTimeouts: 0,
  setup: (a) => a.e.init(false),
  threads: [
    (a, ctx) => {
      a.e.wait();
      a.returned[ctx.index] = 1;
    },
    (a, ctx) => {
      a.e.wait();
      a.returned[ctx.index] = 1;
    },
    (a) => a.e.set(),
  ],
  outcome: (a, run) => `T1 ${wasKilled(run, 0) && !a.returned[0] ? 'killed' : 'returned'}, T2 returned`,
});

// The join: the exiting thread streams a 2-chunk result. Either side may die in the middle.

/** Two chunks of the 224-byte window. */
const RESULT = 's'.repeat(300);

/** The thread's words that the scenarios set up as qemu_thread_create leaves them (thread.ts). */
const STATE = 0;
const TID = 1;
const RUNNING = 1;
const EXITED = 2;
const PUBLISHING = 5;

/** GOT[t]: how thread t's join ended (JOIN_FATES[GOT[t]]; 0 while it has not). */
const JOIN_FATES = [
  'killed',
  'the result',
  'EINVAL (already joined)',
  'EINVAL (the result was lost)',
  'an error (the thread was terminated)',
  'an error (it ended while its result was transferred)',
];
/** The message of the error the creator reports for a thread that died without an outcome (see below). */
const TERMINATED = 'the thread was terminated';

/**
 * Joins; records how it ended. Any other error, or a wrong value, fails the thread: a join must return the
 * result intact or say why it cannot.
 */
function joinAny(a: { t: import('qemu-thread').QemuThread; got: Int32Array }, ctx: ThreadContext): void {
  let fate: number;
  try {
    const value = a.t.join();
    if (value !== RESULT) throw new Error(`join returned ${JSON.stringify(value).slice(0, 40)}...`);
    fate = 1;
  } catch (error) {
    const { code, message, name, cause } = error as {
      code?: string;
      message?: string;
      name?: string;
      cause?: { message?: string };
    };
    // What the thread "threw" (the creator's report, as published here) comes as a failure's cause.
    const thrown = name === 'QemuThreadFailure' ? cause?.message : undefined;
    if (code === 'EINVAL' && /already joined/.test(message ?? '')) fate = 2;
    else if (code === 'EINVAL' && /was lost: an earlier join ended/.test(message ?? '')) fate = 3;
    else if (thrown === TERMINATED) fate = 4;
    else if (code === undefined && /ended while its result was being transferred/.test(message ?? ''))
      fate = 5;
    else throw error;
  }
  a.got[ctx.index] = fate;
}

/** What a thread's trampoline does once its function has returned RESULT (entry.ts). */
function exitWith(w: Int32Array): void {
  const bytes = new Uint8Array(serialize(RESULT));
  if (publishOutcome(w, resultPipe.Outcome.Returned, bytes)) streamOutcome(w, bytes);
}

/** How thread t's join ended, or 'killed' if it was killed before it did. */
const joinFate = (got: Int32Array, t: number) => JOIN_FATES[got[t]];

// (a) The joiner killed: T2 killed anywhere in its join; T3 joins too.

export const killJoin = defineScenario({
  name: 'kill: a joiner killed anywhere in its join of a 2-chunk result, a second joiner',
  parts: { t: thread, got: words(3) },
  killable: [1],
  earlyTimeouts: 0,
  setup: (a) => {
    Atomics.store(a.t.words, TID, 1_000_000);
    Atomics.store(a.t.words, STATE, RUNNING);
  },
  threads: [(a) => exitWith(a.t.words), joinAny, joinAny],
  // T2 may die before its claim or before it read anything (T3 takes the claim over and gets the result),
  // in the middle of the stream or after reading all of it but before marking the thread joined (T3: the
  // result was lost), or after that (T3: already joined); T3 may also have been refused while T2 lived.
  // Whatever happens, the exiting thread (T1) is released: nobody hangs.
  outcome: (a) => `T2 ${joinFate(a.got, 1)}, T3 ${joinFate(a.got, 2)}`,
});

// (b) The exiting thread killed: T1 killed anywhere in its publish or its stream; T2 joins; T3 is T1's
// creator, which learns of T1's end from the platform (Scenario.exited) and reports it.

/** The pipe's window in a QemuThread's storage. */
const WINDOW_BYTES = thread.bytes - resultPipe.WINDOW_OFFSET;

/**
 * What the creator does when the platform says its thread's worker ended (thread.ts's reportAbnormalExit,
 * which the package does not export, so written out here; keep the two the same): a thread that had
 * published breaks off a transfer still in progress (result-pipe.ts's writerEnded, the production one); a
 * thread that had not, or was in the middle of publishing, gets an error published for it. (The generation check that ignores a late notice
 * about an earlier thread has nothing to check here: there is one thread.)
 */
function reportEnded(w: Int32Array): void {
  if (Atomics.load(w, STATE) === EXITED) resultPipe.writerEnded(w, WINDOW_BYTES);
  // Killed in the middle of publishing: its half-written outcome is published over (its worker is gone).
  Atomics.compareExchange(w, STATE, PUBLISHING, RUNNING);
  if (Atomics.load(w, STATE) !== RUNNING) return;
  publishOutcome(
    w,
    resultPipe.Outcome.Threw,
    new Uint8Array(serialize({ name: 'Error', message: TERMINATED })),
  );
}

/** T1: publishes and streams its result; then its worker ends, which the platform tells its creator. */
function exitingThread(a: { t: import('qemu-thread').QemuThread; exited: Int32Array }): void {
  exitWith(a.t.words);
  Atomics.store(a.exited, 0, 1);
  Atomics.notify(a.exited, 0);
}

/** T3: T1's creator, told of T1's end (by T1's last step, or by the kill), reports it. */
function creatorOfT1(a: { t: import('qemu-thread').QemuThread; exited: Int32Array }): void {
  while (Atomics.load(a.exited, 0) === 0) Atomics.wait(a.exited, 0, 0);
  reportEnded(a.t.words);
}

export const killJoinExiting = defineScenario({
  name: 'kill: the exiting thread killed anywhere in its publish or stream of a 2-chunk result, a joiner',
  parts: { t: thread, got: words(2), exited: words(3, ['T1', 'T2', 'T3']) },
  killable: [0],
  exited: 'exited',
  earlyTimeouts: 0,
  setup: (a, _shared, tids) => {
    // T1 is the thread: its end is looked up by its TID (the joiner's check of its peer).
    Atomics.store(a.t.words, TID, tids[0]);
    Atomics.store(a.t.words, STATE, RUNNING);
  },
  threads: [exitingThread, joinAny, creatorOfT1],
  // Killed before it published, T1 leaves its joiner the creator's error; killed in the middle of the stream, the
  // joiner learns that the thread ended (from the creator, or by itself after a slice with no step);
  // killed after its last chunk was in the window, the joiner still gets the result.
  outcome: (a, run) => `T1 ${wasKilled(run, 0) ? 'killed' : 'finished'}, T2 ${joinFate(a.got, 1)}`,
});
