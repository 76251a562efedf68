/**
 * `npm run bench`: issue 5's workloads for qemu-thread, native pthreads, V8's Atomics.Mutex and a classic
 * JS baseline, in one run on one machine. Prints a Markdown table (medians, and each contender's cost
 * relative to qemu-thread) with the machine's cores, Node and gcc versions; `--json FILE` writes the same
 * data. Exit status 1 when a correctness check failed or a contender hung or crashed.
 *
 * Usage: node build/bench/main.js [--quick] [--json FILE] [--only id,id,...]
 * Progress goes to stderr; stdout holds only the report.
 *
 * This process only supervises: the C program runs the pthreads cells, and every JS cell runs in a fresh
 * `node` process of its own (cell.ts), with `--harmony-struct` for the V8 contender only.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildNative } from './native.js';
import { type Meta, type Row, renderMeta, renderNotes, renderTable, toJson } from './report.js';
import {
  type Cell,
  CONTENDER_IDS,
  type ContenderId,
  type Context,
  mergeCells,
  notApplicable,
  runNativeCell,
  WORKLOADS,
  type WorkloadDef,
} from './workloads.js';

const usage = 'usage: node build/bench/main.js [--quick] [--json FILE] [--only id,id,...]';

let values: { quick?: boolean; json?: string; only?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(
    `${usage}\nworkloads: ${WORKLOADS.map((w) => w.id).join(', ')}\n` +
      '--quick: a smoke run of a few seconds; --json FILE: also write the results as JSON\n',
  );
  process.exit(0);
}
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((id) => !WORKLOADS.some((w) => w.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown workload(s): ${unknown.join(', ')}\n${usage}\n`);
  process.exit(2);
}

const started = performance.now();
const quick = values.quick ?? false;
const progress = (text: string) =>
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`,
  );

progress(quick ? 'quick run' : 'full run (a few minutes)');
const native = buildNative();
if (!native.binary) progress(`pthreads skipped: ${native.reason}`);

/** Full runs measure every cell in rounds, the contenders taking turns, and pool the samples. */
const rounds = quick ? 1 : 3;
const ctx: Context = {
  quick,
  native,
  v8Unavailable: null,
  timeoutMs: quick ? 30_000 : 180_000,
};

interface CellRun {
  cell?: Cell;
  /** How the process ended when it gave no result. */
  crash?: string;
  timedOut?: boolean;
}

/**
 * How long a cell's process may run before it is killed. V8's experimental shared-struct locks (Node 20,
 * --harmony-struct) sometimes hang for good on a loaded machine, with the waiters parked where nothing can
 * stop them: in a quick run such a cell is given up sooner.
 */
function hardLimitMs(contender: ContenderId): number {
  return contender === 'v8' && quick ? 15_000 : ctx.timeoutMs + 15_000;
}

/** Runs one JS cell in its own process (cell.ts) and reads its RESULT line. */
function spawnCell(def: WorkloadDef, contender: ContenderId): Promise<CellRun> {
  const script = fileURLToPath(new URL('./cell.js', import.meta.url));
  const args = [
    ...(contender === 'v8' ? ['--harmony-struct'] : []),
    script,
    '--workload',
    def.id,
    '--contender',
    contender,
    ...(quick ? ['--quick'] : []),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let cell: Cell | undefined;
    let timedOut = false;
    let linger: NodeJS.Timeout | undefined;
    // The cell's own watchdog fires first; this one catches a process that hangs even in exiting.
    const hard = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, hardLimitMs(contender));
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line && cell === undefined && stdout.includes('\n', stdout.indexOf('RESULT '))) {
        cell = JSON.parse(line.slice('RESULT '.length)) as Cell;
        // Have the result: a process stuck in its exit (unkillable V8 waiters) is ended here.
        linger = setTimeout(() => child.kill('SIGKILL'), 3_000);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      clearTimeout(linger);
      if (cell) return resolve({ cell });
      if (timedOut) return resolve({ timedOut });
      const why = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /error|assert|fatal|abort/i.test(l))
        .slice(0, 2)
        .join(' / ');
      resolve({ crash: `exit ${signal ?? code}${why ? `: ${why}` : ''}` });
    });
  });
}

async function runCell(def: WorkloadDef, contender: ContenderId): Promise<Cell> {
  if (contender === 'pthreads') return runNativeCell(def, ctx);
  if (!def.runners[contender]) return notApplicable(def, contender);
  let crash = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const run = await spawnCell(def, contender);
    if (run.cell) {
      if (attempt === 1 || run.cell.status !== 'ok') return run.cell;
      return { ...run.cell, note: `measured on a second try; the first process crashed (${crash})` };
    }
    if (run.timedOut) {
      return {
        status: 'failed',
        reason: `its process hung for ${hardLimitMs(contender) / 1000} s and was killed`,
      };
    }
    crash = run.crash ?? 'unknown';
    progress(`${def.id}: ${contender}: the process crashed (${crash})${attempt === 1 ? ', retrying' : ''}`);
  }
  return { status: 'failed', reason: `its process crashed twice (${crash})` };
}

const meta: Meta = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  cores: availableParallelism(),
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  platform: `${process.platform} ${process.arch}`,
  loadavg: loadavg(),
  node: process.version,
  v8: process.versions.v8,
  gcc: native.gcc,
};

const rows: Row[] = [];
for (const def of WORKLOADS) {
  if (only && !only.includes(def.id)) continue;
  const runs = Object.fromEntries(CONTENDER_IDS.map((id) => [id, [] as Cell[]])) as Record<
    ContenderId,
    Cell[]
  >;
  for (let round = 1; round <= rounds; round++) {
    for (const contender of ['pthreads', 'qemu-thread', 'v8', 'classic', 'reference'] as const) {
      const measured = contender === 'pthreads' || def.runners[contender] !== undefined;
      if (!measured && round > 1) continue;
      if (measured) progress(`${def.id}: ${contender}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}`);
      runs[contender].push(await runCell(def, contender));
    }
  }
  const cells = Object.fromEntries(CONTENDER_IDS.map((id) => [id, mergeCells(runs[id])])) as Record<
    ContenderId,
    Cell
  >;
  rows.push({ def, cells });
}
meta.seconds = Math.round((performance.now() - started) / 100) / 10;

process.stdout.write(`${renderMeta(meta)}\n\n${renderTable(rows)}\n\n${renderNotes(rows)}\n`);
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify(toJson(meta, rows), null, 2)}\n`);
  progress(`wrote ${values.json}`);
}
// A failure of code in this repository (qemu-thread, the classic baseline, the C program) fails the run; one
// of the engine's experimental locks is reported in the table and notes, but is not ours to fail on.
const failed = rows.some((row) =>
  CONTENDER_IDS.some((id) => id !== 'v8' && row.cells[id].status === 'failed'),
);
progress(failed ? 'FAILED: see the notes' : `done in ${meta.seconds} s`);
process.exit(failed ? 1 : 0);
