// The model checker must find the bugs it exists for (test/model/broken): each deliberately broken
// primitive fails at the preemption bound its catalog entry gives, with a readable trace and a schedule
// that replays it, and (for a bound k > 0) the whole search within k - 1 preemptions finds nothing, so it
// is the depth of the search that finds it. The real primitives pass the very same scenarios (same thread
// bodies; model-primitives.test.ts runs those).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, entryNamed, isAsync, moduleOf } from './model/catalog.js';
import { ModelChecker, summary } from './model/checker.js';
import { runEntry } from './model/run-entry.js';

for (const entry of catalog.filter((e) => e.expect === 'broken' && !isAsync(e))) {
  const below = entry.test > 0 ? `, not within ${entry.test - 1}` : '';
  test(`model: finds the failure in ${entry.name} within ${entry.test} preemption(s)${below}`, async (t) => {
    const run = await runEntry(entry, 'test');
    t.diagnostic(summary(run.result));
    if (run.below) t.diagnostic(summary(run.below));
    assert.ok(run.ok, run.verdict);
    const failure = run.result.failure;
    assert.ok(failure);
    t.diagnostic(`${failure.trace}\nschedule: ${failure.schedule}`);
    // One line per step, naming the thread, the code, the word and the result.
    assert.match(failure.trace, /^ {3}1 {2}T\d {2}\S.* \w+\(.*\)/);
  });
}

test('model: the broken and real variants run the same thread bodies', async () => {
  for (const [broken, real] of [
    ['brokenCondSignal', 'condSignal'],
    ['brokenCondBroadcast', 'condBroadcast'],
    ['brokenCondTimedWait', 'condTimedWait'],
    ['brokenSemTwoWaiters', 'semTwoWaiters'],
    ['brokenSemTimedWait', 'semTimedWait'],
    ['brokenMutexWakeBeforeFree', 'mutexExclusion'],
    ['brokenMutexForgetsContended', 'mutexExclusion'],
    ['brokenMutexStoresContended', 'mutexExclusion'],
    ['brokenRecMutexDepth', 'recMutexNesting'],
    ['brokenEventResetClearsBusy', 'eventTwoWaiters'],
    ['brokenLockcntIncForgetsPassOn', 'lockcntVisitors'],
    ['brokenLockcntUnlockStoresStale', 'lockcntVisitors'],
    ['brokenJoinReadsBeforePublish', 'threadJoin'],
    ['brokenJoinAcksBeforeCopy', 'threadJoin'],
  ]) {
    const b = entryNamed(broken);
    const r = entryNamed(real);
    assert.equal(r.expect, 'pass');
    const [bs, rs] = await Promise.all([import(moduleOf(b).href), import(moduleOf(r).href)]);
    assert.deepEqual(bs[broken].threads, rs[real].threads, `${broken} vs ${real}`);
  }
});

test('model: the joiner that acknowledges before it copies: 2 preemptions, or 1 and the writer looking on its own', async (t) => {
  // The exiting thread must look at CHUNK between the joiner's acknowledgement and its copy, without
  // waiting for the notify. Either it had not parked yet (a second preemption), or its sleep's slice ended
  // then: it looks every PEER_CHECK_MS whether its joiner is still there (result-pipe.ts).
  const b = entryNamed('brokenJoinAcksBeforeCopy');
  const checker = await ModelChecker.open(moduleOf(b), b.name);
  try {
    const none = { earlyTimeouts: 0 };
    const withEarly = checker.explore({ preemptions: 1 });
    assert.ok(withEarly.failure, 'found within 1 preemption and 1 early time-out');
    t.diagnostic(withEarly.failure.trace);
    assert.match(withEarly.failure.trace, /T1 .*time-out fires at 100 ms -> timed-out \(early\)/);
    const one = checker.explore({ preemptions: 1, ...none });
    assert.equal(one.failure, null);
    assert.ok(one.complete);
    const two = checker.explore({ preemptions: 2, ...none });
    assert.ok(two.failure, 'found within 2 preemptions without time-outs');
    assert.doesNotMatch(two.failure.trace, /time-out fires/);
    t.diagnostic(`${summary(one)}\n${summary(two)}`);
  } finally {
    await checker.close();
  }
});

test('model: a failing schedule replays to the same failure, deterministically', async () => {
  const b = entryNamed('brokenMutexWakeBeforeFree');
  const checker = await ModelChecker.open(moduleOf(b), b.name);
  try {
    const found = checker.explore({ preemptions: b.test });
    assert.ok(found.failure);
    for (let i = 0; i < 3; i++) {
      const again = checker.replay(found.failure.schedule);
      assert.equal(again.failure, found.failure.message);
      assert.equal(again.trace, found.failure.trace);
    }
  } finally {
    await checker.close();
  }
});

test('model: the unlock that wakes before it frees: the woken locker looks too early and parks again', async (t) => {
  const b = entryNamed('brokenMutexWakeBeforeFree');
  const checker = await ModelChecker.open(moduleOf(b), b.name);
  try {
    const found = checker.explore({ preemptions: b.test });
    assert.ok(found.failure);
    t.diagnostic(found.failure.trace);
    // The wake-up goes out, the woken thread sees the lock still held and parks again, then FREE is stored.
    assert.match(
      found.failure.trace,
      /T(\d) .*WakeBeforeFree\.unlock .*notify\(m\.LOCK, 1\) -> 1 \(woke T(\d)\)\n(.*\n)*?.*T\2 .*load\(m\.LOCK\) -> (\d+)\n(.*\n)*?.*T\2 .*wait\(m\.LOCK, \4[,)].* -> parks\n(.*\n)*?.*T\1 .*WakeBeforeFree\.unlock .*store\(m\.LOCK, 1\)/,
    );
  } finally {
    await checker.close();
  }
});

test('model: sleep sets skip only reorderings: the reduced search reaches every outcome the full one does', async (t) => {
  const entry = entryNamed('eventTimedWait');
  const checker = await ModelChecker.open(moduleOf(entry), entry.name);
  try {
    const inf = Number.POSITIVE_INFINITY;
    const full = checker.explore({ preemptions: inf, sleepSets: false });
    const reduced = checker.explore({ preemptions: inf, sleepSets: true });
    t.diagnostic(`without sleep sets: ${summary(full)}`);
    t.diagnostic(`with sleep sets: ${summary(reduced)}`);
    assert.ok(full.complete && reduced.complete && !full.bounded && !reduced.bounded);
    assert.deepEqual(full.outcomes, ['set seen', 'timed out']);
    assert.deepEqual(reduced.outcomes, full.outcomes);
    assert.ok(reduced.schedules < full.schedules / 10, `${reduced.schedules} vs ${full.schedules}`);
  } finally {
    await checker.close();
  }
});
