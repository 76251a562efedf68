/**
 * qemu_thread_create's checks (thread function, mode, kind of `t`), what a thread receives as its argument,
 * thread identity (qemu_thread_get_self / qemu_thread_is_self) and thread naming.
 */
import assert from 'node:assert/strict';
import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  qemu_event_timedwait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_timedwait,
  qemu_thread_create,
  qemu_thread_get_self,
  qemu_thread_is_self,
  qemu_thread_join,
  qemu_thread_naming,
} from 'qemu-thread';
import { fn, moduleUrl, threadTest, throwsQemuError } from './workers/thread/harness.js';

const CREATE = 'qemu_thread_create';
const JOIN = 'qemu_thread_join';

threadTest('a relative string as the thread function is EINVAL from create; nothing was started', () => {
  const t = new QemuThread();
  throwsQemuError(
    () => qemu_thread_create(t, 'rel', './workers/thread/lifecycle.js#echo', 1, QEMU_THREAD_JOINABLE),
    'EINVAL',
    CREATE,
  );
  throwsQemuError(() => qemu_thread_join(t), 'ESRCH', JOIN);
});

threadTest('a URL of a missing module is EINVAL from create; nothing was started', () => {
  const t = new QemuThread();
  throwsQemuError(
    () => qemu_thread_create(t, 'missing', moduleUrl('no-such-module.js#fn'), 1),
    'EINVAL',
    CREATE,
  );
  throwsQemuError(
    () => qemu_thread_create(t, 'missing', moduleUrl('no-such-module.js#fn').href, 1),
    'EINVAL',
    CREATE,
  );
  throwsQemuError(() => qemu_thread_join(t), 'ESRCH', JOIN);
});

threadTest('a module without the export is EINVAL from create, naming the module and the export', () => {
  const t = new QemuThread();
  const url = fn('thereIsNoSuchExport');
  const module = url.href.replace(/#.*/, '');
  throwsQemuError(
    () => qemu_thread_create(t, 'no export', url, 1),
    'EINVAL',
    CREATE,
    `(the module ${module} has no export 'thereIsNoSuchExport')`,
  );
  throwsQemuError(() => qemu_thread_join(t), 'ESRCH', JOIN);
  qemu_thread_create(t, 'after', fn('echo'), 'usable');
  assert.equal(qemu_thread_join(t), 'usable');
});

threadTest('a missing export that the module text cannot rule out (export *) is EINVAL from join', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'no export', moduleUrl('reexport.js#thereIsNoSuchExport'), 1);
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', JOIN, "has no export 'thereIsNoSuchExport'");
  // The failed thread was joined: the storage is free again; and the names it does re-export run.
  qemu_thread_create(t, 'after', moduleUrl('reexport.js#echo'), 'usable again');
  assert.equal(qemu_thread_join(t), 'usable again');
});

threadTest('an export that is not a function is EINVAL from join, naming the export', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'not a function', fn('notAFunction'), 1);
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', JOIN, 'notAFunction');
});

threadTest('a module that throws while loading is EINVAL from join, with the reason', () => {
  const t = new QemuThread();
  qemu_thread_create(t, 'load error', moduleUrl('throws-on-load.js#unreachable'), 1);
  throwsQemuError(() => qemu_thread_join(t), 'EINVAL', JOIN, 'this module refuses to load in a thread');
});

threadTest('a mode other than JOINABLE (0) or DETACHED (1) is EINVAL from create', () => {
  const t = new QemuThread();
  for (const mode of [2, -1, 0.5]) {
    throwsQemuError(() => qemu_thread_create(t, 'bad mode', fn('echo'), 1, mode as never), 'EINVAL', CREATE);
  }
  throwsQemuError(() => qemu_thread_join(t), 'ESRCH', JOIN);
});

threadTest('something other than a QemuThread as t is a TypeError', () => {
  for (const bad of [{}, null, undefined, 'thread', 3, QemuMutex.create()]) {
    const t = bad as unknown as QemuThread;
    assert.throws(() => qemu_thread_create(t, 'x', fn('echo'), 1), TypeError);
    assert.throws(() => qemu_thread_join(t), TypeError);
    assert.throws(() => qemu_thread_is_self(t), TypeError);
    assert.throws(() => qemu_thread_get_self(t), TypeError);
  }
});

threadTest('an argument that cannot be cloned fails create and leaves the QemuThread reusable', () => {
  const t = new QemuThread();
  assert.throws(() => qemu_thread_create(t, 'uncloneable', fn('echo'), { f: () => 1 }));
  qemu_thread_create(t, 'then', fn('echo'), 'fine');
  assert.equal(qemu_thread_join(t), 'fine');
});

threadTest('primitives deep inside the argument arrive as full instances that share state', () => {
  const mutex = QemuMutex.create();
  const sem = QemuSemaphore.create(0);
  const event = QemuEvent.create(false);
  const other = new QemuThread();
  const words = new Int32Array(new SharedArrayBuffer(4));
  const plain = { n: 5, s: 'text', when: new Date(1000) };
  const arg = {
    nested: {
      list: [mutex, sem],
      map: new Map<string, unknown>([
        ['event', event],
        ['thread', other],
      ]),
      set: new Set([QemuCond.create()]),
    },
    words,
    plain,
  };
  const t = new QemuThread();
  qemu_mutex_lock(mutex);
  try {
    qemu_thread_create(t, 'args', fn('argCheck'), arg);
    assert.deepEqual(qemu_thread_join(t), {
      instances: { mutex: true, sem: true, event: true, thread: true, cond: true },
      trylock: -16,
      plain,
      threadIsSelf: false,
    });
  } finally {
    qemu_mutex_unlock(mutex);
  }
  assert.equal(qemu_sem_timedwait(sem, 0), 0);
  assert.equal(qemu_sem_timedwait(sem, 0), 0);
  assert.equal(qemu_sem_timedwait(sem, 0), -1, 'the thread posted exactly twice');
  assert.equal(qemu_event_timedwait(event, 0), true);
  assert.equal(words[0], 42);
});

threadTest(
  'is_self: true in the thread for its own QemuThread and a get_self-filled one, false in main',
  () => {
    const mainIdentity = new QemuThread();
    assert.equal(qemu_thread_is_self(mainIdentity), false);
    qemu_thread_get_self(mainIdentity);
    assert.equal(qemu_thread_is_self(mainIdentity), true);

    const t = new QemuThread();
    qemu_thread_create(t, 'self', fn('selfCheck'), { self: t, mainIdentity });
    assert.equal(qemu_thread_is_self(t), false);
    assert.deepEqual(qemu_thread_join(t), {
      argIsInstance: true,
      isSelfArg: true,
      isSelfMainIdentity: false,
      freshBefore: false,
      freshAfter: true,
    });
    assert.equal(qemu_thread_is_self(t), false);
    assert.equal(qemu_thread_is_self(mainIdentity), true);
  },
);

threadTest('with naming on, a thread sees its name through currentThreadName()', () => {
  qemu_thread_naming(true);
  try {
    const t = new QemuThread();
    qemu_thread_create(t, 'CPU 0/TCG', fn('nameCheck'), undefined);
    assert.equal(qemu_thread_join(t), 'CPU 0/TCG');
    qemu_thread_create(t, null, fn('nameCheck'), undefined);
    assert.equal(qemu_thread_join(t), null);
  } finally {
    qemu_thread_naming(false);
  }
});
