// The model checker must find the bugs it exists for: the lost wake-up of a condition variable that waits
// on a word that never changes, and the missed wake-up of a semaphore that notifies only on 0 -> 1
// (test/model/broken), with a readable trace and a schedule that replays it; and the real QemuCond and
// QemuSemaphore must pass the very same scenarios (model-primitives.test.ts runs those).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, isAsync, moduleOf } from './model/catalog.js';
import { check, ModelChecker, summary } from './model/checker.js';

for (const entry of catalog.filter((e) => e.expect === 'fail' && !isAsync(e))) {
  test(`model: finds the failure in ${entry.name}`, async (t) => {
    const r = await check(moduleOf(entry), entry.name, { preemptions: entry.test });
    t.diagnostic(summary(r));
    assert.ok(r.failure, 'the checker must find a failing schedule');
    t.diagnostic(`${r.failure.trace}\nschedule: ${r.failure.schedule}`);
    assert.match(r.failure.message, /^(deadlock|hang): T\d waits in wait\(/);
    // One line per step, naming the thread, the code, the word and the result.
    assert.match(r.failure.trace, /^ {3}1 {2}T\d {2}\S.* -> /);
  });
}

const same = (broken: string, real: string) => {
  const b = catalog.find((e) => e.name === broken);
  const r = catalog.find((e) => e.name === real);
  assert.ok(b && r, `${broken} / ${real} are in the catalog`);
  return { b, r };
};

test('model: the broken and real variants run the same thread bodies', async () => {
  for (const [broken, real] of [
    ['brokenCondSignal', 'condSignal'],
    ['brokenCondBroadcast', 'condBroadcast'],
    ['brokenCondTimedWait', 'condTimedWait'],
    ['brokenSemTwoWaiters', 'semTwoWaiters'],
    ['brokenSemTimedWait', 'semTimedWait'],
  ]) {
    const { b, r } = same(broken, real);
    const [bs, rs] = await Promise.all([import(moduleOf(b).href), import(moduleOf(r).href)]);
    assert.deepEqual(bs[broken].threads, rs[real].threads, `${broken} vs ${real}`);
  }
});

test('model: a failing schedule replays to the same failure, deterministically', async () => {
  const { b } = same('brokenSemTwoWaiters', 'semTwoWaiters');
  const checker = await ModelChecker.open(moduleOf(b), b.name);
  try {
    const found = checker.explore({ preemptions: 2 });
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

test('model: sleep sets skip only reorderings: the reduced search reaches every outcome the full one does', async (t) => {
  const entry = catalog.find((e) => e.name === 'eventTimedWait');
  assert.ok(entry);
  const full = await check(moduleOf(entry), entry.name, {
    preemptions: Number.POSITIVE_INFINITY,
    sleepSets: false,
  });
  const reduced = await check(moduleOf(entry), entry.name, {
    preemptions: Number.POSITIVE_INFINITY,
    sleepSets: true,
  });
  t.diagnostic(`without sleep sets: ${summary(full)}`);
  t.diagnostic(`with sleep sets: ${summary(reduced)}`);
  assert.ok(full.complete && reduced.complete && !full.bounded && !reduced.bounded);
  assert.deepEqual(full.outcomes, ['set seen', 'timed out']);
  assert.deepEqual(reduced.outcomes, full.outcomes);
  assert.ok(reduced.schedules < full.schedules / 10, `${reduced.schedules} vs ${full.schedules}`);
});
