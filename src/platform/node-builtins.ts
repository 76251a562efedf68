/**
 * The Node.js built-in modules that node.ts uses, loaded with `process.getBuiltinModule` rather than
 * imported: a static `import ... from 'node:fs'` would stop every bundler that builds for the browser
 * ("Could not resolve node:fs"), and a dynamic `import()` would need a top-level await, which
 * `require('qemu-thread')` (Node's require of an ES module) refuses. Outside Node every name here is
 * undefined, and node.ts is never used there.
 */
import type * as fs from 'node:fs';
import type * as nodeModule from 'node:module';
import type * as os from 'node:os';
import type * as url from 'node:url';
import type * as v8 from 'node:v8';
import type * as workerThreads from 'node:worker_threads';

type Process = { getBuiltinModule?: (id: string) => object | undefined };

function builtin<T>(id: string): Partial<T> {
  const process = (globalThis as { process?: Process }).process;
  return (process?.getBuiltinModule?.(id) ?? {}) as Partial<T>;
}

/** Whether this runtime gives built-in modules without an import (Node >= 20.16, Deno, Bun). */
export const hasBuiltins =
  typeof (globalThis as { process?: Process }).process?.getBuiltinModule === 'function';

export const { appendFileSync, existsSync, readFileSync, statSync, writeSync } = builtin<typeof fs>(
  'node:fs',
) as typeof fs;
export const { availableParallelism } = builtin<typeof os>('node:os') as typeof os;
export const { fileURLToPath, pathToFileURL } = builtin<typeof url>('node:url') as typeof url;
export const { createRequire } = builtin<typeof nodeModule>('node:module') as typeof nodeModule;
export const { deserialize, serialize } = builtin<typeof v8>('node:v8') as typeof v8;
export const {
  BroadcastChannel,
  getEnvironmentData,
  isInternalThread,
  isMainThread,
  parentPort,
  receiveMessageOnPort,
  setEnvironmentData,
  threadId,
  Worker,
  workerData,
} = builtin<typeof workerThreads>('node:worker_threads') as typeof workerThreads & {
  /** Node >= 22.14: whether this is one of Node's own threads (a hooks thread); undefined before. */
  isInternalThread?: boolean;
};
