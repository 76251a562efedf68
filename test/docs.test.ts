// The README and docs/ show code and facts that must stay true:
// - a code block preceded by `<!-- file: path -->` is a copy of that file, byte for byte, and every
//   TypeScript, JavaScript or JSON block of the README is such a copy (so none is unchecked);
// - those files run with the output they promise (support/snippets.ts), and the quick start runs as a
//   user's project would: its files alone in a directory, qemu-thread installed, `npm start`;
// - links between the pages resolve, every page of docs/ is reachable from the README, every npm script is
//   in docs/contributing.md, and the README stays a front door (at most 300 lines);
// - the runtime tables of the README and docs/runtimes.md are generated from docs/runtimes.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import * as api from 'qemu-thread';
import { filesUnder, ROOT, readRoot, runAndCheck } from './support/snippets.js';

const QUICK_START = 'examples/quick-start';

/** The README, docs/ and the folder READMEs. */
const PAGES = [
  'README.md',
  ...filesUnder('docs', (name) => name.endsWith('.md')),
  ...['bench', 'machine', 'soak'].map((d) => `${d}/README.md`),
];

interface Block {
  lang: string;
  body: string;
  /** The file it copies, from a `<!-- file: path -->` line just before it. */
  file: string | null;
  line: number;
}

function blocks(page: string): Block[] {
  const lines = readRoot(page).split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `${page}:${i + 1}: a code block is not closed`);
    const marker = /^<!-- file: (\S+) -->$/.exec(lines[i - 1] ?? '');
    found.push({
      lang: open[1],
      body: `${lines.slice(i + 1, end).join('\n')}\n`,
      file: marker?.[1] ?? null,
      line: i + 1,
    });
    i = end;
  }
  return found;
}

test('the README stays a front door: at most 300 lines', () => {
  const lines = readRoot('README.md').split('\n').length;
  assert.ok(lines <= 300, `README.md has ${lines} lines`);
});

test('a code block marked as a copy of a file equals that file', () => {
  let copies = 0;
  for (const page of PAGES) {
    for (const block of blocks(page)) {
      if (block.file === null) continue;
      assert.equal(block.body, readRoot(block.file), `${page}:${block.line} differs from ${block.file}`);
      copies++;
    }
  }
  assert.ok(copies >= 6, `only ${copies} copies found`);
});

test('every code block of the README is a checked file, but for shell commands', () => {
  for (const block of blocks('README.md')) {
    if (block.lang === 'sh') continue;
    assert.ok(
      block.file !== null,
      `README.md:${block.line}: a ${block.lang || 'plain'} block that is no file's copy`,
    );
  }
  const shown = new Set(blocks('README.md').map((b) => b.file));
  for (const name of readdirSync(join(ROOT, QUICK_START))) {
    assert.ok(shown.has(`${QUICK_START}/${name}`), `the README does not show ${QUICK_START}/${name}`);
  }
});

test('the example programs the docs show run with the output they promise', { timeout: 120_000 }, () => {
  const shown = PAGES.flatMap((page) => blocks(page).flatMap((b) => (b.file === null ? [] : [b.file])));
  const files = new Set(
    shown.filter((f) => f.startsWith('examples/') && !f.startsWith(QUICK_START) && f.endsWith('.ts')),
  );
  assert.ok(files.size >= 3);
  for (const file of files) {
    const script = join(ROOT, 'build', file.replace(/\.ts$/, '.js'));
    runAndCheck(script, readRoot(file), ROOT, file);
  }
});

test(
  'the quick start runs as a new project: its files, qemu-thread installed, npm start',
  { timeout: 120_000 },
  () => {
    const manifest = JSON.parse(readRoot(`${QUICK_START}/package.json`));
    const ours = JSON.parse(readRoot('package.json'));
    assert.equal(
      manifest.dependencies['qemu-thread'],
      `^${ours.version}`,
      'the quick start names this version',
    );
    const dir = mkdtempSync(join(tmpdir(), 'qemu-thread-quick-start-'));
    try {
      for (const name of readdirSync(join(ROOT, QUICK_START))) {
        copyFileSync(join(ROOT, QUICK_START, name), join(dir, name));
      }
      // What `npm install` would leave, from this checkout: the package (built by npm test) and the
      // compiler with Node's types, which the quick start's package.json asks for.
      const modules = join(dir, 'node_modules');
      mkdirSync(join(modules, '@types'), { recursive: true });
      mkdirSync(join(modules, '.bin'));
      symlinkSync(ROOT, join(modules, 'qemu-thread'), 'dir');
      symlinkSync(join(ROOT, 'node_modules/typescript'), join(modules, 'typescript'), 'dir');
      symlinkSync(join(ROOT, 'node_modules/@types/node'), join(modules, '@types/node'), 'dir');
      symlinkSync(join(ROOT, 'node_modules/typescript/bin/tsc'), join(modules, '.bin/tsc'));
      runAndCheck('npm', readRoot(`${QUICK_START}/main.ts`), dir, 'the quick start (npm start)', [
        'start',
        '--silent',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('links between the pages resolve, and the README reaches every page of docs/', () => {
  const linked = new Set<string>();
  for (const page of PAGES) {
    const text = readRoot(page).replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
      const path = normalize(join(dirname(page), target.replace(/#.*$/, '')));
      assert.ok(existsSync(join(ROOT, path)), `${page} links to ${target}, which does not exist`);
      if (page === 'README.md') linked.add(path);
    }
  }
  for (const doc of filesUnder('docs', (name) => name.endsWith('.md'))) {
    assert.ok(linked.has(doc), `the README does not link to ${doc}`);
  }
});

test('docs/contributing.md names every npm script', () => {
  const text = readRoot('docs/contributing.md');
  const scripts = Object.keys(JSON.parse(readRoot('package.json')).scripts);
  for (const name of scripts) {
    const spelled = name === 'test' || name === 'start' ? `npm ${name}` : `npm run ${name}`;
    assert.ok(text.includes(`\`${spelled}\``), `docs/contributing.md does not name \`${spelled}\``);
  }
});

test("the runtime tables (README's and docs/runtimes.md's) are what docs/runtimes.json renders", () => {
  // tools/runtimes-doc.ts --check renders both from the run's JSON and compares, byte for byte.
  const check = spawnSync(
    process.execPath,
    [join(ROOT, 'build/tools/runtimes-doc.js'), join(ROOT, 'docs/runtimes.json'), '--check'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(check.status, 0, check.stderr);
  assert.match(readRoot('README.md'), /<!-- BEGIN GENERATED runtimes[^\n]*\n\| runtime \| version \|/);
});

test("docs/api.md's memory table matches each class's BYTES", () => {
  const rows = [...readRoot('docs/api.md').matchAll(/^\| `(Qemu\w+)` \| (\d+) \|/gm)];
  const classes = Object.entries(api).filter(
    ([name, value]) => /^Qemu/.test(name) && typeof value === 'function' && 'BYTES' in value,
  );
  assert.deepEqual(
    Object.fromEntries(rows.map((m) => [m[1], Number(m[2])])),
    Object.fromEntries(classes.map(([name, value]) => [name, (value as { BYTES: number }).BYTES])),
  );
});
