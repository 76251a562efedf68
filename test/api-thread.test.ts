// The qemu_thread_* rows of the API table that one calling thread can check: create/join results, the
// EINVAL/EDEADLK/EPERM/ESRCH rows, self identity, and the at-exit list's argument checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  QEMU_THREAD_DETACHED,
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  QemuThreadError,
  QemuThreadFailure,
  qemu_thread_atexit_add,
  qemu_thread_atexit_remove,
  qemu_thread_create,
  qemu_thread_exit,
  qemu_thread_get_affinity,
  qemu_thread_get_self,
  qemu_thread_is_self,
  qemu_thread_join,
  qemu_thread_set_affinity,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { watched } from './support/watchdog.js';

const FNS = new URL('./workers/api/thread-fns.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, FNS);

watched('the affinity calls return -ENOSYS (-38), as QEMU does where threads cannot be bound', () => {
  const self = new QemuThread();
  qemu_thread_get_self(self);
  assert.equal(qemu_thread_set_affinity(self, [0b11], 2), -38);
  assert.equal(qemu_thread_get_affinity(self), -38);
  const t = new QemuThread();
  qemu_thread_create(t, 'adder', fn('add'), { a: 1, b: 2 }, QEMU_THREAD_JOINABLE);
  assert.equal(qemu_thread_set_affinity(t, [1], 1), -38);
  assert.equal(qemu_thread_get_affinity(structuredClone(t)), -38, 'a clone of the handle works too');
  assert.equal(qemu_thread_join(t), 3);
});

watched('QEMU_THREAD_JOINABLE is 0 and QEMU_THREAD_DETACHED is 1', () => {
  assert.equal(QEMU_THREAD_JOINABLE, 0);
  assert.equal(QEMU_THREAD_DETACHED, 1);
});

watched(
  "qemu_thread_create returns undefined and qemu_thread_join returns the function's return value",
  () => {
    const t = new QemuThread();
    assert.equal(qemu_thread_create(t, 'adder', fn('add'), { a: 2, b: 40 }, QEMU_THREAD_JOINABLE), undefined);
    assert.equal(qemu_thread_join(t), 42);
  },
);

watched('no fragment runs the default export; an absolute URL string works as well as a URL', () => {
  const t = new QemuThread();
  qemu_thread_create(t, null, FNS.href, [1, 'two'], QEMU_THREAD_JOINABLE);
  assert.deepEqual(qemu_thread_join(t), { echoed: [1, 'two'] });
});

watched('the method face: start/join and QemuThread.create', () => {
  const t = new QemuThread();
  assert.equal(t.start('m', fn('add'), { a: 1, b: 1 }, QEMU_THREAD_JOINABLE), undefined);
  assert.equal(t.join(), 2);
  assert.equal(QemuThread.create(null, fn('add'), { a: 3, b: 4 }).join(), 7);
});

watched('qemu_thread_join returns what the thread passed to qemu_thread_exit', () => {
  const t = new QemuThread();
  qemu_thread_create(t, null, fn('exitEarly'), 9, QEMU_THREAD_JOINABLE);
  assert.deepEqual(qemu_thread_join(t), { exited: 9 });
});

watched(
  'a thread that died of an exception: join throws a QemuThreadFailure naming it, the exception as cause',
  () => {
    const t = new QemuThread();
    qemu_thread_create(t, 'ranger', fn('throwRange'), 'out of range', QEMU_THREAD_JOINABLE);
    const tid = t.threadId();
    assert.throws(
      () => qemu_thread_join(t),
      (e: unknown) =>
        e instanceof QemuThreadFailure &&
        e.name === 'QemuThreadFailure' &&
        e.message === `qemu_thread_join: thread ${tid} 'ranger' failed: RangeError: out of range` &&
        e.threadId === tid &&
        e.threadName === 'ranger' &&
        e.cause instanceof RangeError &&
        e.cause.message === 'out of range' &&
        /at throwRange /.test(String(e.cause.stack)),
    );
    // Unnamed: the thread's id alone.
    const u = QemuThread.create(null, fn('throwRange'), 'again');
    assert.throws(() => u.join(), {
      name: 'QemuThreadFailure',
      message: `qemu_thread_join: thread ${u.threadId()} failed: RangeError: again`,
    });
  },
);

watched("primitives inside a thread's arg, at any depth, arrive as full instances sharing state", () => {
  const sem = QemuSemaphore.create(0);
  const arg = {
    list: [QemuMutex.create(), structuredClone(QemuCond.create())],
    nested: { deep: sem },
    map: new Map<string, unknown>([['e', QemuEvent.create(true)]]),
  };
  const names = qemu_thread_join(QemuThread.create(null, fn('inspectArg'), arg));
  assert.deepEqual(names, ['QemuMutex', 'QemuCond', 'QemuSemaphore', 'QemuEvent']);
  assert.equal(sem.value(), 1);
});

watched('joining a joined thread is EINVAL through both faces', () => {
  const t = QemuThread.create(null, fn('add'), { a: 0, b: 0 });
  assert.equal(qemu_thread_join(t), 0);
  assert.throws(() => qemu_thread_join(t), qemuError('EINVAL', 'qemu_thread_join'));
  assert.throws(() => t.join(), qemuError('EINVAL', 'qemu_thread_join'));
});

watched('joining a detached thread is EINVAL', () => {
  const t = new QemuThread();
  qemu_thread_create(t, null, fn('add'), { a: 0, b: 0 }, QEMU_THREAD_DETACHED);
  assert.throws(() => qemu_thread_join(t), qemuError('EINVAL', 'qemu_thread_join'));
  assert.throws(() => t.join(), qemuError('EINVAL', 'qemu_thread_join'));
});

watched('joining a QemuThread that was never started is ESRCH (README)', () => {
  assert.throws(() => qemu_thread_join(new QemuThread()), qemuError('ESRCH', 'qemu_thread_join'));
});

for (const mode of [2, -1, 0.5, Number.NaN]) {
  watched(`qemu_thread_create with mode ${mode} is EINVAL, and starts nothing`, () => {
    const t = new QemuThread();
    assert.throws(
      () => qemu_thread_create(t, null, fn('add'), { a: 1, b: 1 }, mode as never),
      qemuError('EINVAL', 'qemu_thread_create'),
    );
    assert.throws(() => qemu_thread_join(t), qemuError('ESRCH', 'qemu_thread_join'));
  });
}

watched('qemu_thread_create with a relative string, a missing module or a non-URL fn is EINVAL', () => {
  const missing = new URL('./workers/api/no-such-module.js#f', import.meta.url);
  for (const bad of ['./workers/api/thread-fns.js#add', 'thread-fns.js', missing, missing.href, 42, null]) {
    const t = new QemuThread();
    assert.throws(
      () => qemu_thread_create(t, null, bad as URL, null, QEMU_THREAD_JOINABLE),
      qemuError('EINVAL', 'qemu_thread_create'),
      String(bad),
    );
  }
});

watched('an export that is not a function, or is missing, is EINVAL from create or else from join', () => {
  for (const name of ['notAFunction', 'noSuchExport']) {
    const t = new QemuThread();
    let reported: unknown;
    try {
      qemu_thread_create(t, null, fn(name), null, QEMU_THREAD_JOINABLE);
      qemu_thread_join(t);
    } catch (e) {
      reported = e;
    }
    assert.ok(reported instanceof QemuThreadError, `${name}: ${String(reported)}`);
    assert.equal(reported.code, 'EINVAL');
    assert.equal(reported.errno, 22);
    assert.ok(['qemu_thread_create', 'qemu_thread_join'].includes(reported.func));
    assert.ok(reported.message.startsWith(`${reported.func}: Invalid argument`));
  }
});

watched('qemu_thread_get_self / qemu_thread_is_self identify the calling thread', () => {
  const t = new QemuThread();
  assert.equal(qemu_thread_is_self(t), false);
  assert.equal(qemu_thread_get_self(t), undefined);
  assert.equal(qemu_thread_is_self(t), true);
  assert.equal(t.isSelf(), true);
  const u = new QemuThread();
  u.getSelf();
  assert.equal(qemu_thread_is_self(u), true);
});

watched("a created thread's handle is not self here, and in the thread get_self is self", () => {
  const t = QemuThread.create('reporter', fn('selfReport'));
  assert.equal(qemu_thread_is_self(t), false);
  const report = qemu_thread_join(t) as { name: string | null; isSelf: boolean };
  assert.equal(report.isSelf, true);
  assert.equal(report.name, 'reporter');
});

watched('joining your own identity is EDEADLK', () => {
  const t = new QemuThread();
  qemu_thread_get_self(t);
  assert.throws(() => qemu_thread_join(t), qemuError('EDEADLK', 'qemu_thread_join'));
  assert.throws(() => t.join(), qemuError('EDEADLK', 'qemu_thread_join'));
});

watched('qemu_thread_exit on a thread qemu_thread_create did not start is EPERM', () => {
  assert.throws(() => qemu_thread_exit(1), qemuError('EPERM', 'qemu_thread_exit'));
});

watched(
  'qemu_thread_atexit_remove of a notifier not on the list is EINVAL; add of a non-notifier a TypeError',
  () => {
    const n = { notify() {} };
    assert.throws(() => qemu_thread_atexit_remove(n), qemuError('EINVAL', 'qemu_thread_atexit_remove'));
    qemu_thread_atexit_add(n);
    assert.equal(qemu_thread_atexit_remove(n), undefined);
    assert.throws(() => qemu_thread_atexit_remove(n), qemuError('EINVAL', 'qemu_thread_atexit_remove'));
    for (const bad of [null, {}, { notify: 1 }, 3]) {
      assert.throws(() => qemu_thread_atexit_add(bad as never), TypeError);
    }
  },
);

watched(
  'a program run as `node --input-type=module -e` can create and join a thread (join must not hang)',
  () => {
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { QemuThread } from 'qemu-thread';
      const t = QemuThread.create(null, ${JSON.stringify(fn('add').href)}, { a: 20, b: 22 });
      try { console.log(t.join()); } catch (e) { console.log(e.name); }`,
      ],
      { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8', timeout: 30_000 },
    );
    assert.notEqual(
      run.signal,
      'SIGTERM',
      'qemu_thread_join hung: the worker never started and join was not told',
    );
    assert.equal(run.stdout, '42\n', run.stderr);
  },
);
