// The browser platform's structured-clone codec (src/platform/clone-codec.ts), checked against Node's own
// structured clone (node:v8) for every kind of value a thread may return.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { QemuThreadError } from 'qemu-thread';
import { decodeClone, encodeClone } from '../src/platform/clone-codec.js';

const viaCodec = (value: unknown) => decodeClone(encodeClone(value));
const viaV8 = (value: unknown) => deserialize(serialize(value));

const buffer = new ArrayBuffer(16);
new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

const SAMPLES: Record<string, () => unknown> = {
  undefined: () => undefined,
  null: () => null,
  booleans: () => [true, false],
  numbers: () => [
    0,
    1,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    1.5,
    -1e300,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
  ],
  strings: () => ['', 'hello', 'héllo wörld', 'CPU 0/TCG 🚀', '\ud800 lone', 'x'.repeat(10_000)],
  bigints: () => [0n, 1n, -1n, 2n ** 200n, -(3n ** 99n)],
  'nested objects and arrays': () => ({ a: 1, b: [1, 'two', { c: null }], d: { e: { f: [[], {}] } } }),
  'array with holes': () => {
    const holes = [1, 2, 3, 4, 5];
    delete holes[1];
    delete holes[3];
    return holes;
  },
  Map: () =>
    new Map<unknown, unknown>([
      [1, 'one'],
      ['k', { v: [2] }],
      [{ o: 1 }, new Set([1])],
    ]),
  Set: () => new Set([1, 'a', 2n, null]),
  Date: () => [new Date(0), new Date(1_700_000_000_123), new Date(-8.64e15)],
  RegExp: () => [/a+b/gi, /^x$/msuy, /\d/d],
  ArrayBuffer: () => buffer,
  'typed arrays': () => [
    new Int8Array([-1, 2]),
    new Uint8Array([255]),
    new Uint8ClampedArray([7]),
    new Int16Array([-300]),
    new Uint16Array([65535]),
    new Int32Array([-70000]),
    new Uint32Array([4294967295]),
    new Float32Array([1.5]),
    new Float64Array([Math.PI]),
    new BigInt64Array([-5n]),
    new BigUint64Array([2n ** 64n - 1n]),
  ],
  'views into one buffer': () => ({ a: new Uint8Array(buffer, 4, 8), b: new DataView(buffer, 2, 6), buffer }),
  'boxed primitives': () => [Object(1), Object('s'), Object(true), Object(10n)],
  'keys named __proto__': () => JSON.parse('{"__proto__": {"polluted": 1}, "x": 2}'),
};

for (const [name, make] of Object.entries(SAMPLES)) {
  test(`clone codec: ${name} come back as v8's structured clone returns them`, () => {
    assert.deepStrictEqual(viaCodec(make()), viaV8(make()));
  });
}

test('clone codec: an invalid Date stays invalid', () => {
  const out = viaCodec(new Date(Number.NaN)) as Date;
  assert.ok(out instanceof Date);
  assert.ok(Number.isNaN(out.getTime()));
});

test('clone codec: NaN and -0 keep their identity', () => {
  const [nan, negZero, zero] = viaCodec([Number.NaN, -0, 0]) as number[];
  assert.ok(Number.isNaN(nan));
  assert.ok(Object.is(negZero, -0));
  assert.ok(Object.is(zero, 0));
});

test('clone codec: views of one buffer still share it, as in a structured clone', () => {
  const out = viaCodec(SAMPLES['views into one buffer']()) as {
    a: Uint8Array;
    b: DataView;
    buffer: ArrayBuffer;
  };
  assert.equal(out.a.buffer, out.buffer);
  assert.equal(out.b.buffer, out.buffer);
  out.a[0] = 99;
  assert.equal(new Uint8Array(out.buffer)[4], 99);
});

test('clone codec: shared references and cycles come back as the same objects', () => {
  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = { shared, again: shared, list: [shared] };
  cyclic.self = cyclic;
  const map = new Map<string, unknown>();
  map.set('me', map);
  cyclic.map = map;
  const out = viaCodec(cyclic) as Record<string, unknown> & { list: unknown[]; map: Map<string, unknown> };
  assert.equal(out.self, out);
  assert.equal(out.shared, out.again);
  assert.equal(out.list[0], out.shared);
  assert.equal(out.map.get('me'), out.map);
  assert.deepStrictEqual(out.shared, { s: 1 });
});

test('clone codec: errors keep their class, name, message, stack and cause, and their own fields', () => {
  const plain = new RangeError('out of range', { cause: { why: 'test' } });
  const out = viaCodec(plain) as RangeError;
  assert.ok(out instanceof RangeError);
  assert.equal(out.message, 'out of range');
  assert.equal(out.stack, plain.stack);
  assert.deepStrictEqual(out.cause, { why: 'test' });

  const custom = new Error('custom');
  custom.name = 'MyError';
  const back = viaCodec(custom) as Error;
  assert.equal(back.name, 'MyError');
  assert.equal(back.message, 'custom');

  // A QemuThreadError's code, errno and func survive (a plain structured clone would drop them).
  const qemu = new QemuThreadError('EPERM', 'qemu_mutex_unlock', 'not the owner');
  const q = viaCodec(qemu) as Error & { code: string; errno: number; func: string };
  assert.equal(q.name, 'QemuThreadError');
  assert.equal(q.message, qemu.message);
  assert.equal(q.code, 'EPERM');
  assert.equal(q.errno, 1);
  assert.equal(q.func, 'qemu_mutex_unlock');
  assert.equal(q.stack, qemu.stack);
});

test('clone codec: what a structured clone refuses, it refuses with a DataCloneError', () => {
  for (const bad of [
    () => 1,
    Symbol('s'),
    { f() {} },
    new SharedArrayBuffer(4),
    new WeakMap(),
    Promise.resolve(),
  ]) {
    assert.throws(() => viaV8(bad));
    assert.throws(
      () => encodeClone(bad),
      (e: unknown) =>
        e instanceof Error && e.name === 'DataCloneError' && /could not be cloned/.test(e.message),
    );
  }
});

test('clone codec: small results stay small (they go through a 224-byte window)', () => {
  const result = { index: 3, initOrder: 3, rows: 1234, name: 'CPU 3/TCG' };
  assert.ok(encodeClone(result).length <= serialize(result).length * 2, 'within twice v8’s size');
  assert.ok(encodeClone(result).length < 100);
});

test('clone codec: random JSON-like values round-trip exactly', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.deepStrictEqual(viaCodec(value), viaV8(value));
    }),
    { numRuns: 300 },
  );
});
