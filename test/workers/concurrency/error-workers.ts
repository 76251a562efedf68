/**
 * Thread functions for concurrency-errors.test.ts: misuse of primitives that another thread holds, caught
 * in the thread (reported back as plain data) or left uncaught (rethrown by qemu_thread_join).
 */
import {
  type QemuCond,
  type QemuEvent,
  type QemuLockCnt,
  type QemuMutex,
  type QemuRecMutex,
  type QemuSemaphore,
  type QemuSpin,
  QemuThreadError,
  qemu_cond_timedwait,
  qemu_cond_wait,
  qemu_event_timedwait,
  qemu_lockcnt_unlock,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_unlock,
  qemu_sem_post,
  qemu_spin_unlock,
} from 'qemu-thread';
import { markDone } from './helpers.js';

export interface ErrorReport {
  isQemuError: boolean;
  name: string;
  message: string;
  code?: string;
  errno?: number;
  func?: string;
}

function report(error: unknown): ErrorReport {
  const e = error as QemuThreadError;
  return {
    isQemuError: error instanceof QemuThreadError,
    name: e.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    func: e.func,
  };
}

function attempt(fn: () => unknown): ErrorReport | { returned: unknown } {
  try {
    return { returned: fn() };
  } catch (error) {
    return report(error);
  }
}

export interface MisuseArg {
  m: QemuMutex;
  c: QemuCond;
  rec: QemuRecMutex;
  spin: QemuSpin;
  l: QemuLockCnt;
  done: Int32Array;
}

/** Every call here is a misuse of something the main thread holds: each must fail at once, not wait. */
export function misuseHeldByOther(arg: MisuseArg): Record<string, ErrorReport | { returned: unknown }> {
  try {
    return {
      mutexUnlock: attempt(() => qemu_mutex_unlock(arg.m)),
      condWait: attempt(() => qemu_cond_wait(arg.c, arg.m)),
      condTimedwait: attempt(() => qemu_cond_timedwait(arg.c, arg.m, 10_000)),
      recUnlock: attempt(() => qemu_rec_mutex_unlock(arg.rec)),
      spinUnlock: attempt(() => qemu_spin_unlock(arg.spin)),
      lockcntUnlock: attempt(() => qemu_lockcnt_unlock(arg.l)),
      // Still held by the main thread after all that.
      trylock: attempt(() => qemu_mutex_trylock(arg.m)),
    };
  } finally {
    markDone(arg.done);
  }
}

export interface UncaughtArg {
  what: 'unlock' | 'condWait' | 'typeError' | 'rangeError';
  m: QemuMutex;
  c: QemuCond;
  done: Int32Array;
}

/** Lets an error escape the thread function; qemu_thread_join must rethrow it. */
export function uncaught(arg: UncaughtArg): never {
  try {
    switch (arg.what) {
      case 'unlock':
        qemu_mutex_unlock(arg.m);
        break;
      case 'condWait':
        qemu_cond_wait(arg.c, arg.m);
        break;
      case 'typeError':
        qemu_mutex_lock({} as QemuMutex);
        break;
      case 'rangeError':
        throw new RangeError('thrown on purpose in the thread');
    }
    throw new Error(`uncaught(${arg.what}): the misuse did not throw`);
  } finally {
    markDone(arg.done);
  }
}

export interface HolderArg {
  m: QemuMutex;
  c: QemuCond;
  ready: QemuSemaphore;
  release: QemuEvent;
  done: Int32Array;
}

/** Holds the mutex, then waits on the cond with it (so one thread is a cond waiter), until released. */
export function holdThenWait(arg: HolderArg): string {
  try {
    qemu_mutex_lock(arg.m);
    qemu_sem_post(arg.ready);
    // Phase 1: the main thread probes while this thread holds the mutex.
    if (!qemu_event_timedwait(arg.release, 10_000)) throw new Error('holdThenWait: never released');
    // Phase 2: wait on the cond (releasing the mutex) until signalled.
    if (!qemu_cond_timedwait(arg.c, arg.m, 10_000)) throw new Error('holdThenWait: never signalled');
    qemu_mutex_unlock(arg.m);
    return 'ok';
  } finally {
    markDone(arg.done);
  }
}
