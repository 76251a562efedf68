/**
 * `npm run test:bundlers [-- --quick]`: qemu-thread as an application bundled for the browser uses it.
 * The repository is packed (`npm pack`) and the tarball installed into a fresh copy of each fixture app
 * (test/bundlers/<bundler>/ plus the shared test/bundlers/app/), which its bundler builds in production
 * mode with the fixture's configuration file; the build is served cross-origin isolated
 * (tools/static-server.ts) and run in Debian's Chromium. From the window (async calls) and from a worker
 * (blocking calls and the pool), the fixture runs QEMU's vCPU creation handshake with 4 vCPUs and exact
 * counts, checks that `qemu_thread_exit` values and a thread's error reach the join, and that every
 * broken case (a module or export the thread worker lacks, a missing module URL, a thread worker that is
 * missing, not JavaScript, without the isolation header or silent) fails its join with an error naming
 * the cause, not a hang; and that a page without isolation fails at once, naming the headers. The Vite
 * fixture also runs under Vite's dev server. Bundlers are the root's pinned devDependencies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startStaticServer } from '../../tools/static-server.js';
import { CHROMIUM } from '../browser/support.js';

const QUICK = process.argv.includes('--quick');
/** Counted steps per vCPU under the BQL. */
const INCREMENTS = QUICK ? 500 : 5000;
/** build/test/bundlers/ -> the repository. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCES = join(ROOT, 'test/bundlers');
const WORK = join(ROOT, 'test-artifacts/bundlers');

type Bundler = 'vite' | 'esbuild' | 'webpack' | 'rollup';
/** `--only=vite,rollup` runs those alone (while working on one). */
const ONLY = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice(7)
  .split(',');
const BUNDLERS = (['vite', 'esbuild', 'webpack', 'rollup'] as Bundler[]).filter(
  (b) => !ONLY || ONLY.includes(b),
);

interface Report {
  createdOrder: number[];
  joined: unknown[];
  counter: number;
  expectedCounter: number;
  threadError: { name: string; threadName: string | null; cause: { name: string; message: string } } | string;
  broken: { name: string; code: string; message: string; ms: number }[];
}

let tarball: string;
let browser: Browser;
const timings: string[] = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const began = Date.now();
  // dist/ is built already (npm run build:all): pack it as it is.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', WORK], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  tarball = join(WORK, packed[0].filename);
  timings.push(`npm pack: ${Date.now() - began} ms`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  process.stdout.write(
    `# timings (${QUICK ? 'quick' : 'full'}):\n${timings.map((t) => `#   ${t}\n`).join('')}`,
  );
});

/** A fresh copy of the fixture with the tarball installed, as a new user's project would be. */
function prepare(bundler: Bundler): string {
  const dir = join(WORK, bundler);
  cpSync(join(SOURCES, bundler), dir, { recursive: true });
  cpSync(join(SOURCES, 'app'), join(dir, 'src/app'), { recursive: true });
  cpSync(join(SOURCES, 'tsconfig.fixture.json'), join(dir, 'tsconfig.json'));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `fixture-${bundler}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefer-offline', tarball],
    { cwd: dir, stdio: 'pipe' },
  );
  return dir;
}

/** Files the broken cases load, beside the build: not JavaScript, silent, served without isolation. */
function writeStatics(dir: string): void {
  const silent = '// A worker that never runs qemu-thread.\n';
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'not-js.txt'), 'this is text\n');
  writeFileSync(join(dir, 'silent-worker.js'), silent);
  mkdirSync(join(dir, 'no-coep'), { recursive: true });
  writeFileSync(join(dir, 'no-coep/silent-worker.js'), silent);
}

async function build(bundler: Bundler, dir: string): Promise<string> {
  const out = join(dir, 'dist');
  const config = async (file: string) =>
    (await import(pathToFileURL(join(dir, file)).href)).default as Record<string, unknown>;
  if (bundler === 'vite') {
    writeStatics(join(dir, 'public'));
    const vite = await import('vite');
    await vite.build({ root: dir, logLevel: 'warn' });
  } else if (bundler === 'esbuild') {
    const esbuild = await import('esbuild');
    await esbuild.build({ ...(await config('esbuild.config.js')), absWorkingDir: dir, logLevel: 'warning' });
  } else if (bundler === 'webpack') {
    const { default: webpack } = await import('webpack');
    const options = { ...(await config('webpack.config.js')), context: dir };
    await new Promise<void>((resolve, reject) => {
      webpack(options as never, (error, stats) => {
        if (error) reject(error);
        else if (stats?.hasErrors()) reject(new Error(stats.toString('errors-only')));
        else resolve();
      });
    });
  } else {
    const { rollup } = await import('rollup');
    // Rollup runs where its configuration is, as its CLI would (the TypeScript plugin finds tsconfig.json).
    const previous = process.cwd();
    process.chdir(dir);
    try {
      const options = (await config('rollup.config.js')) as { output: Record<string, unknown> };
      const bundle = await rollup(options as never);
      await bundle.write(options.output);
      await bundle.close();
    } finally {
      process.chdir(previous);
    }
  }
  if (bundler !== 'vite') {
    cpSync(join(dir, 'index.html'), join(out, 'index.html'));
    writeStatics(out);
  }
  return out;
}

async function openFixture(url: string): Promise<{ page: Page; log: string[] }> {
  const page = await browser.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.stack ?? e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => 'qemuFixture' in globalThis, undefined, { timeout: 30_000 });
  return { page, log };
}

function run(page: Page, where: 'fromWindow' | 'fromWorker', log: string[]): Promise<Report> {
  return page
    .evaluate(
      ([where, increments]) =>
        (
          globalThis as unknown as {
            qemuFixture: Record<string, (increments: number) => Promise<unknown>>;
          }
        ).qemuFixture[where](increments),
      [where, INCREMENTS] as const,
    )
    .catch((error: Error) => assert.fail(`${where}: ${error.message}\n${log.join('\n')}`)) as Promise<Report>;
}

/** What each broken case's error must say, on a server that sends 404 for missing files (or not). */
function expectedBroken(server: 'static' | 'vite-dev'): Record<string, RegExp[]> {
  const missing = server === 'static' ? /HTTP 404/ : /served as 'text\/html/;
  return {
    'unknown-module': [/no module 'nosuch'/, /it has: vcpu/],
    'missing-export': [/has no export 'nosuch'/],
    'missing-url': [/\/missing-module\.js/, server === 'static' ? /HTTP 404/ : /./],
    'missing-worker': [/worker failed to load/, missing, /\/missing-worker\.js/],
    'wrong-mime': [/worker failed to load/, /served as 'text\/plain/, /\/not-js\.txt/],
    'no-coep':
      server === 'static'
        ? [/served without Cross-Origin-Embedder-Policy/, /\/no-coep\/silent-worker\.js/]
        : [/did not start qemu-thread/],
    'silent-worker': [/did not start qemu-thread/, /\/silent-worker\.js/, /threadWorker\(\)/],
  };
}

function check(report: Report, where: string, server: 'static' | 'vite-dev', log: string[]): void {
  const why = `${where}\n${JSON.stringify(report, null, 1)}\n${log.join('\n')}`;
  assert.deepEqual(report.createdOrder, [0, 1, 2, 3], `handshake: ${why}`);
  assert.deepEqual(
    report.joined,
    [0, 1, 2, 3].map((index) => ({ index, via: 'qemu_thread_exit' })),
    `qemu_thread_exit values reach the join: ${why}`,
  );
  assert.equal(report.counter, report.expectedCounter, `exact count: ${why}`);
  assert.equal(report.expectedCounter, 4 * INCREMENTS);
  assert.deepEqual(
    report.threadError,
    {
      name: 'QemuThreadFailure',
      threadName: 'thrower',
      cause: { name: 'RangeError', message: 'thrown in a thread' },
    },
    why,
  );
  const expected = expectedBroken(server);
  assert.deepEqual(
    report.broken.map((c) => c.name),
    Object.keys(expected),
    why,
  );
  for (const c of report.broken) {
    assert.notEqual(c.code, 'ok', `${c.name}: the thread ran: ${why}`);
    assert.doesNotMatch(c.message, /HANG/, `${c.name}: ${why}`);
    for (const pattern of expected[c.name]) assert.match(c.message, pattern, `${c.name}: ${why}`);
  }
}

async function scenarios(url: string, server: 'static' | 'vite-dev'): Promise<void> {
  const { page, log } = await openFixture(url);
  try {
    check(await run(page, 'fromWindow', log), 'from the window', server, log);
    check(await run(page, 'fromWorker', log), 'from a worker', server, log);
  } finally {
    await page.close();
  }
}

for (const bundler of BUNDLERS) {
  test(`${bundler}: a production build runs the handshake, exits, errors and broken cases`, async () => {
    let began = Date.now();
    const dir = prepare(bundler);
    const installed = Date.now() - began;
    began = Date.now();
    const out = await build(bundler, dir);
    const built = Date.now() - began;
    began = Date.now();
    writeFileSync(join(out, 'no-isolation.html'), readIndex(out));
    const server = await startStaticServer(out, 0, '127.0.0.1', {
      home: null,
      plain: (path) => path.startsWith('/no-coep/') || path === '/no-isolation.html',
    });
    try {
      await scenarios(server.url, 'static');
      await noIsolation(`${server.url}no-isolation.html`);
    } finally {
      await server.close();
    }
    const ran = Date.now() - began;
    const files = readdirSync(out, { recursive: true }).length;
    timings.push(`${bundler}: install ${installed} ms, build ${built} ms (${files} files), run ${ran} ms`);
  });
}

test('vite: the dev server runs the same', { skip: !BUNDLERS.includes('vite') }, async () => {
  const dir = join(WORK, 'vite');
  assert.ok(existsSync(join(dir, 'node_modules/qemu-thread')), 'the production test prepared the fixture');
  const began = Date.now();
  const vite = await import('vite');
  const server = await vite.createServer({
    root: dir,
    logLevel: 'warn',
    server: { port: 0, host: '127.0.0.1' },
  });
  await server.listen();
  try {
    await scenarios(server.resolvedUrls?.local[0] ?? assert.fail('no URL'), 'vite-dev');
  } finally {
    await server.close();
  }
  timings.push(`vite dev server: ${Date.now() - began} ms`);
});

test(
  'the fixture app type-checks against the packed types (moduleResolution bundler, DOM)',
  {
    skip: !BUNDLERS.includes('vite'),
  },
  () => {
    const dir = join(WORK, 'vite');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir, '--noEmit'], {
      stdio: 'pipe',
    });
  },
);

function readIndex(out: string): string {
  return readFileSync(join(out, 'index.html'), 'utf8');
}

/** A page served without COOP/COEP: importing qemu-thread fails at once, naming the two headers. */
async function noIsolation(url: string): Promise<void> {
  const page = await browser.newPage();
  try {
    const error = page.waitForEvent('pageerror', { timeout: 30_000 });
    await page.goto(url);
    const message = (await error).message;
    assert.match(message, /cross-origin isolated/);
    assert.match(message, /Cross-Origin-Embedder-Policy: require-corp/);
  } finally {
    await page.close();
  }
}
