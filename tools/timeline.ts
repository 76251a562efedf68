/**
 * Renders a trace file written by the JSON backend (traceSetFile, or the demo machine's --trace-file) as
 * an SVG timeline: one row per thread, with the time it held each mutex on the upper lane and the time it
 * waited (for a mutex, or in a cond wait) on the lower one.
 *
 * Usage: node build/tools/timeline.js TRACE.json OUT.svg [--from MS] [--to MS]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseTraceFile, type TraceRecord } from 'qemu-thread';

const ROW = 34;
const LANE = 13;
const LEFT = 110;
const WIDTH = 1000;
const COLORS = { hold: '#3a9a4a', wait: '#d9534f', cond: '#5b8def' } as const;

type Kind = keyof typeof COLORS;

function kindOf(name: string): Kind {
  if (name.startsWith('hold ')) return 'hold';
  if (name.startsWith('cond wait')) return 'cond';
  return 'wait';
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The SVG for `records`, showing the span [fromMs, toMs] after the first event (all of it by default). */
export function renderTimeline(records: TraceRecord[], fromMs = 0, toMs = Number.POSITIVE_INFINITY): string {
  const spans = records.filter((r) => r.ph === 'X' && r.dur !== undefined);
  const names = new Map<number, string>();
  for (const r of records)
    if (r.ph === 'M' && r.name === 'thread_name') names.set(r.tid, String(r.args.name));
  const t0 = Math.min(...spans.map((r) => r.ts));
  const lastEnd = Math.max(...spans.map((r) => r.ts + (r.dur ?? 0)));
  const start = t0 + fromMs * 1000;
  const end = Math.min(lastEnd, t0 + toMs * 1000);
  const scale = WIDTH / Math.max(1, end - start);
  const tids = [...new Set(spans.map((r) => r.tid))].sort((a, b) => {
    const first = (tid: number) => Math.min(...spans.filter((r) => r.tid === tid).map((r) => r.ts));
    return first(a) - first(b);
  });
  const height = 40 + tids.length * ROW + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LEFT + WIDTH + 20}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  tids.forEach((tid, row) => {
    const y = 30 + row * ROW;
    out.push(`<text x="4" y="${y + 17}">${escapeXml(names.get(tid) ?? `thread ${tid}`)}</text>`);
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + WIDTH}" y1="${y + ROW - 3}" y2="${y + ROW - 3}" stroke="#eee"/>`,
    );
    for (const r of spans) {
      if (r.tid !== tid) continue;
      const a = Math.max(r.ts, start);
      const b = Math.min(r.ts + (r.dur ?? 0), end);
      // Outside the window (a span that starts exactly where the window ends is outside too).
      if (b < a || (a === b && r.ts >= end)) continue;
      const kind = kindOf(r.name);
      const x = LEFT + (a - start) * scale;
      const w = Math.max(0.5, (b - a) * scale);
      const laneY = kind === 'hold' ? y + 2 : y + 2 + LANE + 2;
      out.push(
        `<rect x="${x.toFixed(2)}" y="${laneY}" width="${w.toFixed(2)}" height="${LANE}" fill="${COLORS[kind]}">` +
          `<title>${escapeXml(`${r.name} ${((r.dur ?? 0) / 1000).toFixed(3)} ms at ${String(r.args.site)}`)}</title></rect>`,
      );
    }
  });
  const axisY = 30 + tids.length * ROW + 12;
  const spanMs = (end - start) / 1000;
  const step =
    [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((s) => spanMs / s <= 10) ?? 1000;
  for (let ms = 0; ms <= spanMs; ms += step) {
    const x = LEFT + ms * 1000 * scale;
    out.push(`<line x1="${x.toFixed(2)}" x2="${x.toFixed(2)}" y1="24" y2="${axisY - 8}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x.toFixed(2)}" y="${axisY + 4}" text-anchor="middle">${(fromMs + ms).toFixed(step < 1 ? 1 : 0)} ms</text>`,
    );
  }
  const legend: [Kind, string][] = [
    ['hold', 'holds a mutex'],
    ['wait', 'waits for a mutex'],
    ['cond', 'waits in a cond'],
  ];
  legend.forEach(([kind, label], i) => {
    const x = LEFT + i * 150;
    out.push(`<rect x="${x}" y="6" width="12" height="12" fill="${COLORS[kind]}"/>`);
    out.push(`<text x="${x + 16}" y="16">${label}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length !== 2) {
    process.stderr.write('usage: node build/tools/timeline.js TRACE.json OUT.svg [--from MS] [--to MS]\n');
    return 2;
  }
  const records = parseTraceFile(readFileSync(positionals[0], 'utf8'));
  if (!records.some((r) => r.ph === 'X')) {
    process.stderr.write(`timeline: ${positionals[0]} has no spans (was qemu_mutex_* traced?)\n`);
    return 1;
  }
  const from = values.from === undefined ? 0 : Number(values.from);
  const to = values.to === undefined ? Number.POSITIVE_INFINITY : Number(values.to);
  writeFileSync(positionals[1], renderTimeline(records, from, to));
  return 0;
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file://').href)
  process.exitCode = main(process.argv.slice(2));
