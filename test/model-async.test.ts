// The model checker on async waits (test/model/scenarios/async.ts): park.ts's claims checked on the
// production code, with Atomics.waitAsync modelled (an async waiter sits in the same FIFO queue as blocked
// threads). Every async scenario passes within its bound; the stalled-waiter scenario with the wake-all
// disabled (broken/async.ts) must lose a wake-up (a hang), with a trace showing the post's single wake-up
// landing on the stalled async wait; the very schedule that loses it there passes on the real code; and an
// async wait nobody resolves is reported, whether its thread awaits it or has ended. Each test prints its
// schedules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, entryNamed, isAsync, moduleOf } from './model/catalog.js';
import { check, ModelChecker, summary } from './model/checker.js';
import { runEntry } from './model/run-entry.js';

const asyncEntries = catalog.filter(isAsync);
const entry = entryNamed;

for (const e of asyncEntries.filter((c) => c.expect === 'pass')) {
  test(`model: ${e.name} passes every schedule within ${e.test} preemption(s), with the expected outcomes`, async (t) => {
    const run = await runEntry(e, 'test');
    t.diagnostic(summary(run.result));
    t.diagnostic(`outcomes: ${run.result.outcomes.join(' | ')}`);
    assert.ok(run.ok, run.verdict);
    assert.ok(run.result.schedules > 1, `${run.result.schedules} schedules`);
  });
}

test('model: without the wake-all, a stalled async waiter swallows a post and a blocked waiter is lost', async (t) => {
  const broken = entry('brokenAsyncStalledWaiter');
  const r = await check(moduleOf(broken), broken.name, { preemptions: broken.test });
  t.diagnostic(summary(r));
  assert.ok(r.failure, 'the checker must find the lost wake-up');
  t.diagnostic(`${r.failure.trace}\nschedule: ${r.failure.schedule}`);
  // T2 sleeps on the semaphore beside the posted unit, T1 is stalled on s2 behind T3, T3 waits for T2.
  // (Every wait of the library is timed, since park.ts compares its word again every RECHECK_MS: so the
  // lost wake-up shows as a time-out that only fires because nothing else can run.)
  assert.match(
    r.failure.message,
    /^hang: T1 waits in wait\(s2\.COUNT, 0\).*; T2 waits in wait\(s\.COUNT, 0\).*; T3 waits in wait\(gotIt, 0\).*: a wake-up was lost$/,
  );
  // The post's single wake-up went to T1's queued async wait, not to T2.
  assert.match(
    r.failure.trace,
    /load\(async-waits\) -> 0\n.*notify\(s\.COUNT, 1\) -> 1 \(woke T1's async wait #0\)/,
  );
});

test('model: the schedule that loses the wake-up without the wake-all passes on the real code', async (t) => {
  const broken = entry('brokenAsyncStalledWaiter');
  const real = entry('asyncStalledWaiter');
  const [bs, rs] = await Promise.all([import(moduleOf(broken).href), import(moduleOf(real).href)]);
  assert.deepEqual(bs[broken.name].threads, rs[real.name].threads, 'the same thread bodies');
  const found = await check(moduleOf(broken), broken.name, { preemptions: 0 });
  assert.ok(found.failure);
  const checker = await ModelChecker.open(moduleOf(real), real.name);
  try {
    const again = checker.replay(found.failure.schedule);
    t.diagnostic(again.trace);
    assert.equal(again.failure, null);
    // The same post now wakes both: T1's async wait and T2.
    assert.match(again.trace, /notify\(s\.COUNT, all\) -> 2 \(woke T1's async wait #0, T2\)/);
    assert.match(again.trace, /T1 {2}\S* *async wait #\d+ on s\.COUNT resolves -> ok/);
  } finally {
    await checker.close();
  }
});

test('model: an async wait that nobody resolves is a deadlock, awaited or not', async (t) => {
  const r = await check(new URL('./model/scenarios/async.js', import.meta.url), 'asyncNeverNotified', {
    preemptions: 0,
  });
  assert.ok(r.failure);
  t.diagnostic(`${r.failure.trace}`);
  assert.equal(
    r.failure.message,
    "deadlock: T1's async wait #0 waitAsync(flag, 0) is never resolved; T2's async wait #1 waitAsync(other, 0) is never resolved",
  );
});

test('model: a cancelled async waiter loses no post, before or after the abort', async (t) => {
  // Both orders are schedules of the search: T3's post wakes T1's queued wait before the abort, or the
  // abort's wake-all comes first. The outcome is the same (asserted over the whole search above).
  const e = entry('asyncCancelledWaiter');
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    // T1 queues its wait and raises the flag (9 steps), T2 parks, T3 posts (waking T1's wait and T2, all
    // of them, since an async wait is pending), then T1 aborts.
    const before = checker.replay('1 1 1 1 1 1 1 1 1 2+ 3+');
    t.diagnostic(before.trace);
    assert.equal(before.failure, null);
    assert.match(before.trace, /T3 .*notify\(s\.COUNT, all\) -> 2 \(woke T1's async wait #0, T2\)/);
    const after = checker.replay('');
    assert.equal(after.failure, null);
    t.diagnostic(after.trace);
    // Left to itself, T1 aborts before anyone posts: the abort's wake-all (park.ts's wake, called by the
    // abort listener within controller.abort()) settles T1's own wait.
    const abort = /T1 .*cancelledWaiter > wake .*notify\(s\.COUNT, all\) -> 1 \(woke T1's async wait #0\)/;
    assert.match(after.trace, abort);
    assert.ok(after.trace.search(abort) < after.trace.indexOf('QemuSemaphore.post'));
  } finally {
    await checker.close();
  }
});

test('model: without the wake-all, the abort itself passes a post that reached the cancelled waiter on', async (t) => {
  const e = entry('asyncCancelledWaiterNoCount');
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    // T1 queues its wait and raises the flag, T2 parks, T3 posts: its single wake-up lands on T1's wait
    // (queued first); then T1 aborts, and the abort's wake-all wakes T2, which takes the unit.
    const r = checker.replay('1 1 1 1 1 1 1 1 1 2+ 3+');
    t.diagnostic(r.trace);
    assert.equal(r.failure, null);
    assert.match(r.trace, /T3 .*notify\(s\.COUNT, 1\) -> 1 \(woke T1's async wait #0\)/);
    assert.match(r.trace, /T1 .*cancelledWaiter > wake .*notify\(s\.COUNT, all\) -> 1 \(woke T2\)/);
    assert.match(r.trace, /T2 .*add\(taken\.T2, 1\) -> 0/);
  } finally {
    await checker.close();
  }
});
