/**
 * A structured clone to bytes and back, for runtimes without `node:v8` (browsers): a thread's result or
 * thrown error travels to its joiner as bytes through shared memory (see thread/result-pipe.ts), so it must
 * become bytes in one thread and a value in another, without a message port.
 *
 * Supported, as the HTML structured clone does them: undefined, null, booleans, numbers (NaN and -0 kept),
 * strings (as UTF-16 code units, so lone surrogates survive), bigints, arrays (holes kept as holes, extra
 * named properties dropped), plain objects (own enumerable string keys), Map, Set, Date, RegExp,
 * ArrayBuffer, typed arrays and DataView (sharing their buffer with other views of it, as a clone does),
 * boxed primitives, and Errors (name, message, stack, cause, plus their other own enumerable properties
 * such as `code`, `errno` and `func`, which a plain structured clone would drop). Repeated objects and
 * cycles come back as the same object. Anything else (functions, symbols, SharedArrayBuffer, class
 * instances beyond their own fields are not special-cased: class instances come back as plain objects)
 * throws a `DataCloneError`, as `structuredClone` would.
 *
 * Format: a tag byte per value, then its payload; little-endian; lengths, counts and small integers are
 * LEB128 varints (compact, because a result goes through a 224-byte window and more needs a hand-shake). Objects are numbered in
 * the order they are first met, and a later occurrence is a REF to that number.
 */
import { BUILTIN_ERRORS } from '../builtin-errors.js';

enum Tag {
  Undefined = 0,
  Null = 1,
  True = 2,
  False = 3,
  Number = 4,
  String = 5,
  BigInt = 6,
  Array = 7,
  Hole = 8,
  Object = 9,
  Map = 10,
  Set = 11,
  Date = 12,
  RegExp = 13,
  ArrayBuffer = 14,
  View = 15,
  Error = 16,
  Ref = 17,
  Boxed = 18,
  /** A number that is an int32 (and not -0): 4 bytes instead of 8. */
  Int32 = 19,
  /** A string whose code units all fit in a byte: 1 byte each instead of 2. */
  Latin1 = 20,
}

/** Typed array constructors by the index written in the bytes; DataView is handled as one of them. */
const VIEWS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

function cloneError(what: string): Error {
  const error = new Error(`${what} could not be cloned.`);
  error.name = 'DataCloneError';
  return error;
}

function fitsLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

class Writer {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** An unsigned 32-bit number as a LEB128 varint: 1 byte below 128, at most 5. */
  u32(value: number): void {
    this.reserve(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.bytes[this.length++] = v;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  string(value: string): void {
    this.u32(value.length);
    this.reserve(2 * value.length);
    for (let i = 0; i < value.length; i++) {
      this.view.setUint16(this.length, value.charCodeAt(i), true);
      this.length += 2;
    }
  }

  latin1(value: string): void {
    this.u32(value.length);
    this.reserve(value.length);
    for (let i = 0; i < value.length; i++) this.bytes[this.length++] = value.charCodeAt(i);
  }

  raw(data: Uint8Array): void {
    this.u32(data.length);
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class Encoder {
  readonly out = new Writer();
  private readonly seen = new Map<object, number>();

  value(value: unknown): void {
    const out = this.out;
    switch (typeof value) {
      case 'undefined':
        out.u8(Tag.Undefined);
        break;
      case 'boolean':
        out.u8(value ? Tag.True : Tag.False);
        break;
      case 'number':
        if ((value | 0) === value && !Object.is(value, -0)) {
          out.u8(Tag.Int32);
          // Zigzag, so that small negative numbers are small varints too.
          out.u32((value << 1) ^ (value >> 31));
        } else {
          out.u8(Tag.Number);
          out.f64(value);
        }
        break;
      case 'string':
        // Results go through a small window in shared memory: the compact form keeps most in one chunk.
        if (fitsLatin1(value)) {
          out.u8(Tag.Latin1);
          out.latin1(value);
        } else {
          out.u8(Tag.String);
          out.string(value);
        }
        break;
      case 'bigint':
        out.u8(Tag.BigInt);
        out.string(value.toString(16));
        break;
      case 'symbol':
        throw cloneError(String(value));
      case 'function':
        throw cloneError(`function ${value.name || '(anonymous)'}`);
      default:
        if (value === null) out.u8(Tag.Null);
        else this.object(value as object);
    }
  }

  private object(value: object): void {
    const out = this.out;
    const ref = this.seen.get(value);
    if (ref !== undefined) {
      out.u8(Tag.Ref);
      out.u32(ref);
      return;
    }
    if (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer) {
      throw cloneError('#<SharedArrayBuffer>');
    }
    this.seen.set(value, this.seen.size);
    if (Array.isArray(value)) {
      out.u8(Tag.Array);
      out.u32(value.length);
      for (let i = 0; i < value.length; i++) {
        if (i in value) this.value(value[i]);
        else out.u8(Tag.Hole);
      }
    } else if (value instanceof Map) {
      out.u8(Tag.Map);
      out.u32(value.size);
      for (const [k, v] of value) {
        this.value(k);
        this.value(v);
      }
    } else if (value instanceof Set) {
      out.u8(Tag.Set);
      out.u32(value.size);
      for (const v of value) this.value(v);
    } else if (value instanceof Date) {
      out.u8(Tag.Date);
      out.f64(value.getTime());
    } else if (value instanceof RegExp) {
      out.u8(Tag.RegExp);
      this.value(value.source);
      this.value(value.flags);
    } else if (value instanceof ArrayBuffer) {
      out.u8(Tag.ArrayBuffer);
      out.raw(new Uint8Array(value));
    } else if (ArrayBuffer.isView(value)) {
      const kind = VIEWS.findIndex((C) => value instanceof C);
      if (kind < 0) throw cloneError(Object.prototype.toString.call(value));
      out.u8(Tag.View);
      out.u8(kind);
      // The buffer goes through value(), so two views of one buffer share it again on the other side.
      this.value(value.buffer);
      out.u32(value.byteOffset);
      out.u32(value instanceof DataView ? value.byteLength : (value as Uint8Array).length);
    } else if (value instanceof Error) {
      out.u8(Tag.Error);
      this.value(String(value.name));
      this.value(String(value.message));
      this.value(typeof value.stack === 'string' ? value.stack : undefined);
      this.value('cause' in value ? value.cause : undefined);
      out.u8('cause' in value ? 1 : 0);
      const extra = Object.keys(value).filter((k) => k !== 'name' && k !== 'message' && k !== 'cause');
      this.fields(value as unknown as Record<string, unknown>, extra);
    } else if (
      value instanceof Number ||
      value instanceof String ||
      value instanceof Boolean ||
      value instanceof BigInt
    ) {
      out.u8(Tag.Boxed);
      this.value(value.valueOf());
    } else {
      if (
        value instanceof Promise ||
        value instanceof WeakMap ||
        value instanceof WeakSet ||
        (typeof WeakRef === 'function' && value instanceof WeakRef)
      ) {
        throw cloneError(Object.prototype.toString.call(value));
      }
      out.u8(Tag.Object);
      this.fields(value as Record<string, unknown>, Object.keys(value));
    }
  }

  private fields(value: Record<string, unknown>, keys: string[]): void {
    this.out.u32(keys.length);
    for (const key of keys) {
      this.value(key);
      this.value(value[key]);
    }
  }
}

class Decoder {
  private at = 0;
  private readonly view: DataView;
  private readonly objects: unknown[] = [];

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private u8(): number {
    if (this.at >= this.bytes.length) throw new RangeError('clone-codec: truncated data');
    return this.bytes[this.at++];
  }

  private u32(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.u8();
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
  }

  private f64(): number {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  private string(): string {
    const length = this.u32();
    let text = '';
    // In slices, so that a long string does not build one code unit at a time.
    for (let i = 0; i < length; i += 4096) {
      const n = Math.min(4096, length - i);
      const units = new Array<number>(n);
      for (let j = 0; j < n; j++) units[j] = this.view.getUint16(this.at + 2 * (i + j), true);
      text += String.fromCharCode(...units);
    }
    this.at += 2 * length;
    return text;
  }

  private keep<T>(value: T): T {
    this.objects.push(value);
    return value;
  }

  value(): unknown {
    const tag = this.u8() as Tag;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Number:
        return this.f64();
      case Tag.Int32: {
        const zigzag = this.u32();
        return (zigzag >>> 1) ^ -(zigzag & 1);
      }
      case Tag.String:
        return this.string();
      case Tag.Latin1: {
        const length = this.u32();
        let text = '';
        for (let i = 0; i < length; i += 4096) {
          text += String.fromCharCode(
            ...this.bytes.subarray(this.at + i, this.at + Math.min(length, i + 4096)),
          );
        }
        this.at += length;
        return text;
      }
      case Tag.BigInt: {
        const hex = this.string();
        return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
      }
      case Tag.Ref:
        return this.objects[this.u32()];
      case Tag.Array: {
        const length = this.u32();
        const array = this.keep(new Array<unknown>(length));
        for (let i = 0; i < length; i++) {
          if (this.bytes[this.at] === Tag.Hole) this.at++;
          else array[i] = this.value();
        }
        return array;
      }
      case Tag.Map: {
        const map = this.keep(new Map<unknown, unknown>());
        for (let n = this.u32(); n > 0; n--) {
          const k = this.value();
          map.set(k, this.value());
        }
        return map;
      }
      case Tag.Set: {
        const set = this.keep(new Set<unknown>());
        for (let n = this.u32(); n > 0; n--) set.add(this.value());
        return set;
      }
      case Tag.Date:
        return this.keep(new Date(this.f64()));
      case Tag.RegExp: {
        const slot = this.objects.length;
        this.objects.push(undefined);
        const source = this.value() as string;
        const regexp = new RegExp(source, this.value() as string);
        this.objects[slot] = regexp;
        return regexp;
      }
      case Tag.ArrayBuffer: {
        const length = this.u32();
        const buffer = this.keep(this.bytes.slice(this.at, this.at + length).buffer);
        this.at += length;
        return buffer;
      }
      case Tag.View: {
        const slot = this.objects.length;
        this.objects.push(undefined);
        const Ctor = VIEWS[this.u8()] as unknown as new (
          b: ArrayBuffer,
          offset: number,
          length: number,
        ) => unknown;
        const buffer = this.value() as ArrayBuffer;
        const offset = this.u32();
        const view = new Ctor(buffer, offset, this.u32());
        this.objects[slot] = view;
        return view;
      }
      case Tag.Error: {
        const slot = this.objects.length;
        this.objects.push(undefined);
        const name = this.value() as string;
        const message = this.value() as string;
        const Ctor = BUILTIN_ERRORS[name] ?? Error;
        const error = new Ctor(message) as Error & Record<string, unknown>;
        this.objects[slot] = error;
        if (error.name !== name) {
          Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true });
        }
        const stack = this.value();
        if (typeof stack === 'string') {
          Object.defineProperty(error, 'stack', { value: stack, configurable: true, writable: true });
        } else {
          delete error.stack;
        }
        const cause = this.value();
        if (this.u8() === 1) {
          Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
        }
        this.fields(error);
        return error;
      }
      case Tag.Boxed: {
        const slot = this.objects.length;
        this.objects.push(undefined);
        const boxed = Object(this.value());
        this.objects[slot] = boxed;
        return boxed;
      }
      case Tag.Object: {
        const object = this.keep({} as Record<string, unknown>);
        this.fields(object);
        return object;
      }
      default:
        throw new RangeError(`clone-codec: unknown tag ${String(tag)} at byte ${this.at - 1}`);
    }
  }

  private fields(target: Record<string, unknown>): void {
    for (let n = this.u32(); n > 0; n--) {
      const key = this.value() as string;
      // defineProperty, so that a key named __proto__ is data, not the prototype.
      Object.defineProperty(target, key, {
        value: this.value(),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
}

/** The bytes of a structured clone of `value`; throws a DataCloneError for what cannot be cloned. */
export function encodeClone(value: unknown): Uint8Array {
  const encoder = new Encoder();
  encoder.value(value);
  return encoder.out.result();
}

/** The value that {@link encodeClone} turned into `bytes`. */
export function decodeClone(bytes: Uint8Array): unknown {
  return new Decoder(bytes).value();
}
