/**
 * Production modules of the library that the package does not export, for the scenarios that need them:
 * loaded from beside `qemu-thread/internal/thread`, which imports them itself, so they are the very module
 * instances the library uses (never a copy of their code or constants). A scenario that re-writes part of
 * a protocol (test/model/broken/thread.ts) takes the protocol's layout from here: a change of the layout
 * then reaches it instead of breaking it in silence.
 */

/** src/thread/result-pipe.ts: the join's result pipe. */
export interface ResultPipe {
  OUTCOME: number;
  LENGTH: number;
  CHUNK: number;
  /** The first byte of the window in a QemuThread's storage. */
  WINDOW_OFFSET: number;
  WRITER_GONE: number;
  READER_GONE: number;
  /** What the pipe's bytes are. */
  Outcome: { Returned: number; Threw: number; BadFunction: number };
  /** The creator's notice that the writer has ended (thread.ts, reportAbnormalExit). */
  writerEnded(words: Int32Array, windowBytes: number): void;
}

const threadModule = import.meta.resolve('qemu-thread/internal/thread');

export const resultPipe = (await import(new URL('./result-pipe.js', threadModule).href)) as ResultPipe;

for (const key of ['OUTCOME', 'LENGTH', 'CHUNK', 'WINDOW_OFFSET', 'WRITER_GONE', 'READER_GONE'] as const) {
  if (typeof resultPipe[key] !== 'number') throw new Error(`model checker: result-pipe.js has no ${key}`);
}
if (typeof resultPipe.writerEnded !== 'function' || typeof resultPipe.Outcome?.Threw !== 'number') {
  throw new Error('model checker: result-pipe.js has no writerEnded or Outcome');
}
