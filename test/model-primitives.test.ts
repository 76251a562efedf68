// The model checker on the real primitives: every interleaving of each scenario within its preemption
// bound, run on the production code (test/model). Each test prints the schedules it explored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalog, isAsync, moduleOf } from './model/catalog.js';
import { check, summary } from './model/checker.js';

for (const entry of catalog.filter((e) => e.expect === 'pass' && !isAsync(e))) {
  const within =
    entry.test === Number.POSITIVE_INFINITY ? 'every interleaving' : `${entry.test} preemption(s)`;
  test(`model: ${entry.name} passes every schedule within ${within}`, async (t) => {
    const r = await check(moduleOf(entry), entry.name, { preemptions: entry.test });
    t.diagnostic(summary(r));
    assert.equal(r.failure, null, r.failure ? `${r.failure.trace}\nschedule: ${r.failure.schedule}` : '');
    assert.ok(r.complete, 'the search must finish within the schedule limit');
    // A search with nothing to choose would prove nothing.
    assert.ok(r.schedules > 1, `${r.schedules} schedules`);
  });
}
