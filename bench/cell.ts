/**
 * One cell of the table (one workload for one JS contender), in a process of its own, started by main.ts:
 *   node [--harmony-struct] build/bench/cell.js --workload ID --contender ID [--quick]
 * Runs the control loop first (workloads.ts, controlSamples), then the cell. Prints one line,
 * `RESULT <json CellResult>`, then exits.
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
  controlSamples,
  notApplicable,
  WORKLOADS,
} from './workloads.js';

/** What a cell's process prints: its cell and its control loop's samples. */
export interface CellResult {
  cell: Cell;
  control: number[];
}

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
const control = controlSamples(quick);
const result: CellResult = { cell: runner ? await runner(ctx) : notApplicable(def, contender), control };
writeSync(1, `RESULT ${JSON.stringify(result)}\n`);
// Exit at once: workers that hung (and V8 workers kept alive on purpose) are not waited for; main.ts kills
// this process if even the exit hangs.
process.exit(0);
