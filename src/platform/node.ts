/** The Node.js platform: `worker_threads` for threads, `v8` for structured clone, `fs` for unbuffered output. */
import { appendFileSync, existsSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import {
  BroadcastChannel,
  getEnvironmentData,
  isMainThread,
  parentPort,
  receiveMessageOnPort,
  setEnvironmentData,
  threadId,
  Worker,
  workerData,
} from 'node:worker_threads';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

/** The marker by which a worker recognizes the data of a thread that qemu-thread started. */
const SPAWN_KEY = '__qemuThreadSpawn';
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

/** The keys of the process-shared blocks this thread made itself (see Platform.madeShared). */
const madeHere = new Set<string>();

/**
 * The channel on which threads announce their end to threads that do not share their liveness table. Two
 * readers feed one list: a listener, for ends announced while this thread's event loop runs (Node
 * dispatches, and so drops unless someone listens, every message that arrives then), and
 * receiveMessageOnPort, for ends announced while this thread is blocked in a wait. Unref'd, so it keeps
 * nobody alive. Made at first use (liveness.ts uses it as it loads, so every thread listens from then on).
 */
let endsChannel: BroadcastChannel | null | undefined;
const announcedEnds: number[] = [];

function endsOnChannel(): BroadcastChannel | null {
  if (endsChannel === undefined) {
    try {
      endsChannel = new BroadcastChannel('qemu-thread.ended');
      endsChannel.onmessage = (event) => {
        if (typeof (event as MessageEvent).data === 'number')
          announcedEnds.push((event as MessageEvent).data);
      };
      endsChannel.unref();
    } catch {
      // A runtime that poses as Node without this channel: tables still work for threads that share them.
      endsChannel = null;
    }
  }
  return endsChannel;
}

export const nodePlatform: Platform = {
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
  moduleUrlTrusted(url) {
    return url.protocol === 'file:';
  },
  trustedModules: 'a file: URL',
  announceFinished() {
    // Nothing to do: the main thread holds no thread (see spawn), and a worker must keep holding its threads
    // even once their functions are over, for a large result may still be on its way to a joiner.
  },
  watchForDeath(report) {
    process.on('uncaughtException', (error) => {
      report(error);
      process.exit(1);
    });
    process.on('exit', (code) => report(new Error(`the thread's runtime exited (process.exit(${code}))`)));
  },
  pid: process.pid,
  madeShared(key) {
    return madeHere.has(key);
  },
  announceEnded(tid) {
    endsOnChannel()?.postMessage(tid);
  },
  takeAnnouncedEnds() {
    const channel = endsOnChannel();
    if (channel !== null) {
      try {
        for (
          let m = receiveMessageOnPort(channel as never);
          m !== undefined;
          m = receiveMessageOnPort(channel as never)
        ) {
          if (typeof m.message === 'number') announcedEnds.push(m.message);
        }
      } catch {
        // This runtime cannot read a broadcast channel synchronously: the listener still hears the ends.
      }
    }
    return announcedEnds.splice(0);
  },
  processShared(key, bytes) {
    // Node clones a thread's environment data into every worker it creates, so the buffer made by the
    // first thread reaches every later one, whoever creates it.
    let buffer = getEnvironmentData(key);
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < bytes) {
      buffer = new SharedArrayBuffer(bytes);
      setEnvironmentData(key, buffer);
      madeHere.add(key);
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
    const worker = new Worker(options.entry, {
      workerData: { [SPAWN_KEY]: options.data },
      execArgv: workerExecArgv(),
      ...(options.name !== null ? { name: options.name } : {}),
    });
    let lastError: unknown;
    let markReady: () => void = () => {};
    let isReady = false;
    // A thread never keeps the process alive past its main thread, as in C, where returning from main ends
    // the process whatever its threads are doing: the main thread lets go of every thread it starts (the
    // process then lives as long as the main thread's event loop has work, a pending join included). A
    // worker instead must outlive the threads it starts, since Node ends a worker's workers with it: it
    // holds them until they finish their function.
    // An unref asked for before the thread is ready waits for it: whoever awaits `ready` must not see the
    // process end first.
    let unrefWhenReady = isMainThread;
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
        if (isMainThread) return;
        unrefWhenReady = false;
        worker.ref();
      },
    };
  },
};
