/**
 * `npm run test:consumers`: qemu-thread from a new user's TypeScript project. The repository is packed
 * (`npm pack`) and the tarball installed into a fresh ES-module project (test/consumers/esm) and a fresh
 * CommonJS one (test/consumers/cjs, `require('qemu-thread')`); each is compiled in strict mode, with the
 * library's declarations checked too (skipLibCheck off), under moduleResolution node16, nodenext and
 * bundler, and run: a thread counts under a mutex with the main thread (exact total), exits with
 * qemu_thread_exit (its value reaches the join), and a misuse is a typed QemuThreadError.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** build/test/consumers/ -> the repository. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORK = join(ROOT, 'test-artifacts/consumers');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

type Kind = 'esm' | 'cjs';
type Resolution = 'node16' | 'nodenext' | 'bundler';

/** The compiler options of each variant: `module` follows from the resolution (and the kind). */
function compilerOptions(kind: Kind, resolution: Resolution): Record<string, unknown> {
  const module = resolution === 'bundler' ? (kind === 'esm' ? 'esnext' : 'preserve') : resolution;
  return {
    target: 'ES2022',
    lib: ['ES2023'],
    module,
    moduleResolution: resolution,
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    rootDir: '.',
    outDir: `out-${resolution}`,
  };
}

const dirs = new Map<Kind, string>();

before(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', WORK], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  const tarball = join(WORK, packed[0].filename);
  for (const kind of ['esm', 'cjs'] as Kind[]) {
    const dir = join(WORK, kind);
    cpSync(join(ROOT, 'test/consumers', kind), dir, { recursive: true });
    const type = kind === 'esm' ? 'module' : 'commonjs';
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: `consumer-${kind}`, private: true, type })}\n`,
    );
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefer-offline', tarball],
      { cwd: dir, stdio: 'pipe' },
    );
    dirs.set(kind, dir);
  }
});

for (const kind of ['esm', 'cjs'] as Kind[]) {
  for (const resolution of ['node16', 'nodenext', 'bundler'] as Resolution[]) {
    test(`${kind === 'esm' ? 'an ES-module' : 'a CommonJS'} consumer, moduleResolution ${resolution}: compiles and runs`, () => {
      const dir = dirs.get(kind) ?? assert.fail('not prepared');
      const config = `tsconfig.${resolution}.json`;
      writeFileSync(
        join(dir, config),
        `${JSON.stringify({ compilerOptions: compilerOptions(kind, resolution), include: ['*.ts', '*.cts'] }, null, 2)}\n`,
      );
      try {
        execFileSync(process.execPath, [TSC, '-p', config], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        assert.fail(`tsc -p ${config} failed:\n${(error as { stdout?: string }).stdout}`);
      }
      const main = join(dir, `out-${resolution}`, kind === 'esm' ? 'main.js' : 'main.cjs');
      const output = execFileSync(process.execPath, [main], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      const report = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
      assert.deepEqual(report, {
        kind,
        counter: 20_000,
        exited: { done: 10_000 },
        code: 'EPERM',
        ok: true,
      });
    });
  }
}
