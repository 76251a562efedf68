// The machine's tracing switches: --trace, --trace-file and the monitor's trace-event command.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTraceFile } from 'qemu-thread';
import { locked, makeMachine, program, runCli, until } from './machine-support.js';
import { runReport } from './support/run-report.js';
import { watched } from './support/watchdog.js';

const LOG_LINE = /^\d+@[\d.]+ (main|CPU \d\/TCG): qemu_mutex_lock waiting on mutex #\d+ \(.+:\d+\)$/;

test('--trace logs the matching events from the main thread and every vCPU', { timeout: 60_000 }, () => {
  const run = runCli(['--smp', '2', '--quiet', '--trace', 'qemu_mutex_lock']);
  assert.equal(run.status, 0, runReport(run));
  const lines = run.stderr.split('\n').filter((l) => l.includes('qemu_mutex_'));
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, LOG_LINE);
  const threads = new Set(lines.map((l) => LOG_LINE.exec(l)?.[1]));
  assert.deepEqual([...threads].sort(), ['CPU 0/TCG', 'CPU 1/TCG', 'main']);
});

test('--trace-file writes a timeline with a track per thread, and no log lines', { timeout: 60_000 }, () => {
  const file = join(mkdtempSync(join(tmpdir(), 'machine-trace-')), 'run.json');
  const run = runCli(['--smp', '2', '--quiet', '--trace-file', file]);
  assert.equal(run.status, 0, runReport(run));
  assert.doesNotMatch(run.stderr, /qemu_mutex_/);
  const records = parseTraceFile(readFileSync(file, 'utf8'));
  const names = records.filter((r) => r.ph === 'M').map((r) => String(r.args.name));
  assert.deepEqual(names.sort(), ['CPU 0/TCG', 'CPU 1/TCG', 'main']);
  const spans = records.filter((r) => r.ph === 'X');
  assert.ok(spans.some((r) => r.name.startsWith('hold mutex #')));
  assert.ok(
    spans.some((r) => r.name.startsWith('cond wait (mutex #')),
    'vCPUs and main wait on conds',
  );
  for (const r of spans) assert.ok((r.dur ?? -1) >= 0);
});

test('an unknown trace pattern is a usage error, in --trace and in the monitor', { timeout: 60_000 }, () => {
  const bad = runCli(['--trace', 'no_such_event']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no trace event matches 'no_such_event'/);
  const monitor = runCli(['--smp', '1', '--quiet', '--monitor', 'trace-event nope on; quit']);
  assert.equal(monitor.status, 1);
  assert.match(monitor.stdout + monitor.stderr, /trace-event: no trace event matches 'nope'/);
});

test('the monitor turns events on and off while the machine runs', { timeout: 60_000 }, () => {
  // 'sleep 50' lets the machine run with the event on; it logs at least the main loop's own retaking of
  // the BQL after the sleep, however few vCPU locks fall in those 50 ms.
  const run = runCli([
    '--smp',
    '1',
    '--quiet',
    '--monitor',
    'trace-event qemu_mutex_locked on; sleep 50; trace-event qemu_mutex_locked off; quit',
  ]);
  assert.equal(run.status, 0, runReport(run));
  assert.match(run.stderr, /qemu_mutex_locked taken mutex #\d+/);
  assert.doesNotMatch(run.stderr, /qemu_mutex_lock waiting/);
});

test('--sync-profile prints a QSP table with the BQL named as QEMU names it', { timeout: 60_000 }, () => {
  const run = runCli(['--smp', '2', '--quiet', '--sync-profile']);
  assert.equal(run.status, 0, runReport(run));
  const table = run.stdout.slice(run.stdout.indexOf('Type               Object  Call site'));
  const lines = table.split('\n');
  assert.match(lines[0], /^Type {15}Object {2}Call site +Wait Time \(s\) {9}Count {2}Average \(us\)$/);
  assert.match(lines[1], /^-{79,}$/);
  assert.ok(
    lines.some((l) => l.startsWith('BQL mutex ')),
    table,
  );
  assert.ok(
    lines.some((l) => l.startsWith('condvar ')),
    table,
  );
  // As QEMU's bql_lock() passes its caller's file and line: the rows name the BQL's callers, never the
  // wrapper (machine/bql.ts).
  const bqlSites = lines.filter((l) => l.startsWith('BQL mutex ')).map((l) => l.split(/\s+/)[3]);
  assert.ok(
    bqlSites.every((site) => /^build\/machine\/(?!bql\.js)[\w-]+\.js:\d+$/.test(site)),
    table,
  );
});

test("the monitor's sync-profile and info sync-profile follow HMP", { timeout: 60_000 }, () => {
  // 'sleep 50' lets the profiled machine run a while; the rows checked need only some lock traffic.
  const run = runCli([
    '--smp',
    '1',
    '--quiet',
    '-S',
    '--monitor',
    'sync-profile; sync-profile on; sync-profile; cont; sleep 50; stop; info sync-profile -m -n 3; sync-profile reset; sync-profile off; sync-profile; quit',
  ]);
  assert.equal(run.status, 0, runReport(run));
  const out = run.stdout;
  assert.ok(out.indexOf('sync-profile is off') < out.indexOf('sync-profile is on'), out);
  assert.ok(out.lastIndexOf('sync-profile is off') > out.indexOf('sync-profile is on'));
  const header = out.indexOf('Type               Object  Call site');
  assert.ok(header >= 0, out);
  const rows = out
    .slice(header)
    .split('\n')
    .slice(2)
    .filter((l) => /^(mutex|BQL mutex|rec_mutex|condvar) /.test(l));
  assert.ok(rows.length >= 1 && rows.length <= 3, `max 3 rows: ${rows.length}`);
  for (const row of rows) assert.doesNotMatch(row, /\[\s+\d+\]/, '-n: no coalesced rows');
  const bad = runCli(['--smp', '1', '--quiet', '--monitor', 'sync-profile maybe; quit']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout + bad.stderr, /invalid parameter 'maybe', expecting 'on', 'off', or 'reset'/);
});

/** The lines of `info locks` when two stopped vCPUs sleep on their halt_cond and the caller holds the BQL. */
function checkInfoLocks(text: string): void {
  assert.match(text, /^mutex #\d+ bql: held by main$/m, 'the monitor runs with the BQL held');
  assert.match(text, /^mutex #\d+ qemu_cpu_list_lock: free$/m);
  for (const i of [0, 1]) {
    assert.match(
      text,
      new RegExp(`^cond #\\d+ cpu ${i} halt_cond: asleep: CPU ${i}/TCG \\([\\d.]+ ms\\)$`, 'm'),
    );
  }
}

watched(
  'info locks names the BQL holder and the vCPUs asleep on their halt_cond',
  { ms: 60_000 },
  async (w) => {
    // In-process, so that the report is taken once both vCPUs are seen asleep (a CLI script can only sleep).
    const m = makeMachine(program('spin.s'), 2);
    w.show({ bql: m.s.bql, haltConds: m.s.haltConds });
    locked(() => m.boot()); // as -S: created, stopped, not started
    try {
      await until(() => m.s.haltConds.every((c) => c.parkedThreads().length === 1), 'both vCPUs asleep');
      checkInfoLocks(locked(() => m.infoLocks()).join('\n'));
    } finally {
      locked(() => m.shutdown());
    }
  },
);

test("the monitor's info locks prints the same report", { timeout: 60_000 }, () => {
  // The report itself is checked above; here its path through the CLI. The vCPUs are asleep on their
  // halt_cond by the time the monitor looks (most of the time: a CLI script cannot wait for it), so the
  // cond lines are checked only for their form.
  const run = runCli(['--smp', '2', '--quiet', '-S', '--monitor', 'sleep 100; info locks; quit']);
  assert.equal(run.status, 0, runReport(run));
  assert.match(run.stdout, /^mutex #\d+ bql: held by main$/m, 'the monitor runs with the BQL held');
  assert.match(run.stdout, /^mutex #\d+ qemu_cpu_list_lock: free$/m);
  for (const line of run.stdout.split('\n').filter((l) => l.startsWith('cond '))) {
    assert.match(line, /^cond #\d+ cpu [01] halt_cond: asleep: CPU [01]\/TCG \([\d.]+ ms\)$/);
  }
});
