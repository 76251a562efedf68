/**
 * Thread function for the free-running fuzz (fuzz-threads.test.ts): 2-3 threads execute their own random
 * command lists at the same time on shared, initialized primitives.
 *
 * Each thread keeps a model of what it can know alone: which locks it holds (and the recursive depth).
 * That fixes the outcome of every ownership question whatever the other threads do, so those are checked
 * exactly: unlocking what it does not hold is EPERM (free or held by another thread alike), relocking its
 * mutex / spinlock / lockcnt lock is EDEADLK, its own trylock of a lock it holds is -16 (spin: true), its
 * recursive mutex nests, and a cond timed wait returns with the mutex held again. Where the answer depends
 * on the other threads (a trylock of a lock it does not hold, a timed wait, the shared lockcnt count),
 * the thread accepts the documented alternatives and records which one happened, so that the main thread
 * can check the totals afterwards: every locked plain counter equals the bumps made under its lock, the
 * semaphore count equals its initial value plus posts minus units taken, the lockcnt count equals the
 * successful increments minus decrements.
 *
 * No sequence can hang: waits for units and events are timed (at most 2 ms), a cond wait is timed, and
 * blocking lock acquisitions follow one global order (mutex < rec mutex < spin < lockcnt; a cond wait
 * relocks the mutex, so it counts as taking the mutex). A command whose blocking call would break the
 * order becomes its try-variant. At the end each thread releases everything it holds.
 */
import {
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_spin_lock,
  qemu_spin_locked,
  qemu_spin_trylock,
  qemu_spin_unlock,
} from 'qemu-thread';
import {
  describeOutcome,
  err,
  FUNC_OF,
  MS_VALUES,
  OPS,
  type Op,
  type Outcome,
  ok,
  outcomeOfError,
  primsIn,
} from './model.js';

/** The commands of the free run: every non-lifecycle call except the untimed waits. */
export const FREE_OPS: readonly Op[] = OPS.filter(
  (op) => !/_(init|destroy)$/.test(op) && op !== 'sem_wait' && op !== 'e_wait' && op !== 'c_wait',
);

/** Words of `shared` (Int32Array): plain counters bumped under each lock, then totals. */
export const PLAIN_M = 0;
export const PLAIN_R = 1;
export const PLAIN_S = 2;
export const PLAIN_L = 3;
/** Start line and progress (calls made by all threads), for the main thread's watchdog. */
export const START = 4;
export const PROGRESS = 5;
/** Threads that have finished (returned or thrown): the main thread waits on it, bounded, before join. */
export const DONE = 6;
export const SHARED_WORDS = 7;

/** What each thread reports (its return value). */
export interface FreeRunReport {
  bumps: { m: number; r: number; s: number; l: number };
  semPosts: number;
  semTakes: number;
  /** Net change of the lockcnt count made by this thread's successful calls. */
  lockcntNet: number;
  /** Commands replaced by their try-variant to keep the lock order. */
  demoted: number;
  /** Calls whose outcome broke this thread's model: must be empty. */
  mismatches: string[];
}

export interface FreeRunArg {
  prims: SharedArrayBuffer;
  shared: Int32Array;
  threads: number;
  /** Pairs of (op index into OPS, arg). */
  commands: number[];
}

/** Outcomes a call may have: an exact one, or a set of acceptable ones. */
type Allowed = Outcome[];

export function freeRunThread(a: FreeRunArg): FreeRunReport {
  try {
    return run(a);
  } finally {
    Atomics.add(a.shared, DONE, 1);
    Atomics.notify(a.shared, DONE);
  }
}

function run(a: FreeRunArg): FreeRunReport {
  const p = primsIn(a.prims);
  const report: FreeRunReport = {
    bumps: { m: 0, r: 0, s: 0, l: 0 },
    semPosts: 0,
    semTakes: 0,
    lockcntNet: 0,
    demoted: 0,
    mismatches: [],
  };
  // What this thread holds. Rank of each lock in the global order: m 0, r 1, s 2, l 3.
  let holdsM = false;
  let depthR = 0;
  let holdsS = false;
  let holdsL = false;
  /** Set while this thread holds the lockcnt lock and has seen the count at 0 under it. */
  let sawZeroUnderLock = false;
  const highestRank = () => (holdsL ? 3 : holdsS ? 2 : depthR > 0 ? 1 : holdsM ? 0 : -1);
  const mayBlockFor = (rank: number) => highestRank() <= rank;

  const call = (fn: () => unknown): Outcome => {
    Atomics.add(a.shared, PROGRESS, 1);
    try {
      const v = fn();
      return ok(v as number | boolean | undefined);
    } catch (e) {
      return outcomeOfError(e);
    }
  };
  const same = (x: Outcome, y: Outcome) => JSON.stringify(x) === JSON.stringify(y);
  const check = (step: number, op: Op, got: Outcome, allowed: Allowed): void => {
    if (!allowed.some((o) => same(o, got))) {
      report.mismatches.push(
        `step ${step} ${op}: got ${describeOutcome(got)}, allowed ${allowed.map(describeOutcome).join(' | ')}`,
      );
    }
  };
  /** A non-atomic read-modify-write: a second thread inside the same lock would lose an update. */
  const bump = (word: number, lock: keyof FreeRunReport['bumps']) => {
    const v = a.shared[word];
    for (let i = 0; i < 20; i++) Atomics.load(a.shared, PROGRESS); // widen the window a little
    a.shared[word] = v + 1;
    report.bumps[lock]++;
  };

  // Start together, so the lists really overlap (bounded: a missing thread is an error, not a hang).
  Atomics.add(a.shared, START, 1);
  Atomics.notify(a.shared, START);
  for (let v = Atomics.load(a.shared, START); v < a.threads; v = Atomics.load(a.shared, START)) {
    if (Atomics.wait(a.shared, START, v, 20_000) === 'timed-out') throw new Error('start line: timed out');
  }

  for (let i = 0; i + 1 < a.commands.length; i += 2) {
    const step = i / 2;
    let op = OPS[a.commands[i]];
    const ms = MS_VALUES[a.commands[i + 1] % MS_VALUES.length];
    const badMs = !(Number.isFinite(ms) && ms >= 0);
    // Keep the lock order: a blocking acquisition that would break it becomes its try-variant.
    if (
      (op === 'm_lock' && !holdsM && !mayBlockFor(0)) ||
      (op === 'r_lock' && depthR === 0 && !mayBlockFor(1)) ||
      (op === 's_lock' && !holdsS && !mayBlockFor(2))
    ) {
      op = op === 'm_lock' ? 'm_trylock' : op === 'r_lock' ? 'r_trylock' : 's_trylock';
      report.demoted++;
    }
    if (op === 'c_timedwait' && holdsM && !badMs && !mayBlockFor(0)) {
      op = 'c_signal'; // the wait's relock of the mutex would break the order
      report.demoted++;
    }
    const f = FUNC_OF[op];
    let got: Outcome;
    switch (op) {
      case 'm_lock':
        got = call(() => qemu_mutex_lock(p.m));
        check(step, op, got, [holdsM ? err('EDEADLK', f) : ok()]);
        if (!holdsM && 'ok' in got) holdsM = true;
        break;
      case 'm_trylock':
        got = call(() => qemu_mutex_trylock(p.m));
        check(step, op, got, holdsM ? [ok(-16)] : [ok(0), ok(-16)]);
        if (!holdsM && same(got, ok(0))) holdsM = true;
        break;
      case 'm_unlock':
        if (holdsM) bump(PLAIN_M, 'm');
        got = call(() => qemu_mutex_unlock(p.m));
        check(step, op, got, [holdsM ? ok() : err('EPERM', f)]);
        if ('ok' in got) holdsM = false;
        break;
      case 'r_lock':
      case 'r_trylock':
        got = call(() => (op === 'r_lock' ? qemu_rec_mutex_lock(p.r) : qemu_rec_mutex_trylock(p.r)));
        if (op === 'r_lock') check(step, op, got, [ok()]);
        else check(step, op, got, depthR > 0 ? [ok(0)] : [ok(0), ok(-16)]);
        if (same(got, ok()) || same(got, ok(0))) depthR++;
        break;
      case 'r_unlock':
        if (depthR > 0) bump(PLAIN_R, 'r');
        got = call(() => qemu_rec_mutex_unlock(p.r));
        check(step, op, got, [depthR > 0 ? ok() : err('EPERM', f)]);
        if ('ok' in got) depthR--;
        break;
      case 's_lock':
        got = call(() => qemu_spin_lock(p.s));
        check(step, op, got, [holdsS ? err('EDEADLK', f) : ok()]);
        if (!holdsS && 'ok' in got) holdsS = true;
        break;
      case 's_trylock':
        got = call(() => qemu_spin_trylock(p.s));
        check(step, op, got, holdsS ? [ok(true)] : [ok(false), ok(true)]);
        if (!holdsS && same(got, ok(false))) holdsS = true;
        break;
      case 's_unlock':
        if (holdsS) bump(PLAIN_S, 's');
        got = call(() => qemu_spin_unlock(p.s));
        check(step, op, got, [holdsS ? ok() : err('EPERM', f)]);
        if ('ok' in got) holdsS = false;
        break;
      case 's_locked':
        got = call(() => qemu_spin_locked(p.s));
        check(step, op, got, holdsS ? [ok(true)] : [ok(true), ok(false)]);
        break;
      case 'l_lock':
        got = call(() => qemu_lockcnt_lock(p.l));
        check(step, op, got, [holdsL ? err('EDEADLK', f) : ok()]);
        if (!holdsL && 'ok' in got) holdsL = true;
        break;
      case 'l_unlock':
      case 'l_inc_and_unlock':
        if (holdsL) bump(PLAIN_L, 'l');
        got = call(() => (op === 'l_unlock' ? qemu_lockcnt_unlock(p.l) : qemu_lockcnt_inc_and_unlock(p.l)));
        check(step, op, got, [holdsL ? ok() : err('EPERM', f)]);
        if ('ok' in got) {
          holdsL = false;
          sawZeroUnderLock = false;
          if (op === 'l_inc_and_unlock') report.lockcntNet++;
        }
        break;
      case 'l_inc':
        got = call(() => qemu_lockcnt_inc(p.l));
        // Holding the lock, inc succeeds if there are visitors and is EDEADLK at count 0.
        check(
          step,
          op,
          got,
          holdsL ? (sawZeroUnderLock ? [err('EDEADLK', f)] : [ok(), err('EDEADLK', f)]) : [ok()],
        );
        if ('ok' in got) report.lockcntNet++;
        else if (holdsL) sawZeroUnderLock = true; // EDEADLK: the count was 0 under this thread's lock
        break;
      case 'l_dec':
        got = call(() => qemu_lockcnt_dec(p.l));
        check(step, op, got, holdsL && sawZeroUnderLock ? [err('EINVAL', f)] : [ok(), err('EINVAL', f)]);
        if ('ok' in got) report.lockcntNet--;
        else if (holdsL) sawZeroUnderLock = true; // EINVAL: the count was 0 under this thread's lock
        break;
      case 'l_dec_and_lock':
      case 'l_dec_if_lock': {
        got = call(() =>
          op === 'l_dec_and_lock' ? qemu_lockcnt_dec_and_lock(p.l) : qemu_lockcnt_dec_if_lock(p.l),
        );
        // count >= 2: false; count 1: true with the lock (EDEADLK if this thread holds it); 0: EINVAL.
        const allowed = holdsL
          ? [ok(false), err('EDEADLK', f), err('EINVAL', f)]
          : [ok(false), ok(true), err('EINVAL', f)];
        check(step, op, got, holdsL && sawZeroUnderLock ? [err('EINVAL', f)] : allowed);
        if (same(got, ok(true))) {
          holdsL = true;
          sawZeroUnderLock = true; // it took the lock by bringing the count to 0
          report.lockcntNet--;
        } else if (same(got, ok(false)) && op === 'l_dec_and_lock') {
          report.lockcntNet--;
        } else if (holdsL && same(got, err('EINVAL', f))) {
          sawZeroUnderLock = true;
        }
        break;
      }
      case 'l_count': {
        got = call(() => qemu_lockcnt_count(p.l));
        // The visitor rule: while this thread holds the lock, a count seen at 0 stays 0 (the count goes
        // from 0 to 1 only while the lock is free).
        const n = 'ok' in got && typeof got.ok === 'number' && got.ok >= 0 ? got.ok : -1;
        check(step, op, got, [ok(sawZeroUnderLock ? 0 : Math.max(n, 0))]);
        if (holdsL && n === 0) sawZeroUnderLock = true;
        break;
      }
      case 'sem_post':
        got = call(() => qemu_sem_post(p.sem));
        check(step, op, got, [ok()]);
        if ('ok' in got) report.semPosts++;
        break;
      case 'sem_timedwait':
        got = call(() => qemu_sem_timedwait(p.sem, ms));
        check(step, op, got, badMs ? [err('EINVAL', f)] : [ok(0), ok(-1)]);
        if (same(got, ok(0))) report.semTakes++;
        break;
      case 'sem_trywait':
        got = call(() => p.sem.tryWait());
        check(step, op, got, [ok(true), ok(false)]);
        if (same(got, ok(true))) report.semTakes++;
        break;
      case 'e_set':
      case 'e_reset':
        got = call(() => (op === 'e_set' ? qemu_event_set(p.e) : qemu_event_reset(p.e)));
        check(step, op, got, [ok()]);
        break;
      case 'e_timedwait':
        got = call(() => qemu_event_timedwait(p.e, ms));
        check(step, op, got, badMs ? [err('EINVAL', f)] : [ok(true), ok(false)]);
        break;
      case 'c_signal':
      case 'c_broadcast':
        got = call(() => (op === 'c_signal' ? qemu_cond_signal(p.c) : qemu_cond_broadcast(p.c)));
        check(step, op, got, [ok()]);
        break;
      case 'c_timedwait': {
        got = call(() => qemu_cond_timedwait(p.c, p.m, ms));
        // ms = 0 times out at once; otherwise a signal from another thread may come first.
        const allowed = badMs
          ? [err('EINVAL', f)]
          : !holdsM
            ? [err('EPERM', f)]
            : ms === 0
              ? [ok(false)]
              : [ok(true), ok(false)];
        check(step, op, got, allowed);
        if (holdsM && !p.m.isHeldBySelf())
          report.mismatches.push(`step ${step} ${op}: returned without the mutex`);
        if (holdsM) bump(PLAIN_M, 'm'); // the mutex protects the counter across the wait
        break;
      }
      default:
        throw new Error(`free run: unexpected command ${op}`);
    }
  }

  // Release everything, highest rank first. Each release is still checked against the model.
  if (holdsL) {
    check(
      -1,
      'l_unlock',
      call(() => qemu_lockcnt_unlock(p.l)),
      [ok()],
    );
  }
  if (holdsS)
    check(
      -1,
      's_unlock',
      call(() => qemu_spin_unlock(p.s)),
      [ok()],
    );
  for (; depthR > 0; depthR--) {
    check(
      -1,
      'r_unlock',
      call(() => qemu_rec_mutex_unlock(p.r)),
      [ok()],
    );
  }
  if (holdsM)
    check(
      -1,
      'm_unlock',
      call(() => qemu_mutex_unlock(p.m)),
      [ok()],
    );
  return report;
}
