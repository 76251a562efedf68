/**
 * Issue 15's targets, read off one run: each one a ratio of two medians of the same run (or a share), its
 * limit, and whether it is met. They go into the JSON document (`targets`) and into a table, so that the
 * issue's closing note can quote them from one `npm run bench`. A target whose figures were not measured
 * in the run (--only, a failed cell) has a null value.
 */
import type { ReportWorkload } from './report.js';
import type { ContenderId } from './workloads.js';

export type TargetGroup = 'uncontended' | 'oversubscribed' | 'broadcast' | 'contended' | 'start' | 'control';

export interface Target {
  group: TargetGroup;
  /** Stable id, e.g. `pingpong-8.cpu`. */
  id: string;
  what: string;
  /** The ratio or share; null when its figures are missing from the run. */
  value: number | null;
  /** The comparison the issue asks for; null for a figure shown for information only. */
  want: '<=' | '>=' | '<' | null;
  limit: number | null;
  met: boolean | null;
  /** The medians it is computed from: `workload/contender/metric`, numerator first. */
  from: string[];
}

const GROUP_TITLES: Record<TargetGroup, string> = {
  uncontended: 'uncontended lock+unlock within 1.15x of the floor',
  oversubscribed: 'oversubscribed ping-pong: P = 8, 16 at most pthreads; P = 1, 4 ahead',
  broadcast: "broadcast: at most the fastest contender's latency",
  contended: 'contended: at least 0.37 of its own 1-thread rate, at least the best JS contender',
  start: 'thread start within 1.15x of a bare worker; prestart pays off unawaited',
  control: "the run's noise",
};

type Median = { median: number; min: number; max: number } | undefined;

export function computeTargets(workloads: readonly ReportWorkload[]): Target[] {
  const byId = new Map(workloads.map((w) => [w.id, w]));
  const get = (workload: string, contender: ContenderId, metric: string): Median => {
    const cell = byId.get(workload)?.results[contender];
    return cell?.status === 'ok' ? cell.metrics[metric] : undefined;
  };
  const ref = (workload: string, contender: ContenderId, metric: string) =>
    `${workload}/${contender}/${metric}`;
  const targets: Target[] = [];
  const add = (
    group: TargetGroup,
    id: string,
    what: string,
    value: number | null,
    want: Target['want'],
    limit: number | null,
    from: string[],
  ) => {
    const met =
      value === null || want === null || limit === null
        ? null
        : want === '<='
          ? value <= limit
          : want === '<'
            ? value < limit
            : value >= limit;
    targets.push({ group, id, what, value, want, limit, met, from });
  };
  const ratio = (a: Median, b: Median) => (a && b && b.median > 0 ? a.median / b.median : null);
  const skip = (workload: string) => !byId.has(workload);

  // Uncontended: qemu-thread's lock+unlock over the engine's floor, through both faces.
  if (!skip('lock')) {
    const floor = get('lock', 'reference', 'time');
    for (const [metric, face] of [
      ['time', 'functions'],
      ['methods', 'methods'],
    ] as const) {
      add(
        'uncontended',
        `lock.${metric}`,
        `qemu-thread lock+unlock (${face}) ÷ engine floor`,
        ratio(get('lock', 'qemu-thread', metric), floor),
        '<=',
        1.15,
        [ref('lock', 'qemu-thread', metric), ref('lock', 'reference', 'time')],
      );
    }
  }

  // Oversubscribed ping-pong: qemu-thread over pthreads, wall and CPU per hand-off.
  for (const pairs of [1, 4, 8, 16]) {
    const id = pairs === 1 ? 'pingpong' : `pingpong-${pairs}`;
    if (skip(id)) continue;
    for (const metric of ['wall', 'cpu'] as const) {
      const behind = pairs >= 8;
      add(
        'oversubscribed',
        `${id}.${metric}`,
        `${pairs} pair${pairs === 1 ? '' : 's'}: qemu-thread ÷ pthreads, ${metric === 'wall' ? 'wall' : 'CPU'} per hand-off`,
        ratio(get(id, 'qemu-thread', metric), get(id, 'pthreads', metric)),
        // P = 1 and 4: "still ahead" (wall); their CPU is shown for information.
        behind ? '<=' : metric === 'wall' ? '<' : null,
        behind || metric === 'wall' ? 1 : null,
        [ref(id, 'qemu-thread', metric), ref(id, 'pthreads', metric)],
      );
      // Where the target is out of this engine's reach: its own floor (bare wait/notify) against pthreads.
      add(
        'oversubscribed',
        `${id}.floor-${metric}`,
        `${pairs} pair${pairs === 1 ? '' : 's'}: engine floor (bare Atomics.wait/notify) ÷ pthreads, ${metric === 'wall' ? 'wall' : 'CPU'}`,
        ratio(get(id, 'reference', metric), get(id, 'pthreads', metric)),
        null,
        null,
        [ref(id, 'reference', metric), ref(id, 'pthreads', metric)],
      );
    }
  }

  // Broadcast: qemu-thread's latency over the fastest other contender's, and its futex operations.
  for (const id of ['broadcast', 'broadcast-32']) {
    const w = byId.get(id);
    if (!w) continue;
    const others = (['pthreads', 'v8', 'classic'] as const)
      .map((c) => [c, get(id, c, 'latency')] as const)
      .filter((x): x is readonly [(typeof x)[0], NonNullable<Median>] => x[1] !== undefined)
      .sort((a, b) => a[1].median - b[1].median);
    const fastest = others[0];
    add(
      'broadcast',
      `${id}.latency`,
      `${w.title.replace(/^\d\. /, '')}: qemu-thread ÷ the fastest other contender (${fastest?.[0] ?? 'none measured'})`,
      ratio(get(id, 'qemu-thread', 'latency'), fastest?.[1]),
      '<=',
      1,
      [ref(id, 'qemu-thread', 'latency'), ...(fastest ? [ref(id, fastest[0], 'latency')] : [])],
    );
    add(
      'broadcast',
      `${id}.floor`,
      `${w.title.replace(/^\d\. /, '')}: engine floor (a bare herd wake, no mutex) ÷ the fastest other contender`,
      ratio(get(id, 'reference', 'latency'), fastest?.[1]),
      null,
      null,
      [ref(id, 'reference', 'latency'), ...(fastest ? [ref(id, fastest[0], 'latency')] : [])],
    );
    const waits = get(id, 'qemu-thread', 'waits');
    const notifies = get(id, 'qemu-thread', 'notifies');
    add(
      'broadcast',
      `${id}.futex`,
      `${w.title.replace(/^\d\. /, '')}: qemu-thread futex operations per round (waits + notifies)`,
      waits && notifies ? waits.median + notifies.median : null,
      null,
      null,
      [ref(id, 'qemu-thread', 'waits'), ref(id, 'qemu-thread', 'notifies')],
    );
  }

  // Contended: share of the own 1-thread rate; rate over the best JS contender's; the spread.
  for (const threads of [2, 4, 16]) {
    const id = `contended-${threads}`;
    if (skip(id)) continue;
    add(
      'contended',
      `${id}.share`,
      `${threads} threads: qemu-thread's share of its own 1-thread rate`,
      get(id, 'qemu-thread', 'share')?.median ?? null,
      '>=',
      0.37,
      [ref(id, 'qemu-thread', 'share')],
    );
    add(
      'contended',
      `${id}.pthreads-share`,
      `${threads} threads: pthreads' share of their own 1-thread rate`,
      get(id, 'pthreads', 'share')?.median ?? null,
      null,
      null,
      [ref(id, 'pthreads', 'share')],
    );
    const js = (['v8', 'classic'] as const)
      .map((c) => [c, get(id, c, 'rate')] as const)
      .filter((x): x is readonly [(typeof x)[0], NonNullable<Median>] => x[1] !== undefined)
      .sort((a, b) => b[1].median - a[1].median);
    const best = js[0];
    add(
      'contended',
      `${id}.vs-js`,
      `${threads} threads: qemu-thread's rate ÷ the best JS contender's (${best?.[0] ?? 'none measured'})`,
      ratio(get(id, 'qemu-thread', 'rate'), best?.[1]),
      '>=',
      1,
      [ref(id, 'qemu-thread', 'rate'), ...(best ? [ref(id, best[0], 'rate')] : [])],
    );
    add(
      'contended',
      `${id}.spread`,
      `${threads} threads: qemu-thread's slowest thread ÷ its fastest`,
      ratio(get(id, 'qemu-thread', 'slowest'), get(id, 'qemu-thread', 'fastest')),
      null,
      null,
      [ref(id, 'qemu-thread', 'slowest'), ref(id, 'qemu-thread', 'fastest')],
    );
  }

  // Thread start.
  if (!skip('vcpu')) {
    const bare = get('vcpu', 'reference', 'wall');
    const noPool = get('vcpu', 'qemu-thread', 'wall');
    add('start', 'vcpu.wall', 'vCPU start (no pool) ÷ a bare worker, wall', ratio(noPool, bare), '<=', 1.15, [
      ref('vcpu', 'qemu-thread', 'wall'),
      ref('vcpu', 'reference', 'wall'),
    ]);
    add(
      'start',
      'vcpu.cpu',
      'vCPU start (no pool) ÷ a bare worker, process CPU',
      ratio(get('vcpu', 'qemu-thread', 'cpu'), get('vcpu', 'reference', 'cpu')),
      null,
      null,
      [ref('vcpu', 'qemu-thread', 'cpu'), ref('vcpu', 'reference', 'cpu')],
    );
    add(
      'start',
      'vcpu.unawaited',
      'vCPU start after QemuThread.prestart(n) not awaited ÷ without the pool, wall',
      ratio(get('vcpu', 'qemu-thread', 'unawaited'), noPool),
      '<',
      1,
      [ref('vcpu', 'qemu-thread', 'unawaited'), ref('vcpu', 'qemu-thread', 'wall')],
    );
  }

  // The control's spread over the run, in the JS processes that run as the library's users do.
  if (byId.has('control')) {
    const columns = (['qemu-thread', 'qemu-nospin', 'classic', 'reference'] as const).filter(
      (c) => get('control', c, 'time') !== undefined,
    );
    const stats = columns.map((c) => get('control', c, 'time')!);
    add(
      'control',
      'control.spread',
      'control loop: slowest ÷ fastest sample, JS columns without --harmony-struct',
      stats.length > 0 ? Math.max(...stats.map((s) => s.max)) / Math.min(...stats.map((s) => s.min)) : null,
      null,
      null,
      columns.map((c) => ref('control', c, 'time')),
    );
  }
  return targets;
}

export function renderTargets(targets: readonly Target[]): string {
  if (targets.length === 0) return '';
  const lines: string[] = [];
  let group: TargetGroup | undefined;
  const body: string[][] = [];
  for (const t of targets) {
    const heading = t.group !== group ? GROUP_TITLES[t.group] : '';
    group = t.group;
    const value = t.value === null ? 'not measured' : t.value.toFixed(2);
    const limit = t.want === null || t.limit === null ? '(for information)' : `${t.want} ${t.limit}`;
    const met = t.met === null ? '' : t.met ? 'met' : 'NOT MET';
    body.push([heading, t.what, value, limit, met]);
  }
  const header = ['target', 'figure', 'value', 'wanted', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  lines.push(row(header));
  lines.push(
    `|${widths.map((w, i) => (i === 2 ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`,
  );
  for (const b of body) lines.push(row(b));
  return lines.join('\n');
}
