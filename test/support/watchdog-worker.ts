/**
 * The watchdog's own thread (see watchdog.ts): holds a deadline per armed test, and when one passes, dumps
 * the states of the process's threads and of the test's primitives to stderr and kills the process.
 *
 * It runs on its own event loop, so its timers fire while the test's threads are blocked, and it writes
 * with writeSync on fd 2, which needs nothing from them. It reads the library's process-wide tables (who
 * is alive, who is parked on what, thread names, wait sites) through the library's internal modules:
 * they are shared memory that every thread of the process sees, whichever copy of the code reads them.
 * Those modules are loaded only when a dump is due, so a watchdog that never fires costs next to nothing.
 * Started only by watchdog.ts (its code does nothing in a main thread, should node --test load it).
 */
import { writeSync } from 'node:fs';
import { inspect } from 'node:util';
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';

/** The library's modules, loaded only when a dump is due (most test files never need them). */
async function loadLibrary() {
  const [lib, liveness, lockSites, names, holders] = await Promise.all([
    import('../../src/index.js'),
    import('../../src/thread/liveness.js'),
    import('../../src/thread/lock-sites.js'),
    import('../../src/thread/names.js'),
    import('../../src/trace/holders.js'),
  ]);
  return { ...lib, ...liveness, ...lockSites, ...names, ...holders };
}

type Library = Awaited<ReturnType<typeof loadLibrary>>;

export type WatchdogMessage =
  | { op: 'arm'; id: number; name: string; ms: number; since: number; show: Record<string, unknown> }
  | { op: 'show'; id: number; show: Record<string, unknown> }
  | { op: 'disarm'; id: number };

interface Armed {
  name: string;
  ms: number;
  since: number;
  shown: Map<string, unknown>;
  timer: ReturnType<typeof setTimeout>;
}

/** The library, once {@link loadLibrary} has run (at the first dump). */
let L: Library;

/** A primitive's clone becomes an instance again; arrays and plain objects are revived inside. */
function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const kind = (value as Record<string, unknown>).__qemuKind;
  const classes: Record<string, { from(clone: unknown): unknown }> = {
    QemuMutex: L.QemuMutex,
    QemuRecMutex: L.QemuRecMutex,
    QemuCond: L.QemuCond,
    QemuSemaphore: L.QemuSemaphore,
    QemuEvent: L.QemuEvent,
    QemuSpin: L.QemuSpin,
    QemuLockCnt: L.QemuLockCnt,
    QemuThread: L.QemuThread,
  };
  if (typeof kind === 'string' && classes[kind]) return classes[kind].from(value);
  if (Array.isArray(value)) return value.map(revive);
  if (Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

const who = (tid: number) => (tid === threadId ? `thread ${tid} 'watchdog'` : L.describeThread(tid));

/** Names of the shown mutexes and conds by their numbers, so that the thread list can use them. */
function namesById(shown: Map<string, unknown>): {
  mutexes: Map<number, string>;
  conds: Map<number, string>;
} {
  const mutexes = new Map<number, string>();
  const conds = new Map<number, string>();
  const visit = (name: string, value: unknown) => {
    if (value instanceof L.QemuMutex) mutexes.set(value.objectId(), name);
    else if (value instanceof L.QemuCond) conds.set(value.objectId(), name);
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(`${name}[${i}]`, v);
    else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
      for (const [k, v] of Object.entries(value)) visit(`${name}.${k}`, v);
    }
  };
  for (const [name, value] of shown) visit(name, value);
  return { mutexes, conds };
}

/** One line per thread: every thread alive in the library's table, and any thread parked on something. */
function threadLines(shown: Map<string, unknown>): string[] {
  const { mutexes, conds } = namesById(shown);
  const parked = new Map(L.allWaiting().map((w) => [w.threadId, w.on]));
  const ids = new Set([...L.liveThreadIds(), ...parked.keys()]);
  return [...ids]
    .sort((a, b) => a - b)
    .map((tid) => {
      const on = parked.get(tid);
      let state: string;
      if (tid === threadId) {
        state = 'this watchdog';
      } else if (on === undefined) {
        state = L.hasEnded(tid)
          ? 'ended'
          : 'not parked on a mutex or cond (running, or waiting elsewhere: semaphore, event, join, ...)';
      } else if (on > 0) {
        const name = mutexes.get(on);
        const site = L.waitSiteOf(tid);
        state = `parked on mutex #${on}${name ? ` (${name})` : ''}${site ? ` at ${site}` : ''}`;
      } else {
        const name = conds.get(-on);
        state = `parked in a wait on cond #${-on}${name ? ` (${name})` : ''}`;
      }
      return `  ${who(tid)}: ${state}`;
    });
}

const ago = (since: number) => `${Math.round(Date.now() - since)} ms`;

/** What is known about one shown value, on one line. */
function describe(value: unknown): string {
  if (value instanceof L.QemuMutex) {
    const holder = value.holder();
    const waiters = value.waiters().map((w) => who(w.threadId));
    return (
      `${value}; ${holder === null ? 'no holder' : `held by ${who(holder.threadId)}`}; ` +
      `parked on it: ${waiters.length ? waiters.join(', ') : 'none'}`
    );
  }
  if (value instanceof L.QemuCond) {
    const parked = value.parkedThreads().map((w) => `${who(w.threadId)} (asleep ${ago(w.since)})`);
    return `${value}; asleep in it: ${parked.length ? parked.join(', ') : 'none'}`;
  }
  if (value instanceof L.QemuThread) return String(value);
  if (
    value instanceof L.QemuRecMutex ||
    value instanceof L.QemuSemaphore ||
    value instanceof L.QemuEvent ||
    value instanceof L.QemuSpin ||
    value instanceof L.QemuLockCnt
  ) {
    return String(value);
  }
  return inspect(value, { depth: 3, maxArrayLength: 64, breakLength: Number.POSITIVE_INFINITY });
}

function shownLines(shown: Map<string, unknown>): string[] {
  const lines: string[] = [];
  const visit = (name: string, value: unknown) => {
    if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
      for (const [i, v] of value.entries()) visit(`${name}[${i}]`, v);
    } else {
      lines.push(`  ${name}: ${describe(value)}`);
    }
  };
  for (const [name, value] of shown) visit(name, value);
  return lines.length ? lines : ['  (nothing: the test showed no primitive)'];
}

async function report(armed: Armed): Promise<string> {
  L ??= await loadLibrary();
  let revived = new Map<string, unknown>();
  let threads: string[];
  let shown: string[];
  try {
    revived = new Map([...armed.shown].map(([k, v]) => [k, revive(v)]));
    shown = shownLines(revived);
  } catch (error) {
    shown = [`  (could not describe what the test showed: ${String(error)})`];
  }
  try {
    threads = threadLines(revived);
  } catch (error) {
    threads = [`  (could not read the thread tables: ${String(error)})`];
  }
  return [
    '',
    `watchdog: test '${armed.name}' has run ${ago(armed.since)}, over its budget of ${armed.ms} ms ` +
      `(${(workerData as { file?: string } | null)?.file ?? 'test file'}, pid ${process.pid})`,
    'watchdog: threads of this process that loaded the library:',
    ...threads,
    'watchdog: what the test showed:',
    ...shown,
    `watchdog: killing the process, so that this test file fails ('${armed.name}' never finished)`,
    '',
  ].join('\n');
}

/** Writes all of `text` to stderr, waiting out a full pipe (EAGAIN: Node makes fd 2 non-blocking). */
function writeStderr(text: string): void {
  let bytes = Buffer.from(text);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(2, bytes));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

async function expire(armed: Armed): Promise<void> {
  let text: string;
  try {
    text = await report(armed);
  } catch (error) {
    text = `\nwatchdog: test '${armed.name}' is over its budget of ${armed.ms} ms (no dump: ${String(error)})\n`;
  }
  try {
    writeStderr(text);
  } finally {
    process.kill(process.pid, 'SIGKILL');
  }
}

function serve(port: NonNullable<typeof parentPort>): void {
  const armed = new Map<number, Armed>();
  port.on('message', (message: WatchdogMessage) => {
    if (message.op === 'arm') {
      const entry: Armed = {
        name: message.name,
        ms: message.ms,
        since: message.since,
        shown: new Map(),
        timer: setTimeout(() => expire(entry), Math.max(0, message.since + message.ms - Date.now())),
      };
      for (const [k, v] of Object.entries(message.show)) entry.shown.set(k, v);
      armed.set(message.id, entry);
    } else if (message.op === 'show') {
      const entry = armed.get(message.id);
      for (const [k, v] of Object.entries(message.show)) entry?.shown.set(k, v);
    } else {
      clearTimeout(armed.get(message.id)?.timer);
      armed.delete(message.id);
    }
  });
}

if (!isMainThread && parentPort !== null) serve(parentPort);
