/**
 * Every model-checking scenario with its preemption bounds: `test` keeps the whole model test set under a
 * minute on two cores (npm test), `full` is what `npm run model-check` explores. ALL means no preemption
 * bound: every interleaving, with sleep sets to skip reorderings of independent operations. `expect: 'fail'` marks the
 * deliberately broken primitives (and one documented misuse), for which finding a failure is the pass.
 * The async entries (scenarios/async, broken/async) run in model-async.test.ts, the others in
 * model-primitives.test.ts and model-broken.test.ts.
 */
export interface Entry {
  file: string;
  name: string;
  /** Preemption bound; ALL: no bound (every interleaving, with sleep sets). */
  test: number;
  full: number;
  expect: 'pass' | 'fail';
}

export const ALL = Number.POSITIVE_INFINITY;

const pass = (file: string, name: string, test: number, full: number): Entry => ({
  file,
  name,
  test,
  full,
  expect: 'pass',
});
const fail = (file: string, name: string, test: number, full: number): Entry => ({
  file,
  name,
  test,
  full,
  expect: 'fail',
});

export const catalog: Entry[] = [
  pass('scenarios/mutex', 'mutexExclusion', 1, 2),
  pass('scenarios/mutex', 'mutexTryLock', ALL, ALL),
  pass('scenarios/mutex', 'recMutexNesting', 3, ALL),
  pass('scenarios/cond', 'condSignal', 3, ALL),
  pass('scenarios/cond', 'condBroadcast', 1, 2),
  pass('scenarios/cond', 'condTimedWait', 2, 3),
  pass('scenarios/semaphore', 'semTwoWaiters', 1, 2),
  pass('scenarios/semaphore', 'semTimedWait', 1, 2),
  pass('scenarios/event', 'eventSetResetWait', 2, 3),
  pass('scenarios/event', 'eventTimedWait', ALL, ALL),
  pass('scenarios/lockcnt', 'lockcntVisitors', 1, 2),
  pass('scenarios/lockcnt', 'lockcntDecIfLock', 1, 2),
  pass('scenarios/thread', 'threadJoin', 2, 3),
  pass('scenarios/thread', 'threadDoubleJoin', 1, 2),
  pass('scenarios/async', 'asyncStalledWaiter', 1, 2),
  pass('scenarios/async', 'asyncCancelledWaiter', 1, 2),
  pass('scenarios/async', 'asyncCancelledWaiterNoCount', 1, 2),
  pass('scenarios/async', 'asyncMutex', 2, 3),
  pass('scenarios/async', 'asyncCondSignal', 2, 3),
  pass('scenarios/async', 'asyncCondBroadcast', 1, 2),
  fail('broken/cond', 'brokenCondSignal', ALL, ALL),
  fail('broken/cond', 'brokenCondBroadcast', 2, 2),
  fail('broken/cond', 'brokenCondTimedWait', 2, 2),
  fail('broken/semaphore', 'brokenSemTwoWaiters', ALL, ALL),
  fail('broken/semaphore', 'brokenSemTimedWait', 2, 2),
  fail('scenarios/event', 'eventForeignReset', 2, 2),
  fail('broken/async', 'brokenAsyncStalledWaiter', 2, 2),
];

/** Whether an entry is one of the async-wait scenarios (model-async.test.ts runs those). */
export function isAsync(entry: Entry): boolean {
  return entry.file.endsWith('/async');
}

/** The built module of an entry, next to this file. */
export function moduleOf(entry: Entry): URL {
  return new URL(`./${entry.file}.js`, import.meta.url);
}
