/**
 * Shared-memory placement common to every primitive: where its words live, how it crosses threads, and
 * how a structured clone becomes a full instance again.
 *
 * A primitive is a small run of 32-bit words in a SharedArrayBuffer, like a C struct embedded in
 * another. The JS object around it holds nothing but the buffer, the offset, a view of exactly those words
 * and a kind tag, all own enumerable properties: a structured clone (postMessage, workerData) therefore
 * arrives as a plain object with the same buffer, and the class's `from` (`QemuMutex.from(clone)`, ...)
 * or any `qemu_*` function turns it back into an instance of the right class ({@link reviveAs}).
 */
import { plausibleWord0, whatWord0Holds } from './owner.js';

/** The property that tags an object (or its structured clone) with its primitive kind. */
export const KIND_TAG = '__qemuKind';

/** What a primitive looks like after a structured clone. */
export interface StorageClone {
  readonly [KIND_TAG]: string;
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

export function isStorageClone(value: unknown): value is StorageClone {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[KIND_TAG] === 'string' &&
    (value as Record<string, unknown>).buffer instanceof SharedArrayBuffer &&
    typeof (value as Record<string, unknown>).byteOffset === 'number'
  );
}

/**
 * Constructors registered by kind, so that clones nested in a thread's argument can be revived. One map per
 * thread, on `globalThis` under a registered symbol: a second copy of the library in the thread (a
 * bundler's chunk beside a raw file) finds the kinds the first registered, and the first registration of
 * a kind stays. Instances of either copy are accepted by both, since every check is on the kind tag and
 * the fields, never `instanceof` alone.
 */
const KINDS = Symbol.for('qemu-thread.kinds');
const registry: Map<string, (clone: StorageClone) => SharedStorage> = ((
  globalThis as unknown as Record<symbol, Map<string, (clone: StorageClone) => SharedStorage> | undefined>
)[KINDS] ??= new Map());

export function registerKind(kind: string, revive: (clone: StorageClone) => SharedStorage): void {
  if (!registry.has(kind)) registry.set(kind, revive);
}

/** The base of every primitive: a fixed number of Int32 words at a 4-byte aligned offset of a SAB. */
export abstract class SharedStorage {
  /**
   * The primitive's kind, e.g. `'QemuMutex'`. A structured clone keeps it, which is how `from` and the
   * `qemu_*` functions recognize one.
   */
  readonly [KIND_TAG]: string;
  /** The SharedArrayBuffer holding this primitive's state. */
  readonly buffer: SharedArrayBuffer;
  /** Where in {@link buffer} the state starts, in bytes. */
  readonly byteOffset: number;
  /** Exactly this primitive's words; index 0 is its first word. */
  readonly words: Int32Array;

  protected constructor(kind: string, bytes: number, buffer?: SharedArrayBuffer, byteOffset = 0) {
    if (buffer === undefined) {
      buffer = new SharedArrayBuffer(bytes);
      byteOffset = 0;
    } else {
      checkPlacement(kind, bytes, buffer, byteOffset);
    }
    this[KIND_TAG] = kind;
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.words = new Int32Array(buffer, byteOffset, bytes >> 2);
    // Placed over memory that may already hold a primitive: it must not be another kind's (owner.ts).
    const word0 = Atomics.load(this.words, 0);
    if (!plausibleWord0(kind, word0)) {
      throw new TypeError(
        `new ${kind}(buffer, byteOffset): the memory at byte ${byteOffset} holds ${whatWord0Holds(word0)}, ` +
          `not a ${kind}`,
      );
    }
  }
}

function checkPlacement(kind: string, bytes: number, buffer: unknown, byteOffset: unknown): void {
  if (!(buffer instanceof SharedArrayBuffer)) {
    const what = buffer instanceof ArrayBuffer ? 'an ArrayBuffer (not shared)' : describeValue(buffer);
    throw new TypeError(`new ${kind}(buffer, byteOffset): expected a SharedArrayBuffer, got ${what}`);
  }
  if (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset < 0) {
    throw new RangeError(
      `new ${kind}(buffer, byteOffset): byteOffset must be a non-negative integer, got ${String(byteOffset)}`,
    );
  }
  if (byteOffset % 4 !== 0) {
    throw new RangeError(
      `new ${kind}(buffer, byteOffset): byteOffset must be a multiple of 4, got ${byteOffset}`,
    );
  }
  if (byteOffset + bytes > buffer.byteLength) {
    throw new RangeError(
      `new ${kind}(buffer, byteOffset): needs ${bytes} bytes at offset ${byteOffset}, ` +
        `but the buffer has only ${buffer.byteLength} bytes`,
    );
  }
}

/**
 * A value as an error message names it: `null`, `the number 3`, `the string 'x'`, `the function f`, `a
 * plain object`, `an array`, `a QemuMutex`, `a Date`. A primitive's copy that lost its shared memory (a
 * JSON round-trip keeps the kind tag but turns the SharedArrayBuffer into `{}`) says so, rather than
 * reading as the very kind that was expected.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `the string ${quote(value)}`;
    case 'bigint':
      return `the bigint ${value}n`;
    case 'number':
    case 'boolean':
      return `the ${typeof value} ${String(value)}`;
    case 'symbol':
      return `the symbol ${String(value)}`;
    case 'function':
      return value.name ? `the function ${value.name}` : 'an anonymous function';
  }
  const kind = (value as Record<string, unknown>)[KIND_TAG];
  if (typeof kind === 'string') {
    return isStorageClone(value)
      ? `a ${kind}`
      : `a copy of a ${kind} without its SharedArrayBuffer (a JSON copy?)`;
  }
  if (Array.isArray(value)) return 'an array';
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return 'an object without a prototype';
  if (proto === Object.prototype) return 'a plain object';
  const name = (value as object).constructor?.name;
  return name ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : 'an object';
}

/** A string as a message quotes it: in single quotes, at most 40 characters, control characters escaped. */
function quote(text: string): string {
  const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `'${JSON.stringify(cut).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** The TypeError for a value that is not the primitive a function expects. */
export function wrongKind(func: string, expected: string, value: unknown): TypeError {
  return new TypeError(`${func}: expected a ${expected}, got ${describeValue(value)}`);
}

/**
 * Turns a structured clone of `kind` into an instance through `make`, remembering the result so that a
 * clone passed to the functional API again and again is revived once.
 */
const revived = new WeakMap<object, SharedStorage>();

export function reviveAs<T extends SharedStorage>(
  value: unknown,
  kind: string,
  make: (clone: StorageClone) => T,
  func: string,
): T {
  if (typeof value === 'object' && value !== null) {
    const known = revived.get(value);
    if (known !== undefined && known[KIND_TAG] === kind) return known as T;
    if (isStorageClone(value) && value[KIND_TAG] === kind) {
      const instance = make(value);
      revived.set(value, instance);
      return instance;
    }
  }
  throw wrongKind(func, kind, value);
}

/**
 * Replaces every primitive clone found in `value` (at any depth of arrays, plain objects, Maps and Sets)
 * with a full instance, in place. Used on a thread's argument when it arrives in the new thread.
 */
export function reviveDeep(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  if (isStorageClone(value)) {
    const revive = registry.get(value[KIND_TAG]);
    return revive ? revive(value) : value;
  }
  if (ArrayBuffer.isView(value) || value instanceof SharedArrayBuffer || value instanceof ArrayBuffer) {
    return value;
  }
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveDeep(value[i], seen);
  } else if (value instanceof Map) {
    for (const [k, v] of value) value.set(k, reviveDeep(v, seen));
  } else if (value instanceof Set) {
    const items = [...value];
    value.clear();
    for (const item of items) value.add(reviveDeep(item, seen));
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = reviveDeep(record[key], seen);
  }
  return value;
}
