// The model checker on the real primitives: every interleaving of each scenario within its preemption
// bound, run on the production code (test/model), reaching exactly the outcomes the catalog lists; with
// one core and with two (the cond broadcast's per-core wake-ups), with spinning off and on. Each test
// prints the schedules it explored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, isAsync, isKill } from './model/catalog.js';
import { summary } from './model/checker.js';
import { replayEntry as replay, runEntry } from './model/run-entry.js';

for (const entry of catalog.filter((e) => e.expect === 'pass' && !isAsync(e) && !isKill(e))) {
  const within =
    entry.test === Number.POSITIVE_INFINITY ? 'every interleaving' : `${entry.test} preemption(s)`;
  test(`model: ${entry.name} passes every schedule within ${within}, with the expected outcomes`, async (t) => {
    const run = await runEntry(entry, 'test');
    t.diagnostic(summary(run.result));
    t.diagnostic(`outcomes: ${run.result.outcomes.join(' | ')}`);
    assert.ok(run.ok, run.verdict);
    // A search with nothing to choose would prove nothing.
    assert.ok(run.result.schedules > 1, `${run.result.schedules} schedules`);
  });
}

test('model: on 2 cores a broadcast wakes 2 waiters itself, and the first one woken wakes the third', async (t) => {
  // The default schedule: each waiter runs until it parks, then the broadcaster.
  const trace = await replay('condBroadcastTwoCores', '');
  t.diagnostic(trace);
  assert.match(trace, /T4 .*QemuCond\.broadcast .*add\(c\.OWED, 3\)/);
  assert.match(trace, /T4 .*notify\(c\.SEQ, 2\) -> 2 \(woke T1, T2\)/);
  // Exactly one link of the chain: the first unit taken, which leaves OWED above the width (3 > 2), wakes T3.
  assert.match(trace, /compareExchange\(c\.OWED, 3, 2\) -> 3\n.*notify\(c\.SEQ, 1\) -> 1 \(woke T3\)/);
  assert.equal(trace.match(/notify\(c\.SEQ, 1\)/g)?.length, 1, 'one chain link');
});

test('model: with spinning on, a locker takes the lock while it spins', async (t) => {
  // T1 locks; T2 finds it held, looks once more and spins (one read); T1 leaves and unlocks; T2's next spin
  // read sees it free, and it takes the lock without having parked.
  const trace = await replay('mutexExclusionSpin', '1 2 2 2 1 1 1 2 2 2');
  t.diagnostic(trace);
  assert.match(trace, /T2 .*spinWhile .*load\(m\.LOCK\) -> (\d+)\n.*T1 .*add\(inside/);
  assert.match(
    trace,
    /T2 .*spinWhile .*load\(m\.LOCK\) -> 1\n(.*T2 .*load\(m\.LOCK\) -> 1\n)?.*T2 .*compareExchange\(m\.LOCK, 1, \d+\) -> 1\n/,
  );
  assert.doesNotMatch(trace, /T2 .*wait\(m\.LOCK/, 'T2 never parked');
});

test('model: with spinning on, a cond waiter reads SEQ a fixed number of times before it parks', async (t) => {
  const trace = await replay('condSignalSpin', '');
  t.diagnostic(trace);
  const spins = trace.match(/T1 .*spinWhile .*load\(c\.SEQ\)/g) ?? [];
  assert.equal(spins.length, 2, 'two spin reads (Scenario.spin)');
  assert.match(trace, /T1 .*wait\(c\.SEQ, 0[,)].* -> parks/);
});
