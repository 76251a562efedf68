// The `@example` blocks of the library's doc comments (what the API reference shows) are programs: each is
// compiled as a user's strict TypeScript project would compile it, then run, so that none can go stale.
//
// An example is one or more ```ts blocks. A block whose first line is `// name.ts` is that file (a thread's
// module, say); the others make up main.ts, the program that is run. A `console.log(...); // text` line
// promises that line of output (support/snippets.ts). Examples are compiled against the package's own
// build (dist/, through its name 'qemu-thread'), in build/doc-examples/.
//
// An example that imports `qemu-thread/browser` or `qemu-thread/worker` is for a browser page and its Web
// Workers, which Node has not: it is compiled, with the DOM library, and not run here. The same calls run
// in Chromium in every bundler fixture of `npm run test:bundlers`.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { compile, filesUnder, ROOT, readRoot, runAndCheck, USER_OPTIONS } from './support/snippets.js';

interface Example {
  /** Where it is: `src/file.ts:line`. */
  origin: string;
  /** The declaration the comment documents, e.g. `QemuMutex` or `qemu_thread_create`. */
  owner: string;
  /** File name -> contents. */
  files: Map<string, string>;
  /** How many code blocks it was made of. */
  blocks: number;
}

/** The examples in one source file's doc comments. */
function examplesOf(path: string): Example[] {
  const text = readRoot(path);
  const found: Example[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const start = comment.index ?? 0;
    const lines = comment[0]
      .replace(/^\/\*\*|\*\/$/g, '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''));
    const after = text.slice(start + comment[0].length, start + comment[0].length + 300);
    const owner =
      /^\s*(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:static\s+)?(?:class|function|const|let|interface|type)?\s*(\w+)/.exec(
        after,
      )?.[1] ?? '?';
    const firstLine = text.slice(0, start).split('\n').length;
    let inExample = false;
    let fence: string[] | null = null;
    let current: Example | null = null;
    for (const [i, line] of lines.entries()) {
      if (fence === null && /^@\w+/.test(line)) {
        inExample = line.startsWith('@example');
        current = null;
      }
      if (!inExample) continue;
      if (fence === null && /^```(ts|typescript)\s*$/.test(line)) {
        fence = [];
        if (current === null) {
          current = { origin: `${path}:${firstLine + i}`, owner, files: new Map(), blocks: 0 };
          found.push(current);
        }
      } else if (fence !== null && /^```\s*$/.test(line) && current !== null) {
        const name = /^\/\/ ([\w-]+\.ts)\b/.exec(fence[0] ?? '')?.[1] ?? 'main.ts';
        current.files.set(name, `${current.files.get(name) ?? ''}${fence.join('\n')}\n`);
        current.blocks++;
        fence = null;
      } else if (fence !== null) {
        fence.push(line);
      }
    }
  }
  return found;
}

const examples = filesUnder('src', (name) => name.endsWith('.ts')).flatMap(examplesOf);

/** Whether an example is for a browser (see above). */
const forBrowser = (example: Example) =>
  [...example.files.values()].some((code) => /from 'qemu-thread\/(browser|worker)'/.test(code));

/** A browser project's options: the user's, with the DOM library (Worker, window). */
const BROWSER_OPTIONS = { ...USER_OPTIONS, lib: [...(USER_OPTIONS.lib ?? []), 'lib.dom.d.ts'] };
const OUT = join(ROOT, 'build', 'doc-examples');

test('every TypeScript block of a doc comment is in an @example, so it is checked below', () => {
  const sources = filesUnder('src', (name) => name.endsWith('.ts')).map(readRoot);
  const fences = sources.reduce(
    (n, text) => n + (text.match(/^\s*\* ```(ts|typescript)\s*$/gm)?.length ?? 0),
    0,
  );
  assert.equal(
    examples.reduce((n, e) => n + e.blocks, 0),
    fences,
  );
});

test('every primitive class and qemu_thread_create carries a doc example', () => {
  const owners = new Set(examples.map((e) => e.owner));
  for (const name of [
    'QemuMutex',
    'QemuRecMutex',
    'QemuCond',
    'QemuSemaphore',
    'QemuEvent',
    'QemuSpin',
    'QemuLockCnt',
    'QemuThread',
    'qemu_thread_create',
  ]) {
    assert.ok(owners.has(name), `${name} has no @example in its doc comment`);
  }
});

test(
  'the doc examples compile (strict) and run with the output they promise',
  { timeout: 300_000 },
  async (t) => {
    assert.ok(examples.length >= 10, `found only ${examples.length} examples`);
    rmSync(OUT, { recursive: true, force: true });
    const dirs = examples.map((example, n) => {
      const dir = join(OUT, `${n}-${example.owner}`);
      mkdirSync(dir, { recursive: true });
      for (const [name, code] of example.files) writeFileSync(join(dir, name), code);
      return dir;
    });
    const filesOf = (browser: boolean) =>
      dirs.flatMap((dir, n) =>
        forBrowser(examples[n]) === browser ? [...examples[n].files.keys()].map((f) => join(dir, f)) : [],
      );
    const browserFiles = filesOf(true);
    assert.ok(browserFiles.length > 0, 'no browser example found: is the test of imports broken?');
    const errors = [...compile(filesOf(false)), ...compile(browserFiles, BROWSER_OPTIONS)];
    // Name each example by where it is written, not by where it was compiled.
    const located = errors.map((e) =>
      dirs.reduce(
        (text, dir, n) => text.replace(relative(ROOT, dir), `(the example at ${examples[n].origin})`),
        e,
      ),
    );
    assert.deepEqual(located, [], 'the doc examples do not compile');
    for (const [n, example] of examples.entries()) {
      if (forBrowser(example)) continue;
      await t.test(`${example.owner} (${example.origin})`, () => {
        const main = example.files.get('main.ts');
        assert.ok(main !== undefined, `${example.origin}: an example needs a main block`);
        runAndCheck(join(dirs[n], 'main.js'), main, dirs[n], example.origin);
      });
    }
  },
);
