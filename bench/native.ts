/**
 * The pthreads contender: builds bench/native/pthread-bench.c with the machine's gcc (into build/native/,
 * only when the source is newer than the binary) and runs it one workload at a time, parsing its
 * `metric` / `control` / `fail` lines.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);
const source = fileURLToPath(new URL('bench/native/pthread-bench.c', root));
const outDir = fileURLToPath(new URL('build/native/', root));
const binary = `${outDir}pthread-bench`;

export interface Native {
  /** Path of the built program, or null when it could not be built. */
  binary: string | null;
  /** `gcc (...) 12.2.0`, or null when gcc is missing. */
  gcc: string | null;
  /** Why the pthreads contender is skipped. */
  reason?: string;
}

export interface NativeResult {
  /** Per workload id: metric key -> its samples. */
  metrics: Map<string, Map<string, number[]>>;
  /** The control loop's samples (ns per CAS + exchange). */
  control: number[];
  failures: string[];
}

export function buildNative(): Native {
  const version = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    return { binary: null, gcc: null, reason: 'gcc not found: install gcc to measure native pthreads' };
  }
  const gcc = version.stdout.split('\n')[0].trim();
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return { binary, gcc };
  mkdirSync(outDir, { recursive: true });
  // Build under a private name and rename, so that concurrent runs never execute a half-written file.
  const temporary = `${binary}.${process.pid}.tmp`;
  const build = spawnSync('gcc', ['-O2', '-pthread', '-o', temporary, source], { encoding: 'utf8' });
  if (build.error || build.status !== 0) {
    const why = (build.stderr || String(build.error)).trim().split('\n').slice(0, 3).join(' / ');
    return { binary: null, gcc, reason: `gcc -O2 -pthread failed: ${why}` };
  }
  renameSync(temporary, binary);
  return { binary, gcc };
}

/** Runs the program for one workload id (the C side's --only filter). */
export async function runNative(
  program: string,
  workload: string,
  quick: boolean,
  timeoutMs: number,
): Promise<NativeResult> {
  const args = ['--only', workload, ...(quick ? ['--quick'] : [])];
  const { stdout } = await run(program, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
  const result: NativeResult = { metrics: new Map(), control: [], failures: [] };
  for (const line of stdout.split('\n')) {
    const [kind, id, ...rest] = line.trim().split(/\s+/);
    if (kind === 'metric') {
      const byKey = result.metrics.get(id) ?? new Map<string, number[]>();
      const list = byKey.get(rest[0]) ?? [];
      list.push(Number(rest[1]));
      byKey.set(rest[0], list);
      result.metrics.set(id, byKey);
    } else if (kind === 'control') {
      result.control.push(Number(id));
    } else if (kind === 'fail') {
      result.failures.push(`${id}: ${rest.join(' ')}`);
    }
  }
  return result;
}
