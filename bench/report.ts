/** The bench's output: a Markdown table with ratios to qemu-thread, notes, and the JSON document. */
import type { Cell, ContenderId, WorkloadDef } from './workloads.js';
import { CONTENDER_IDS } from './workloads.js';

export const CONTENDER_LABELS: Record<ContenderId, string> = {
  'qemu-thread': 'qemu-thread',
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
  loadavg: number[];
  node: string;
  v8: string;
  gcc: string | null;
  seconds?: number;
}

export interface Row {
  def: WorkloadDef;
  cells: Record<ContenderId, Cell>;
}

/** Contender's cost relative to qemu-thread's (rates inverted), or null when either is missing. */
export function ratio(def: WorkloadDef, cell: Cell, qemu: Cell): number | null {
  if (cell.status !== 'ok' || qemu.status !== 'ok') return null;
  return def.better === 'lower' ? cell.median / qemu.median : qemu.median / cell.median;
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function cellText(row: Row, id: ContenderId): string {
  const cell = row.cells[id];
  if (cell.status === 'ok') {
    if (id === 'qemu-thread') return formatNumber(cell.median);
    const r = ratio(row.def, cell, row.cells['qemu-thread']);
    return r === null ? formatNumber(cell.median) : `${formatNumber(cell.median)} (${r.toFixed(2)}x)`;
  }
  if (cell.status === 'n/a') return id === 'reference' ? '—' : 'n/a';
  return cell.status === 'failed' ? 'FAILED' : 'skipped';
}

export function renderTable(rows: readonly Row[]): string {
  const header = ['workload [unit]', ...CONTENDER_IDS.map((id) => CONTENDER_LABELS[id])];
  const body = rows.map((row) => [
    `${row.def.title} [${row.def.unit}]`,
    ...CONTENDER_IDS.map((id) => cellText(row, id)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

export function renderMeta(meta: Meta): string {
  return [
    `qemu-thread bench (${meta.mode}), ${meta.date}`,
    `machine: ${meta.cores} cores (${meta.cpu}), ${meta.platform}, load average ${meta.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
    `node ${meta.node} (V8 ${meta.v8}), gcc: ${meta.gcc ?? 'not found'}`,
  ].join('\n');
}

const perRound = (x: number) => x.toFixed(1);

export function renderNotes(rows: readonly Row[]): string {
  const notes: string[] = [
    "Medians of repeated measurements. (Nx) = the contender's cost / qemu-thread's (for rates: qemu-thread's rate / " +
      "the contender's); below 1.00x the contender is faster than qemu-thread. Each JS cell runs in a fresh " +
      '`node` process (V8 Atomics.Mutex: `node --harmony-struct`); pthreads is a C program built with gcc -O2.',
  ];
  for (const row of rows) {
    if (row.def.reference) notes.push(`reference, row ${row.def.title.split('.')[0]}: ${row.def.reference}.`);
  }
  for (const row of rows) {
    const q = row.cells['qemu-thread'];
    const p = row.cells.pthreads;
    if (row.def.id === 'lock') {
      const parts: string[] = [];
      if (q.status === 'ok' && q.extra)
        parts.push(`qemu-thread methods (m.lock()/m.unlock()) ${formatNumber(q.extra.methodsNsPerPair)} ns`);
      if (p.status === 'ok' && p.extra)
        parts.push(`pthreads PTHREAD_MUTEX_ERRORCHECK ${formatNumber(p.extra.errorcheckNsPerPair)} ns`);
      if (parts.length) notes.push(`1. also: ${parts.join('; ')}.`);
      if (q.status === 'ok' && q.extra?.instrumentedOffNsPerPair !== undefined) {
        const on = q.extra.instrumentedOffNsPerPair;
        const off = q.extra.uninstrumentedNsPerPair;
        notes.push(
          `1. tracing and QSP off: the lock word through the instrumented entry points ${formatNumber(on)} ns, ` +
            `through the same code without the instrumentation branch ${formatNumber(off)} ns ` +
            `(${formatNumber(on - off)} ns per lock+unlock).`,
        );
      }
    }
    if (row.def.id === 'vcpu' && q.status === 'ok') {
      notes.push(
        q.extra?.prestartedMsPerThread !== undefined
          ? `6. qemu-thread with a pre-started pool (QemuThread.prestart(n), booted before the timing): ${formatNumber(q.extra.prestartedMsPerThread)} ms/thread.`
          : '6. qemu-thread with a pre-started pool: not measured (this version has no QemuThread.prestart).',
      );
      const r = row.cells.reference;
      if (r.status === 'ok' && r.extra?.blockedCreatorMsPerThread !== undefined) {
        notes.push(
          `6. reference with the creator blocked in Atomics.wait, as in the handshake (a bare worker storing a flag): ${formatNumber(r.extra.blockedCreatorMsPerThread)} ms/thread; ` +
            `qemu-thread's handshake and library loading cost the difference to the qemu-thread column.`,
        );
      }
    }
    if (row.def.id === 'broadcast') {
      const parts: string[] = [];
      for (const id of ['qemu-thread', 'classic'] as const) {
        const c = row.cells[id];
        if (c.status === 'ok' && c.extra) {
          const e = c.extra;
          parts.push(
            `${id}: ${perRound(e.futexWaits)} Atomics.wait (${perRound(e.futexSlept)} slept), ` +
              `${perRound(e.futexNotifies)} Atomics.notify (${perRound(e.futexWoken)} woken)`,
          );
        }
      }
      parts.push(
        "pthreads, V8: not counted (kernel futex calls / V8's own parking queue, no hook without touching them)",
      );
      notes.push(
        "4. futex operations per broadcast round (all 9 threads, the whole round: the waiters' cond waits, the " +
          "mutex hand-offs and the broadcaster's wait for the acks), counted by wrapping Atomics.wait/notify in " +
          `the bench's workers: ${parts.join('; ')}.`,
      );
    }
    if (row.def.id.startsWith('contended')) {
      const parts: string[] = [];
      for (const id of CONTENDER_IDS) {
        const c = row.cells[id];
        if (c.status === 'ok' && c.extra?.minPerThread !== undefined) {
          const { minPerThread: mn, maxPerThread: mx } = c.extra;
          parts.push(
            `${CONTENDER_LABELS[id]} ${formatNumber(mn)}/${formatNumber(mx)} (${(mn / mx).toFixed(2)})`,
          );
        }
      }
      if (parts.length)
        notes.push(
          `${row.def.title}: per-thread increments min/max (min÷max) per repetition: ${parts.join('; ')}.`,
        );
    }
  }
  for (const row of rows) {
    for (const id of CONTENDER_IDS) {
      const c = row.cells[id];
      if (c.status === 'ok' && c.note) notes.push(`${row.def.title}, ${CONTENDER_LABELS[id]}: ${c.note}.`);
    }
  }
  const reasons = new Map<string, string[]>();
  for (const row of rows) {
    for (const id of CONTENDER_IDS) {
      const c = row.cells[id];
      if (c.status === 'ok' || (c.status === 'n/a' && id === 'reference')) continue;
      const engine =
        c.status === 'failed' && id === 'v8'
          ? " (the engine's experimental lock; not counted as a failure of the run)"
          : '';
      const key = `${c.status === 'failed' ? 'FAILED' : c.status} ${CONTENDER_LABELS[id]}: ${c.reason}${engine}`;
      reasons.set(key, [...(reasons.get(key) ?? []), row.def.title.split(' ')[0].replace(/\.$/, '')]);
    }
  }
  for (const [text, where] of reasons) notes.push(`${text} (rows ${[...new Set(where)].join(', ')})`);
  return notes.map((n) => `- ${n}`).join('\n');
}

export function toJson(meta: Meta, rows: readonly Row[]): unknown {
  return {
    schema: 'qemu-thread-bench/1',
    meta,
    contenders: CONTENDER_IDS.map((id) => ({ id, label: CONTENDER_LABELS[id] })),
    workloads: rows.map(({ def, cells }) => ({
      id: def.id,
      title: def.title,
      unit: def.unit,
      better: def.better,
      ...(def.reference ? { reference: def.reference } : {}),
      results: Object.fromEntries(
        CONTENDER_IDS.map((id) => {
          const cell = cells[id];
          const r = ratio(def, cell, cells['qemu-thread']);
          return [id, cell.status === 'ok' ? { ...cell, ratio: r } : cell];
        }),
      ),
    })),
    failures: rows.flatMap(({ def, cells }) =>
      CONTENDER_IDS.flatMap((id) => {
        const c = cells[id];
        return c.status === 'failed' ? [{ workload: def.id, contender: id, reason: c.reason }] : [];
      }),
    ),
  };
}
