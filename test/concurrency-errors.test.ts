/**
 * Ownership errors across threads: a worker misusing a mutex (and friends) that the main thread holds gets
 * EPERM at once, with the right `func`; errors a thread lets escape come back through qemu_thread_join
 * with their class, code, errno, func and message; EBUSY on destroying what another thread holds or waits on.
 */
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThreadError,
  QemuThreadFailure,
  qemu_cond_destroy,
  qemu_cond_signal,
  qemu_event_set,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_destroy,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_unlock,
  qemu_sem_timedwait,
  qemu_spin_lock,
  qemu_spin_unlock,
  qemu_thread_join,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import type { HolderArg, MisuseArg, UncaughtArg } from './workers/concurrency/error-workers.js';
import { joinAll, notifyAllWords, sharedWords, sleep, spawn } from './workers/concurrency/helpers.js';

const WORKERS = new URL('./workers/concurrency/error-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

const eperm = (func: string) => ({
  isQemuError: true,
  name: 'QemuThreadError',
  code: 'EPERM',
  errno: 1,
  func,
});

watched(
  'a worker misusing locks the main thread holds gets EPERM at once, naming the function',
  { ms: 60_000 },
  () => {
    const arg = {
      m: QemuMutex.create(),
      c: QemuCond.create(),
      rec: QemuRecMutex.create(),
      spin: QemuSpin.create(),
      l: QemuLockCnt.create(),
      done: sharedWords(1),
    } satisfies MisuseArg;
    qemu_mutex_lock(arg.m);
    qemu_rec_mutex_lock(arg.rec);
    qemu_spin_lock(arg.spin);
    qemu_lockcnt_lock(arg.l);
    let results: unknown[];
    try {
      const t = spawn('misuse', fn('misuseHeldByOther'), arg);
      results = joinAll([t], arg.done, { what: 'misuse' });
    } finally {
      qemu_lockcnt_unlock(arg.l);
      qemu_spin_unlock(arg.spin);
      qemu_rec_mutex_unlock(arg.rec);
      qemu_mutex_unlock(arg.m); // still ours: none of the worker's calls released it
    }
    const r = results[0] as Record<string, { message?: string }>;
    const pick = ({ message, ...rest }: { message?: string }) => rest;
    assert.deepEqual(pick(r.mutexUnlock), eperm('qemu_mutex_unlock'));
    assert.match(r.mutexUnlock.message!, /^qemu_mutex_unlock: Operation not permitted/);
    assert.deepEqual(pick(r.condWait), eperm('qemu_cond_wait'));
    assert.deepEqual(pick(r.condTimedwait), eperm('qemu_cond_timedwait'));
    assert.deepEqual(pick(r.recUnlock), eperm('qemu_rec_mutex_unlock'));
    assert.deepEqual(pick(r.spinUnlock), eperm('qemu_spin_unlock'));
    assert.deepEqual(pick(r.lockcntUnlock), eperm('qemu_lockcnt_unlock'));
    assert.deepEqual(r.trylock, { returned: -16 }, 'the mutex was still held by the main thread');
    assert.equal(arg.c.waiters(), 0, 'the refused cond waits never became waiters');
  },
);

for (const [what, func] of [
  ['unlock', 'qemu_mutex_unlock'],
  ['condWait', 'qemu_cond_wait'],
] as const) {
  watched(
    `an uncaught EPERM from ${func} in a thread reaches qemu_thread_join as the cause, with code and func`,
    { ms: 60_000 },
    () => {
      const m = QemuMutex.create();
      const c = QemuCond.create();
      const done = sharedWords(1);
      qemu_mutex_lock(m);
      try {
        const t = spawn(`uncaught-${what}`, fn('uncaught'), { what, m, c, done } satisfies UncaughtArg);
        assert.throws(
          () => joinAll([t], done, { what: `uncaught ${what}` }),
          (failure: unknown) => {
            assert.ok(failure instanceof QemuThreadFailure, `a QemuThreadFailure: ${String(failure)}`);
            assert.equal(failure.threadName, `uncaught-${what}`);
            assert.match(
              failure.message,
              new RegExp(
                `^qemu_thread_join: thread ${t.threadId()} 'uncaught-${what}' failed: QemuThreadError: ${func}: Operation not permitted`,
              ),
            );
            const error = failure.cause;
            assert.ok(error instanceof QemuThreadError, 'a QemuThreadError again after crossing threads');
            assert.equal(error.name, 'QemuThreadError');
            assert.equal(error.code, 'EPERM');
            assert.equal(error.errno, 1);
            assert.equal(error.func, func);
            assert.match(error.message, new RegExp(`^${func}: Operation not permitted`));
            assert.match(String(error.stack), /error-workers/, "the stack is the thread's");
            return true;
          },
        );
        assert.equal(qemu_mutex_trylock(m), -16, 'the main thread still holds the mutex');
      } finally {
        qemu_mutex_unlock(m);
      }
    },
  );
}

watched(
  'other errors escaping a thread keep their class and message through qemu_thread_join, as causes',
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    const c = QemuCond.create();
    for (const [what, Class, pattern] of [
      ['typeError', TypeError, /^qemu_mutex_lock: expected a QemuMutex/],
      ['rangeError', RangeError, /^thrown on purpose in the thread$/],
    ] as const) {
      const done = sharedWords(1);
      const t = spawn(`uncaught-${what}`, fn('uncaught'), { what, m, c, done } satisfies UncaughtArg);
      assert.throws(
        () => joinAll([t], done, { what }),
        (failure: unknown) => {
          assert.ok(failure instanceof QemuThreadFailure, `${what}: ${String(failure)}`);
          assert.equal(failure.threadName, `uncaught-${what}`);
          const error = failure.cause;
          assert.ok(error instanceof Class, `${what}: ${String(error)}`);
          assert.match((error as Error).message, pattern);
          assert.ok(failure.message.endsWith(`failed: ${Class.name}: ${(error as Error).message}`));
          return true;
        },
      );
      // Joined: a second join is EINVAL.
      assert.throws(() => qemu_thread_join(t), { code: 'EINVAL', func: 'qemu_thread_join' });
    }
  },
);

watched(
  'destroying a mutex another thread holds, or a cond another thread waits on, is EBUSY',
  { ms: 60_000 },
  () => {
    const arg = {
      m: QemuMutex.create(),
      c: QemuCond.create(),
      ready: QemuSemaphore.create(0),
      release: QemuEvent.create(false),
      done: sharedWords(1),
    } satisfies HolderArg;
    const t = spawn('holder', fn('holdThenWait'), arg);
    let mainError: unknown;
    try {
      assert.equal(qemu_sem_timedwait(arg.ready, 10_000), 0, 'the holder started');
      assert.throws(() => qemu_mutex_destroy(arg.m), { code: 'EBUSY', func: 'qemu_mutex_destroy' });
      assert.throws(() => qemu_mutex_unlock(arg.m), { code: 'EPERM', func: 'qemu_mutex_unlock' });
      assert.equal(qemu_mutex_trylock(arg.m), -16);
      qemu_event_set(arg.release);
      // The holder now waits on the cond, releasing the mutex; once we get the mutex it is a waiter.
      qemu_mutex_lock(arg.m);
      let polls = 0;
      while (arg.c.waiters() === 0 && polls++ < 20_000) {
        qemu_mutex_unlock(arg.m);
        sleep(0.5);
        qemu_mutex_lock(arg.m);
      }
      assert.throws(() => qemu_cond_destroy(arg.c), { code: 'EBUSY', func: 'qemu_cond_destroy' });
      qemu_cond_signal(arg.c);
      qemu_mutex_unlock(arg.m);
    } catch (error) {
      mainError = error;
      qemu_event_set(arg.release);
      qemu_cond_signal(arg.c);
    }
    const [r] = joinAll([t], arg.done, {
      mainError,
      what: 'holder',
      rescue: () => notifyAllWords(arg.m, arg.c, arg.release),
    });
    assert.equal(r, 'ok');
    qemu_cond_destroy(arg.c);
    qemu_mutex_destroy(arg.m);
  },
);
