/**
 * QEMU's trace events for the mutex layer (util/trace-events): `qemu_mutex_lock` before a blocking lock,
 * `qemu_mutex_locked` after a lock, a successful trylock and the return of a cond wait (time-outs
 * included), `qemu_mutex_unlock` before an unlock and on entry to a cond wait. A recursive mutex's nested
 * locks and unlocks emit them too, as QEMU's rec-mutex does. The events are emitted from the park layer's
 * call hooks (instrument.ts), never by the primitives themselves.
 *
 * State: the process-wide control block (hooks.ts), in shared memory so that enabling an event in one
 * thread enables it in all: word ENABLED holds the bits of the enabled events (0: nothing to do), word
 * BACKENDS the active backends, word 2 the counter that numbers objects at init (hooks.ts), and the bytes
 * from FILE_OFFSET the path of the JSON trace file.
 *
 * Cost when off: every instrumented call reads ENABLED with a plain (non-atomic) load and branches; the
 * branch is always taken the same way. Everything else (the caller's file:line from a stack trace, the
 * formatting, the file write) happens only for enabled events. A stale read of ENABLED right after another
 * thread changed it only delays the change by a call or two.
 *
 * Backends: `log` writes QEMU's log-backend lines to stderr (`<pid>@<time> <thread>: qemu_mutex_lock waiting
 * on mutex #3 (file.ts:12)`); `json` appends Chrome Trace Event / Perfetto records to a file, one complete
 * ('X') event per wait and per hold, on one track per thread, which ui.perfetto.dev or chrome://tracing open.
 */
import { CONTROL_BYTES, CONTROL_ENABLED, control } from '../hooks.js';
import { platform } from '../platform/index.js';
import { self } from '../thread/self.js';

const ENABLED = CONTROL_ENABLED;
const BACKENDS = 1;
const FILE_LENGTH = 3;
const FILE_OFFSET = 16;

/** The process-wide control block (hooks.ts); read with plain loads on the hot path. */
export const traceControl = control;

/** The events, in bit order. */
export const TRACE_EVENTS = [
  'qemu_mutex_lock',
  'qemu_mutex_locked',
  'qemu_mutex_unlock',
  'lockcnt_fast_path_attempt',
  'lockcnt_fast_path_success',
  'lockcnt_unlock_attempt',
  'lockcnt_unlock_success',
  'lockcnt_futex_wait_prepare',
  'lockcnt_futex_wait',
  'lockcnt_futex_wait_resume',
  'lockcnt_futex_wake',
] as const;
/** The name of one of the library's trace events (QEMU's names; see {@link TRACE_EVENTS}). */
export type TraceEventName = (typeof TRACE_EVENTS)[number];

export const EV_LOCK = 1 << 0;
export const EV_LOCKED = 1 << 1;
export const EV_UNLOCK = 1 << 2;
/** The lockcnt events' bits start here, in TRACE_EVENTS order. */
const LOCKCNT_FIRST_BIT = 3;
/** Not an event: the synchronization profiler (qsp.ts) shares the control word, so one branch covers both. */
export const QSP_BIT = 1 << 30;

const LOG = 1;
const JSON_FILE = 2;

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Enables (or disables) every event whose name matches `pattern` (`*` matches anything, as in QEMU's
 * `-trace qemu_mutex_*`), in every thread of the process. Returns how many events matched. With no backend
 * chosen yet, the log backend is used.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseTraceFile, QemuMutex, traceEnable, traceSetFile } from 'qemu-thread';
 *
 * traceEnable('qemu_mutex_*'); // log lines on stderr, as QEMU's log backend prints them
 * traceSetFile('trace.json'); // and a timeline for ui.perfetto.dev
 * const m = QemuMutex.create();
 * m.lock();
 * m.unlock();
 * const spans = parseTraceFile(readFileSync('trace.json', 'utf8')).filter((r) => r.ph === 'X');
 * console.log(spans.map((r) => r.name).join()); // wait mutex #1,hold mutex #1
 * ```
 */
export function traceEnable(pattern: string, on = true): number {
  if (typeof pattern !== 'string')
    throw new TypeError(`traceEnable: expected a pattern string, got ${pattern}`);
  const re = patternToRegExp(pattern);
  let bits = 0;
  TRACE_EVENTS.forEach((name, bit) => {
    if (re.test(name)) bits |= 1 << bit;
  });
  if (on && Atomics.load(traceControl, BACKENDS) === 0) Atomics.or(traceControl, BACKENDS, LOG);
  if (on) Atomics.or(traceControl, ENABLED, bits);
  else Atomics.and(traceControl, ENABLED, ~bits);
  return bits === 0 ? 0 : bits.toString(2).replace(/0/g, '').length;
}

/** Whether `name` is enabled. */
export function traceEventEnabled(name: TraceEventName): boolean {
  const bit = TRACE_EVENTS.indexOf(name);
  if (bit < 0) throw new TypeError(`traceEventEnabled: no trace event '${String(name)}'`);
  return (Atomics.load(traceControl, ENABLED) & (1 << bit)) !== 0;
}

/** Turns the log backend (lines on stderr) on or off. */
export function traceSetLog(on: boolean): void {
  if (on) Atomics.or(traceControl, BACKENDS, LOG);
  else Atomics.and(traceControl, BACKENDS, ~LOG);
}

/**
 * Writes trace events to `path` as Chrome Trace Event JSON (null: stop). The file holds a JSON array
 * that every thread appends to; its closing bracket is optional in that format, and {@link parseTraceFile}
 * parses it.
 */
export function traceSetFile(path: string | null): void {
  if (path === null) {
    Atomics.and(traceControl, BACKENDS, ~JSON_FILE);
    return;
  }
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > CONTROL_BYTES - FILE_OFFSET) throw new RangeError('traceSetFile: the path is too long');
  new Uint8Array(traceControl.buffer, FILE_OFFSET, bytes.length).set(bytes);
  Atomics.store(traceControl, FILE_LENGTH, bytes.length);
  platform.appendFile(path, '[\n');
  Atomics.or(traceControl, BACKENDS, JSON_FILE);
}

/** Parses a file written by the JSON backend (which may lack its closing bracket). */
export function parseTraceFile(text: string): TraceRecord[] {
  const body = text.trim().replace(/,\s*$/, '');
  return JSON.parse(body.endsWith(']') ? body : `${body}\n]`) as TraceRecord[];
}

/** One Chrome Trace Event record as the JSON backend writes it. */
export interface TraceRecord {
  /** What the span is (`wait mutex #1`, `hold mutex #1`, `cond wait (mutex #1)`), or `thread_name`. */
  name: string;
  /** `qemu-thread` for a span, `__metadata` for a thread's name. */
  cat: string;
  /** `X` for a complete span (with `dur`), `M` for metadata (a thread's name). */
  ph: 'X' | 'M';
  /** Start, in microseconds. */
  ts: number;
  /** Duration of an `X` span, in microseconds. */
  dur?: number;
  /** The process id. */
  pid: number;
  /** The thread id, one timeline track per thread. */
  tid: number;
  /** A span's mutex number and call sites (`site` where it began, `until` where it ended); a name. */
  args: Record<string, unknown>;
}

function tracePath(): string {
  const length = Atomics.load(traceControl, FILE_LENGTH);
  return new TextDecoder().decode(new Uint8Array(traceControl.buffer, FILE_OFFSET, length).slice());
}

// ---- emission (called only when the event's bit is set) ------------------------------------------------

/**
 * Where a stack frame points: `file:line:column` at the end of the line, after a space, `(` or `@` (V8 and
 * Bun print `at fn (where)` or `at where`, Firefox and Safari `fn@where`). `where` is a URL with an
 * authority (file://, http://, blob:http://) or an absolute path, as Bun prints its frames. Frames of
 * the runtime's own code (`node:internal/...`, Deno's `ext:...`, Bun's `native:...`) never match.
 */
const FRAME_WHERE =
  /(?:^|[\s(@])((?:[a-z][\w+.-]*:)+\/\/[^\s()]*?|\/[^\s()]*?|[a-z]:\\[^\s()]*?):(\d+):\d+\)?$/i;

/**
 * The prefixes of the library's own frames, so that call sites name the user's code, not ours. Runtimes
 * name the same file differently: Node prints the module's URL (import.meta.url, in dist/), Bun a bare
 * path, and Deno maps frames through the source maps back to src/*.ts. So besides the URL (and its path),
 * the library's directory is learnt from how this runtime names this very module: callSite's own frame, the
 * first one of every stack it takes, is <library>/trace/trace.<ext>, or the one file of the bundled build.
 */
let libraryPrefixes: string[] | undefined;

function learnLibraryPrefixes(ownFile: string): string[] {
  const base = new URL('../', import.meta.url);
  const prefixes = [base.href];
  // Bun names a file:// module by its bare path.
  if (base.protocol === 'file:') prefixes.push(decodeURIComponent(base.pathname));
  // Unbundled (or mapped back to src/ by Deno): this module is <library>/trace/trace.<ext>. Bundled into one
  // file (dist/node/library.js), that file is the whole library.
  const dir = /^(.*[/\\])trace[/\\]trace\.[cm]?[jt]s$/.exec(ownFile)?.[1];
  const own = dir ?? ownFile;
  if (!prefixes.includes(own)) prefixes.push(own);
  return prefixes;
}

/** The calling thread's wrapper modules (see {@link traceMarkWrapper}), as frames name them. */
const wrappers: string[] = [];

/**
 * Marks the module at `moduleUrl` (pass `import.meta.url`) as a wrapper of the library's calls, in the
 * calling thread: trace lines and profiler rows then name the code that called the wrapper, not the
 * wrapper's own line, as QEMU's `bql_lock()` macro passes its caller's `__FILE__` and `__LINE__` to
 * `bql_lock_impl`. Frames of the module are skipped as the library's own are. Call it in the module's
 * top-level code, which runs in every thread that loads it.
 *
 * @example
 * ```ts
 * // bql.ts: every thread's big lock, taken through these functions
 * import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock, traceMarkWrapper } from 'qemu-thread';
 *
 * traceMarkWrapper(import.meta.url); // profiler rows name bql_lock()'s callers
 * export const bql_lock = (m: QemuMutex) => qemu_mutex_lock(m);
 * export const bql_unlock = (m: QemuMutex) => qemu_mutex_unlock(m);
 * ```
 * ```ts
 * import { QemuMutex, qsp_enable, qspRows } from 'qemu-thread';
 * import { bql_lock, bql_unlock } from './bql.js';
 *
 * const bql = QemuMutex.create();
 * qsp_enable();
 * bql_lock(bql); // the profiler's call site: this line, not bql.ts
 * bql_unlock(bql);
 * console.log(qspRows(1)[0].file.endsWith('main.js')); // true
 * ```
 */
export function traceMarkWrapper(moduleUrl: string | URL): void {
  const url = String(moduleUrl);
  if (!/^[a-z][\w+.-]*:/i.test(url)) {
    throw new TypeError(`traceMarkWrapper: expected a module URL (import.meta.url), got ${url}`);
  }
  // Frames name a module by its URL (Node, browsers, Deno) or, for file: URLs, by its path (Bun).
  const names = [url];
  if (url.startsWith('file://')) names.push(decodeURIComponent(new URL(url).pathname));
  for (const name of names) if (!wrappers.includes(name)) wrappers.push(name);
}

/**
 * `file:line` of the first stack frame outside the library and the modules marked as wrappers
 * ({@link traceMarkWrapper}); file is relative to the working directory.
 */
export function callSite(): string {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n')) {
    const m = FRAME_WHERE.exec(line.trim());
    if (m === null) continue;
    const where = m[1];
    libraryPrefixes ??= learnLibraryPrefixes(where);
    if (libraryPrefixes.some((prefix) => where.startsWith(prefix))) continue;
    if (wrappers.length > 0 && wrappers.includes(where)) continue;
    return `${relativeToCwd(where)}:${m[2]}`;
  }
  return '?:0';
}

/** A file URL or an absolute path as a path relative to the working directory, when it lies inside it. */
function relativeToCwd(where: string): string {
  let file = where;
  if (file.startsWith('file://')) file = decodeURIComponent(file.slice('file://'.length));
  else if (!file.startsWith('/')) return file;
  const cwd = globalThis.process?.cwd?.();
  return cwd && file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
}

function threadLabel(): string {
  return self.name ?? (platform.isMainThread ? 'main' : `thread ${platform.threadId}`);
}

function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Per thread: when and where each traced wait or hold began, by mutex id (microseconds since the epoch). */
type Began = { at: number; site: string };
const waitStart = new Map<number, Began>();
const holdStart = new Map<number, Began>();
const condWaitStart = new Map<number, Began>();
let namedThread = false;

const FORMATS = {
  qemu_mutex_lock: 'waiting on mutex',
  qemu_mutex_locked: 'taken mutex',
  qemu_mutex_unlock: 'released mutex',
} as const;

type MutexEvent = 'qemu_mutex_lock' | 'qemu_mutex_locked' | 'qemu_mutex_unlock';

function emit(bit: number, name: MutexEvent, id: number, site: string): void {
  if ((traceControl[ENABLED] & bit) === 0) return;
  const backends = Atomics.load(traceControl, BACKENDS);
  if (backends & LOG) {
    const time = (nowMicros() / 1e6).toFixed(6);
    platform.writeStderr(
      `${platform.pid}@${time} ${threadLabel()}: ${name} ${FORMATS[name]} #${id} (${site})\n`,
    );
  }
  if (backends & JSON_FILE) recordJson(name, id, site);
}

function recordJson(name: MutexEvent, id: number, site: string): void {
  const now = nowMicros();
  const tid = platform.threadId;
  const out: TraceRecord[] = [];
  if (!namedThread) {
    namedThread = true;
    out.push({
      name: 'thread_name',
      cat: '__metadata',
      ph: 'M',
      ts: 0,
      pid: platform.pid,
      tid,
      args: { name: threadLabel() },
    });
  }
  const complete = (label: string, began: Began | undefined) => {
    if (began === undefined) return;
    out.push({
      name: label,
      cat: 'qemu-thread',
      ph: 'X',
      ts: began.at,
      dur: now - began.at,
      pid: platform.pid,
      tid,
      args: { mutex: id, site: began.site, until: site },
    });
  };
  if (name === 'qemu_mutex_lock') {
    waitStart.set(id, { at: now, site });
  } else if (name === 'qemu_mutex_locked') {
    complete(`wait mutex #${id}`, waitStart.get(id));
    waitStart.delete(id);
    complete(`cond wait (mutex #${id})`, condWaitStart.get(id));
    condWaitStart.delete(id);
    holdStart.set(id, { at: now, site });
  } else {
    complete(`hold mutex #${id}`, holdStart.get(id));
    holdStart.delete(id);
  }
  if (out.length > 0) {
    platform.appendFile(tracePath(), out.map((r) => `${JSON.stringify(r)},\n`).join(''));
  }
}

/** Before a blocking lock. `site` defaults to the caller's file:line, computed only if the event is on. */
export function traceLock(id: number, site?: string): void {
  if (traceControl[ENABLED] & EV_LOCK) emit(EV_LOCK, 'qemu_mutex_lock', id, site ?? callSite());
}

/** After a lock, a successful trylock, or the return of a cond wait. */
export function traceLocked(id: number, site?: string): void {
  if (traceControl[ENABLED] & EV_LOCKED) emit(EV_LOCKED, 'qemu_mutex_locked', id, site ?? callSite());
}

/** Before an unlock. */
export function traceUnlock(id: number, site?: string): void {
  if (traceControl[ENABLED] & EV_UNLOCK) emit(EV_UNLOCK, 'qemu_mutex_unlock', id, site ?? callSite());
}

/** QEMU's lockcnt trace formats (util/trace-events), after `lockcnt <id> `. */
export type LockcntEvent = Extract<TraceEventName, `lockcnt_${string}`>;

function lockcntText(name: LockcntEvent, a: number, b: number): string {
  switch (name) {
    case 'lockcnt_fast_path_attempt':
      return `fast path ${a}->${b}`;
    case 'lockcnt_fast_path_success':
      return `fast path ${a}->${b} succeeded`;
    case 'lockcnt_unlock_attempt':
      return `unlock ${a}->${b}`;
    case 'lockcnt_unlock_success':
      return `unlock ${a}->${b} succeeded`;
    case 'lockcnt_futex_wait_prepare':
      return `preparing slow path ${a}->${b}`;
    case 'lockcnt_futex_wait':
      return `waiting on ${a}`;
    case 'lockcnt_futex_wait_resume':
      return `after wait: ${a}`;
    case 'lockcnt_futex_wake':
      return 'waking up one waiter';
  }
}

/**
 * Emits a lockcnt event for the lockcnt numbered `id`, with QEMU's arguments (`a`, `b`: the word's values
 * as QEMU prints them). Log backend only: the events mark points, not spans.
 */
export function traceLockcnt(name: LockcntEvent, id: number, a = 0, b = 0): void {
  const index = TRACE_EVENTS.indexOf(name);
  if (index < LOCKCNT_FIRST_BIT || (traceControl[ENABLED] & (1 << index)) === 0) return;
  if (Atomics.load(traceControl, BACKENDS) & LOG) {
    const time = (nowMicros() / 1e6).toFixed(6);
    platform.writeStderr(
      `${platform.pid}@${time} ${threadLabel()}: ${name} lockcnt #${id} ${lockcntText(name, a, b)}\n`,
    );
  }
}

/** On entry to a cond wait: the mutex is released, and the wait begins. */
export function traceCondWaitBegin(id: number, site: string): void {
  if (Atomics.load(traceControl, BACKENDS) & JSON_FILE) condWaitStart.set(id, { at: nowMicros(), site });
  traceUnlock(id, site);
}
