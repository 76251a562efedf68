/**
 * Runs every model-checking scenario (test/model/catalog.ts) with the larger `full` preemption bounds and
 * prints a Markdown table: schedules explored, longest schedule, how the search ended, time. A broken
 * primitive's row passes when its failure is found; the failing schedule is printed below the table.
 *
 * Usage: npm run model-check [-- --bound N|inf] [-- --only NAME[,NAME]] [-- --traces] [-- --max-schedules N]
 */
import { parseArgs } from 'node:util';
import { ALL, catalog, moduleOf } from '../test/model/catalog.js';
import { check, type ExploreResult, searchOutcome } from '../test/model/checker.js';

const { values } = parseArgs({
  options: {
    bound: { type: 'string' },
    only: { type: 'string' },
    traces: { type: 'boolean', default: false },
    'max-schedules': { type: 'string', default: '200000' },
  },
});

const only = values.only?.split(',');
const entries = catalog.filter((e) => only === undefined || only.includes(e.name));
const rows: string[] = [
  '| scenario | preemption bound | schedules | max steps | search | result | time |',
  '|---|---:|---:|---:|---|---|---:|',
];
const traces: string[] = [];
let bad = 0;
for (const entry of entries) {
  const bound =
    values.bound === undefined
      ? entry.full
      : values.bound === 'inf'
        ? Number.POSITIVE_INFINITY
        : Number(values.bound);
  const r: ExploreResult = await check(moduleOf(entry), entry.name, {
    preemptions: bound,
    maxSchedules: Number(values['max-schedules']),
  });
  const found = r.failure !== null;
  const ok = found === (entry.expect === 'fail');
  if (!ok) bad++;
  const search = searchOutcome(r);
  const result =
    entry.expect === 'fail' ? (found ? 'bug found (expected)' : 'NOT FOUND') : found ? 'FAILED' : 'pass';
  rows.push(
    `| ${r.scenario} | ${bound === ALL ? 'none (sleep sets)' : bound} | ${r.schedules}${r.pruned ? ` (+${r.pruned} pruned)` : ''} | ${r.maxDepth} | ${search} | ${result} | ${(r.ms / 1000).toFixed(1)} s |`,
  );
  process.stdout.write(`${rows[rows.length - 1]}\n`);
  if (r.failure && (values.traces || !ok))
    traces.push(`${r.scenario}\n${r.failure.trace}\nschedule: ${r.failure.schedule}\n`);
}
process.stdout.write(`\n${rows.join('\n')}\n`);
if (traces.length > 0) process.stdout.write(`\n${traces.join('\n')}`);
process.exitCode = bad === 0 ? 0 : 1;
