/**
 * One cell of the table (one workload for one JS contender), in a process of its own, started by main.ts:
 *   node [--harmony-struct] build/bench/cell.js --workload ID --contender ID [--quick]
 * Prints one line, `RESULT <json Cell>`, then exits.
 *
 * Why a process per cell: each contender gets a fresh engine, a hang or crash costs one cell, and
 * `--harmony-struct` is given to the V8 contender's cells only. With that flag Node 20 puts every isolate
 * under V8's global safepoints; a worker parked in Atomics.wait then never reaches one, and worker churn
 * sometimes aborts the process (NodePlatform::ForIsolate assertion). Both were seen on this machine with the
 * classic baseline, so the other contenders run without the flag, as their users would.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { v8Unavailable } from './v8.js';
import {
  type Cell,
  CONTENDER_IDS,
  type ContenderId,
  type Context,
  notApplicable,
  WORKLOADS,
} from './workloads.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string' },
    contender: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const def = WORKLOADS.find((w) => w.id === values.workload);
const contender = values.contender as ContenderId;
if (!def || !CONTENDER_IDS.includes(contender) || contender === 'pthreads') {
  process.stderr.write(`cell: unknown workload '${values.workload}' or contender '${values.contender}'\n`);
  process.exit(2);
}
const quick = values.quick ?? false;
const ctx: Context = {
  quick,
  native: { binary: null, gcc: null },
  v8Unavailable: v8Unavailable(),
  timeoutMs: quick ? 30_000 : 180_000,
};
const runner = def.runners[contender];
const cell: Cell = runner ? await runner(ctx) : notApplicable(def, contender);
writeSync(1, `RESULT ${JSON.stringify(cell)}\n`);
// Exit at once: workers that hung (and V8 workers kept alive on purpose) are not waited for; main.ts kills
// this process if even the exit hangs.
process.exit(0);
