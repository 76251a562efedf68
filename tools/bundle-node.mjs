// Builds the library for Node.js (and the runtimes that pose as Node: Deno, Bun) as a few prebuilt files in
// dist/node/, which the package's "node" export condition points at. Run after tsc: node tools/bundle-node.mjs
//
// Why: every new thread loads the library before it runs its function. As ~40 separate ES modules that
// costs a worker ~20 ms of module resolution and loading (more than the worker's own boot); as one file it
// costs a few. Entry points share their code through one chunk, so the trampoline, the public entry and the
// internal entries (bench, model checker) are one copy of the library in a thread, never two.
//
// The browser platform is left out (a Node thread never selects it); dist/*.js, built by tsc, stays the
// build for browsers and bundlers, which need the files as they are (new URL(..., import.meta.url)).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const out = new URL('dist/node/', root).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** Replaces the browser platform with a stub: a Node thread never calls it. */
const noBrowserPlatform = {
  name: 'no-browser-platform',
  setup(b) {
    b.onResolve({ filter: /^\.\/browser\.js$/ }, (args) =>
      args.importer.endsWith('/src/platform/index.ts')
        ? { path: 'browser-platform', namespace: 'stub' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "export function createBrowserPlatform() { throw new Error('qemu-thread: the Node.js build has no browser platform'); }",
      loader: 'js',
    }));
  },
};

/** The entry modules, beside the library file: each re-exports its names from it (none has code of its own). */
const ENTRIES = {
  index: 'index.js',
  park: 'park.js',
  mutex: 'primitives/mutex.js',
  thread: 'thread/thread.js',
};

// One library file holds everything the entries export, and the trampoline's runThread.
const library = Object.values(ENTRIES)
  .map((path) => `export * from './src/${path.replace(/\.js$/, '.ts')}';`)
  .concat("export { runThread } from './src/thread/trampoline.ts';")
  .join('\n');

await build({
  absWorkingDir: new URL('.', root).pathname,
  stdin: {
    contents: library,
    resolveDir: new URL('.', root).pathname,
    sourcefile: 'node-library.ts',
    loader: 'ts',
  },
  outfile: `${out}library.js`,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // Smaller to parse, names kept: stack traces and call sites stay readable, and the source map leads to src/.
  minifyWhitespace: true,
  minifySyntax: true,
  // Class and function names as in the source: messages use them (`expected a QemuMutex`).
  keepNames: true,
  sourcemap: true,
  plugins: [noBrowserPlatform],
  logLevel: 'warning',
});

// Each entry exports exactly the names its module exports (read from tsc's build of it).
for (const [name, path] of Object.entries(ENTRIES)) {
  const names = Object.keys(await import(new URL(`dist/${path}`, root).href)).sort();
  writeFileSync(`${out}${name}.js`, `export { ${names.join(', ')} } from './library.js';\n`);
}
writeFileSync(`${out}entry.js`, "import { runThread } from './library.js';\n\nawait runThread();\n");
