// `npm run bench -- --quick` as a smoke test: the report's structure only. Timings are never pass/fail here;
// a correctness failure inside the bench (a lost item, a lost update, a hang) is, through its exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WORKLOADS = [
  'lock',
  'pingpong',
  'bb-1x1',
  'bb-2x2',
  'broadcast',
  'contended-2',
  'contended-4',
  'vcpu',
  'sem',
  'event',
];
const CONTENDERS = ['qemu-thread', 'pthreads', 'v8', 'classic', 'reference'];
const LABELS = ['qemu-thread', 'pthreads (C)', 'V8 Atomics.Mutex', 'classic JS', 'reference'];
const STATUSES = ['ok', 'n/a', 'skipped', 'failed'];

interface Result {
  status: string;
  median?: number;
  min?: number;
  max?: number;
  samples?: number[];
  ratio?: number | null;
  reason?: string;
  extra?: Record<string, number>;
}

interface Report {
  schema: string;
  meta: { mode: string; cores: number; cpu: string; node: string; v8: string; gcc: string | null };
  contenders: { id: string; label: string }[];
  workloads: { id: string; title: string; unit: string; better: string; results: Record<string, Result> }[];
  failures: unknown[];
}

test('npm run bench -- --quick prints the full table and writes matching JSON', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-thread-bench-'));
  try {
    const jsonFile = join(dir, 'bench.json');
    const main = fileURLToPath(new URL('../bench/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main, '--quick', '--json', jsonFile], {
      encoding: 'utf8',
      timeout: 220_000,
    });
    assert.equal(
      run.status,
      0,
      `bench exited with ${run.status ?? run.signal}\n${run.stdout}\n${run.stderr}`,
    );

    // The table: a header with every contender, then one row per workload, every cell a figure or a marker.
    const lines = run.stdout.split('\n');
    assert.match(run.stdout, /machine: \d+ cores/);
    assert.match(run.stdout, /node v\d+\.\d+\.\d+/);
    assert.match(run.stdout, /gcc: /);
    const header = lines.find((l) => l.startsWith('| workload'));
    assert.ok(header, `no table header in:\n${run.stdout}`);
    for (const label of LABELS) assert.ok(header.includes(label), `header lacks ${label}`);
    const rows = lines.filter((l) => /^\| \d\. /.test(l));
    assert.equal(rows.length, WORKLOADS.length, `expected ${WORKLOADS.length} workload rows:\n${run.stdout}`);
    for (const row of rows) {
      const cells = row
        .split('|')
        .slice(2, -1)
        .map((c) => c.trim());
      assert.equal(cells.length, CONTENDERS.length, row);
      cells.forEach((cell, i) => {
        // V8's experimental lock may hang on a loaded machine: its cell may say FAILED (the run still passes).
        const failedAllowed = CONTENDERS[i] === 'v8' ? '|FAILED' : '';
        const shape = new RegExp(`^([\\d.]+[kMG]?( \\([\\d.]+x\\))?|n/a|skipped|—${failedAllowed})$`);
        assert.match(cell, shape, `odd cell '${cell}' in ${row}`);
      });
      assert.match(cells[0], /^[\d.]+[kMG]?$/, `qemu-thread must be measured: ${row}`);
    }

    // The JSON: the same rows, every contender either measured or n/a / skipped with a reason.
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
    assert.equal(report.schema, 'qemu-thread-bench/1');
    assert.equal(report.meta.mode, 'quick');
    assert.ok(Number.isInteger(report.meta.cores) && report.meta.cores >= 1);
    assert.equal(report.meta.node, process.version);
    assert.ok(report.meta.gcc === null || typeof report.meta.gcc === 'string');
    assert.deepEqual(
      report.contenders.map((c) => c.id),
      CONTENDERS,
    );
    assert.deepEqual(
      report.workloads.map((w) => w.id),
      WORKLOADS,
    );
    // Only the engine's experimental lock may fail (it can hang on a loaded machine); nothing of ours.
    assert.deepEqual(
      (report.failures as { contender: string }[]).filter((f) => f.contender !== 'v8'),
      [],
    );
    for (const w of report.workloads) {
      assert.ok(w.title && w.unit && ['lower', 'higher'].includes(w.better), w.id);
      assert.deepEqual(Object.keys(w.results).sort(), [...CONTENDERS].sort(), w.id);
      for (const [contender, r] of Object.entries(w.results)) {
        const where = `${w.id}/${contender}`;
        assert.ok(STATUSES.includes(r.status), `${where}: status ${r.status}`);
        if (r.status === 'ok') {
          assert.ok(Number.isFinite(r.median) && r.median! > 0, `${where}: median`);
          assert.ok(r.min! <= r.median! && r.median! <= r.max!, `${where}: min <= median <= max`);
          assert.ok(Array.isArray(r.samples) && r.samples.length > 0, `${where}: samples`);
          assert.ok(r.ratio === null || (typeof r.ratio === 'number' && r.ratio > 0), `${where}: ratio`);
        } else {
          assert.ok(
            typeof r.reason === 'string' && r.reason.length > 0,
            `${where}: a ${r.status} needs a reason`,
          );
        }
      }
      assert.equal(w.results['qemu-thread'].status, 'ok', `${w.id}: qemu-thread must be measured`);
      assert.equal(w.results['qemu-thread'].ratio, 1);
    }
    const byId = Object.fromEntries(report.workloads.map((w) => [w.id, w]));
    // The figures the issue asks for beside the table.
    assert.equal(typeof byId.lock.results.reference.median, 'number', 'engine floor measured');
    assert.equal(typeof byId.vcpu.results.reference.median, 'number', 'bare worker start measured');
    assert.equal(typeof byId.broadcast.results['qemu-thread'].extra?.futexWaits, 'number', 'futex counts');
    for (const id of ['contended-2', 'contended-4']) {
      const extra = byId[id].results['qemu-thread'].extra;
      assert.ok(extra && extra.minPerThread <= extra.maxPerThread, `${id}: per-thread spread`);
    }
    for (const id of ['vcpu', 'sem', 'event'])
      assert.equal(byId[id].results.v8.status, 'n/a', `${id}: V8 is n/a`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
