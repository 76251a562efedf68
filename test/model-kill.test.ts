// The model checker's kills (test/model/scenarios/kill.ts): a thread killed at each scheduling point of a
// wait (mutex lock, cond wait, semaphore wait, event wait, join), in every schedule within the bound. The
// mutex and the event already recover from every kill; the semaphore, the cond and the join have known
// defects (issue #11), asserted here as found until the library is fixed: their catalog entries then
// become `pass` (catalog.ts), and the same searches must pass with the outcomes listed there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, entryNamed, isKill, moduleOf } from './model/catalog.js';
import { ModelChecker, summary } from './model/checker.js';
import { runEntry } from './model/run-entry.js';

for (const entry of catalog.filter(isKill)) {
  const what =
    entry.expect === 'pass'
      ? 'recovers from a kill at any step, with the expected outcomes'
      : `shows the known defect: ${entry.defect}`;
  test(`model: ${entry.name} ${what} (${entry.test} preemption(s))`, async (t) => {
    const run = await runEntry(entry, 'test');
    t.diagnostic(summary(run.result));
    t.diagnostic(`outcomes: ${run.result.outcomes.join(' | ')}`);
    if (run.result.failure)
      t.diagnostic(`${run.result.failure.trace}\nschedule: ${run.result.failure.schedule}`);
    assert.ok(run.ok, run.verdict);
    // Kills were explored: some outcome says so.
    assert.ok(
      run.result.outcomes.some((o) => o.includes('killed')),
      'some schedule kills',
    );
  });
}

test('model: a waiter killed after a post woke it takes the wake-up with it (the semaphore defect)', async (t) => {
  const e = entryNamed('killSemWait');
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    // T1 parks, T2 parks, T3 posts (waking T1, the first parked), and T1 dies before it runs.
    const r = checker.replay('1 1 1 1 1 2 2 2 2 2 3 3 3 3 3 1k');
    t.diagnostic(r.trace);
    assert.match(
      r.trace,
      /T3 .*notify\(s\.COUNT, 1\) -> 1 \(woke T1\)\n.*T1 .*killed woken from wait\(s\.COUNT\)/,
    );
    // T2 sleeps beside the unit until its time-out.
    assert.match(r.trace, /T2 .*time-out fires at 60000 ms -> timed-out \(forced: nothing else can run\)/);
    assert.match(r.failure ?? '', /^T2 timed out with 1 unit\(s\) in the count/);
  } finally {
    await checker.close();
  }
});

test('model: a kill is offered at every step of the killable thread, and only once per schedule', async () => {
  const e = entryNamed('killEventWait');
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    const none = checker.explore({ preemptions: 0, kills: 0 });
    const one = checker.explore({ preemptions: 0 });
    assert.deepEqual(none.outcomes, ['T1 returned, T2 returned']);
    assert.deepEqual(one.outcomes, ['T1 killed, T2 returned', 'T1 returned, T2 returned']);
    // Each schedule without a kill has one variant per step of T1 at which T1 can die (at least the
    // steps of its wait), each explored with its own continuations.
    assert.ok(one.schedules > 5 * none.schedules, `${one.schedules} vs ${none.schedules}`);
    // A replayed kill: T1 dies before its first step, T2 and T3 go on.
    const r = checker.replay('1k');
    assert.equal(r.failure, null, r.trace);
    assert.match(r.trace, /^ {3}1 {2}T1 .*killed before its load\(e\.STATE\)/);
  } finally {
    await checker.close();
  }
});
