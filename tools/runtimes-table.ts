/**
 * The runtime table: one Markdown row per runtime of a `npm run test:runtimes` run, from its --json data
 * (tools/runtimes.ts prints it; tools/runtimes-doc.ts puts it in docs/runtimes.md). Nothing in it is
 * typed by hand: versions, counts and deviations all come from the run.
 */
import type { MatrixResult, RuntimeResult } from './runtimes.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function version(r: RuntimeResult): string {
  const v = r.runtime?.version;
  const name = { node: 'Node', deno: 'Deno', bun: 'Bun' }[r.kind];
  const poses = r.kind !== 'node' && r.runtime?.node ? ` (as Node ${r.runtime.node})` : '';
  return v === undefined ? r.versionOutput : `${name} ${v}${poses}`;
}

function atomics(r: RuntimeResult): string {
  if (r.runtime === null) return '?';
  const has = (feature: string) => (r.runtime?.[feature] === true ? 'yes' : 'no');
  return `waitAsync ${has('waitAsync')}, pause ${has('pause')}`;
}

function ran(r: RuntimeResult): string {
  const parts: string[] = [];
  if (r.suite) parts.push(`whole suite (${r.suite.tests} tests)`);
  if (r.slice) parts.push(`slice (${r.slice.total} checks)`);
  return parts.join(' + ') || 'nothing';
}

function counts(r: RuntimeResult): { pass: string; fail: string } {
  const pass: string[] = [];
  const fail: string[] = [];
  if (r.suite) {
    pass.push(`suite ${r.suite.pass}/${r.suite.tests}`);
    fail.push(`suite ${r.suite.fail + r.suite.cancelled}`);
  }
  if (r.slice) {
    const known = r.slice.failures.filter((f) => f.known !== undefined).length;
    pass.push(`slice ${r.slice.pass}/${r.slice.total}`);
    fail.push(`slice ${r.slice.fail}${known > 0 ? ` (${known} known)` : ''}`);
  }
  return { pass: pass.join(', '), fail: fail.join(', ') };
}

function verdict(r: RuntimeResult): string {
  const status = r.ok ? 'passed' : 'FAILED';
  return r.supported ? `yes (${status})` : `no (${status})`;
}

function deviations(r: RuntimeResult): string {
  const items: string[] = [];
  const reasons = new Map<string, string[]>();
  for (const f of r.slice?.failures ?? []) {
    if (f.known === undefined) continue;
    reasons.set(f.known, [...(reasons.get(f.known) ?? []), f.name]);
  }
  for (const [why, checks] of reasons)
    items.push(`${why} (fails: ${checks.map((c) => `"${c}"`).join('; ')})`);
  for (const n of r.slice?.notes ?? []) items.push(n);
  for (const p of r.problems) items.push(`**${p}**`);
  return items.join('<br>') || '—';
}

/** The table, and a line saying when, where and how it was made. */
export function renderTable(m: MatrixResult): string {
  const rows = [
    '| runtime | package | version | Atomics | what ran | passed | failed | supported | known deviations, notes |',
    '|---|---|---|---|---|---|---|---|---|',
    ...m.runtimes.map((r) => {
      const { pass, fail } = counts(r);
      const pkg = r.package === null ? '(the Node running the matrix)' : `\`${r.package}\``;
      return `| ${[r.label, pkg, version(r), atomics(r), ran(r), pass, fail, verdict(r), deviations(r)].map(cell).join(' | ')} |`;
    }),
  ];
  const load = m.host.loadavg.join(' ');
  return [
    ...rows,
    '',
    `\`${m.command}\` (${m.mode} run), ${m.date.slice(0, 10)}: ${m.host.platform}, ${m.host.cores} cores ` +
      `(${m.host.cpu}), load ${load}; matrix run by Node ${m.host.node.replace(/^v/, '')}. ` +
      `Result: ${m.ok ? 'every supported runtime passed' : 'FAILED'}.`,
  ].join('\n');
}

/** A runtime's outcome in a few words: passed or failed, and how many checks are known to fail there. */
function outcome(r: RuntimeResult): string {
  const known = (r.slice?.failures ?? []).filter((f) => f.known !== undefined).length;
  const deviations = known > 0 ? `, ${known} known deviation${known === 1 ? '' : 's'}` : '';
  return `${r.ok ? 'passed' : 'FAILED'}${deviations}${r.supported ? '' : ' (not supported)'}`;
}

/**
 * The short table of the README: one row per runtime (what ran and how it went), and where the details
 * are. Same run, same data as {@link renderTable}.
 */
export function renderSummary(m: MatrixResult): string {
  return [
    '| runtime | version | what ran | result |',
    '|---|---|---|---|',
    ...m.runtimes.map((r) => `| ${[r.label, version(r), ran(r), outcome(r)].map(cell).join(' | ')} |`),
    '',
    `From \`${m.command}\` (${m.mode} run), ${m.date.slice(0, 10)}; the deviations, and how each runtime ` +
      'is installed and run: [docs/runtimes.md](docs/runtimes.md).',
  ].join('\n');
}
