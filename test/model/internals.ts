/**
 * Production modules of the library that the package does not export, for the scenarios that need them:
 * the join's result pipe (src/thread/result-pipe.ts). A scenario that re-writes part of a protocol
 * (test/model/broken/thread.ts) takes the protocol's layout from here, so that a change of the layout
 * reaches it instead of breaking it in silence; the model of a thread's creator (scenarios/kill.ts) calls
 * the pipe's own `writerEnded`.
 *
 * On Node the library is one prebuilt file (dist/node/library.js, tools/bundle-node.mjs) whose entries do
 * not export the pipe, so it is loaded from tsc's build of the same source, beside the module that the
 * package's `#internal/thread` names for other runtimes (dist/thread/). That is a second instance of the
 * pipe's module (and of park.ts, which it imports), the same code: harmless here, since what is used holds
 * no state of its own (constants, and `writerEnded`: atomics on the thread's words, and park.ts's `wake`,
 * whose count of pending async waits is a process-wide block every copy shares).
 */
import { readFileSync } from 'node:fs';

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

const packageJson = new URL(import.meta.resolve('qemu-thread/package.json'));
const imports = JSON.parse(readFileSync(packageJson, 'utf8')).imports as Record<string, { default: string }>;
const threadModule = new URL(imports['#internal/thread'].default, packageJson);

export const resultPipe = (await import(new URL('./result-pipe.js', threadModule).href)) as ResultPipe;

for (const key of ['OUTCOME', 'LENGTH', 'CHUNK', 'WINDOW_OFFSET', 'WRITER_GONE', 'READER_GONE'] as const) {
  if (typeof resultPipe[key] !== 'number') throw new Error(`model checker: result-pipe.js has no ${key}`);
}
if (typeof resultPipe.writerEnded !== 'function' || typeof resultPipe.Outcome?.Threw !== 'number') {
  throw new Error('model checker: result-pipe.js has no writerEnded or Outcome');
}
