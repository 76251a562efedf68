/**
 * Sharing primitives between threads: by postMessage and by workerData to a raw worker_threads Worker
 * (where they arrive as structured clones that the qemu_* functions accept and QemuX.from revives), inside
 * a QemuThread's argument at depth (arriving as full instances), and many primitives embedded in one
 * SharedArrayBuffer. In every case both sides operate on the same shared state.
 */
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_lockcnt_count,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_sem_timedwait,
  qemu_spin_locked,
  qemu_spin_trylock,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import { joinAll, notifyAllWords, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';
import {
  type CloneReport,
  type Prims,
  RAW_ANNOUNCED,
  RAW_COUNTER,
  RAW_FLAG,
  RAW_WORDS,
  type RawRequest,
} from './workers/concurrency/raw-worker.js';
import {
  BY_MUTEX,
  BY_REC,
  BY_SPIN,
  type DeepArg,
  GO,
  LAYOUT,
  type OneBufferArg,
  SENTINEL,
  viewsOf,
} from './workers/concurrency/sharing-workers.js';

const RAW_URL = new URL('./workers/concurrency/raw-worker.js', import.meta.url);
const SHARING = new URL('./workers/concurrency/sharing-workers.js', import.meta.url);

function makePrims(): Prims {
  return {
    m: QemuMutex.create(),
    rec: QemuRecMutex.create(),
    c: QemuCond.create(),
    s: QemuSemaphore.create(0),
    e: QemuEvent.create(false),
    spin: QemuSpin.create(),
    l: QemuLockCnt.create(),
  };
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; code?: string; func?: string };
}

/** A raw Worker with request/reply over postMessage; every reply is awaited with a 20 s bound. */
function startRaw(workerPrims?: Prims) {
  const worker = new Worker(RAW_URL, { workerData: { concurrencyRawWorker: true, prims: workerPrims } });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: unknown;
  worker.on('message', (reply: Reply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
  });
  const fail = (error: unknown) => {
    dead = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`raw worker exited (${code})`)));
  /** Sends a request now; the returned promise settles with the reply. */
  const send = (req: Omit<RawRequest, 'id'>): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`raw worker: no reply to '${req.cmd}' in 20 s`)),
        20_000,
      );
      pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.ok) resolve(r.result);
          else reject(Object.assign(new Error(r.error?.message), r.error));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ ...req, id });
    });
  };
  return { worker, send };
}

/** The scenario run against a raw worker; `viaMessage` sends the primitives with each request. */
async function sharedStateScenario(
  send: (req: Omit<RawRequest, 'id'>) => Promise<unknown>,
  p: Prims,
  viaMessage: boolean,
) {
  const prims = viaMessage ? p : undefined;

  const reports = (await send({ cmd: 'inspect', prims })) as Record<string, CloneReport>;
  for (const [kind, r] of Object.entries(reports)) {
    assert.deepEqual(
      r,
      { instance: false, revived: true, sameStorage: true },
      `${kind} arrived as a revivable clone`,
    );
  }
  assert.equal(Object.keys(reports).length, 7);

  // Mutex: the worker holds it; the main thread sees it busy and may not unlock it.
  await send({ cmd: 'mutexLock', prims });
  assert.equal(qemu_mutex_trylock(p.m), -16, 'held by the worker');
  assert.throws(() => qemu_mutex_unlock(p.m), { code: 'EPERM', func: 'qemu_mutex_unlock' });
  await send({ cmd: 'mutexUnlock', prims });
  assert.equal(qemu_mutex_trylock(p.m), 0, 'free again');
  assert.equal(await send({ cmd: 'mutexTrylock', prims }), -16, 'the worker sees the main thread hold it');
  qemu_mutex_unlock(p.m);

  // Recursive mutex, nested twice in the worker.
  await send({ cmd: 'recLock', prims });
  await send({ cmd: 'recLock', prims });
  assert.equal(qemu_rec_mutex_trylock(p.rec), -16);
  await send({ cmd: 'recUnlock', prims });
  assert.equal(qemu_rec_mutex_trylock(p.rec), -16, 'still held once');
  await send({ cmd: 'recUnlock', prims });
  assert.equal(qemu_rec_mutex_trylock(p.rec), 0);
  qemu_rec_mutex_unlock(p.rec);

  // Spinlock.
  await send({ cmd: 'spinLock', prims });
  assert.equal(qemu_spin_locked(p.spin), true);
  assert.equal(qemu_spin_trylock(p.spin), true, 'busy (QEMU convention: true = failed)');
  await send({ cmd: 'spinUnlock', prims });
  assert.equal(qemu_spin_locked(p.spin), false);

  // LockCnt count is shared.
  await send({ cmd: 'lockcntInc', prims });
  assert.equal(qemu_lockcnt_count(p.l), 1);
  await send({ cmd: 'lockcntDec', prims });
  assert.equal(qemu_lockcnt_count(p.l), 0);

  // Semaphore: the worker posts while the main thread is blocked waiting.
  const posted = send({ cmd: 'semPost', prims });
  assert.equal(qemu_sem_timedwait(p.s, 10_000), 0, 'the worker posted the unit the main thread waits for');
  await posted;
  assert.equal(p.s.value(), 0);

  // Event: the worker sets while the main thread is blocked waiting.
  const set = send({ cmd: 'eventSet', prims });
  assert.equal(qemu_event_timedwait(p.e, 10_000), true, 'the worker set the event the main thread waits for');
  await set;

  // Cond: the worker waits; the main thread changes the predicate under the mutex and signals.
  const data = sharedWords(RAW_WORDS);
  const waited = send({ cmd: 'condWait', prims, data });
  const deadline = performance.now() + 20_000;
  while (Atomics.load(data, RAW_ANNOUNCED) === 0 && performance.now() < deadline) sleep(0.5);
  qemu_mutex_lock(p.m); // granted once the worker is inside its wait
  data[RAW_FLAG] = 1;
  qemu_cond_signal(p.c);
  qemu_mutex_unlock(p.m);
  assert.ok(((await waited) as number) >= 1, 'the worker woke from its cond wait');

  // Both threads increment one counter under the mutex at the same time.
  const N = 20_000;
  const counted = send({ cmd: 'counter', prims, data, n: N });
  for (let i = 0; i < N; i++) {
    qemu_mutex_lock(p.m);
    const v = data[RAW_COUNTER];
    data[RAW_COUNTER] = v + 1;
    qemu_mutex_unlock(p.m);
  }
  assert.equal(await counted, N);
  assert.equal(data[RAW_COUNTER], 2 * N, 'no lost update between the main thread and the raw worker');
}

async function withRaw(
  workerPrims: Prims | undefined,
  body: (send: ReturnType<typeof startRaw>['send']) => Promise<void>,
) {
  const { worker, send } = startRaw(workerPrims);
  try {
    await body(send);
    assert.equal(await send({ cmd: 'exit' }), 'bye');
  } finally {
    await worker.terminate();
  }
}

watched(
  'postMessage: primitives arrive in a raw Worker as clones; qemu_* accept them; state is shared',
  { ms: 60_000 },
  async () => {
    const p = makePrims();
    await withRaw(undefined, (send) => sharedStateScenario(send, p, true));
  },
);

watched(
  'workerData: primitives arrive in a raw Worker as clones; qemu_* accept them; state is shared',
  { ms: 60_000 },
  async () => {
    const p = makePrims();
    await withRaw(p, (send) => sharedStateScenario(send, p, false));
  },
);

watched(
  "a thread's arg: primitives nested in objects, arrays, a Map and a Set arrive as full instances",
  { ms: 60_000 },
  () => {
    const p = makePrims();
    const done = sharedWords(1);
    const arg: DeepArg = {
      level1: {
        list: [{ m: p.m }, [p.s]],
        map: new Map<string, QemuEvent | { c: QemuCond }>([
          ['e', p.e],
          ['nested', { c: p.c }],
        ]),
        set: new Set([p.spin]),
      },
      top: { rec: p.rec, l: p.l },
      done,
    };
    const t = spawn('deep-arg', new URL('#deepArgWorker', SHARING), arg);
    let mainError: unknown;
    try {
      // The thread posts once it holds the mutex (taken through the nested instance).
      assert.equal(qemu_sem_timedwait(p.s, 10_000), 0, 'the thread posted through the nested semaphore');
      assert.equal(qemu_mutex_trylock(p.m), -16, 'the thread holds the nested mutex');
      assert.throws(() => qemu_mutex_unlock(p.m), { code: 'EPERM', func: 'qemu_mutex_unlock' });
    } catch (error) {
      mainError = error;
    } finally {
      qemu_event_set(p.e);
    }
    const [kinds] = joinAll([t], done, {
      mainError,
      what: 'deep arg',
      rescue: () => notifyAllWords(p.m, p.e),
    });
    assert.deepEqual(kinds, {
      mutex: true,
      sem: true,
      event: true,
      cond: true,
      spin: true,
      rec: true,
      lockcnt: true,
    });
    assert.equal(qemu_mutex_trylock(p.m), 0, 'the thread released it');
    qemu_mutex_unlock(p.m);
  },
);

watched(
  "a thread's arg: full instances even when the thread's module imports nothing from qemu-thread",
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    const other = QemuMutex.create();
    const done = sharedWords(1);
    const t = spawn(
      'no-import',
      new URL('./workers/concurrency/no-import-worker.js#usesMethodsOnly', import.meta.url),
      {
        m,
        nested: { list: [other] },
        done,
      },
    );
    const [r] = joinAll([t], done, { what: 'no-import thread' });
    assert.deepEqual(
      r,
      { mutex: 'QemuMutex', nested: 'QemuMutex', lockedAndUnlocked: true },
      'the primitives in arg must arrive as instances, not as plain structured clones',
    );
  },
);

watched(
  'one SharedArrayBuffer holding 7 primitives and data, used by 2 threads and the main thread',
  { ms: 60_000 },
  () => {
    const N = 20_000;
    const buffer = new SharedArrayBuffer(LAYOUT.size);
    const words = new Int32Array(buffer);
    words[LAYOUT.sentinel0 >> 2] = SENTINEL;
    words[LAYOUT.sentinel1 >> 2] = SENTINEL;
    const v = viewsOf(buffer);
    v.m.init();
    v.c.init();
    v.s.init(0);
    v.e.init(false);
    v.spin.init();
    v.rec.init();
    v.l.init();
    const done = sharedWords(1);
    const threads = [0, 1].map((i) =>
      spawn(`one-buffer-${i}`, new URL('#oneBufferWorker', SHARING), {
        buffer,
        n: N,
        done,
      } satisfies OneBufferArg),
    );
    let mainError: unknown;
    try {
      qemu_mutex_lock(v.m);
      v.data[GO] = 1;
      qemu_cond_broadcast(v.c);
      qemu_mutex_unlock(v.m);
      for (let i = 0; i < 2; i++) {
        if (qemu_sem_timedwait(v.s, 20_000) !== 0)
          throw new Error(`only ${i} of 2 threads finished their increments`);
      }
    } catch (error) {
      mainError = error;
    } finally {
      qemu_event_set(v.e);
    }
    const results = joinAll(threads, done, {
      mainError,
      what: 'one buffer',
      rescue: () => notifyAllWords(v.m, v.c, v.s, v.e, v.spin, v.rec, v.l),
    });
    assert.deepEqual(results, [N, N]);
    assert.equal(v.data[BY_MUTEX], 2 * N, 'mutex counter exact');
    assert.equal(v.data[BY_SPIN], 2 * N, 'spin counter exact');
    assert.equal(v.data[BY_REC], 2 * N, 'recursive mutex counter exact');
    assert.equal(words[LAYOUT.sentinel0 >> 2], SENTINEL, 'nothing wrote before the first primitive');
    assert.equal(words[LAYOUT.sentinel1 >> 2], SENTINEL, 'nothing wrote past the data');
    assert.equal(qemu_mutex_trylock(v.m), 0);
    qemu_mutex_unlock(v.m);
    assert.equal(qemu_spin_locked(v.spin), false);
    assert.equal(qemu_rec_mutex_trylock(v.rec), 0);
    qemu_rec_mutex_unlock(v.rec);
    assert.equal(qemu_lockcnt_count(v.l), 0);
    assert.equal(v.s.value(), 0);
    assert.equal(v.c.waiters(), 0);
  },
);
