/**
 * qemu_thread_join: what comes back (structured clones, large values streamed through the shared window,
 * async functions), who may join (the creator, another thread, a blocked main thread), and the join
 * errors (EINVAL detached or joined twice, ESRCH never started, EDEADLK self).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import {
  QEMU_THREAD_DETACHED,
  QEMU_THREAD_JOINABLE,
  QemuEvent,
  QemuSemaphore,
  QemuThread,
  qemu_event_timedwait,
  qemu_sem_post,
  qemu_thread_create,
  qemu_thread_get_self,
  qemu_thread_join,
} from 'qemu-thread';
import {
  assertThreadReport,
  failureCause,
  fn,
  qemuErrorShape,
  threadTest,
  throwsQemuError,
} from './workers/thread/harness.js';
import { entries, makeArray, makeRichValue, makeString } from './workers/thread/lifecycle.js';

function run(name: string, arg?: unknown): unknown {
  const t = new QemuThread();
  qemu_thread_create(t, name, fn(name), arg, QEMU_THREAD_JOINABLE);
  return qemu_thread_join(t);
}

threadTest('join returns a number, a string and undefined as the function returned them', () => {
  assert.equal(run('echo', 42), 42);
  assert.equal(run('echo', 'forty-two'), 'forty-two');
  assert.equal(run('returnNothing'), undefined);
});

threadTest('join returns a structured clone of an object with Map, Date, Set, typed arrays, bigint', () => {
  const value = run('richValue') as ReturnType<typeof makeRichValue>;
  assert.deepEqual(value, makeRichValue());
  assert.ok(value.nested.map.get('when') instanceof Date);
  assert.ok(value.nested.map.get('bytes') instanceof Uint8Array);
  assert.ok(value.nested.floats instanceof Float64Array);
  assert.ok(Object.is(value.nested.floats[1], -0));
});

threadTest("an async thread function: join returns the promise's resolved value", () => {
  assert.deepEqual(run('resolveLater', { ms: 20, value: { resolved: [1, 2, 3] } }), { resolved: [1, 2, 3] });
});

threadTest('an async thread function that rejects: join throws its failure, the rejection as cause', () => {
  let thrown: unknown;
  try {
    run('rejectLater', { ms: 5, message: 'async refusal' });
  } catch (error) {
    thrown = error;
  }
  const cause = failureCause(thrown, 'rejectLater', 'RangeError: async refusal');
  assert.ok(cause instanceof RangeError);
  assert.equal(cause.message, 'async refusal');
});

threadTest('a 1 MiB string arrives intact through the shared window', () => {
  const n = 1 << 20;
  const value = run('largeString', { n, twoByte: false });
  assert.equal(typeof value, 'string');
  assert.equal((value as string).length, n);
  assert.ok(value === makeString(n, false), 'the 1 MiB string differs from the one the thread built');
});

threadTest('a two-byte string of 300,000 characters arrives intact', () => {
  const n = 300_000;
  const value = run('largeString', { n, twoByte: true });
  assert.equal((value as string).length, n);
  assert.ok(value === makeString(n, true), 'the two-byte string differs from the one the thread built');
});

threadTest('a 200,000-element array arrives intact', () => {
  const value = run('largeArray', { n: 200_000 }) as unknown[];
  assert.equal(value.length, 200_000);
  assert.deepEqual(value, makeArray(200_000));
});

threadTest('a return value that cannot be cloned: join says where it is and what to do instead', () => {
  const advice =
    "return plain data, and pass shared memory (SharedArrayBuffers, the library's primitives) to the " +
    'thread in its argument instead';
  assert.throws(
    () => run('returnFunction'),
    (error: unknown) => {
      assertThreadReport(
        error,
        'returnFunction',
        `returned a value that cannot be cloned to its joiner: result (an anonymous function); ${advice}`,
      );
      return true;
    },
  );
  assert.throws(
    () => run('returnShared'),
    (error: unknown) => {
      assertThreadReport(
        error,
        'returnShared',
        `returned a value that cannot be cloned to its joiner: result.state.words (a SharedArrayBuffer); ${advice}`,
      );
      return true;
    },
  );
});

threadTest('the export is found from the fragment; no fragment means the default export', () => {
  const t = new QemuThread();
  const url = fn('echo');
  url.hash = '';
  qemu_thread_create(t, 'default', url, 'abc', QEMU_THREAD_JOINABLE);
  assert.equal(qemu_thread_join(t), 'default export got abc');
  qemu_thread_create(t, 'string URL', fn('echo').href, 'as a string', QEMU_THREAD_JOINABLE);
  assert.equal(qemu_thread_join(t), 'as a string');
});

threadTest('a thread that is not the creator joins a joinable thread and gets its value', () => {
  const gate = QemuSemaphore.create(0);
  const target = new QemuThread();
  qemu_thread_create(target, 'target', fn('waitThenReturn'), { gate, value: { from: 'target' } });
  const joiner = new QemuThread();
  qemu_thread_create(joiner, 'joiner', fn('joinOther'), { target });
  qemu_sem_post(gate);
  assert.deepEqual(qemu_thread_join(joiner), { got: { from: 'target' } });
  // It was joined, by the other thread.
  throwsQemuError(() => qemu_thread_join(target), 'EINVAL', 'qemu_thread_join');
});

threadTest('a large value is streamed to a joiner that is not the creator', () => {
  const target = new QemuThread();
  qemu_thread_create(target, 'big', fn('largeArray'), { n: 50_000 });
  const joiner = new QemuThread();
  qemu_thread_create(joiner, 'joiner', fn('joinOther'), { target });
  assert.deepEqual(qemu_thread_join(joiner), { got: makeArray(50_000) });
});

threadTest('two threads race to join one thread: exactly one gets the value, the other EINVAL', () => {
  const gate = QemuSemaphore.create(0);
  const target = new QemuThread();
  qemu_thread_create(target, 'target', fn('waitThenReturn'), { gate, value: 'the value' });
  const joiners = [new QemuThread(), new QemuThread()];
  for (const [i, j] of joiners.entries())
    qemu_thread_create(j, `joiner ${i}`, fn('tryJoinOther'), { target });
  qemu_sem_post(gate);
  const results = joiners.map((j) => qemu_thread_join(j) as { got?: unknown; error?: { shape: unknown } });
  const winners = results.filter((r) => 'got' in r);
  const losers = results.filter((r) => 'error' in r);
  assert.equal(winners.length, 1, JSON.stringify(results));
  assert.equal(losers.length, 1, JSON.stringify(results));
  assert.equal(winners[0].got, 'the value');
  assert.deepEqual(losers[0].error?.shape, qemuErrorShape('EINVAL', 'qemu_thread_join'));
});

threadTest('the main thread blocks in join until the thread, which waits to see it asleep, returns', (w) => {
  const t = new QemuThread();
  qemu_thread_create(t, 'sleeper', fn('returnOnceMainSleeps'), { value: 'awake' });
  w.show({ t });
  assert.equal(qemu_thread_join(t), 'awake');
});

threadTest('threads create and join threads: a chain of three nested threads', () => {
  assert.deepEqual(run('spawnAndJoin', { depth: 3 }), [3, 2, 1, 0]);
});

threadTest('a second join of the same thread is EINVAL', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'once', fn('echo'), 'first');
  assert.equal(qemu_thread_join(t), 'first');
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', 'qemu_thread_join');
});

threadTest('join accepts a structured clone of the QemuThread', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'cloned', fn('echo'), 'via a clone');
  assert.equal(qemu_thread_join(structuredClone(t)), 'via a clone');
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', 'qemu_thread_join');
});

threadTest('joining a QemuThread that was never started is ESRCH', () => {
  throwsQemuError(() => qemu_thread_join(new QemuThread()), 'ESRCH', 'qemu_thread_join');
});

threadTest('a thread joining its own QemuThread gets EDEADLK (also through qemu_thread_get_self)', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'self-joiner', fn('joinSelf'), { self: t });
  const result = qemu_thread_join(t) as Record<string, { shape: unknown; message: string }>;
  for (const key of ['fromArg', 'fromGetSelf']) {
    assert.deepEqual(result[key].shape, qemuErrorShape('EDEADLK', 'qemu_thread_join'), key);
    assert.ok(result[key].message.startsWith('qemu_thread_join: Resource deadlock avoided'), key);
  }
});

threadTest('the main thread joining its own identity (qemu_thread_get_self) gets EDEADLK', () => {
  const me = new QemuThread();
  qemu_thread_get_self(me);
  throwsQemuError(() => qemu_thread_join(me), 'EDEADLK', 'qemu_thread_join');
});

threadTest('a detached thread cannot be joined (EINVAL) and still runs to its end', () => {
  const gate = QemuSemaphore.create(0);
  const done = QemuEvent.create(false);
  const log = new Int32Array(new SharedArrayBuffer(16));
  const t = new QemuThread();
  qemu_thread_create(t, 'detached', fn('detachedWork'), { gate, done, log }, QEMU_THREAD_DETACHED);
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', 'qemu_thread_join');
  qemu_sem_post(gate);
  assert.equal(qemu_event_timedwait(done, 30_000), true, 'the detached thread never finished');
  assert.deepEqual(entries(log), [1, 2]);
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', 'qemu_thread_join');
});

threadTest('a QemuThread can be reused for a new thread once joined', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'first', fn('echo'), 1);
  assert.equal(qemu_thread_join(t), 1);
  qemu_thread_create(t, 'second', fn('echo'), 2);
  assert.equal(qemu_thread_join(t), 2);
});

threadTest(
  'reusing a QemuThread at once: the earlier workers ending later do not disturb the new thread',
  async (w) => {
    const gate = QemuSemaphore.create(0);
    const t = new QemuThread();
    w.show({ gate, t });
    // Node announces each worker this thread creates (on the next tick, before any of its events).
    const exits = new Map<number, Promise<unknown>>();
    const onWorker = (worker: Worker) => exits.set(worker.threadId, once(worker, 'exit'));
    process.on('worker', onWorker);
    const earlier: number[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        qemu_thread_create(t, 'short', fn('echo'), round);
        earlier.push(t.threadId());
        assert.equal(qemu_thread_join(t), round);
      }
      qemu_thread_create(t, 'dies', fn('exitProcess'), { code: 3 });
      earlier.push(t.threadId());
      assert.throws(() => qemu_thread_join(t), Error);
      qemu_thread_create(t, 'long', fn('waitThenReturn'), { gate, value: 'second life' });
      // The earlier workers' exit events reach this thread's event loop while the new thread runs.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(earlier.map((id) => exits.get(id) ?? assert.fail(`no worker seen for thread ${id}`)));
      assert.match(String(t), /running/, 'the new thread runs on');
    } finally {
      process.off('worker', onWorker);
      qemu_sem_post(gate);
    }
    assert.equal(qemu_thread_join(t), 'second life');
  },
);

threadTest('create on a QemuThread still running, or exited but not joined, is EBUSY', () => {
  const gate = QemuSemaphore.create(0);
  const done = QemuEvent.create(false);
  const log = new Int32Array(new SharedArrayBuffer(16));
  const t = new QemuThread();
  qemu_thread_create(t, 'busy', fn('waitThenReturn'), { gate, value: 'original' });
  throwsQemuError(() => qemu_thread_create(t, 'again', fn('echo'), 'new'), 'EBUSY', 'qemu_thread_create');
  qemu_sem_post(gate);
  assert.equal(qemu_thread_join(t), 'original');

  // Exited (its notifier has run) but not joined yet: still EBUSY.
  qemu_thread_create(t, 'finishes', fn('detachedWork'), { gate, done, log });
  qemu_sem_post(gate);
  assert.equal(qemu_event_timedwait(done, 30_000), true);
  throwsQemuError(() => qemu_thread_create(t, 'again', fn('echo'), 'new'), 'EBUSY', 'qemu_thread_create');
  assert.equal(qemu_thread_join(t), 'nobody will see this');
});
