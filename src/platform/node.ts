/** The Node.js platform: `worker_threads` for threads, `v8` for structured clone, `fs` for unbuffered output. */
import { existsSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { isMainThread, parentPort, threadId, Worker, workerData } from 'node:worker_threads';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

/** The marker by which a worker recognizes the data of a thread that qemu-thread started. */
const SPAWN_KEY = '__qemuThreadSpawn';
/** The message a spawned thread sends its creator when its function has finished. */
const FINISHED = '__qemuThreadFinished';

export const nodePlatform: Platform = {
  threadId,
  isMainThread,
  spawnData:
    workerData !== null && typeof workerData === 'object' && SPAWN_KEY in workerData
      ? (workerData as Record<string, unknown>)[SPAWN_KEY]
      : undefined,
  env(name) {
    return process.env[name];
  },
  writeStderr(text) {
    writeSync(2, text);
  },
  writeStdout(text) {
    writeSync(1, text);
  },
  abort(message) {
    writeSync(2, message);
    process.abort();
  },
  serialize(value) {
    return serialize(value);
  },
  deserialize(bytes) {
    return deserialize(bytes);
  },
  moduleMissing(url) {
    return url.protocol === 'file:' && !existsSync(fileURLToPath(url));
  },
  announceFinished() {
    parentPort?.postMessage(FINISHED);
  },
  watchForDeath(report) {
    process.on('uncaughtException', (error) => {
      report(error);
      process.exit(1);
    });
    process.on('exit', (code) => report(new Error(`the thread's runtime exited (process.exit(${code}))`)));
  },
  spawn(options: SpawnOptions): SpawnedThread {
    const worker = new Worker(options.entry, {
      workerData: { [SPAWN_KEY]: options.data },
      ...(options.name !== null ? { name: options.name } : {}),
    });
    let lastError: unknown;
    worker.on('error', (error) => {
      lastError = error;
    });
    worker.on('exit', (code) => options.onExit(code, lastError));
    worker.on('message', (message) => {
      if (message === FINISHED) worker.unref();
    });
    return {
      threadId: worker.threadId,
      unref: () => worker.unref(),
    };
  },
};
