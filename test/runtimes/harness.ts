/**
 * The portable slice's runner. Deno and Bun each map node:test onto their own test runner (`deno test`,
 * `bun test`), with their own output, options and gaps; a slice that must mean the same on every runtime
 * runs its checks here instead: one after another, in registration order, printing TAP that
 * tools/runtimes.ts reads.
 *
 * Output: `# runtime {json}` (what the runtime says it is), then per check a `# check N: name` line before
 * it runs (so that the runner's watchdog can name a check that hangs) and `ok N - name` or `not ok N -
 * name` followed by the error as `#` lines; at the end the plan `1..N` and `# pass P` / `# fail F`. Exit
 * status 0 only if every check passed. A check may add `# note: text` lines: what it observed about the
 * runtime (not a result), which the runtime table shows. A blocking check that hangs cannot end itself: the runner kills
 * the process after its limit and reports the check it was in.
 *
 * `--only TEXT` runs the checks whose name contains TEXT.
 */
import { writeSync } from 'node:fs';

type Body = () => void | Promise<void>;

const checks: { name: string; body: Body }[] = [];

/** Registers a check; it fails if `body` throws or its promise rejects. */
export function check(name: string, body: Body): void {
  checks.push({ name, body });
}

/** Records an observation about the runtime (e.g. how it names call sites), shown in the runtime table. */
export function note(text: string): void {
  out(`# note: ${text}`);
}

function out(text: string): void {
  writeSync(1, `${text}\n`);
}

interface RuntimeGlobals {
  Deno?: { version?: { deno?: string; v8?: string } };
  Bun?: { version?: string };
}

/** What the running runtime says it is, and the features the library picks from. */
export function describeRuntime(): Record<string, string | boolean> {
  const g = globalThis as RuntimeGlobals;
  const node = process.versions.node;
  const features = {
    node,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    waitAsync: typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function',
    pause: typeof (Atomics as { pause?: unknown }).pause === 'function',
  };
  if (typeof g.Deno?.version?.deno === 'string') {
    return { name: 'deno', version: g.Deno.version.deno, engine: `V8 ${g.Deno.version.v8}`, ...features };
  }
  if (typeof g.Bun?.version === 'string') {
    return { name: 'bun', version: g.Bun.version, engine: 'JavaScriptCore', ...features };
  }
  return { name: 'node', version: node, engine: `V8 ${process.versions.v8}`, ...features };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack?.includes(error.message) ? error.stack : `${error}`;
  return `thrown: ${String(error)}`;
}

/** Runs the registered checks (those matching --only), prints TAP, and exits: 0 if all passed. */
export async function runChecks(): Promise<never> {
  const at = process.argv.indexOf('--only');
  const only = at >= 0 ? process.argv[at + 1] : undefined;
  const selected = checks.filter((c) => only === undefined || c.name.includes(only));
  out('TAP version 13');
  out(`# runtime ${JSON.stringify(describeRuntime())}`);
  let failed = 0;
  for (const [i, { name, body }] of selected.entries()) {
    out(`# check ${i + 1}: ${name}`);
    const started = performance.now();
    try {
      await body();
      out(`ok ${i + 1} - ${name} # time=${(performance.now() - started).toFixed(0)}ms`);
    } catch (error) {
      failed++;
      out(`not ok ${i + 1} - ${name}`);
      for (const line of describeError(error).split('\n')) out(`#   ${line}`);
    }
  }
  out(`1..${selected.length}`);
  out(`# pass ${selected.length - failed}`);
  out(`# fail ${failed}`);
  // Exit at once: a check that failed may leave a thread parked for good, which must not keep us here.
  process.exit(failed === 0 ? 0 : 1);
}
