/**
 * Runs a catalog entry (catalog.ts) and judges the result by its kind, the same way for the model tests
 * (test/model-*.test.ts, at the `test` bounds) and for `npm run model-check` (at the `full` bounds):
 * - pass: no failure, a finished search, and exactly the expected outcome set;
 * - broken: a failure matching `failure` at the bug's bound k, and (for k > 0) a finished search without
 *   one at k - 1;
 * - defect: the whole search at the bound (it goes on after failures, to count them), a failure matching
 *   `failure`, and the passing schedules reach exactly the expected outcomes (those of the fixed library).
 */
import { type Entry, entryNamed, moduleOf, outcomesAt } from './catalog.js';
import { check, type ExploreResult, ModelChecker } from './checker.js';

export interface EntryRun {
  entry: Entry;
  /** The bound searched: the entry's `test` or `full` bound. */
  bound: number;
  result: ExploreResult;
  /** For a `broken` entry with k > 0: the search within k - 1 preemptions. */
  below: ExploreResult | null;
  ok: boolean;
  /** Why not, or what was shown. */
  verdict: string;
}

export async function runEntry(
  entry: Entry,
  which: 'test' | 'full',
  maxSchedules = 200_000,
): Promise<EntryRun> {
  const bound = entry[which];
  const options = {
    preemptions: bound,
    maxSchedules,
    keepGoing: entry.expect === 'defect',
    earlyTimeouts: entry.early?.[which],
  };
  const result = await check(moduleOf(entry), entry.name, options);
  let below: ExploreResult | null = null;
  if (entry.expect === 'broken' && bound > 0) {
    below = await check(moduleOf(entry), entry.name, {
      preemptions: bound - 1,
      maxSchedules,
      earlyTimeouts: entry.early?.[which],
    });
  }
  const { ok, verdict } = judge(entry, bound, result, below);
  return { entry, bound, result, below, ok, verdict };
}

function judge(
  entry: Entry,
  bound: number,
  r: ExploreResult,
  below: ExploreResult | null,
): { ok: boolean; verdict: string } {
  const shown = (f: ExploreResult['failure']) =>
    f ? `${f.message}\n${f.trace}\nschedule: ${f.schedule}` : '';
  if (entry.expect === 'pass') {
    if (r.failure) return { ok: false, verdict: `FAILED: ${shown(r.failure)}` };
    if (!r.complete) return { ok: false, verdict: 'the search did not finish within the schedule limit' };
    const expected = outcomesAt(entry, bound);
    if (!sameSet(r.outcomes, expected))
      return {
        ok: false,
        verdict: `outcomes ${JSON.stringify(r.outcomes)}, expected ${JSON.stringify(expected)}`,
      };
    return { ok: true, verdict: `pass, ${r.outcomes.length} outcome(s) as expected` };
  }
  if (entry.expect === 'broken') {
    if (!r.failure) return { ok: false, verdict: `NOT FOUND within ${bound} preemption(s)` };
    if (entry.failure && !entry.failure.test(r.failure.message))
      return { ok: false, verdict: `found another failure: ${shown(r.failure)}` };
    if (below?.failure)
      return { ok: false, verdict: `found within ${bound - 1} already: ${shown(below.failure)}` };
    if (below && !below.complete)
      return {
        ok: false,
        verdict: `the search within ${bound - 1} did not finish within the schedule limit`,
      };
    return { ok: true, verdict: 'bug found (expected)' };
  }
  // defect
  if (!r.failure)
    return {
      ok: false,
      verdict: r.complete
        ? 'PASSES: the defect looks fixed; make this entry a pass'
        : 'the search did not finish',
    };
  if (entry.failure && !entry.failure.test(r.failure.message))
    return { ok: false, verdict: `failed otherwise than the known defect: ${shown(r.failure)}` };
  const expected = outcomesAt(entry, bound);
  if (!sameSet(r.outcomes, expected))
    return {
      ok: false,
      verdict: `the passing schedules reach ${JSON.stringify(r.outcomes)}, expected ${JSON.stringify(expected)}`,
    };
  return { ok: true, verdict: `known defect: ${r.failures} of ${r.schedules} schedules fail` };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/** Replays `schedule` on the scenario of catalog entry `name`; returns the trace, throwing on a failure. */
export async function replayEntry(name: string, schedule: string): Promise<string> {
  const e = entryNamed(name);
  const checker = await ModelChecker.open(moduleOf(e), e.name);
  try {
    const r = checker.replay(schedule);
    if (r.failure !== null) throw new Error(`the schedule '${schedule}' failed:\n${r.trace}`);
    return r.trace;
  } finally {
    await checker.close();
  }
}
