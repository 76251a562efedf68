/** The Node.js platform: `worker_threads` for threads, `v8` for structured clone, `fs` for unbuffered output. */
import {
  appendFileSync,
  availableParallelism,
  BroadcastChannel,
  createRequire,
  deserialize,
  existsSync,
  fileURLToPath,
  getEnvironmentData,
  isInternalThread,
  isMainThread,
  parentPort,
  pathToFileURL,
  readFileSync,
  receiveMessageOnPort,
  serialize,
  setEnvironmentData,
  statSync,
  threadId,
  Worker,
  workerData,
  writeSync,
} from './node-builtins.js';
import type { Platform, SpawnedThread, SpawnOptions } from './types.js';

/**
 * The thread trampoline, relative to this file: `thread/entry.js` beside `platform/` in the module build,
 * `entry.js` beside the library file in the Node build (tools/bundle-node.mjs), so that a thread loads the
 * same build of the library as its creator. Not written inside `new URL(...)`: bundlers that build for the
 * browser (this module is in their graph, unused) would copy the file as an asset.
 */
const TRAMPOLINE = import.meta.url.endsWith('/platform/node.js') ? '../thread/entry.js' : './entry.js';
/** The marker by which a worker recognizes the data of a thread that qemu-thread started. */
const SPAWN_KEY = '__qemuThreadSpawn';
/** The message a pre-started thread sends its creator once it is loaded and waits for its start data. */
const READY = '__qemuThreadReady';

/** A word to sleep on between retries of a write; made at first use (this module also loads in browsers). */
let pause: Int32Array | undefined;

/**
 * Writes all of `text` to `fd`, blocking as C's write to a full pipe would. Node makes stdout and stderr
 * non-blocking once their streams are opened, so on a pipe that its reader empties slowly (a parent
 * process busy elsewhere) a write can be partial or fail with EAGAIN: then wait a moment and go on, rather
 * than lose the line or throw from a trace point.
 */
function writeAll(fd: number, text: string): void {
  let bytes = Buffer.from(text);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      pause ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * The node options a new thread runs with: this thread's, minus those that only make sense for a main
 * script (`--input-type`, `--eval`, `--print`), which would make the worker fail before it runs a line, and
 * minus V8 flags, which are process-wide anyway and which a Worker refuses. Undefined means "inherit".
 */
let cachedExecArgv: string[] | undefined | null = null;

function workerExecArgv(): string[] | undefined {
  if (cachedExecArgv !== null) return cachedExecArgv;
  const MAIN_ONLY = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  // Each option with the value that follows it, if it is given apart (`--import tsx`): kept or dropped
  // together, so that a loader the main program runs under reaches the workers too.
  const options: string[][] = [];
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
    if (arg.startsWith('-') || options.length === 0) options.push([arg]);
    else options[options.length - 1].push(arg);
  }
  const allowed = process.allowedNodeEnvironmentFlags;
  const nodeOnly = options.filter(([arg]) => allowed.has(arg.split('=')[0])).flat();
  cachedExecArgv = changed ? nodeOnly : undefined;
  return cachedExecArgv;
}

/**
 * The file a thread function's module URL names: the file itself, or else the TypeScript source that a
 * loader such as tsx runs in place of a `.js` file that does not exist (`mod.js` for `mod.ts`, as
 * TypeScript's own imports are written). Null when there is neither.
 */
function moduleFile(url: URL): string | null {
  const path = fileURLToPath(url);
  if (existsSync(path)) return path;
  const source = path.replace(/\.([mc]?)js(x?)$/, '.$1ts$2');
  return source !== path && existsSync(source) ? source : null;
}

/**
 * TypeScript thread modules under tsx on Node before 22.14. A worker runs its parent's `--import` modules
 * too, but tsx registers its loader hooks in the main thread only on those versions (it cannot tell a
 * worker from Node's own hooks thread there; `isInternalThread` came with 22.14), so a thread function in
 * a `.ts` file would not load. A worker that inherited tsx (`node --import tsx`, or the `tsx` command)
 * registers it itself, through tsx's API, as tsx does on later Node. Done once per thread; a failure
 * leaves the import to report it.
 */
let tsxRegistered: Promise<void> | undefined;

function inheritTsx(): Promise<void> {
  if (tsxRegistered !== undefined) return tsxRegistered;
  tsxRegistered = Promise.resolve();
  const api = isMainThread || isInternalThread !== undefined ? null : tsxApi(process.execArgv);
  if (api !== null) {
    tsxRegistered = import(api).then(
      (tsx: { register?: () => unknown; default?: { register?: () => unknown } }) => {
        (tsx.register ?? tsx.default?.register)?.();
      },
      () => {},
    );
  }
  return tsxRegistered;
}

/**
 * The URL of tsx's ESM API, if `execArgv` loads tsx with `--import`: `--import tsx` (resolved from the
 * working directory, as Node resolved it), or the tsx command's `--import file:///.../tsx/dist/loader.mjs`.
 * The API is the loader's neighbour (`dist/esm/api/index.mjs`); null when there is none of this.
 */
function tsxApi(execArgv: string[]): string | null {
  for (let i = 0; i < execArgv.length; i++) {
    const [flag, inline] = execArgv[i].split(/=(.*)/s, 2);
    if (flag !== '--import') continue;
    let loader = inline ?? execArgv[++i] ?? '';
    try {
      if (loader === 'tsx') {
        loader = createRequire(pathToFileURL(`${process.cwd()}/`).href).resolve('tsx');
      }
      if (/[/\\]tsx[/\\]dist[/\\]loader\.mjs$/.test(loader)) {
        const base = loader.startsWith('file:') ? loader : pathToFileURL(loader);
        return new URL('./esm/api/index.mjs', base).href;
      }
    } catch {
      // tsx cannot be found from here: the import of the thread module will say what is wrong.
    }
  }
  return null;
}

/** Sources read for the export check, by path, with the size and time they had, to read each once. */
const sources = new Map<string, { mtimeMs: number; size: number; text: string | null }>();
/** Larger files are not scanned (a bundle of megabytes would cost a create more than it saves). */
const MAX_SOURCE_BYTES = 1 << 20;

/** A JavaScript or TypeScript file's text, or null (another kind of file, too large, or unreadable). */
function readSource(path: string): string | null {
  if (!/\.[mc]?[jt]sx?$/.test(path)) return null;
  try {
    const { mtimeMs, size } = statSync(path);
    const known = sources.get(path);
    if (known?.mtimeMs === mtimeMs && known.size === size) return known.text;
    const text = size > MAX_SOURCE_BYTES ? null : readFileSync(path, 'utf8');
    sources.set(path, { mtimeMs, size, text });
    return text;
  } catch {
    return null;
  }
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
let endsChannel: InstanceType<typeof BroadcastChannel> | null | undefined;
const announcedEnds: number[] = [];

function endsOnChannel(): InstanceType<typeof BroadcastChannel> | null {
  if (endsChannel === undefined) {
    try {
      endsChannel = new BroadcastChannel('qemu-thread.ended');
      endsChannel.onmessage = (event: unknown) => {
        const data = (event as { data?: unknown }).data;
        if (typeof data === 'number') announcedEnds.push(data);
      };
      endsChannel.unref();
    } catch {
      // A runtime that poses as Node without this channel: tables still work for threads that share them.
      endsChannel = null;
    }
  }
  return endsChannel;
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
        writeAll(2, text);
      },
      writeStdout(text) {
        writeAll(1, text);
      },
      abort(message) {
        writeAll(2, message);
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
        return url.protocol === 'file:' && moduleFile(url) === null;
      },
      moduleSource(url) {
        const path = url.protocol === 'file:' ? moduleFile(url) : null;
        return path === null ? null : readSource(path);
      },
      moduleUrlTrusted(url) {
        return url.protocol === 'file:';
      },
      trustedModules: 'a file: URL',
      // Module names need a thread worker, which only browsers have.
      namedModules: false,
      async loadThreadModule(spec) {
        await inheritTsx();
        return import(spec);
      },
      announceFinished() {
        // Nothing to do: the main thread holds no thread (see spawn), and a worker must keep holding its
        // threads even once their functions are over, for a large result may still be on its way to a joiner.
      },
      whenIdle(callback) {
        // Idle: beforeExit. But Deno does not emit beforeExit in a worker, and a worker that exits from a
        // callback (process.exit) never gets it: then at exit, whose handlers may still block.
        let ran = false;
        const once = () => {
          if (ran) return;
          ran = true;
          callback();
        };
        process.once('beforeExit', once);
        process.once('exit', once);
      },
      watchForDeath(report) {
        process.on('uncaughtException', (error) => {
          report(error);
          process.exit(1);
        });
        process.on('exit', (code) => report(undefined, code));
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
        const worker = new Worker(new URL(TRAMPOLINE, import.meta.url), {
          workerData: { [SPAWN_KEY]: options.data },
          execArgv: workerExecArgv(),
          ...(options.name !== null ? { name: options.name } : {}),
        });
        let lastError: unknown;
        let markReady: () => void = () => {};
        let isReady = false;
        // A thread never keeps the process alive past its main thread, as in C, where returning from main
        // ends the process whatever its threads are doing: the main thread lets go of every thread it starts
        // (the process then lives as long as the main thread's event loop has work, a pending join
        // included). A worker instead must outlive the threads it starts, since Node ends a worker's workers
        // with it: it holds them.
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

function isNodeProcess(): boolean {
  return (
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string'
  );
}
