// QEMU's trace events: emission points, order and arguments, both backends, and silence when off.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  parseTraceFile,
  QemuMutex,
  QemuThread,
  TRACE_EVENTS,
  traceEnable,
  traceEventEnabled,
  traceSetFile,
  traceSetLog,
} from 'qemu-thread';
import { runReport } from './support/run-report.js';
import { watched } from './support/watchdog.js';

const script = fileURLToPath(new URL('./workers/trace/script.js', import.meta.url));
const lockcntScript = fileURLToPath(new URL('./workers/trace/lockcnt.js', import.meta.url));
const pointsScript = fileURLToPath(new URL('./workers/trace/points.js', import.meta.url));
const runScript = (mode: 'on' | 'off') =>
  spawnSync(process.execPath, [script, mode], { encoding: 'utf8', timeout: 30_000 });

watched('patterns select events the way QEMU -trace does', () => {
  assert.deepEqual(TRACE_EVENTS.slice(0, 3), ['qemu_mutex_lock', 'qemu_mutex_locked', 'qemu_mutex_unlock']);
  assert.equal(TRACE_EVENTS.filter((name) => name.startsWith('lockcnt_')).length, 8);
  try {
    assert.equal(traceEnable('qemu_mutex_lock'), 1);
    assert.equal(traceEventEnabled('qemu_mutex_lock'), true);
    assert.equal(traceEventEnabled('qemu_mutex_locked'), false);
    assert.equal(traceEnable('qemu_mutex_*'), 3);
    assert.equal(traceEventEnabled('qemu_mutex_unlock'), true);
    assert.equal(traceEnable('lockcnt_*'), 8);
    assert.equal(traceEnable('lockcnt_*', false), 8);
    assert.equal(traceEnable('no_such_event'), 0);
    assert.equal(traceEnable('qemu_mutex_lock*', false), 2);
    assert.equal(traceEventEnabled('qemu_mutex_lock'), false);
    assert.equal(traceEventEnabled('qemu_mutex_unlock'), true);
  } finally {
    traceEnable('*', false);
    traceSetLog(false);
  }
  assert.throws(() => traceEventEnabled('nope' as 'qemu_mutex_lock'), TypeError);
});

watched('log backend: each event at its emission point, in order, with the mutex and the call site', () => {
  const run = runScript('on');
  assert.equal(run.status, 0, run.stderr);
  const id = /mutex (#\d+)/.exec(run.stdout)?.[1];
  assert.ok(id, run.stdout);
  const lines = run.stderr.trim().split('\n');
  const parsed = lines.map((line) => {
    const m = /^\d+@[\d.]+ main: (\S+) (waiting on|taken|released) mutex (#\d+) \((.+):(\d+)\)$/.exec(line);
    assert.ok(m, `not a QEMU-style log line: ${line}`);
    return { event: m[1], id: m[3], file: m[4], line: Number(m[5]) };
  });
  // lock (A) -> lock, locked; unlock (B); trylock (C): locked only; cond timed wait (D): unlock on entry,
  // locked on return even though it timed out; unlock (E).
  assert.deepEqual(
    parsed.map((p) => p.event),
    [
      'qemu_mutex_lock',
      'qemu_mutex_locked',
      'qemu_mutex_unlock',
      'qemu_mutex_locked',
      'qemu_mutex_unlock',
      'qemu_mutex_locked',
      'qemu_mutex_unlock',
    ],
  );
  for (const p of parsed) {
    assert.equal(p.id, id);
    assert.ok(p.file.endsWith('workers/trace/script.js'), `call site in the caller's file, got ${p.file}`);
  }
  const [lockA, lockedA, unlockB, lockedC, unlockD, lockedD, unlockE] = parsed.map((p) => p.line);
  assert.equal(lockA, lockedA, 'lock and locked name the same call');
  assert.ok(lockA < unlockB && unlockB < lockedC && lockedC < unlockD && unlockE > unlockD);
  assert.equal(unlockD, lockedD, "the cond wait's unlock and relock name the wait's call");
});

watched('async locks, nested rec-mutex locks and 0 ms timed waits emit the events QEMU emits', () => {
  const run = spawnSync(process.execPath, [pointsScript], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  const [, mutex, rec] = /^mutex (#\d+) rec (#\d+)$/.exec(run.stdout.trim()) ?? [];
  assert.ok(mutex && rec, run.stdout);
  const parsed = run.stderr
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^\d+@[\d.]+ main: (\S+) (?:waiting on|taken|released) mutex (#\d+) \((.+):(\d+)\)$/.exec(
        line,
      );
      assert.ok(m, `not a QEMU-style log line: ${line}`);
      assert.ok(m[3].endsWith('workers/trace/points.js'), `call site in the caller's file, got ${m[3]}`);
      return { event: m[1].replace('qemu_mutex_', ''), id: m[2], line: Number(m[4]) };
    });
  // Each call's events, with the call's line: async lock (F), unlock (G), rec lock (H), nested rec lock
  // (I), nested rec unlock (J), rec unlock (K), lock (L), cond timed waits of 0 ms, blocking (M) and async
  // (N): released on entry and taken on return, unlock (O).
  const calls: string[][] = [];
  for (const p of parsed) {
    const last = calls.at(-1);
    const key = `${p.line}`;
    if (last?.[0] === key) last.push(`${p.event} ${p.id}`);
    else calls.push([key, `${p.event} ${p.id}`]);
  }
  assert.deepEqual(
    calls.map((call) => call.slice(1).join(', ')),
    [
      `lock ${mutex}, locked ${mutex}`,
      `unlock ${mutex}`,
      `lock ${rec}, locked ${rec}`,
      `lock ${rec}, locked ${rec}`,
      `unlock ${rec}`,
      `unlock ${rec}`,
      `lock ${mutex}, locked ${mutex}`,
      `unlock ${mutex}, locked ${mutex}`,
      `unlock ${mutex}, locked ${mutex}`,
      `unlock ${mutex}`,
    ],
  );
  const lines = calls.map((call) => Number(call[0]));
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
    'one call per line, in the order of the script',
  );
});

watched('nothing is emitted while tracing is off', () => {
  const run = runScript('off');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
});

watched('JSON backend: a Chrome Trace file with a track per thread and a span per wait and hold', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'qemu-trace-')), 'trace.json');
  const m = QemuMutex.create();
  try {
    traceSetFile(file);
    traceSetLog(false);
    traceEnable('qemu_mutex_*');
    const t = QemuThread.create('holder', new URL('./workers/trace/hold.js#holdTwice', import.meta.url), {
      m,
    });
    assert.equal(t.join(), 2);
    m.lock();
    m.unlock();
  } finally {
    traceEnable('*', false);
    traceSetFile(null);
  }
  const records = parseTraceFile(readFileSync(file, 'utf8'));
  const names = records.filter((r) => r.ph === 'M').map((r) => r.args.name);
  assert.ok(names.includes('holder') && names.includes('main'), `thread names: ${names.join(', ')}`);
  const spans = records.filter((r) => r.ph === 'X');
  const tids = new Set(spans.map((r) => r.tid));
  assert.equal(tids.size, 2, 'one track per thread');
  const id = Number(/#(\d+)/.exec(String(m))?.[1]);
  const holds = spans.filter((r) => r.name === `hold mutex #${id}`);
  assert.equal(holds.length, 3, 'two holds in the thread, one in main');
  assert.equal(spans.filter((r) => r.name === `wait mutex #${id}`).length, 3);
  for (const r of spans) {
    assert.ok(r.ts > 0 && (r.dur ?? -1) >= 0, JSON.stringify(r));
    assert.equal(r.args.mutex, id);
  }
});

watched("lockcnt events: QEMU's names and arguments at the fast path and the unlock", () => {
  const run = spawnSync(process.execPath, [lockcntScript], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  const events = run.stderr
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^\d+@[\d.]+ main: (lockcnt_\w+) lockcnt #\d+ (.*)$/.exec(line);
      assert.ok(m, `not a lockcnt trace line: ${line}`);
      return `${m[1]}: ${m[2]}`;
    });
  // inc from 0 takes the (0, free) -> (1, free) fast path; lock sets the LOCKED bit; unlock clears it.
  assert.deepEqual(events, [
    'lockcnt_fast_path_attempt: fast path 0->4',
    'lockcnt_fast_path_success: fast path 0->4 succeeded',
    'lockcnt_fast_path_attempt: fast path 4->5',
    'lockcnt_fast_path_success: fast path 4->5 succeeded',
    'lockcnt_unlock_attempt: unlock 5->4',
    'lockcnt_unlock_success: unlock 5->4 succeeded',
  ]);
});

watched('the log backend waits out a full stderr pipe (a slow reader) instead of failing', async () => {
  const flood = fileURLToPath(new URL('./workers/trace/flood.js', import.meta.url));
  const child = spawn(process.execPath, [flood], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 50_000 });
  const exited = once(child, 'exit');
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  // Nobody reads its stderr until it is writing the lines, and then for 200 ms more: time let pass on
  // purpose, in which the pipe fills up (the lines are 100 times its size) and the writer meets it full.
  while (!stdout.includes('writing')) await delay(5);
  await delay(200);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [status, signal] = await exited;
  assert.equal(status, 0, runReport({ status, signal, stdout, stderr }));
  assert.equal(stdout, 'writing\ndone\n');
  const lines = stderr.split('\n').filter((l) => l.includes(': qemu_mutex_locked taken mutex #'));
  assert.equal(lines.length, 5_000, 'every line, none lost or cut');
});
