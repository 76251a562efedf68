/**
 * The bench's output. main.ts builds one JSON document (buildReport) from the run; everything printed is
 * rendered from that document (renderReport), so that `npm run bench` and a table regenerated later from
 * its `--json` file (to-markdown.ts) are the same text. One Markdown table per section, every figure its
 * median with its min and max and, but for qemu-thread's own, its ratio to qemu-thread's; then issue 15's
 * targets (targets.ts) and the notes.
 */
import { computeTargets, renderTargets, type Target } from './targets.js';
import {
  type Cell,
  CONTENDER_IDS,
  type ContenderId,
  type MetricDef,
  SECTIONS,
  type SectionId,
  type Stat,
  type WorkloadDef,
} from './workloads.js';

export const SCHEMA = 'qemu-thread-bench/2';

export const CONTENDER_LABELS: Record<ContenderId, string> = {
  'qemu-thread': 'qemu-thread',
  'qemu-nospin': 'qemu-thread, no spin',
  pthreads: 'pthreads (C)',
  v8: 'V8 Atomics.Mutex',
  classic: 'classic JS',
  reference: 'reference',
};

export interface Meta {
  date: string;
  mode: 'quick' | 'full';
  cores: number;
  cpu: string;
  platform: string;
  /** At the start of the run, and (full runs) at its end. */
  loadavg: number[];
  loadavgEnd?: number[];
  node: string;
  v8: string;
  gcc: string | null;
  /** The workloads asked for with --only, if any. */
  only?: string[];
  seconds?: number;
}

export interface Row {
  def: WorkloadDef;
  cells: Record<ContenderId, Cell>;
}

/** A metric of a cell in the document: its statistics and its ratio to qemu-thread's. */
export interface ReportStat extends Stat {
  /** The contender's cost / qemu-thread's (for higher-is-better metrics, qemu-thread's / the contender's). */
  ratio: number | null;
}

export type ReportCell =
  | { status: 'ok'; metrics: Record<string, ReportStat>; note?: string }
  | { status: 'n/a' | 'skipped' | 'failed'; reason: string };

export interface ReportWorkload {
  id: string;
  title: string;
  section: SectionId;
  metrics: MetricDef[];
  reference?: string;
  results: Record<ContenderId, ReportCell>;
}

export interface Report {
  schema: typeof SCHEMA;
  meta: Meta;
  contenders: { id: ContenderId; label: string }[];
  sections: { id: SectionId; title: string }[];
  workloads: ReportWorkload[];
  /** Issue 15's targets, each a ratio read off this run (targets.ts). */
  targets: Target[];
  failures: { workload: string; contender: ContenderId; reason: string }[];
}

/** Cost of `x` relative to `base` (rates inverted), or null when either is missing. */
export function ratioOf(metric: MetricDef, x: Stat | undefined, base: Stat | undefined): number | null {
  if (!x || !base || base.median === 0 || x.median === 0) return null;
  return metric.better === 'lower' ? x.median / base.median : base.median / x.median;
}

export function buildReport(meta: Meta, rows: readonly Row[]): Report {
  const workloads = rows.map(({ def, cells }): ReportWorkload => {
    const qemu = cells['qemu-thread'];
    const results = Object.fromEntries(
      CONTENDER_IDS.map((id): [ContenderId, ReportCell] => {
        const cell = cells[id];
        if (cell.status !== 'ok') return [id, cell];
        const metrics = Object.fromEntries(
          def.metrics.flatMap((m) => {
            const s = cell.metrics[m.key];
            if (!s) return [];
            const base = qemu.status === 'ok' ? qemu.metrics[m.key] : undefined;
            return [[m.key, { ...s, ratio: ratioOf(m, s, base) }]];
          }),
        );
        return [id, { status: 'ok', metrics, ...(cell.note ? { note: cell.note } : {}) }];
      }),
    ) as Record<ContenderId, ReportCell>;
    return {
      id: def.id,
      title: def.title,
      section: def.section,
      metrics: [...def.metrics],
      ...(def.reference ? { reference: def.reference } : {}),
      results,
    };
  });
  return {
    schema: SCHEMA,
    meta,
    contenders: CONTENDER_IDS.map((id) => ({ id, label: CONTENDER_LABELS[id] })),
    sections: [...SECTIONS],
    workloads,
    targets: computeTargets(workloads),
    failures: workloads.flatMap((w) =>
      CONTENDER_IDS.flatMap((id) => {
        const c = w.results[id];
        return c.status === 'failed' ? [{ workload: w.id, contender: id, reason: c.reason }] : [];
      }),
    ),
  };
}

/**
 * The document as JSON text: indented, but every array of numbers on one line, so that a committed run
 * (docs/performance.json) stays small and its diffs readable.
 */
export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2).replace(/\[\n\s*(-?[\d.e+-]+(?:,\n\s*-?[\d.e+-]+)*)\n\s*\]/g, (_, list: string) => `[${list.split(/,\n\s*/).join(', ')}]`)}\n`;
}

// Rendering -------------------------------------------------------------------------------------------------

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** `median (ratio) [min–max]`; the ratio is left out for qemu-thread, the range for a single sample. */
export function statText(s: ReportStat, withRatio: boolean): string {
  const ratio = withRatio && s.ratio !== null ? ` (${s.ratio.toFixed(2)}x)` : '';
  const range = s.samples.length > 1 ? ` [${formatNumber(s.min)}–${formatNumber(s.max)}]` : '';
  return `${formatNumber(s.median)}${ratio}${range}`;
}

export function metricOf(w: ReportWorkload, id: ContenderId, key: string): ReportStat | undefined {
  const cell = w.results[id];
  return cell.status === 'ok' ? cell.metrics[key] : undefined;
}

function cellText(w: ReportWorkload, metric: MetricDef, id: ContenderId): string {
  const cell = w.results[id];
  if (cell.status === 'ok') {
    const s = cell.metrics[metric.key];
    return s ? statText(s, id !== 'qemu-thread') : '—';
  }
  if (cell.status === 'n/a') return id === 'reference' ? '—' : 'n/a';
  return cell.status === 'failed' ? 'FAILED' : 'skipped';
}

export function markdownTable(header: string[], body: string[][], alignLeft = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < alignLeft ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** One section's table: a line per workload metric, a column per contender measured in the section. */
export function renderSection(report: Report, section: SectionId): string {
  const workloads = report.workloads.filter((w) => w.section === section);
  if (workloads.length === 0) return '';
  const columns = CONTENDER_IDS.filter((id) => workloads.some((w) => w.results[id].status !== 'n/a'));
  const body = workloads.flatMap((w) =>
    w.metrics
      // A metric that no contender reported in this run (e.g. a derived one under --only) is left out.
      .filter((m, i) => i === 0 || columns.some((id) => metricOf(w, id, m.key) !== undefined))
      .map((m, i) => [
        i === 0 ? `${w.title} [${m.unit}]` : `↳ ${m.label} [${m.unit}]`,
        ...columns.map((id) => cellText(w, m, id)),
      ]),
  );
  const title = report.sections.find((s) => s.id === section)?.title ?? section;
  return `### ${title}\n\n${markdownTable(
    ['workload [unit]', ...columns.map((id) => CONTENDER_LABELS[id])],
    body,
  )}`;
}

export function renderMeta(meta: Meta): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    `qemu-thread bench (${meta.mode}${meta.only ? `, only ${meta.only.join(',')}` : ''}), ${meta.date}` +
      (meta.seconds !== undefined ? `, ${meta.seconds} s` : ''),
    `machine: ${meta.cores} cores (${meta.cpu}), ${meta.platform}, load average ${load(meta.loadavg)}` +
      (meta.loadavgEnd ? ` at the start, ${load(meta.loadavgEnd)} at the end` : ''),
    `node ${meta.node} (V8 ${meta.v8}), gcc: ${meta.gcc ?? 'not found'}`,
  ].join('\n');
}

const perRound = (x: number) => x.toFixed(1);

export function renderNotes(report: Report): string {
  const byId = new Map(report.workloads.map((w) => [w.id, w]));
  const notes: string[] = [
    'Each figure: the median of all its samples (every repetition of every round), with [min–max]. (Nx) = the ' +
      "contender's cost / qemu-thread's (for rates and shares: qemu-thread's / the contender's); below 1.00x the " +
      'contender is faster than qemu-thread. Each JS cell runs in a fresh `node` process (V8 Atomics.Mutex: ' +
      '`node --harmony-struct`); pthreads is a C program built with gcc -O2. "qemu-thread, no spin" is ' +
      'qemu-thread with spinning turned off in every thread of the cell (every wait parks at once): against ' +
      'the qemu-thread column it shows what spinning buys (wall) and what it costs (CPU).',
  ];
  if (byId.has('control')) {
    notes.push(
      "0. control: every cell's process (and the C program, once per workload) first times a bare " +
        'compareExchange + exchange on one thread. The work is the same in every JS column, so its [min–max] ' +
        "over the run is how much the machine's speed moved while the run lasted: differences smaller than " +
        'that spread are noise.',
    );
  }
  for (const w of report.workloads) {
    if (w.reference) notes.push(`reference, ${w.title.split(' ')[0]} ${w.id}: ${w.reference}.`);
  }
  if (report.workloads.some((w) => w.section === 'handoff')) {
    notes.push(
      'Hand-offs: per one-way hand-off, wall = the time of a repetition / all its hand-offs (of every pair), ' +
        "CPU = the process's CPU time over the same span (all threads; C: CLOCK_PROCESS_CPUTIME_ID, JS: " +
        'process.cpuUsage()) / the same count. With P pairs on this machine there are 2P threads for ' +
        `${report.meta.cores} cores: from 2 pairs on, a waiter's partner is often not running.`,
    );
  }
  for (const id of ['broadcast', 'broadcast-32']) {
    const w = byId.get(id);
    if (!w) continue;
    const parts: string[] = [];
    for (const c of ['qemu-thread', 'qemu-nospin', 'classic'] as const) {
      const cell = w.results[c];
      const m = cell.status === 'ok' ? cell.metrics : undefined;
      if (m?.waits && m.notifies && m.woken) {
        parts.push(
          `${CONTENDER_LABELS[c]} ${perRound(m.waits.median)} waits, ${perRound(m.notifies.median)} notifies, ` +
            `${perRound(m.woken.median)} woken`,
        );
      }
    }
    if (parts.length > 0) {
      notes.push(
        `${w.title}: futex operations per round, summed over all threads (the waiters' cond waits, the mutex ` +
          "hand-offs and the broadcaster's wait for the acks): qemu-thread counts its own (parkStats), the " +
          `classic baseline's Atomics.wait/notify calls are counted by the bench; pthreads and V8 are not ` +
          `counted (kernel futex calls / V8's own queue). ${parts.join('; ')}.`,
      );
    }
  }
  if (report.workloads.some((w) => w.section === 'contended')) {
    notes.push(
      '5. contended: threads increment one counter under one mutex for a fixed time (checked against an atomic ' +
        'counter). The 1-thread row is the same loop alone: each contender\'s own uncontended rate; "share" is ' +
        "a row's rate / that contender's 1-thread median (for the no-spin column, qemu-thread's: nothing spins " +
        'with one thread). Slowest/fastest thread: per-thread rates, so that ' +
        'starvation shows.',
    );
  }
  const vcpu = byId.get('vcpu');
  if (vcpu) {
    notes.push(
      '6. vCPU start: per thread, from the create call until the creator holds the mutex again with the ' +
        "thread's flag set; CPU is the process's over that span (the creator's, the new worker's boot). " +
        'QemuThread.prestart(n) is called just before the creates (not awaited: one sample per run, its mean ' +
        'per thread, since the first create waits for the whole pool) or awaited before them (a ' +
        'pool booted beforehand). The reference with the creator blocked in Atomics.wait is what the handshake ' +
        'should be compared with: Node boots a worker more slowly while its creator is blocked.',
    );
  }
  for (const w of report.workloads) {
    for (const id of CONTENDER_IDS) {
      const c = w.results[id];
      if (c.status === 'ok' && c.note) notes.push(`${w.title}, ${CONTENDER_LABELS[id]}: ${c.note}.`);
    }
  }
  const reasons = new Map<string, string[]>();
  for (const w of report.workloads) {
    for (const id of CONTENDER_IDS) {
      const c = w.results[id];
      if (c.status === 'ok' || (c.status === 'n/a' && id === 'reference')) continue;
      const engine =
        c.status === 'failed' && id === 'v8'
          ? " (the engine's experimental lock; not counted as a failure of the run)"
          : '';
      const key = `${c.status === 'failed' ? 'FAILED' : c.status} ${CONTENDER_LABELS[id]}: ${c.reason}${engine}`;
      reasons.set(key, [...(reasons.get(key) ?? []), w.id]);
    }
  }
  for (const [text, where] of reasons) notes.push(`${text} (${[...new Set(where)].join(', ')})`);
  return notes.map((n) => `- ${n}`).join('\n');
}

/** The whole report as Markdown: the run, a table per section, the targets, the notes. */
export function renderReport(report: Report): string {
  const tables = report.sections
    .map((s) => renderSection(report, s.id))
    .filter((t) => t !== '')
    .join('\n\n');
  const targets = renderTargets(report.targets);
  return [
    ['```', renderMeta(report.meta), '```'].join('\n'),
    tables,
    ...(targets ? [`### Targets (issue 15)\n\n${targets}`] : []),
    renderNotes(report),
  ].join('\n\n');
}
