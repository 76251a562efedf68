/**
 * A table of short strings in shared memory that every thread can read, keyed by a number (a thread id, a
 * mutex number): thread names, and where locks were taken and waited for.
 *
 * State: a process-wide buffer (platform.processShared) of SLOTS fixed-size slots, a slot per key modulo
 * SLOTS: an Int32 tag, `key + 1` once the slot holds that key's text (-1 while it is being written, 0
 * never written), then up to `bytes - 4` bytes of UTF-8, zero-padded. Each slot has one writer at a time
 * (a thread writes its own entries). A reader checks the tag before and after copying the bytes, so it
 * returns either the text of that key or null, never another key's text nor a half-written one (a
 * reader that races a rewrite gets null or one of the two texts).
 */
import { platform } from './platform/index.js';

export class SharedStringTable {
  readonly #tags: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #slots: number;
  readonly #stride: number;

  /** `slots` must be a power of two; `stride` (bytes per slot, tag included) a multiple of 4. */
  constructor(key: string, slots: number, stride: number) {
    const buffer = platform.processShared(key, slots * stride);
    this.#tags = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#slots = slots;
    this.#stride = stride;
  }

  write(key: number, text: string): void {
    const slot = key & (this.#slots - 1);
    const at = slot * this.#stride;
    const encoded = new TextEncoder().encode(text).slice(0, this.#stride - 4);
    Atomics.store(this.#tags, at / 4, -1);
    this.#bytes.fill(0, at + 4, at + this.#stride);
    this.#bytes.set(encoded, at + 4);
    Atomics.store(this.#tags, at / 4, key + 1);
  }

  /**
   * Removes `key`'s text (a no-op if its slot now belongs to another key). True if this call removed it:
   * of two threads that forget a key at once, one alone gets true.
   */
  forget(key: number): boolean {
    const at = (key & (this.#slots - 1)) * this.#stride;
    return Atomics.compareExchange(this.#tags, at / 4, key + 1, 0) === key + 1;
  }

  /** The keys that have a text now (one per slot at most), in slot order. */
  keys(): number[] {
    const keys: number[] = [];
    for (let slot = 0; slot < this.#slots; slot++) {
      const tag = Atomics.load(this.#tags, (slot * this.#stride) / 4);
      if (tag > 0) keys.push(tag - 1);
    }
    return keys;
  }

  /** The text last written for `key`, or null if none is (or its slot now belongs to another key). */
  read(key: number): string | null {
    const at = (key & (this.#slots - 1)) * this.#stride;
    if (Atomics.load(this.#tags, at / 4) !== key + 1) return null;
    const raw = this.#bytes.slice(at + 4, at + this.#stride);
    if (Atomics.load(this.#tags, at / 4) !== key + 1) return null;
    const end = raw.indexOf(0);
    return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  }
}
