/**
 * The portable slice: what must hold on every JavaScript runtime with SharedArrayBuffer (Node, Deno, Bun),
 * as one plain script with its own small runner (harness.ts), run by `npm run test:runtimes` with each
 * runtime's own binary: `<runtime> build/test/runtimes/slice.js` (Deno: `deno run -A`).
 *
 * It covers the seed handshake, exact counts through every kind of hand-off, every misuse error (code,
 * errno, func and message), the async variants mixed with blocking callers, terminate, EOWNERDEAD, and
 * the call sites that a deadlock report and a QSP row name. Every check asserts exact results; waits are
 * for something observable (a flag, a parked count), each bounded so that a lost wake-up fails the
 * check with a message instead of hanging it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  QEMU_THREAD_DETACHED,
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThread,
  QemuThreadError,
  QemuThreadFailure,
  QSP_SORT_BY_TOTAL_WAIT_TIME,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_cond_wait,
  qemu_cond_wait_async,
  qemu_event_set,
  qemu_event_wait_async,
  qemu_lockcnt_dec,
  qemu_lockcnt_unlock,
  qemu_mutex_consistent,
  qemu_mutex_destroy,
  qemu_mutex_lock,
  qemu_mutex_lock_async,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_unlock,
  qemu_sem_init,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_sem_timedwait_async,
  qemu_sem_wait_async,
  qemu_spin_lock,
  qemu_spin_unlock,
  qemu_thread_create,
  qemu_thread_exit,
  qemu_thread_get_self,
  qemu_thread_join,
  qemu_thread_join_async,
  qsp_disable,
  qsp_enable,
  qsp_reset,
  qspRows,
} from 'qemu-thread';
import { CREATED, INIT_ORDER, type VcpuArg, WORDS_PER_CPU } from '../../examples/seed-vcpu-thread.js';
import { check, note, runChecks } from './harness.js';
import type { AbbaArg, PingPongArg } from './threads.js';

const fn = (name: string) => new URL(`./threads.js#${name}`, import.meta.url);
const words = (n = 1) => new Int32Array(new SharedArrayBuffer(4 * n));
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a bounded wait for something that should happen at once may take before the check fails. */
const LIMIT_MS = 20_000;

/** Blocks (bounded) until `f[index]` reaches `value`. */
function awaitWord(f: Int32Array, value: number, what: string, index = 0): void {
  const deadline = performance.now() + LIMIT_MS;
  for (let v = Atomics.load(f, index); v < value; v = Atomics.load(f, index)) {
    assert.ok(performance.now() < deadline, `${what}: still ${v} after ${LIMIT_MS} ms`);
    Atomics.wait(f, index, v, 50);
  }
}

/** Yields to the event loop (bounded) until `ready()` holds. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + LIMIT_MS;
  while (!ready()) {
    assert.ok(performance.now() < deadline, `${what}: not after ${LIMIT_MS} ms`);
    await delay(1);
  }
}

/** Settles with `promise`, or fails the check if it has not settled within LIMIT_MS (a lost wake-up). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${LIMIT_MS} ms`)), LIMIT_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- exact errors ---------------------------------------------------------------------------------------

// Spelled out here rather than read from the library, so that a wrong table there fails.
const ERRNO = {
  EPERM: 1,
  ESRCH: 3,
  EBUSY: 16,
  EINVAL: 22,
  EDEADLK: 35,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
} as const;
const STRERROR: Record<keyof typeof ERRNO, string> = {
  EPERM: 'Operation not permitted',
  ESRCH: 'No such process',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  EDEADLK: 'Resource deadlock avoided',
  EOWNERDEAD: 'Owner died',
  ENOTRECOVERABLE: 'State not recoverable',
};
type Code = keyof typeof ERRNO;

function assertQemuError(error: unknown, code: Code, func: string): void {
  assert.ok(error instanceof QemuThreadError, `expected a QemuThreadError ${code}, got ${String(error)}`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'QemuThreadError');
  assert.equal(error.code, code);
  assert.equal(error.errno, ERRNO[code]);
  assert.equal(error.func, func);
  assert.ok(error.message.startsWith(`${func}: ${STRERROR[code]}`), `message: ${error.message}`);
}

function throwsQemu(action: () => unknown, code: Code, func: string): void {
  let thrown: unknown = 'nothing was thrown';
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  assertQemuError(thrown, code, func);
}

async function rejectsQemu(action: () => Promise<unknown>, code: Code, func: string): Promise<void> {
  let thrown: unknown = 'the promise resolved';
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  assertQemuError(thrown, code, func);
}

// ---- call sites -----------------------------------------------------------------------------------------

const root = new URL('../../../', import.meta.url);

/**
 * The call site a report must name for the line marked `// site: <marker>` in test/runtimes/<base>.ts:
 * either the compiled file (build/...js, where Node and Bun point) or the source (test/...ts, where Deno
 * points, mapping frames through the source maps). Both are exact `file:line` strings.
 */
function expectedSites(base: string, marker: string): string[] {
  return [`build/test/runtimes/${base}.js`, `test/runtimes/${base}.ts`].map((path) => {
    const file = fileURLToPath(new URL(path, root));
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes(`// site: ${marker}`));
    assert.ok(at >= 0, `no line marked 'site: ${marker}' in ${path}`);
    return `${relative(process.cwd(), file)}:${at + 1}`;
  });
}

function assertSite(site: string, expected: string[], what: string): void {
  assert.ok(expected.includes(site), `${what}: '${site}', expected one of ${expected.join(', ')}`);
}

// ---- the checks -----------------------------------------------------------------------------------------

check('seed handshake, smp 4: each vCPU is created only after the previous one initialized', () => {
  const smp = 4;
  const vcpuThreadFn = new URL('../../examples/seed-vcpu-thread.js#vcpuThreadFn', import.meta.url);
  const globalMutex = QemuMutex.create();
  const cpuCond = QemuCond.create();
  const haltCond = QemuCond.create();
  const state = words(smp * WORDS_PER_CPU + 1);
  const quitIndex = smp * WORDS_PER_CPU;
  // One sequence for both sides: main takes a number just before creating vCPU i, the vCPU when initialized.
  const order = words();
  const createdAt: number[] = [];
  const threads: QemuThread[] = [];
  qemu_mutex_lock(globalMutex);
  for (let index = 0; index < smp; index++) {
    const thread = new QemuThread();
    threads.push(thread);
    const arg: VcpuArg = {
      index,
      thread,
      globalMutex,
      cpuCond,
      haltCond,
      state,
      quitIndex,
      order,
      quiet: true,
    };
    createdAt.push(Atomics.add(order, 0, 1));
    qemu_thread_create(thread, `CPU ${index}/TCG`, vcpuThreadFn, arg, QEMU_THREAD_JOINABLE);
    while (!state[index * WORDS_PER_CPU + CREATED]) qemu_cond_wait(cpuCond, globalMutex);
  }
  state[quitIndex] = 1;
  qemu_cond_broadcast(haltCond);
  qemu_mutex_unlock(globalMutex);
  const results = threads.map((t) => qemu_thread_join(t) as { index: number; initOrder: number });
  const even = Array.from({ length: smp }, (_, i) => 2 * i);
  assert.deepEqual(createdAt, even);
  assert.deepEqual(
    Array.from({ length: smp }, (_, i) => state[i * WORDS_PER_CPU + INIT_ORDER]),
    even.map((n) => n + 1),
  );
  assert.deepEqual(
    results.map((r) => [r.index, r.initOrder]),
    even.map((n, i) => [i, n + 1]),
  );
});

check('exact count: 4 threads x 20000 increments under a QemuMutex', () => {
  const m = QemuMutex.create();
  const data = words();
  const threads = [0, 1, 2, 3].map((i) =>
    QemuThread.create(`counter ${i}`, fn('countUnderMutex'), { m, data, n: 20_000 }),
  );
  assert.deepEqual(
    threads.map((t) => t.join()),
    [20_000, 20_000, 20_000, 20_000],
  );
  assert.equal(data[0], 80_000);
});

check('exact count: 3 threads x 10000 increments under a QemuSpin', () => {
  const s = QemuSpin.create();
  const data = words();
  const threads = [0, 1, 2].map((i) =>
    QemuThread.create(`spinner ${i}`, fn('countUnderSpin'), { s, data, n: 10_000 }),
  );
  for (const t of threads) assert.equal(t.join(), 10_000);
  assert.equal(data[0], 30_000);
});

check('exact count: 2 x 5000 cond ping-pong turns, strictly alternating', () => {
  const base = { m: QemuMutex.create(), c: QemuCond.create(), data: words(2), rounds: 5000 };
  const sides = ([0, 1] as const).map((me) =>
    QemuThread.create(`side ${me}`, fn('pingPong'), { ...base, me } satisfies PingPongArg),
  );
  assert.deepEqual(
    sides.map((t) => t.join()),
    [5000, 5000],
  );
  assert.deepEqual([base.data[0], base.data[1]], [0, 10_000]);
});

check('exact count: semaphore, 2 posters x 10000 units, 2 takers x 10000, nothing left', () => {
  const s = QemuSemaphore.create(0);
  const n = 10_000;
  const threads = [
    QemuThread.create('poster 0', fn('postEach'), { s, n }),
    QemuThread.create('taker 0', fn('takeEach'), { s, n }),
    QemuThread.create('poster 1', fn('postEach'), { s, n }),
    QemuThread.create('taker 1', fn('takeEach'), { s, n }),
  ];
  assert.deepEqual(
    threads.map((t) => t.join()),
    [n, n, n, n],
  );
  assert.equal(qemu_sem_timedwait(s, 0), -1, 'every unit was taken exactly once');
});

check(
  'thread results: return value, qemu_thread_exit value, a thrown error as the join failure cause',
  () => {
    assert.deepEqual(QemuThread.create('exit', fn('exitWith'), { value: { a: [1, 2], b: 'x' } }).join(), {
      a: [1, 2],
      b: 'x',
    });
    const thrower = QemuThread.create('thrower', fn('throwTypeError'), { message: 'from the thread' });
    assert.throws(
      () => thrower.join(),
      (e: unknown) =>
        e instanceof QemuThreadFailure &&
        e.message ===
          `qemu_thread_join: thread ${thrower.threadId()} 'thrower' failed: TypeError: from the thread` &&
        e.cause instanceof TypeError &&
        e.cause.message === 'from the thread',
    );
  },
);

check('a thread function in a .ts file: runs where the runtime runs TypeScript, else join says how', () => {
  // The module is the TypeScript source itself (test/typescript/work.ts), never compiled.
  const work = (name: string) => new URL(`../../../test/typescript/work.ts#${name}`, import.meta.url);
  const job = { lock: QemuMutex.create(), counter: words(), rounds: 500 };
  const t = QemuThread.create('ts', work('count'), job);
  const strips = (process as { features?: { typescript?: unknown } }).features?.typescript;
  note(`TypeScript modules: ${strips ? `run (process.features.typescript: ${String(strips)})` : 'not run'}`);
  if (strips) {
    assert.deepEqual([t.join(), job.counter[0]], [500, 500]);
  } else {
    // Node before 22.6 (or without its flag): the join names the module and says how to run it.
    throwsQemu(() => t.join(), 'EINVAL', 'qemu_thread_join');
    assert.throws(() => t.join(), /already joined/);
    const u = QemuThread.create('ts again', work('count'), job);
    assert.throws(
      () => u.join(),
      (e: unknown) => {
        const message = String((e as Error).message);
        return /work\.ts could not be loaded: .*; to run a TypeScript module, run the program under a TypeScript loader \(node --import tsx\)/.test(
          message,
        );
      },
    );
  }
});

check('prestart: two idle workers are used by the next two creates', async () => {
  await QemuThread.prestart(2);
  assert.equal(QemuThread.prestarted(), 2);
  const m = QemuMutex.create();
  const data = words();
  const a = QemuThread.create('pooled 0', fn('countUnderMutex'), { m, data, n: 100 });
  const b = QemuThread.create('pooled 1', fn('countUnderMutex'), { m, data, n: 100 });
  assert.equal(QemuThread.prestarted(), 0);
  assert.deepEqual([a.join(), b.join(), data[0]], [100, 100, 200]);
});

check('misuse, one thread: each error with its code, errno, func and message', () => {
  const m = QemuMutex.create();
  throwsQemu(() => qemu_mutex_unlock(m), 'EPERM', 'qemu_mutex_unlock');
  qemu_mutex_lock(m);
  throwsQemu(() => qemu_mutex_lock(m), 'EDEADLK', 'qemu_mutex_lock');
  assert.equal(qemu_mutex_trylock(m), -16);
  throwsQemu(() => qemu_mutex_destroy(m), 'EBUSY', 'qemu_mutex_destroy');
  throwsQemu(() => qemu_mutex_consistent(m), 'EINVAL', 'qemu_mutex_consistent');
  qemu_mutex_unlock(m);
  qemu_mutex_destroy(m);
  throwsQemu(() => qemu_mutex_lock(m), 'EINVAL', 'qemu_mutex_lock');
  throwsQemu(() => qemu_mutex_destroy(m), 'EINVAL', 'qemu_mutex_destroy');
  throwsQemu(() => qemu_mutex_lock(new QemuMutex()), 'EINVAL', 'qemu_mutex_lock');

  throwsQemu(() => qemu_rec_mutex_unlock(QemuRecMutex.create()), 'EPERM', 'qemu_rec_mutex_unlock');

  const c = QemuCond.create();
  const free = QemuMutex.create();
  throwsQemu(() => qemu_cond_wait(c, free), 'EPERM', 'qemu_cond_wait');
  free.lock();
  for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsQemu(() => qemu_cond_timedwait(c, free, ms), 'EINVAL', 'qemu_cond_timedwait');
  }
  assert.equal(qemu_cond_timedwait(c, free, 0), false);
  assert.equal(free.isHeldBySelf(), true);
  free.unlock();

  const s = new QemuSemaphore();
  for (const n of [-1, 1.5, 2 ** 32]) throwsQemu(() => qemu_sem_init(s, n), 'EINVAL', 'qemu_sem_init');
  qemu_sem_init(s, 2 ** 32 - 1);
  throwsQemu(() => qemu_sem_post(s), 'EINVAL', 'qemu_sem_post');

  const spin = QemuSpin.create();
  throwsQemu(() => qemu_spin_unlock(spin), 'EPERM', 'qemu_spin_unlock');
  qemu_spin_lock(spin);
  throwsQemu(() => qemu_spin_lock(spin), 'EDEADLK', 'qemu_spin_lock');
  qemu_spin_unlock(spin);

  const l = QemuLockCnt.create();
  throwsQemu(() => qemu_lockcnt_dec(l), 'EINVAL', 'qemu_lockcnt_dec');
  throwsQemu(() => qemu_lockcnt_unlock(l), 'EPERM', 'qemu_lockcnt_unlock');
  const e = QemuEvent.create(false);
  e.destroy();
  throwsQemu(() => qemu_event_set(e), 'EINVAL', 'qemu_event_set');
});

check('misuse of threads: bad fn and mode, detached, twice, self, never started, exit from main', () => {
  throwsQemu(
    () => qemu_thread_create(new QemuThread(), 'bad', fn('countUnderMutex'), {}, 7 as never),
    'EINVAL',
    'qemu_thread_create',
  );
  throwsQemu(
    () => qemu_thread_create(new QemuThread(), 'bad', './threads.js#x', {}, QEMU_THREAD_JOINABLE),
    'EINVAL',
    'qemu_thread_create',
  );
  const detached = new QemuThread();
  qemu_thread_create(
    detached,
    'detached',
    fn('postEach'),
    { s: QemuSemaphore.create(0), n: 1 },
    QEMU_THREAD_DETACHED,
  );
  throwsQemu(() => qemu_thread_join(detached), 'EINVAL', 'qemu_thread_join');
  const once = QemuThread.create('once', fn('postEach'), { s: QemuSemaphore.create(0), n: 1 });
  assert.equal(once.join(), 1);
  throwsQemu(() => qemu_thread_join(once), 'EINVAL', 'qemu_thread_join');
  throwsQemu(() => qemu_thread_join(new QemuThread()), 'ESRCH', 'qemu_thread_join');
  const self = new QemuThread();
  qemu_thread_get_self(self);
  throwsQemu(() => qemu_thread_join(self), 'EDEADLK', 'qemu_thread_join');
  throwsQemu(() => qemu_thread_exit(1), 'EPERM', 'qemu_thread_exit');
});

check('misuse across threads: unlock by a non-owner is EPERM there; destroy is EBUSY here', () => {
  const m = QemuMutex.create();
  const held = words();
  const go = words();
  const holder = QemuThread.create('holder', fn('holdUntilGo'), { m, held, go });
  awaitWord(held, 1, 'the holder took the lock');
  throwsQemu(() => qemu_mutex_unlock(m), 'EPERM', 'qemu_mutex_unlock');
  throwsQemu(() => qemu_mutex_destroy(m), 'EBUSY', 'qemu_mutex_destroy');
  assert.equal(qemu_mutex_trylock(m), -16);
  const other = QemuThread.create('other', fn('unlockForeign'), { m });
  assert.match(String(other.join()), /^EPERM qemu_mutex_unlock: qemu_mutex_unlock: Operation not permitted/);
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  assert.equal(holder.join(), 'released');
  qemu_mutex_destroy(m);
});

check('misuse, async variants: the same errors, as rejections', async () => {
  const m = QemuMutex.create();
  m.lock();
  await rejectsQemu(() => qemu_mutex_lock_async(m), 'EDEADLK', 'qemu_mutex_lock');
  m.unlock();
  await rejectsQemu(() => qemu_cond_wait_async(QemuCond.create(), m), 'EPERM', 'qemu_cond_wait');
  await rejectsQemu(
    () => qemu_sem_timedwait_async(QemuSemaphore.create(0), -1),
    'EINVAL',
    'qemu_sem_timedwait',
  );
  await rejectsQemu(() => qemu_thread_join_async(new QemuThread()), 'ESRCH', 'qemu_thread_join');
});

check('async: lockAsync waits for a blocking holder and takes the lock once it lets go', async () => {
  const m = QemuMutex.create();
  const held = words();
  const go = words();
  const holder = QemuThread.create('holder', fn('holdUntilGo'), { m, held, go });
  await until(() => Atomics.load(held, 0) === 1, 'the holder took the lock');
  let locked = false;
  const locking = qemu_mutex_lock_async(m).then(() => {
    locked = true;
  });
  // The holder keeps the lock until `go`: however long this takes, the async lock cannot have succeeded.
  await delay(10);
  assert.equal(locked, false);
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  await within(locking, 'lockAsync after the holder unlocked');
  assert.equal(m.isHeldBySelf(), true);
  qemu_mutex_unlock(m);
  assert.equal(await within(qemu_thread_join_async(holder), 'joinAsync'), 'released');
});

check('async: exact count with this thread on lockAsync and 2 threads on blocking locks', async () => {
  const m = QemuMutex.create();
  const data = words();
  const threads = [0, 1].map((i) =>
    QemuThread.create(`blocking ${i}`, fn('countUnderMutex'), { m, data, n: 5000 }),
  );
  for (let i = 0; i < 2000; i++) {
    await qemu_mutex_lock_async(m);
    data[0] = data[0] + 1;
    qemu_mutex_unlock(m);
  }
  for (const t of threads) assert.equal(await within(t.joinAsync(), 'joinAsync'), 5000);
  assert.equal(data[0], 12_000);
});

check('async: sem waitAsync takes exactly the units posted by two threads', async () => {
  const s = QemuSemaphore.create(0);
  const posters = [0, 1].map((i) => QemuThread.create(`poster ${i}`, fn('postEach'), { s, n: 3000 }));
  for (let i = 0; i < 6000; i++) await within(qemu_sem_wait_async(s), `unit ${i}`);
  for (const t of posters) assert.equal(await within(t.joinAsync(), 'joinAsync'), 3000);
  assert.equal(qemu_sem_timedwait(s, 0), -1);
});

check('async: cond waitAsync and event waitAsync are woken by other threads', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const flag = words();
  const e = QemuEvent.create(false);
  // The thread waits on the cond (blocking) until flag is set; this thread then waits async for the event.
  const waiter = QemuThread.create('cond waiter', fn('waitForFlag'), { m, c, flag });
  await until(() => c.parkedThreads().length === 1, 'the thread waits on the cond');
  await qemu_mutex_lock_async(m);
  flag[0] = 1;
  qemu_cond_signal(c);
  qemu_mutex_unlock(m);
  assert.equal(await within(waiter.joinAsync(), 'the cond waiter'), 'woken');

  // An async cond waiter here, woken by a thread's signal. The thread needs the mutex to set the flag and
  // signal, which it gets only once this side's wait has released it: the signal cannot come too early.
  flag[0] = 0;
  await qemu_mutex_lock_async(m);
  const signaller = QemuThread.create('signaller', fn('setFlagAndSignal'), { m, c, flag });
  while (flag[0] === 0) await within(qemu_cond_wait_async(c, m), 'cond waitAsync');
  qemu_mutex_unlock(m);
  assert.equal(await within(signaller.joinAsync(), 'the signaller'), 'signalled');

  // An async event waiter here, pending before the thread that sets the event is even created.
  let woken = false;
  const waiting = qemu_event_wait_async(e).then(() => {
    woken = true;
  });
  await delay(0);
  assert.equal(woken, false);
  const setter = QemuThread.create('setter', fn('setEvent'), { e });
  await within(waiting, 'event waitAsync');
  assert.equal(await within(setter.joinAsync(), 'the setter'), 'set');
});

check('async: an aborted lockAsync rejects with AbortError and leaves the lock to the next', async () => {
  const m = QemuMutex.create();
  const held = words();
  const go = words();
  const holder = QemuThread.create('holder', fn('holdUntilGo'), { m, held, go });
  await until(() => Atomics.load(held, 0) === 1, 'the holder took the lock');
  const controller = new AbortController();
  const aborted = m.lockAsync({ signal: controller.signal });
  const next = m.lockAsync();
  controller.abort();
  await assert.rejects(aborted, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  await within(next, 'the lockAsync after the aborted one');
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
  assert.equal(await within(holder.joinAsync(), 'the holder'), 'released');
});

check('EOWNERDEAD: a lock left by a thread that returned; consistent() repairs it', () => {
  const m = QemuMutex.create();
  assert.equal(QemuThread.create('leaver', fn('lockAndReturn'), { m }).join(), 'left it locked');
  throwsQemu(() => qemu_mutex_lock(m), 'EOWNERDEAD', 'qemu_mutex_lock');
  assert.equal(m.isHeldBySelf(), true, 'EOWNERDEAD comes with the lock');
  qemu_mutex_consistent(m);
  qemu_mutex_unlock(m);
  qemu_mutex_lock(m);
  qemu_mutex_unlock(m);
});

check('EOWNERDEAD then ENOTRECOVERABLE when unlocked without consistent()', () => {
  const m = QemuMutex.create();
  QemuThread.create('leaver', fn('lockAndReturn'), { m }).join();
  // The thread's function has returned, but it ends with its worker, a moment later: until then the lock
  // is simply busy (-EBUSY), then a trylock takes it with EOWNERDEAD.
  const nap = words();
  const deadline = performance.now() + LIMIT_MS;
  let thrown: unknown = 'nothing was thrown';
  while (thrown === 'nothing was thrown') {
    assert.ok(performance.now() < deadline, `the worker did not end within ${LIMIT_MS} ms`);
    try {
      assert.equal(qemu_mutex_trylock(m), -16);
      Atomics.wait(nap, 0, 0, 1);
    } catch (error) {
      thrown = error;
    }
  }
  assertQemuError(thrown, 'EOWNERDEAD', 'qemu_mutex_trylock');
  qemu_mutex_unlock(m);
  throwsQemu(() => qemu_mutex_lock(m), 'ENOTRECOVERABLE', 'qemu_mutex_lock');
  throwsQemu(() => qemu_mutex_trylock(m), 'ENOTRECOVERABLE', 'qemu_mutex_trylock');
});

check('EOWNERDEAD to a thread parked on the lock when the holder dies of an exception', () => {
  const m = QemuMutex.create();
  const held = words();
  const go = words();
  const holder = QemuThread.create('holder', fn('lockThenThrow'), { m, held, go });
  awaitWord(held, 1, 'the holder took the lock');
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  throwsQemu(() => m.lock(), 'EOWNERDEAD', 'qemu_mutex_lock');
  m.consistent();
  m.unlock();
  assert.throws(
    () => holder.join(),
    (e: unknown) =>
      e instanceof QemuThreadFailure &&
      e.cause instanceof RangeError &&
      e.cause.message === 'died holding the lock',
  );
});

check(
  'terminate a lock holder: the next locker gets EOWNERDEAD, a joiner learns it was terminated',
  async () => {
    const m = QemuMutex.create();
    const held = words();
    const t = QemuThread.create('holder', fn('holdForever'), { m, held });
    await until(() => Atomics.load(held, 0) === 1, 'the holder took the lock');
    await within(t.terminate(), 'terminate');
    throwsQemu(() => m.lock(), 'EOWNERDEAD', 'qemu_mutex_lock');
    m.consistent();
    m.unlock();
    await assert.rejects(
      t.joinAsync(),
      (e: unknown) => e instanceof Error && /was terminated by thread 0/.test(e.message),
    );
  },
);

check(
  'the runtime: worker.terminate() takes a worker out of Atomics.wait (QemuThread.terminate needs it)',
  async () => {
    const parked = words(3);
    const worker = new Worker(new URL('./parked-worker.js', import.meta.url), { workerData: parked });
    await until(() => Atomics.load(parked, 1) === 1, 'the worker started');
    // From its announcement to its park the worker runs two statements. Were it still short of the park
    // when terminated, this check would pass without proving anything; it could not fail because of it.
    await delay(20);
    await within(worker.terminate(), 'worker.terminate()');
    const woken = Atomics.notify(parked, 0, 1);
    assert.equal(woken, 0, 'a notify after terminate() woke the terminated worker: it was still parked');
  },
);

check('terminate a thread parked in a cond wait: one signal still reaches the other waiter', async () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  const stoppedFlag = words();
  const otherFlag = words();
  const stopped = QemuThread.create('stopped', fn('waitForFlag'), { m, c, flag: stoppedFlag });
  const other = QemuThread.create('other', fn('waitForFlag'), { m, c, flag: otherFlag });
  await until(() => c.parkedThreads().length === 2, 'both threads wait on the cond');
  await within(stopped.terminate(), 'terminate');
  m.lock();
  otherFlag[0] = 1;
  // One signal: it must reach the live waiter, not vanish with the terminated one.
  qemu_cond_signal(c);
  m.unlock();
  assert.equal(await within(other.joinAsync(), 'the live waiter after one signal'), 'woken');
  await assert.rejects(
    stopped.joinAsync(),
    (e: unknown) => e instanceof Error && /was terminated/.test(e.message),
  );
});

check(
  'deadlock report: EDEADLK names the cycle, where each thread waits and where each lock was taken',
  () => {
    // The profiler, like tracing, records where each lock was taken; the report then names those sites.
    qsp_enable();
    let results: string[];
    const mutexes = [QemuMutex.create(), QemuMutex.create()];
    const ready = words();
    const threads = [0, 1].map((i) =>
      QemuThread.create(`t${i}`, fn('lockInOrder'), {
        first: mutexes[i],
        second: mutexes[1 - i],
        ready,
      } satisfies AbbaArg),
    );
    try {
      results = threads.map((t) => String(t.join()));
    } finally {
      qsp_disable();
    }
    const refused = results.filter((r) => r.startsWith('EDEADLK'));
    assert.equal(refused.length, 1, results.join('\n'));
    assert.equal(results.filter((r) => r === 'ok').length, 1, results.join('\n'));
    const report = refused[0];
    assert.match(report, /^EDEADLK: qemu_mutex_lock: Resource deadlock avoided \(deadlock: /);
    const reporter = results.indexOf(report);
    const names = threads.map((t, i) => `thread ${t.threadId()} 't${i}'`);
    const ids = mutexes.map((m) => m.objectId());
    const waitSites = expectedSites('threads', 'abba-second');
    const takenSites = expectedSites('threads', 'abba-first');
    // The reporter has slept in its lock long enough to have recorded where it waits; the other thread
    // may not have yet, but any site it names must be the same line.
    const waits = [...report.matchAll(/(thread \d+ '\w+') waits for mutex #(\d+)(?: at ([^,;]+))?/g)];
    assert.equal(waits.length, 2, report);
    for (const [, name, id, site] of waits) {
      const i = names.indexOf(name);
      assert.ok(i >= 0, `unknown thread ${name} in ${report}`);
      assert.equal(Number(id), ids[1 - i], `${name} waits for its second mutex: ${report}`);
      if (i === reporter || site !== undefined) assertSite(site, waitSites, `where ${name} waits`);
    }
    const taken = [...report.matchAll(/mutex #(\d+) is held by (thread \d+ '\w+') \(taken at ([^)]+)\)/g)];
    assert.equal(taken.length, 2, report);
    for (const [, id, name, site] of taken) {
      assert.equal(Number(id), ids[names.indexOf(name)], `${name} holds its first mutex: ${report}`);
      assertSite(site, takenSites, `where ${name} took mutex #${id}`);
    }
  },
);

check('QSP rows name the callers: this file and the thread function, with exact counts', () => {
  const m = QemuMutex.create();
  qsp_enable();
  try {
    qsp_reset();
    const t = QemuThread.create('qsp', fn('lockAtOneSite'), { m, n: 5 });
    for (let i = 0; i < 3; i++) {
      qemu_mutex_lock(m); // site: qsp-main
      qemu_mutex_unlock(m);
    }
    assert.equal(t.join(), 5);
  } finally {
    qsp_disable();
  }
  const rows = qspRows(1000, QSP_SORT_BY_TOTAL_WAIT_TIME, false).filter((r) => r.obj === m.objectId());
  const bySite = new Map(rows.map((r) => [`${r.file}:${r.line}`, r.count]));
  assert.equal(rows.length, 2, `rows: ${JSON.stringify([...bySite])}`);
  const main = expectedSites('slice', 'qsp-main').find((site) => bySite.has(site));
  const thread = expectedSites('threads', 'qsp-thread').find((site) => bySite.has(site));
  assert.ok(main, `no row for this file's lock: ${JSON.stringify([...bySite])}`);
  assert.ok(thread, `no row for the thread's lock: ${JSON.stringify([...bySite])}`);
  assert.deepEqual([bySite.get(main), bySite.get(thread)], [3, 5]);
  note(
    main.endsWith('.ts', main.lastIndexOf(':'))
      ? `call sites name the TypeScript source, through its source map (${main})`
      : `call sites name the file that ran (${main})`,
  );
});

await runChecks();
