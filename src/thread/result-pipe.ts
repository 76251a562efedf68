/**
 * How a thread's outcome reaches `qemu_thread_join` through shared memory alone, so that join works from
 * any thread, including one that blocks (Node's main thread too) and one that is not the creator.
 *
 * The outcome (return value, or thrown error) is serialized by structured clone. Its bytes go through a
 * fixed window inside the QemuThread's own storage: the first chunk is written when the thread exits, so a
 * small result needs no further hand-shake and the thread ends at once; a larger one is streamed chunk by
 * chunk, the exiting thread refilling the window each time the joiner has emptied it. Until then the
 * thread stays parked, like a POSIX thread that holds its exit status until it is joined. (So that its
 * creator cannot end first and take it down, only the main thread lets go of a finished thread.)
 *
 * The hand-shake word CHUNK counts half-steps: it is `2k + 1` while chunk k is in the window and `2k + 2`
 * once the reader has copied it. Each side changes CHUNK and then notifies, and parks only while CHUNK
 * still holds the value it last saw, so neither can miss the other's step.
 */
import { type ParkRequest, type ParkResult, park, wake } from '../park.js';

/** Word indexes of the pipe inside a QemuThread's storage (words 0-3 belong to thread.ts). */
export const OUTCOME = 4;
export const LENGTH = 5;
export const CHUNK = 6;
/** First byte of the window. */
export const WINDOW_OFFSET = 32;

/** What the bytes describe. */
export enum Outcome {
  /** The function returned (or called qemu_thread_exit) with the serialized value. */
  Returned = 0,
  /** The function threw; the bytes are an ErrorRecord. */
  Threw = 1,
  /** The thread function could not be loaded or is not a function; the bytes are a message. */
  BadFunction = 2,
}

function windowOf(words: Int32Array, windowBytes: number): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset + WINDOW_OFFSET, windowBytes);
}

/**
 * Writes the first chunk and the outcome. Returns true if more chunks remain for
 * {@link streamRemainingChunks}. The caller publishes the exit (its state word) after this returns.
 */
export function writeFirstChunk(
  words: Int32Array,
  windowBytes: number,
  outcome: Outcome,
  bytes: Uint8Array,
): boolean {
  Atomics.store(words, OUTCOME, outcome);
  Atomics.store(words, LENGTH, bytes.length);
  windowOf(words, windowBytes).set(bytes.subarray(0, windowBytes));
  Atomics.store(words, CHUNK, 1);
  return bytes.length > windowBytes;
}

/** Streams chunks 1, 2, ... of `bytes`, each after the reader has emptied the window. */
export function streamRemainingChunks(words: Int32Array, windowBytes: number, bytes: Uint8Array): void {
  const window = windowOf(words, windowBytes);
  for (let k = 1, at = windowBytes; at < bytes.length; k++, at += windowBytes) {
    const emptied = 2 * k;
    for (let seen = Atomics.load(words, CHUNK); seen !== emptied; seen = Atomics.load(words, CHUNK)) {
      park(words, CHUNK, seen);
    }
    window.set(bytes.subarray(at, at + windowBytes));
    Atomics.store(words, CHUNK, emptied + 1);
    wake(words, CHUNK, 1);
  }
}

/**
 * Reads the whole outcome; call once the state word says the thread has exited. A generator of the parks
 * it needs (park.ts: runBlocking, runAsync), none of them abortable: a joiner that stopped reading half-way
 * would leave the exiting thread parked for ever.
 */
export function* readOutcome(
  words: Int32Array,
  windowBytes: number,
): Generator<ParkRequest, { outcome: Outcome; bytes: Uint8Array }, ParkResult> {
  const outcome = Atomics.load(words, OUTCOME) as Outcome;
  const length = Atomics.load(words, LENGTH);
  const bytes = new Uint8Array(length);
  const window = windowOf(words, windowBytes);
  for (let k = 0, at = 0; at < length; k++, at += windowBytes) {
    const full = 2 * k + 1;
    for (let seen = Atomics.load(words, CHUNK); seen !== full; seen = Atomics.load(words, CHUNK)) {
      yield { words, index: CHUNK, expected: seen, abortable: false };
    }
    bytes.set(window.subarray(0, Math.min(windowBytes, length - at)), at);
    Atomics.store(words, CHUNK, full + 1);
    wake(words, CHUNK, 1);
  }
  return { outcome, bytes };
}
