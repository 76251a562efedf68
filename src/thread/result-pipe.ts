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
 *
 * Either side can end in the middle (terminated, its runtime gone, a cancelled join), and the other must
 * not wait for it for ever. So each side parks in slices of PEER_CHECK_MS and, whenever a slice passes with
 * no step, asks whether its peer is still alive; a side that finds its peer gone, or gives up itself,
 * moves CHUNK to WRITER_GONE or READER_GONE with a compareExchange from the value it saw (so a step that
 * landed meanwhile wins) and notifies. The writer then stops streaming; the reader fails. The thread's
 * creator also marks WRITER_GONE as soon as it sees the worker end (thread.ts), so a joiner learns of a
 * terminated writer at once rather than after a slice.
 */
import { type ParkRequest, type ParkResult, park, wake } from '../park.js';

/** Word indexes of the pipe inside a QemuThread's storage (words 0-3 and 7-11 belong to thread.ts). */
export const OUTCOME = 4;
export const LENGTH = 5;
export const CHUNK = 6;
/** First byte of the window. */
export const WINDOW_OFFSET = 48;
/** CHUNK once the writer ended before writing the last chunk: the outcome is lost. */
export const WRITER_GONE = -1;
/** CHUNK once the reader gave up or ended before reading the last chunk: the writer stops. */
export const READER_GONE = -2;
/** How long either side sleeps before it looks whether its peer is still there. */
const PEER_CHECK_MS = 100;

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

/**
 * Streams chunks 1, 2, ... of `bytes`, each after the reader has emptied the window. Returns false if the
 * transfer was broken off (the reader gave up, or `readerGone()` said it ended), true once all was read.
 */
export function streamRemainingChunks(
  words: Int32Array,
  windowBytes: number,
  bytes: Uint8Array,
  readerGone: () => boolean,
): boolean {
  const window = windowOf(words, windowBytes);
  for (let k = 1, at = windowBytes; at < bytes.length; k++, at += windowBytes) {
    const emptied = 2 * k;
    for (let seen = Atomics.load(words, CHUNK); seen !== emptied; seen = Atomics.load(words, CHUNK)) {
      if (seen < 0) return false;
      if (park(words, CHUNK, seen, PEER_CHECK_MS) === 'timed-out' && readerGone()) {
        giveUp(words, seen, READER_GONE);
      }
    }
    window.set(bytes.subarray(at, at + windowBytes));
    Atomics.store(words, CHUNK, emptied + 1);
    wake(words, CHUNK, 1);
  }
  return true;
}

/** Ends the transfer from one side: CHUNK `seen` -> `gone`, unless the other side moved it meanwhile. */
function giveUp(words: Int32Array, seen: number, gone: number): void {
  if (Atomics.compareExchange(words, CHUNK, seen, gone) === seen)
    wake(words, CHUNK, Number.POSITIVE_INFINITY);
}

/**
 * Called when the writer is known to have ended (by its creator): breaks off a transfer that had not
 * written its last chunk yet, so the reader fails instead of waiting. A finished transfer is left alone.
 */
export function writerEnded(words: Int32Array, windowBytes: number): void {
  const chunks = Math.ceil(Atomics.load(words, LENGTH) / windowBytes);
  const lastFull = 2 * (chunks - 1) + 1;
  for (
    let seen = Atomics.load(words, CHUNK);
    seen >= 0 && seen < lastFull;
    seen = Atomics.load(words, CHUNK)
  ) {
    if (Atomics.compareExchange(words, CHUNK, seen, WRITER_GONE) === seen) {
      wake(words, CHUNK, Number.POSITIVE_INFINITY);
      return;
    }
  }
}

/** Why {@link readOutcome} could not read the whole outcome. */
export class TransferBroken extends Error {
  constructor(readonly side: 'writer' | 'reader') {
    super(side === 'writer' ? 'the writer ended' : 'an earlier reader read part of it');
  }
}

/**
 * Reads the whole outcome; call once the state word says the thread has exited. A generator of the parks
 * it needs (park.ts: runBlocking, runAsync). The parks can be cancelled: a reader that stops half-way
 * (its join was cancelled) tells the writer, which then stops streaming. Throws {@link TransferBroken} if
 * the writer ended before the last chunk (`writerGone()` is asked after each slice with no step), or if an
 * earlier reader had already taken part of a streamed outcome (and ended in the middle).
 */
export function* readOutcome(
  words: Int32Array,
  windowBytes: number,
  writerGone: () => boolean,
): Generator<ParkRequest, { outcome: Outcome; bytes: Uint8Array }, ParkResult> {
  const outcome = Atomics.load(words, OUTCOME) as Outcome;
  const length = Atomics.load(words, LENGTH);
  const bytes = new Uint8Array(length);
  const window = windowOf(words, windowBytes);
  // A single chunk stays in the window once copied: a reader that follows one that ended may read it again.
  const single = length <= windowBytes;
  let done = false;
  try {
    for (let k = 0, at = 0; at < length; k++, at += windowBytes) {
      const full = 2 * k + 1;
      for (let seen = Atomics.load(words, CHUNK); seen !== full; seen = Atomics.load(words, CHUNK)) {
        if (single && seen === full + 1) break;
        if (seen === WRITER_GONE) throw new TransferBroken('writer');
        if (seen < 0 || seen > full) throw new TransferBroken('reader');
        const result = yield {
          words,
          index: CHUNK,
          expected: seen,
          abortable: true,
          timeoutMs: PEER_CHECK_MS,
        };
        if (result === 'timed-out' && writerGone()) giveUp(words, seen, WRITER_GONE);
      }
      bytes.set(window.subarray(0, Math.min(windowBytes, length - at)), at);
      Atomics.store(words, CHUNK, full + 1);
      wake(words, CHUNK, 1);
    }
    done = true;
  } finally {
    // Cancelled or broken off: a writer still streaming must not wait for this reader any longer.
    // (A loop: the writer may step between the load and the compareExchange.)
    if (!done) {
      let seen = Atomics.load(words, CHUNK);
      while (seen >= 0 && Atomics.compareExchange(words, CHUNK, seen, READER_GONE) !== seen) {
        seen = Atomics.load(words, CHUNK);
      }
      wake(words, CHUNK, Number.POSITIVE_INFINITY);
    }
  }
  return { outcome, bytes };
}
