// The layering of the sources, checked on the files: primitives reach the instrumentation only through the
// park layer's hooks, and every futex operation of the library is the park layer's.
import assert from 'node:assert/strict';
import test from 'node:test';
import { filesUnder, readRoot } from './support/snippets.js';

const sources = filesUnder('src', (name) => name.endsWith('.ts'));
const primitives = sources.filter((file) => file.startsWith('src/primitives/'));

/** The modules a file imports, as written. */
function importsOf(file: string): string[] {
  return [...readRoot(file).matchAll(/^import[^;]*?from '([^']+)';/gms)].map((m) => m[1]);
}

test('no primitive imports tracing, the profiler, holder records, lock sites, deadlock or waits tables', () => {
  assert.ok(primitives.length >= 7, primitives.join());
  const instrumentation = /\/(trace\/|thread\/(deadlock|lock-sites|waits|liveness)\.js$|instrument\.js$)/;
  const bad = primitives.flatMap((file) =>
    importsOf(file)
      .filter((from) => instrumentation.test(from))
      .map((from) => `${file} imports ${from}`),
  );
  assert.deepEqual(bad, []);
});

test("every Atomics.wait, waitAsync and notify of the library is the park layer's", () => {
  // The platform layer's own sleep (a pause while a pipe is full) is not a wait on a primitive.
  const allowed = new Set(['src/park.ts', 'src/platform/node.ts']);
  const bad = sources
    .filter((file) => !allowed.has(file))
    .flatMap((file) =>
      readRoot(file)
        .split('\n')
        .map((line, i) => ({ line: line.replace(/\/\/.*$|^\s*\*.*$/, ''), at: `${file}:${i + 1}` }))
        .filter(({ line }) => /Atomics\.(wait|waitAsync|notify)\(/.test(line))
        .map(({ at }) => at),
    );
  assert.deepEqual(bad, []);
});
