/**
 * Every model-checking scenario, with its preemption bounds and what it must show. `test` keeps the model
 * tests (npm test) to well under a minute on two cores; `full` is what `npm run model-check` explores. ALL
 * means no preemption bound: every interleaving, with sleep sets to skip reorderings of independent
 * operations.
 *
 * Three kinds of entries:
 * - `pass`: the real primitives; every schedule passes, and the schedules reach exactly `outcomes` (each
 *   scenario's `outcome` names the final values and returns that may differ between schedules). A smaller
 *   bound may reach fewer: then `testOutcomes` is the exact set at `test`.
 * - `broken`: a deliberately broken primitive (test/model/broken), or one documented misuse. `test` (=
 *   `full`) is the bound k at which the checker finds the failure; unless k is 0, the search within k - 1
 *   preemptions must finish and find nothing, so it is the depth of the search that finds the bug.
 * - `defect`: a scenario that fails on today's library because of a known defect (none is open now: the
 *   last, killJoinExiting, was fixed), and must pass once it is fixed: then change `defect(` to `pass(`. Until then the tests assert that the
 *   failure is found (`failure`), and that the passing schedules reach exactly `outcomes`: the outcomes
 *   name what any correct library may do (not, say, whether a wait ended woken or timed out, which
 *   depends on how the fix recovers), so the fixed library must reach the same set.
 *
 * Every wait of the library has a time-out since park.ts compares its word again every RECHECK_MS, so an
 * early time-out may fire at every park; the entries wrapped in `early(0, 1, ...)` explore none in npm
 * test (they are the ones whose schedules it multiplies most) and one in npm run model-check.
 *
 * The async entries (scenarios/async, broken/async) run in model-async.test.ts, the kill entries
 * (scenarios/kill) in model-kill.test.ts, the others in model-primitives.test.ts and model-broken.test.ts.
 */
export type Expect = 'pass' | 'broken' | 'defect';

export interface Entry {
  file: string;
  name: string;
  expect: Expect;
  /** Preemption bound in npm test; ALL: no bound. For `broken`, the bound that finds the bug. */
  test: number;
  /** Preemption bound in npm run model-check (for `broken`, the same as `test`). */
  full: number;
  /** The exact outcome set at `full` (`pass`), or once fixed (`defect`); empty for `broken`. */
  outcomes: string[];
  /** The exact outcome set at `test`, if it reaches fewer than `full`. */
  testOutcomes?: string[];
  /** What the failure says (`broken`, `defect`). */
  failure?: RegExp;
  /** The defect, in a few words (`defect`). */
  defect?: string;
  /**
   * Early time-outs per schedule at each bound, where not the scenario's (Scenario.earlyTimeouts, default
   * 1). Every wait of the library may time out early now (park.ts compares its word again every
   * RECHECK_MS), which multiplies the schedules of a scenario with many parks: the biggest explore none in
   * npm test, and one in npm run model-check.
   */
  early?: { test: number; full: number };
}

export const ALL = Number.POSITIVE_INFINITY;

const pass = (
  file: string,
  name: string,
  test: number,
  full: number,
  outcomes: string[],
  testOutcomes?: string[],
): Entry => ({
  file,
  name,
  expect: 'pass',
  test,
  full,
  outcomes: [...outcomes].sort(),
  testOutcomes: testOutcomes && [...testOutcomes].sort(),
});

const broken = (file: string, name: string, depth: number, failure: RegExp): Entry => ({
  file,
  name,
  expect: 'broken',
  test: depth,
  full: depth,
  outcomes: [],
  failure,
});

/** Exported so that it stays at hand while no entry uses it (see `defect` above). */
export const defect = (
  file: string,
  name: string,
  test: number,
  full: number,
  what: { outcomes: string[]; failure: RegExp; defect: string },
): Entry => ({ file, name, expect: 'defect', test, full, ...what, outcomes: [...what.outcomes].sort() });

/** `entry` with `test` early time-outs per schedule in npm test and `full` in npm run model-check. */
const early = (test: number, full: number, entry: Entry): Entry => ({ ...entry, early: { test, full } });

/** Every combination, joined: cross(['a', 'b'], ['1', '2'], ' ') is a 1, a 2, b 1, b 2. */
function cross(...lists: string[][]): string[] {
  return lists.reduce<string[]>(
    (acc, list) => acc.flatMap((x) => list.map((y) => (x === '' ? y : `${x} ${y}`))),
    [''],
  );
}

/** Every first/last pair of `n` lockers, with the count: the exact outcome set of an exclusion scenario. */
function everyOrder(n: number, count: number): string[] {
  const t = Array.from({ length: n }, (_, i) => `T${i + 1}`);
  return cross(t, t).map((p) => {
    const [first, last] = p.split(' ');
    return `count ${count}, ${first} first, ${last} last`;
  });
}

/** Each of `n` cond waiters waited or not, in every combination: 'T1 waited, T2 no wait'... */
const waits = (n: number) =>
  cross(...Array.from({ length: n }, (_, t) => [`T${t + 1} no wait,`, `T${t + 1} waited,`])).map((w) =>
    w.slice(0, -1),
  );

const DEADLOCK = /^(deadlock|hang): /;

export const catalog: Entry[] = [
  // Any locker may enter first and leave last; no update is lost.
  pass('scenarios/mutex', 'mutexExclusion', 1, 2, everyOrder(3, 6)),
  pass('scenarios/mutex', 'mutexExclusionSpin', 1, 2, everyOrder(2, 4)),
  pass('scenarios/mutex', 'mutexTryLock', ALL, ALL, ['count 2, trylock failed', 'count 3, trylock took it']),
  pass('scenarios/mutex', 'recMutexNesting', 2, ALL, ['count 3, T1 first', 'count 3, T2 first']),
  // A waiter waits once (signalled) or not at all (the predicate was already true).
  early(0, 1, pass('scenarios/cond', 'condSignal', 3, ALL, waits(1))),
  pass('scenarios/cond', 'condBroadcast', 1, 2, waits(2)),
  pass('scenarios/cond', 'condBroadcastTwoCores', 0, 1, waits(3)),
  pass('scenarios/cond', 'condSignalSpin', 1, 2, waits(1)),
  pass('scenarios/cond', 'condBroadcastSpin', 0, 1, waits(2)),
  // A timed waiter that timed out did wait; one that saw the predicate may not have.
  pass('scenarios/cond', 'condTimedWait', 2, 3, [
    'saw the predicate, T1 no wait',
    'saw the predicate, T1 waited',
    'timed out, T1 waited',
  ]),
  // Two posts, two waiters: each takes one. With a timed waiter, it may time out and leave its unit.
  pass('scenarios/semaphore', 'semTwoWaiters', 1, 2, ['taken 1 1, left 0']),
  pass('scenarios/semaphore', 'semTimedWait', 1, 2, ['taken 1 1, left 0', 'taken 0 1, left 1']),
  pass('scenarios/semaphore', 'semTwoWaitersSpin', 1, 2, ['taken 1 1, left 0']),
  // The consumer waits once per round at most (0, 1 or 2 in all): a late set can only save it a wait.
  pass('scenarios/event', 'eventSetResetWait', 2, 3, ['waits 0', 'waits 1', 'waits 2']),
  pass('scenarios/event', 'eventSetResetWaitSpin', 1, 2, ['waits 0', 'waits 1', 'waits 2']),
  // Each consumer waits once or not at all; both skipping their wait takes 2 preemptions (both must
  // check the condition after the set).
  early(
    0,
    1,
    pass(
      'scenarios/event',
      'eventTwoWaiters',
      1,
      2,
      ['waits 0 0', 'waits 0 1', 'waits 1 0', 'waits 1 1'],
      ['waits 0 1', 'waits 1 0', 'waits 1 1'],
    ),
  ),
  pass('scenarios/event', 'eventTimedWait', ALL, ALL, ['set seen', 'timed out']),
  // The reclaimer (T3) or either visitor may be the one to free the object, exactly once.
  pass('scenarios/lockcnt', 'lockcntVisitors', 1, 2, ['freed by T1', 'freed by T2', 'freed by T3']),
  pass('scenarios/lockcnt', 'lockcntDecIfLock', 1, 2, ['freed by T1', 'freed by T2', 'freed by T3']),
  early(0, 1, pass('scenarios/thread', 'threadJoin', 2, 3, ['joined, result intact'])),
  early(0, 1, pass('scenarios/thread', 'threadDoubleJoin', 1, 2, ['T2 got the result', 'T3 got the result'])),
  early(0, 1, pass('scenarios/async', 'asyncStalledWaiter', 1, 2, ['taken 1 1, left 0'])),
  // A cancelled waiter always ends aborted (its abort comes before it can take up a wake-up), and the
  // one unit then always goes to the blocked waiter.
  pass('scenarios/async', 'asyncCancelledWaiter', 1, 2, ['T1 aborted, T2 took the unit']),
  pass('scenarios/async', 'asyncCancelledWaiterNoCount', 1, 2, ['T1 aborted, T2 took the unit']),
  pass('scenarios/async', 'asyncMutex', 2, 3, ['count 4, T1 first', 'count 4, T2 first']),
  pass('scenarios/async', 'asyncCondSignal', 2, 3, waits(1)),
  early(0, 1, pass('scenarios/async', 'asyncCondBroadcast', 1, 2, waits(2))),
  // Kills (scenarios/kill.ts). T2 may die holding the lock: the next locker, if any, gets EOWNERDEAD.
  pass('scenarios/kill', 'killMutexLock', 1, 1, [
    'T2 finished, EOWNERDEAD to nobody',
    'T2 killed before it held the lock, EOWNERDEAD to nobody',
    'T2 killed holding the lock, EOWNERDEAD to T1',
    'T2 killed holding the lock, EOWNERDEAD to T3',
    'T2 killed holding the lock, EOWNERDEAD to nobody',
  ]),
  pass('scenarios/kill', 'killEventWait', 0, 1, ['T1 killed, T2 returned', 'T1 returned, T2 returned']),
  // A killed T1 took nothing (T2 must get the unit), or took it and died before its wait returned (it
  // leaves the waiters' count after taking it): then the unit went with it, and T2 rightly times out.
  // Without a kill, whoever does not get it times out.
  pass('scenarios/kill', 'killSemWait', 0, 1, [
    'T1 killed, T2 took the unit, 0 left',
    'T1 killed, T2 timed out, 0 left',
    'T1 took the unit, T2 timed out, 0 left',
    'T1 timed out, T2 took the unit, 0 left',
  ]),
  // Each waiter waits or not (the predicate may be true before it looks), and T1 may die in its wait or
  // after it; whatever happens to T1, T2 gets through.
  pass(
    'scenarios/kill',
    'killCondSignal',
    0,
    1,
    cross(
      ['T1 no wait,', 'T1 waited,', 'T1 killed in its wait,', 'T1 killed after its wait,'],
      ['T2 no wait', 'T2 waited'],
    ),
  ),
  pass(
    'scenarios/kill',
    'killCondBroadcast',
    0,
    1,
    cross(
      ['T1 no wait,', 'T1 waited,', 'T1 killed in its wait,', 'T1 killed after its wait,'],
      ['T2 no wait', 'T2 waited'],
    ),
  ),
  pass('scenarios/kill', 'killJoin', 0, 1, [
    'T2 the result, T3 EINVAL (already joined)',
    'T2 EINVAL (already joined), T3 the result',
    'T2 killed, T3 the result',
    'T2 killed, T3 EINVAL (the result was lost)',
    'T2 killed, T3 EINVAL (already joined)',
  ]),
  // T1 may die before it publishes or while it publishes (T2 gets the creator's error: the creator
  // publishes over a half-written outcome), in the middle of the stream (T2 learns that it ended, from the
  // creator or by itself), or once its last chunk is in the window (T2 gets the result).
  pass('scenarios/kill', 'killJoinExiting', 0, 1, [
    'T1 finished, T2 the result',
    'T1 killed, T2 the result',
    'T1 killed, T2 an error (the thread was terminated)',
    'T1 killed, T2 an error (it ended while its result was transferred)',
  ]),
  // Broken primitives: found at the bound given, not within one preemption less.
  broken('broken/mutex', 'brokenMutexWakeBeforeFree', 2, DEADLOCK),
  broken('broken/mutex', 'brokenMutexForgetsContended', 1, DEADLOCK),
  broken('broken/mutex', 'brokenMutexStoresContended', 2, DEADLOCK),
  broken('broken/mutex', 'brokenRecMutexDepth', 2, /^T2 threw Error: depth 0 after the first lock$/),
  broken('broken/cond', 'brokenCondSignal', 1, DEADLOCK),
  broken('broken/cond', 'brokenCondBroadcast', 1, DEADLOCK),
  broken('broken/cond', 'brokenCondTimedWait', 1, DEADLOCK),
  broken('broken/semaphore', 'brokenSemTwoWaiters', 0, DEADLOCK),
  broken('broken/semaphore', 'brokenSemTimedWait', 0, DEADLOCK),
  broken('broken/event', 'brokenEventResetClearsBusy', 1, DEADLOCK),
  broken('scenarios/event', 'eventForeignReset', 0, DEADLOCK),
  broken('broken/lockcnt', 'brokenLockcntIncForgetsPassOn', 1, DEADLOCK),
  broken('broken/lockcnt', 'brokenLockcntUnlockStoresStale', 1, DEADLOCK),
  broken('broken/thread', 'brokenJoinReadsBeforePublish', 1, DEADLOCK),
  // One preemption and one early time-out (the exiting thread's periodic look at its joiner); without
  // early time-outs it takes two preemptions (model-broken.test.ts).
  broken('broken/thread', 'brokenJoinAcksBeforeCopy', 1, /^T2 threw Error: Unable to deserialize/),
  broken('broken/async', 'brokenAsyncStalledWaiter', 0, DEADLOCK),
];

/** Whether an entry is one of the async-wait scenarios (model-async.test.ts runs those). */
export function isAsync(entry: Entry): boolean {
  return entry.file.endsWith('/async');
}

/** Whether an entry is one of the kill scenarios (model-kill.test.ts runs those). */
export function isKill(entry: Entry): boolean {
  return entry.file.endsWith('/kill');
}

/** The built module of an entry, next to this file. */
export function moduleOf(entry: Entry): URL {
  return new URL(`./${entry.file}.js`, import.meta.url);
}

/** The entry named `name`. */
export function entryNamed(name: string): Entry {
  const e = catalog.find((c) => c.name === name);
  if (e === undefined) throw new Error(`no catalog entry '${name}'`);
  return e;
}

/** The outcome set an entry must reach exactly at `bound` (its test or its full bound). */
export function outcomesAt(entry: Entry, bound: number): string[] {
  return bound === entry.test && entry.testOutcomes ? entry.testOutcomes : entry.outcomes;
}
