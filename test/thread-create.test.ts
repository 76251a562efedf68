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

threadTest('the look at the module text accepts every shape of export it cannot rule out', () => {
  const run = (url: URL, arg: unknown) => {
    const t = new QemuThread();
    qemu_thread_create(t, 'shape', url, arg);
    return qemu_thread_join(t);
  };
  assert.equal(run(moduleUrl('export-shapes.js#renamed'), 1), 'renamed got 1');
  assert.equal(run(moduleUrl('export-shapes.js'), 2), 'anonymous default got 2');
  assert.equal(run(moduleUrl('named-only.js#only'), 3), 3);
  assert.equal(run(moduleUrl('common.cjs#triple'), 4), 12);
  // A CommonJS module's default export is its module.exports, which exists (and is not a function here).
  throwsQemuError(
    () => run(moduleUrl('common.cjs'), 5),
    'EINVAL',
    JOIN,
    "has an export that is not a function: 'default'",
  );
});

threadTest(
  'an export that the module text shows missing is EINVAL from create: default, CommonJS, named',
  () => {
    for (const [url, name] of [
      [moduleUrl('named-only.js'), 'default'],
      [moduleUrl('common.cjs#quadruple'), 'quadruple'],
      [moduleUrl('export-shapes.js#internal'), 'internal'],
    ] as const) {
      const t = new QemuThread();
      throwsQemuError(
        () => qemu_thread_create(t, 'missing', url, 1),
        'EINVAL',
        CREATE,
        `(the module ${url.href.replace(/#.*/, '')} has no export '${name}')`,
      );
      throwsQemuError(() => qemu_thread_join(t), 'ESRCH', JOIN);
    }
  },
);

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

threadTest(
  'an argument that cannot be cloned fails create, saying where and what to do; t is reusable',
  () => {
    const advice =
      "pass plain data, SharedArrayBuffers and the library's primitives (a class instance arrives as a plain " +
      'object; a function cannot be sent at all: name it by URL, as the thread function is)';
    const t = new QemuThread();
    function onDone(): void {}
    const cases: [unknown, string][] = [
      [{ jobs: [{ n: 1 }, { n: 2, onDone }] }, 'arg.jobs[1].onDone (the function onDone)'],
      [{ 'odd key': Symbol('s') }, 'arg["odd key"] (the symbol Symbol(s))'],
      [new Map([['k', { f: () => 1 }]]), 'arg.get("k").f (the function f)'],
      [{ pending: Promise.resolve(1) }, 'arg.pending (a Promise)'],
      [() => 1, 'arg (an anonymous function)'],
    ];
    for (const [arg, where] of cases) {
      throwsQemuError(
        () => qemu_thread_create(t, 'uncloneable', fn('echo'), arg),
        'EINVAL',
        CREATE,
        `(arg cannot be cloned to the new thread: ${where}; ${advice})`,
      );
    }
    qemu_thread_create(t, 'then', fn('echo'), 'fine');
    assert.equal(qemu_thread_join(t), 'fine');
  },
);

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
