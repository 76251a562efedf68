/**
 * What misuse messages say about the value they were given (layout.ts: describeValue): a plain object,
 * an array, a string or a number by name, a function by its name rather than its source, and a primitive's
 * JSON copy (its kind tag kept, its SharedArrayBuffer lost) as what it is, never as the very kind that was
 * expected. Also threadFunction's checks of what it is given from JavaScript.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QemuMutex, QemuThread, qemu_mutex_lock, qemu_thread_join, threadFunction } from 'qemu-thread';

const typeError = (message: string) => ({ name: 'TypeError', message });

test('a value that is not the expected primitive is named as what it is', () => {
  const cases: [unknown, string][] = [
    [{}, 'a plain object'],
    [Object.create(null), 'an object without a prototype'],
    [[1, 2], 'an array'],
    [new Date(0), 'a Date'],
    [new Error('x'), 'an Error'],
    [new Uint8Array(1), 'a Uint8Array'],
    ['vcpu', "the string 'vcpu'"],
    ["it's\n", "the string 'it\\'s\\n'"],
    ['x'.repeat(50), `the string '${'x'.repeat(40)}…'`],
    [3, 'the number 3'],
    [true, 'the boolean true'],
    [5n, 'the bigint 5n'],
    [Symbol('s'), 'the symbol Symbol(s)'],
    [function named() {}, 'the function named'],
    [null, 'null'],
    [undefined, 'undefined'],
  ];
  for (const [value, described] of cases) {
    assert.throws(
      () => qemu_mutex_lock(value as QemuMutex),
      typeError(`qemu_mutex_lock: expected a QemuMutex, got ${described}`),
    );
  }
  assert.throws(
    () => qemu_thread_join(QemuMutex.create() as unknown as QemuThread),
    typeError('qemu_thread_join: expected a QemuThread, got a QemuMutex'),
  );
});

test("a primitive's JSON copy says that it lost its SharedArrayBuffer", () => {
  const copy = JSON.parse(JSON.stringify(QemuMutex.create()));
  assert.throws(
    () => qemu_mutex_lock(copy),
    typeError(
      'qemu_mutex_lock: expected a QemuMutex, got a copy of a QemuMutex without its SharedArrayBuffer (a JSON copy?)',
    ),
  );
  assert.throws(
    () => QemuThread.from(JSON.parse(JSON.stringify(new QemuThread()))),
    typeError(
      'QemuThread.from: expected a QemuThread, got a copy of a QemuThread without its SharedArrayBuffer (a JSON copy?)',
    ),
  );
});

test('threadFunction names the module and the export; from JavaScript, it checks both', () => {
  type Mod = { run(n: number): number };
  const fromMod = threadFunction<Mod>();
  const url = fromMod(new URL('file:///app/mod.js'), 'run');
  assert.ok(url instanceof URL);
  assert.equal(url.href, 'file:///app/mod.js#run');
  assert.equal(threadFunction<{ 'a b%': () => void }>()(new URL('file:///m.js'), 'a b%').hash, '#a%20b%25');
  assert.equal(fromMod('vcpu', 'run'), 'vcpu#run');
  const untyped = threadFunction<Record<string, (arg: never) => unknown>>() as unknown as (
    module: unknown,
    name: unknown,
  ) => unknown;
  assert.throws(
    () => untyped(new URL('file:///m.js'), 3),
    typeError("threadFunction: expected the export's name as a string, got the number 3"),
  );
  assert.throws(
    () => untyped(new URL('file:///m.js#run'), 'run'),
    typeError(
      'threadFunction: the module URL file:///m.js#run has a fragment already; pass the module alone and the export as the name',
    ),
  );
  assert.throws(
    () => untyped('vcpu#run', 'run'),
    typeError(
      "threadFunction: the module 'vcpu#run' has a fragment already; pass the module alone and the export as the name",
    ),
  );
  assert.throws(
    () => untyped(42, 'run'),
    typeError('threadFunction: expected the module as a URL or a string, got the number 42'),
  );
});
