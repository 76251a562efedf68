// Typed threads, checked by the compiler as a user's strict project compiles them, against the package's
// declarations (dist/, through its name): test/types/typed.ts must compile with the types it asserts and
// then run with the output it promises; each line of test/types/typed-errors.ts marked
// `// @ts-expect-error: text` must fail to compile, with an error that says `text`, and no other line may.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { compile, ROOT, runAndCheck, USER_OPTIONS } from './support/snippets.js';

const SOURCES = join(ROOT, 'test', 'types');
const OUT = join(ROOT, 'build', 'type-tests');
const FILES = ['producer.ts', 'typed.ts', 'typed-errors.ts'];

/** Copies the fixtures into `dir` (inside the project, so that 'qemu-thread' is the package itself). */
function fixtures(dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of FILES) cpSync(join(SOURCES, file), join(dir, file));
  return FILES.map((file) => join(dir, file));
}

/** `line (1-based) -> expected text` for every `// @ts-expect-error: text` of a source; the line is the next. */
function expectations(source: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const [i, line] of source.split('\n').entries()) {
    const m = /^\s*\/\/ @ts-expect-error: (.+)$/.exec(line);
    if (m) found.set(i + 2, m[1]);
  }
  return found;
}

test('the typed fixtures compile (strict), every @ts-expect-error used, and run as they promise', () => {
  const files = fixtures(join(OUT, 'as-written'));
  assert.deepEqual(compile(files), [], 'test/types does not compile as written');
  const main = readFileSync(join(SOURCES, 'typed.ts'), 'utf8');
  runAndCheck(join(OUT, 'as-written', 'typed.js'), main, join(OUT, 'as-written'), 'test/types/typed.ts');
});

test('each marked line of typed-errors.ts fails to compile, with the error it names, and no other', () => {
  const dir = join(OUT, 'unmarked');
  const files = fixtures(dir);
  const source = readFileSync(join(SOURCES, 'typed-errors.ts'), 'utf8');
  const expected = expectations(source);
  assert.ok(expected.size >= 15, `only ${expected.size} marked lines: is the scan broken?`);
  // The same file without the directives (each replaced by a plain comment, so lines keep their numbers).
  writeFileSync(join(dir, 'typed-errors.ts'), source.replace(/\/\/ @ts-expect-error: /g, '// expected: '));
  const program = ts.createProgram(files, { ...USER_OPTIONS, noEmit: true });
  const errors = new Map<number, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const file = d.file;
    if (!file?.fileName.endsWith('typed-errors.ts')) assert.fail(`an error outside typed-errors.ts: ${text}`);
    const line = file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1;
    errors.set(line, [...(errors.get(line) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')]);
  }
  assert.deepEqual(
    [...errors.keys()].sort((a, b) => a - b),
    [...expected.keys()],
    'the lines that fail',
  );
  for (const [line, text] of expected) {
    const messages = errors.get(line) ?? [];
    assert.ok(
      messages.some((m) => m.includes(text)),
      `typed-errors.ts:${line} should fail with '${text}', but: ${messages.join(' / ')}`,
    );
  }
});
