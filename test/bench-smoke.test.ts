// `npm run bench -- --quick` as a smoke test: the report's structure only. Timings are never pass/fail here;
// a correctness failure inside the bench (a lost item, a lost update, a hang) is, through its exit status.
// Then the docs generator: the JSON of that run becomes the generated block of a Markdown file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WORKLOADS = [
  'control',
  'lock',
  'pingpong',
  'pingpong-4',
  'pingpong-8',
  'pingpong-16',
  'sem',
  'event',
  'bb-1x1',
  'bb-2x2',
  'broadcast',
  'broadcast-32',
  'contended-1',
  'contended-2',
  'contended-4',
  'contended-16',
  'vcpu',
];
const CONTENDERS = ['qemu-thread', 'qemu-nospin', 'pthreads', 'v8', 'classic', 'reference'];
const LABELS = [
  'qemu-thread',
  'qemu-thread, no spin',
  'pthreads (C)',
  'V8 Atomics.Mutex',
  'classic JS',
  'reference',
];
const STATUSES = ['ok', 'n/a', 'skipped', 'failed'];
/** Every section's table, and the contenders it must have a column for. */
const SECTIONS: Record<string, string[]> = {
  'Uncontended lock, and the control': CONTENDERS,
  // The reference column: the engine's floor (bare wait/notify) of the ping-pong and broadcast rows.
  'Hand-offs: wall and process CPU time': CONTENDERS,
  Broadcast: CONTENDERS,
  'Contended mutex': CONTENDERS.slice(0, 5),
  'Thread start': ['qemu-thread', 'pthreads', 'classic', 'reference'],
};
/** Issue 15's targets the run must read off (each with a number, since every workload ran). */
const TARGETS = [
  'lock.time',
  'lock.methods',
  'pingpong.wall',
  'pingpong-4.wall',
  'pingpong-8.wall',
  'pingpong-8.cpu',
  'pingpong-16.wall',
  'pingpong-16.cpu',
  'pingpong-8.floor-wall',
  'pingpong-16.floor-wall',
  'broadcast.latency',
  'broadcast-32.latency',
  'broadcast.floor',
  'broadcast-32.floor',
  'broadcast.futex',
  'broadcast-32.futex',
  'contended-2.share',
  'contended-4.share',
  'contended-16.share',
  'contended-2.vs-js',
  'contended-4.vs-js',
  'contended-16.vs-js',
  'vcpu.wall',
  'vcpu.unawaited',
  'control.spread',
];

interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
  ratio: number | null;
}

interface Result {
  status: string;
  metrics?: Record<string, Stat>;
  reason?: string;
}

interface Report {
  schema: string;
  meta: {
    mode: string;
    cores: number;
    cpu: string;
    node: string;
    v8: string;
    gcc: string | null;
    loadavg: number[];
  };
  contenders: { id: string; label: string }[];
  sections: { id: string; title: string }[];
  workloads: {
    id: string;
    title: string;
    section: string;
    metrics: { key: string; label: string; unit: string; better: string }[];
    results: Record<string, Result>;
  }[];
  targets: {
    id: string;
    value: number | null;
    want: string | null;
    limit: number | null;
    met: boolean | null;
  }[];
  failures: { contender: string }[];
}

/** The rows of the Markdown table under `### title`, split into cells. */
function tableUnder(stdout: string, title: string): { header: string[]; rows: string[][] } {
  const lines = stdout.split('\n');
  const at = lines.indexOf(`### ${title}`);
  assert.ok(at >= 0, `no section '${title}' in:\n${stdout}`);
  const table: string[] = [];
  for (let i = at + 2; i < lines.length && lines[i].startsWith('|'); i++) table.push(lines[i]);
  const split = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  return { header: split(table[0]), rows: table.slice(2).map(split) };
}

test('npm run bench -- --quick prints every table and writes matching JSON', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-thread-bench-'));
  try {
    const jsonFile = join(dir, 'bench.json');
    const main = fileURLToPath(new URL('../bench/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main, '--quick', '--json', jsonFile], {
      encoding: 'utf8',
      timeout: 280_000,
    });
    assert.equal(
      run.status,
      0,
      `bench exited with ${run.status ?? run.signal}\n${run.stdout}\n${run.stderr}`,
    );

    // The tables: one per section, each row a workload's metric, every cell a figure or a marker.
    assert.match(run.stdout, /machine: \d+ cores/);
    assert.match(run.stdout, /load average [\d.]+ [\d.]+ [\d.]+/);
    assert.match(run.stdout, /node v\d+\.\d+\.\d+/);
    assert.match(run.stdout, /gcc: /);
    // A figure: median, its ratio to qemu-thread (not in qemu-thread's column), and [min–max] over several samples.
    const num = '[\\d.]+[kMG]?';
    const figure = new RegExp(`^${num}( \\(${num}x\\))?( \\[${num}–${num}\\])?$`);
    let titled = 0;
    for (const [title, contenders] of Object.entries(SECTIONS)) {
      const { header, rows } = tableUnder(run.stdout, title);
      assert.deepEqual(
        header.slice(1),
        contenders.map((c) => LABELS[CONTENDERS.indexOf(c)]),
        `${title}: columns`,
      );
      assert.ok(rows.length > 0, `${title}: rows`);
      for (const row of rows) {
        assert.equal(row.length, header.length, row.join(' | '));
        if (/^\d\. /.test(row[0])) titled++;
        else assert.match(row[0], /^↳ .+ \[.+\]$/, `a metric row: ${row[0]}`);
        row.slice(1).forEach((cell, i) => {
          // V8's experimental lock may hang on a loaded machine: its cell may say FAILED (the run still passes).
          const engine = contenders[i] === 'v8' && cell === 'FAILED';
          assert.ok(
            engine || figure.test(cell) || ['n/a', 'skipped', '—'].includes(cell),
            `odd cell '${cell}' in ${row.join(' | ')}`,
          );
        });
        if (/^\d\. /.test(row[0])) assert.match(row[1], figure, `qemu-thread must be measured: ${row[0]}`);
      }
    }
    assert.equal(titled, WORKLOADS.length, 'one headline row per workload');
    assert.match(run.stdout, /### Targets \(issue 15\)/);

    // The JSON: the same rows, every contender either measured or n/a / skipped with a reason.
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
    assert.equal(report.schema, 'qemu-thread-bench/2');
    assert.equal(report.meta.mode, 'quick');
    assert.ok(Number.isInteger(report.meta.cores) && report.meta.cores >= 1);
    assert.equal(report.meta.node, process.version);
    assert.equal(report.meta.loadavg.length, 3);
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
      report.failures.filter((f) => f.contender !== 'v8'),
      [],
    );
    for (const w of report.workloads) {
      assert.ok(w.title && w.metrics.length > 0, w.id);
      assert.ok(
        report.sections.some((s) => s.id === w.section),
        `${w.id}: section ${w.section}`,
      );
      for (const m of w.metrics) assert.ok(m.key && m.unit && ['lower', 'higher'].includes(m.better), w.id);
      assert.deepEqual(Object.keys(w.results).sort(), [...CONTENDERS].sort(), w.id);
      for (const [contender, r] of Object.entries(w.results)) {
        const where = `${w.id}/${contender}`;
        assert.ok(STATUSES.includes(r.status), `${where}: status ${r.status}`);
        if (r.status !== 'ok') {
          assert.ok(
            typeof r.reason === 'string' && r.reason.length > 0,
            `${where}: a ${r.status} needs a reason`,
          );
          continue;
        }
        assert.ok(r.metrics?.[w.metrics[0].key], `${where}: the headline metric`);
        for (const [key, s] of Object.entries(r.metrics!)) {
          assert.ok(
            w.metrics.some((m) => m.key === key),
            `${where}: undeclared metric ${key}`,
          );
          assert.ok(Number.isFinite(s.median) && s.median >= 0, `${where}/${key}: median`);
          assert.ok(s.min <= s.median && s.median <= s.max, `${where}/${key}: min <= median <= max`);
          assert.equal(s.min, Math.min(...s.samples), `${where}/${key}: min of the samples`);
          assert.equal(s.max, Math.max(...s.samples), `${where}/${key}: max of the samples`);
          assert.ok(
            s.ratio === null || (typeof s.ratio === 'number' && s.ratio > 0),
            `${where}/${key}: ratio`,
          );
        }
      }
      assert.equal(w.results['qemu-thread'].status, 'ok', `${w.id}: qemu-thread must be measured`);
      assert.equal(w.results['qemu-thread'].metrics![w.metrics[0].key].ratio, 1);
    }
    const byId = Object.fromEntries(report.workloads.map((w) => [w.id, w]));
    const metrics = (id: string, contender: string) => byId[id].results[contender].metrics ?? {};
    // Wall and CPU for every hand-off row, the C side and the no-spin control included.
    for (const id of ['pingpong', 'pingpong-4', 'pingpong-8', 'pingpong-16', 'sem', 'event']) {
      for (const c of ['qemu-thread', 'qemu-nospin', 'pthreads']) {
        if (c === 'pthreads' && byId[id].results.pthreads.status === 'skipped') continue;
        assert.ok(metrics(id, c).wall && metrics(id, c).cpu, `${id}/${c}: wall and CPU`);
      }
    }
    for (const id of ['broadcast', 'broadcast-32']) {
      const q = metrics(id, 'qemu-thread');
      assert.ok(q.latency && q.cpu && q.waits && q.notifies && q.woken, `${id}: latency, CPU, futex counts`);
    }
    for (const id of ['contended-2', 'contended-4', 'contended-16']) {
      const q = metrics(id, 'qemu-thread');
      assert.ok(q.share && q.slowest && q.fastest, `${id}: share and spread`);
      assert.ok(q.slowest.median <= q.fastest.median, `${id}: slowest <= fastest`);
    }
    assert.ok(metrics('vcpu', 'qemu-thread').cpu && metrics('vcpu', 'reference').cpu, 'vCPU start CPU time');
    assert.ok(metrics('lock', 'reference').time, 'engine floor measured');
    for (const id of ['vcpu', 'sem', 'event', 'pingpong-8']) assert.equal(byId[id].results.v8.status, 'n/a');
    // Issue 15's targets: each one read off this run.
    for (const id of TARGETS) {
      const t = report.targets.find((x) => x.id === id);
      assert.ok(t, `target ${id}`);
      assert.ok(typeof t.value === 'number' && t.value > 0, `target ${id}: a value`);
      assert.equal(t.met === null, t.want === null, `target ${id}: met decided iff there is a limit`);
    }

    // The docs generator: the block between the markers is replaced, the text around it kept; --check agrees.
    const toMarkdown = fileURLToPath(new URL('../bench/to-markdown.js', import.meta.url));
    const doc = join(dir, 'performance.md');
    const begin =
      '<!-- bench:begin (generated by bench/to-markdown.ts from a `npm run bench -- --json` run; do not edit) -->';
    writeFileSync(doc, `# Before\n\n${begin}\nstale\n<!-- bench:end -->\n\nAfter.\n`);
    const write = spawnSync(process.execPath, [toMarkdown, jsonFile, doc], { encoding: 'utf8' });
    assert.equal(write.status, 0, write.stderr);
    const text = readFileSync(doc, 'utf8');
    assert.ok(text.startsWith(`# Before\n\n${begin}\n`), text.slice(0, 200));
    assert.ok(text.endsWith('<!-- bench:end -->\n\nAfter.\n'));
    assert.ok(!text.includes('stale'));
    // The same text as the bench printed (the stdout of the run is the block's body).
    assert.ok(text.includes(run.stdout.trim()), 'the block is what the run printed');
    const check = spawnSync(process.execPath, [toMarkdown, jsonFile, doc, '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    writeFileSync(doc, text.replace('### Broadcast', '### Broadcast (edited)'));
    const stale = spawnSync(process.execPath, [toMarkdown, jsonFile, doc, '--check'], { encoding: 'utf8' });
    assert.equal(stale.status, 1, 'a hand-edited block fails --check');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/performance.md holds the block its committed run gives (npm run bench:docs regenerates it)', () => {
  const toMarkdown = fileURLToPath(new URL('../bench/to-markdown.js', import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const check = spawnSync(
    process.execPath,
    [toMarkdown, join(root, 'docs/performance.json'), join(root, 'docs/performance.md'), '--check'],
    { encoding: 'utf8' },
  );
  assert.equal(check.status, 0, check.stderr);
});
