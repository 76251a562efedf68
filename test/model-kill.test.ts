// The model checker's kills (test/model/scenarios/kill.ts): a thread killed at each scheduling point of a
// wait (mutex lock, cond wait after a signal or a broadcast, semaphore wait, event wait, join: the joiner
// killed, and the exiting thread killed), in every schedule within the bound. Each search must reach the
// catalog's outcomes exactly, and must have killed the thread while it was parked in its wait and while it
// was woken but had not run yet (a wake-up taken with it). The library recovers from every kill.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, entryNamed, isKill, moduleOf } from './model/catalog.js';
import { ModelChecker, summary } from './model/checker.js';
import { replayEntry as replay, runEntry } from './model/run-entry.js';

/** The words each scenario's killed thread waits on: it must have been killed parked there, and woken. */
const WAITS_ON: Record<string, string[]> = {
  killMutexLock: ['m.LOCK'],
  killEventWait: ['e.VALUE'],
  killSemWait: ['s.COUNT'],
  killCondSignal: ['c.SEQ'],
  killCondBroadcast: ['c.SEQ'],
  killJoin: ['t.STATE', 't.CHUNK'],
  killJoinExiting: ['t.CHUNK'],
};

for (const entry of catalog.filter(isKill)) {
  const what =
    entry.expect === 'pass'
      ? 'recovers from a kill at any step, with the expected outcomes'
      : `shows the known defect: ${entry.defect}`;
  test(`model: ${entry.name} ${what} (${entry.test} preemption(s))`, async (t) => {
    const run = await runEntry(entry, 'test');
    t.diagnostic(summary(run.result));
    t.diagnostic(`outcomes: ${run.result.outcomes.join(' | ')}`);
    t.diagnostic(`killed: ${run.result.killPoints.join(' | ')}`);
    if (run.result.failure)
      t.diagnostic(`${run.result.failure.trace}\nschedule: ${run.result.failure.schedule}`);
    assert.ok(run.ok, run.verdict);
    const words = WAITS_ON[entry.name];
    assert.ok(words, `which words ${entry.name}'s killed thread waits on`);
    for (const word of words) {
      for (const point of [`parked in wait(${word})`, `woken from wait(${word}), before it ran`]) {
        assert.ok(run.result.killPoints.includes(point), `no schedule killed it ${point}`);
      }
    }
  });
}

test('model: a post woke a waiter that was killed before it ran; the other finds the unit when it looks again', async (t) => {
  // T1 parks, T2 parks, T3 posts (waking T1, the first parked), and T1 dies before it runs.
  const trace = await replay('killSemWait', '1+ 2+ 3+ 1k');
  t.diagnostic(trace);
  assert.match(
    trace,
    /T3 .*notify\(s\.COUNT, 1\) -> 1 \(woke T1\)\n.*T1 .*killed woken from wait\(s\.COUNT\), before it ran: the wake-up is lost with it/,
  );
  // Nobody wakes T2; its sleep's slice ends (park.ts: RECHECK_MS), its word has changed, and it takes the
  // unit long before its own time-out (60 s).
  assert.match(
    trace,
    /T2 .*time-out fires at 250 ms -> timed-out \(forced: nothing else can run\)\n.*T2 .*wait\(s\.COUNT, 0, \d+ ms\) -> not-equal \(1\)/,
  );
  assert.match(trace, /T2 .*compareExchange\(s\.COUNT, 1, 0\) -> 1/);
});

test('model: a joiner killed in the middle of a streamed result: the next joiner gets EINVAL, the result was lost', async (t) => {
  // T1 publishes chunk 0 and parks; T2 claims the join, copies chunk 0, hands the window back, wakes T1 and
  // parks for chunk 1; T2 dies there. T1 puts chunk 1 in (its last: it is done); T3 joins, takes the dead
  // T2's claim over, and finds the pipe past its first chunk: the result is lost, and T3 says so.
  const trace = await replay('killJoin', '1+ 2+ 2k');
  t.diagnostic(trace);
  assert.match(trace, /T2 .*killed parked in wait\(t\.CHUNK\)/);
  assert.match(trace, /T3 .*compareExchange\(t\.JOINER, (\d+), \d+\) -> \1\n/);
  assert.match(trace, /T3 .*compareExchange\(t\.CHUNK, 3, -2\) -> 3/);
  assert.match(trace, /T3 .*brokenTransfer/);
});

test('model: a joiner killed before it took its first chunk: the exiting thread stops waiting for it', async (t) => {
  // T1 publishes chunk 0 and parks; T2 claims the join; T3 is refused (EINVAL: already joined); T2 dies
  // before it reads anything. Nobody will read the result: after a slice with no step T1 looks, finds
  // its joiner ended, breaks the transfer off (READER_GONE) and ends.
  // (T2's 4 steps: claimJoin's loads of STATE, MODE and STATE, and its compareExchange of JOINER.)
  const trace = await replay('killJoin', '1+ 2 2 2 2 3+ 2k');
  t.diagnostic(trace);
  assert.match(trace, /T2 .*killed before its load\(t\.STATE\)/);
  assert.match(trace, /T1 .*time-out fires at 100 ms -> timed-out \(forced: nothing else can run\)/);
  assert.match(trace, /T1 .*compareExchange\(t\.CHUNK, 1, -2\) -> 1/);
});

test('model: a kill is offered at every step of the killable thread, and only once per schedule', async () => {
  const e = entryNamed('killEventWait');
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    const none = checker.explore({ preemptions: 0, kills: 0 });
    const one = checker.explore({ preemptions: 0 });
    assert.deepEqual(none.outcomes, ['T1 returned, T2 returned']);
    assert.deepEqual(one.outcomes, ['T1 killed, T2 returned', 'T1 returned, T2 returned']);
    assert.deepEqual(none.killPoints, []);
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
