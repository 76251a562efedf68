// Checking the code that the documentation shows: doc-comment examples, and the README's and docs/'s code
// blocks that are copies of files. A program "says" its expected output with a comment at the end of a
// console.log line:
//
//   console.log(qemu_thread_join(t)); // 49
//
// and running it must print exactly those lines, in that order (a program with no such comment must only
// exit with status 0). Each run has a time limit, so an example that hangs fails instead of stalling CI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository's root (tests run from build/test/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A run of a program gets this long before it is killed and reported as hung. */
const RUN_LIMIT_MS = 30_000;

/** The output lines a program's source promises: the `// ...` comment of each `console.log(...);` line. */
export function expectedOutput(source: string): string[] {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    const m = /^\s*console\.log\(.*\);\s*\/\/ (.*)$/.exec(line);
    if (m) lines.push(m[1]);
  }
  return lines;
}

/**
 * Runs `node script` (or `command args`) in `cwd` and checks its exit status and, if `source` promises
 * any, its output.
 */
export function runAndCheck(
  script: string,
  source: string,
  cwd: string,
  what: string,
  args?: string[],
): void {
  const [command, argv] = args === undefined ? [process.execPath, [script]] : [script, args];
  const run = spawnSync(command, argv, { cwd, encoding: 'utf8', timeout: RUN_LIMIT_MS });
  assert.equal(run.error, undefined, `${what}: ${run.error?.message} (killed after ${RUN_LIMIT_MS} ms?)`);
  assert.equal(run.status, 0, `${what} exited with ${run.status}:\n${run.stderr}`);
  const expected = expectedOutput(source);
  if (expected.length > 0) {
    assert.deepEqual(run.stdout.trimEnd().split('\n'), expected, `${what}: output differs from its comments`);
  }
}

/** The compiler options a user's strict project would have (as in examples/quick-start/tsconfig.json). */
export const USER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  strict: true,
  skipLibCheck: true,
  moduleDetection: ts.ModuleDetectionKind.Force,
};

/** Compiles `files` (each emitted beside its source); the diagnostics, formatted, one string per error. */
export function compile(files: string[], options: ts.CompilerOptions = USER_OPTIONS): string[] {
  const program = ts.createProgram(files, options);
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  return diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${relative(ROOT, d.file.fileName)}:${line + 1}:${character + 1}: ${text}`;
  });
}

/** Every file under `dir` (relative to the root) whose name passes `keep`, sorted. */
export function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (keep(name)) out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, dir));
  return out;
}

export function readRoot(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}
