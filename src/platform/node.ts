/** The Node.js platform: `worker_threads` for threads, `v8` for structured clone, `fs` for unbuffered output. */
import {
  appendFileSync,
  availableParallelism,
  deserialize,
  existsSync,
  fileURLToPath,
  getEnvironmentData,
  isMainThread,
  parentPort,
  serialize,
  setEnvironmentData,
  threadId,
  Worker,
  workerData,
  writeSync,
} from './node-builtins.js';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

/**
 * The thread trampoline, relative to this file. Not written inside `new URL(...)`: bundlers that build
 * for the browser (this module is in their graph, unused) would copy the file as an asset.
 */
const TRAMPOLINE = '../thread/entry.js';
/** The marker by which a worker recognizes the data of a thread that qemu-thread started. */
const SPAWN_KEY = '__qemuThreadSpawn';
/** The message a spawned thread sends its creator when its function has finished. */
const FINISHED = '__qemuThreadFinished';
/** The message a pre-started thread sends its creator once it is loaded and waits for its start data. */
const READY = '__qemuThreadReady';

/**
 * The node options a new thread runs with: this thread's, minus those that only make sense for a main
 * script (`--input-type`, `--eval`, `--print`), which would make the worker fail before it runs a line, and
 * minus V8 flags, which are process-wide anyway and which a Worker refuses. Undefined means "inherit".
 */
let cachedExecArgv: string[] | undefined | null = null;

function workerExecArgv(): string[] | undefined {
  if (cachedExecArgv !== null) return cachedExecArgv;
  const MAIN_ONLY = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  const kept: string[] = [];
  let changed = false;
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = arg.split('=')[0];
    if (MAIN_ONLY.has(name)) {
      changed = true;
      if (!arg.includes('=') && name !== '-p' && name !== '--print') i++;
      if ((name === '-p' || name === '--print') && i + 1 < args.length && !args[i + 1].startsWith('-')) i++;
      continue;
    }
    kept.push(arg);
  }
  const allowed = process.allowedNodeEnvironmentFlags;
  const nodeOnly = kept.filter((arg) => allowed.has(arg.split('=')[0]));
  cachedExecArgv = changed ? nodeOnly : undefined;
  return cachedExecArgv;
}

/** The Node.js platform; undefined outside Node, where this module is loaded but never used. */
export const nodePlatform: Platform = !isNodeProcess()
  ? (undefined as unknown as Platform)
  : {
      threadId,
      cores: availableParallelism(),
      isMainThread,
      // Node lets every thread block, its main thread included.
      canBlock: true,
      holdOpen() {
        // A referenced timer is the cheapest handle that keeps an event loop running; it never fires.
        const timer = setInterval(() => {}, 2 ** 30);
        let held = true;
        return () => {
          if (held) clearInterval(timer);
          held = false;
        };
      },
      spawned: workerData !== null && typeof workerData === 'object' && SPAWN_KEY in workerData,
      receiveStart() {
        const data = (workerData as Record<string, unknown>)[SPAWN_KEY];
        if (data !== undefined) return Promise.resolve(data);
        return new Promise((resolve) => {
          parentPort?.once('message', (message: Record<string, unknown>) => resolve(message[SPAWN_KEY]));
          parentPort?.postMessage(READY);
        });
      },
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
        // Node refuses process.abort() in a worker; the signal takes the whole process down just the same.
        if (isMainThread) process.abort();
        process.kill(process.pid, 'SIGABRT');
        throw new Error(message);
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
      // Module names need a thread worker, which only browsers have.
      namedModules: false,
      loadThreadModule(spec) {
        return import(spec);
      },
      announceFinished() {
        parentPort?.postMessage(FINISHED);
      },
      watchForDeath(report) {
        process.on('uncaughtException', (error) => {
          report(error);
          process.exit(1);
        });
        process.on('exit', (code) =>
          report(new Error(`the thread's runtime exited (process.exit(${code}))`)),
        );
      },
      pid: process.pid,
      processShared(key, bytes) {
        // Node clones a thread's environment data into every worker it creates, so the buffer made by the
        // first thread reaches every later one, whoever creates it.
        let buffer = getEnvironmentData(key);
        if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < bytes) {
          buffer = new SharedArrayBuffer(bytes);
          setEnvironmentData(key, buffer);
        }
        return buffer as SharedArrayBuffer;
      },
      appendFile(path, text) {
        appendFileSync(path, text);
      },
      beforeThisThreadEnds(callback) {
        process.on('exit', callback);
      },
      spawn(options: SpawnOptions): SpawnedThread {
        const worker = new Worker(new URL(TRAMPOLINE, import.meta.url), {
          workerData: { [SPAWN_KEY]: options.data },
          execArgv: workerExecArgv(),
          ...(options.name !== null ? { name: options.name } : {}),
        });
        let lastError: unknown;
        let markReady: () => void = () => {};
        let isReady = false;
        // An unref asked for before the thread is ready waits for it: whoever awaits `ready` must not see the
        // process end first.
        let unrefWhenReady = false;
        const ready = new Promise<void>((resolve) => {
          markReady = () => {
            isReady = true;
            if (unrefWhenReady) worker.unref();
            resolve();
          };
        });
        worker.on('error', (error) => {
          lastError = error;
        });
        worker.on('exit', (code) => {
          markReady();
          options.onExit(code, lastError);
        });
        worker.on('message', (message) => {
          if (message === READY) markReady();
          // Only the main thread lets go of a finished thread. A worker that did would end before the thread,
          // and Node ends a worker's workers with it: a large result still waiting for its joiner would be lost.
          if (message === FINISHED && isMainThread) worker.unref();
        });
        if (options.data !== undefined) markReady();
        return {
          threadId: worker.threadId,
          ready,
          // Node emits 'exit' (our onExit) before the promise of terminate() settles.
          terminate: async () => {
            await worker.terminate();
          },
          unref() {
            if (isReady) worker.unref();
            else unrefWhenReady = true;
          },
          launch(data) {
            worker.postMessage({ [SPAWN_KEY]: data });
            unrefWhenReady = false;
            worker.ref();
          },
        };
      },
    };

function isNodeProcess(): boolean {
  return (
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string'
  );
}
