// tools/timeline: a trace file becomes an SVG with a row per thread and a bar per span.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TraceRecord } from 'qemu-thread';
import { renderTimeline } from '../tools/timeline.js';

const span = (tid: number, name: string, ts: number, dur: number): TraceRecord => ({
  name,
  cat: 'qemu-thread',
  ph: 'X',
  ts,
  dur,
  pid: 1,
  tid,
  args: { mutex: 1, site: 'x.ts:1' },
});
const named = (tid: number, name: string): TraceRecord => ({
  name: 'thread_name',
  cat: '__metadata',
  ph: 'M',
  ts: 0,
  pid: 1,
  tid,
  args: { name },
});

const records = [
  named(0, 'main'),
  named(7, 'CPU 0/TCG'),
  span(0, 'hold mutex #1', 1000, 500),
  span(0, 'cond wait (mutex #1)', 1500, 3000),
  span(7, 'wait mutex #1', 2000, 100),
  span(7, 'hold mutex #1', 2100, 200),
];

test('one labelled row per thread, one bar per span, colored by kind', () => {
  const svg = renderTimeline(records);
  assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.indexOf('>main<') < svg.indexOf('>CPU 0/TCG<'), 'rows in order of first activity');
  const bars = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="13" fill="(#[0-9a-f]+)">/g)];
  assert.equal(bars.length, 4);
  assert.deepEqual(
    bars.map((m) => m[1]),
    ['#3a9a4a', '#5b8def', '#d9534f', '#3a9a4a'],
  );
  assert.match(svg, /<title>cond wait \(mutex #1\) 3\.000 ms at x\.ts:1<\/title>/);
});

test('--from/--to cut the window; the CLI refuses a trace without spans', () => {
  assert.equal(
    [...renderTimeline(records, 0, 1).matchAll(/height="13"/g)].length,
    2,
    'only what overlaps 0-1 ms',
  );
  const dir = mkdtempSync(join(tmpdir(), 'timeline-'));
  const cli = fileURLToPath(new URL('../tools/timeline.js', import.meta.url));
  writeFileSync(join(dir, 'empty.json'), `[\n${JSON.stringify(named(0, 'main'))},\n`);
  const empty = spawnSync(process.execPath, [cli, join(dir, 'empty.json'), join(dir, 'out.svg')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /has no spans/);
  writeFileSync(join(dir, 'ok.json'), `[\n${records.map((r) => JSON.stringify(r)).join(',\n')},\n`);
  const ok = spawnSync(process.execPath, [cli, join(dir, 'ok.json'), join(dir, 'out.svg')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(readFileSync(join(dir, 'out.svg'), 'utf8'), />CPU 0\/TCG</);
});
