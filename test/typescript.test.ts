// Thread functions in TypeScript files, run without compiling them: a program run under tsx (`node
// --import tsx`, `--import=tsx`, or the `tsx` command) starts threads whose modules are `.ts` files, named
// by their `.ts` URL or by the `.js` name TypeScript's imports use; their failures and a misspelt export
// are reported as for JavaScript. On Node before 22.14 this needs the library's help (platform/node.ts:
// inheritTsx). Node's own type stripping is checked by the runtime slice (test/runtimes/slice.ts), which
// runs on each runtime that has it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, readRoot, runAndCheck } from './support/snippets.js';

const DIR = join(ROOT, 'test', 'typescript');
const main = readRoot('test/typescript/main.ts');

for (const args of [
  ['--import', 'tsx', 'main.ts'],
  ['--import=tsx', 'main.ts'],
]) {
  test(`node ${args.join(' ')}: .ts thread modules run, fail and are checked as .js ones`, () => {
    runAndCheck(process.execPath, main, DIR, `node ${args.join(' ')}`, args);
  });
}

test('the tsx command: .ts thread modules run, fail and are checked as .js ones', () => {
  runAndCheck(join(ROOT, 'node_modules', '.bin', 'tsx'), main, DIR, 'tsx main.ts', ['main.ts']);
});

test('node --import tsx --input-type=module -e: the workers keep the loader (with its value)', () => {
  // The worker of a program given with -e drops -e and --input-type, and must keep `--import tsx` whole.
  const work = pathToFileURL(join(DIR, 'work.ts')).href;
  const script = `import { QemuThread } from 'qemu-thread';
    try { QemuThread.create('x', ${JSON.stringify(`${work}#fail`)}, 'from -e').join(); }
    catch (e) { console.log(e.message.replace(/thread \\d+/, 'thread N')); }`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.stdout, "qemu_thread_join: thread N 'x' failed: RangeError: from -e\n", run.stderr);
});
