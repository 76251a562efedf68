// Threads that take two mutexes in opposite orders, for deadlock.test.ts.
import {
  type QemuCond,
  type QemuMutex,
  QemuThreadError,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';

export interface Arg {
  first: QemuMutex;
  second: QemuMutex;
  /** Counts the threads that hold their first mutex; each waits for all before taking the second. */
  ready: Int32Array;
  threads: number;
}

/** Returns 'ok' if it got both mutexes, or the error code and message it got instead. */
export function lockInOrder(arg: Arg): string {
  qemu_mutex_lock(arg.first);
  Atomics.add(arg.ready, 0, 1);
  while (Atomics.load(arg.ready, 0) < arg.threads) Atomics.wait(arg.ready, 0, Atomics.load(arg.ready, 0), 20);
  let result = 'ok';
  try {
    qemu_mutex_lock(arg.second);
    qemu_mutex_unlock(arg.second);
  } catch (error) {
    result = error instanceof QemuThreadError ? `${error.code}: ${error.message}` : String(error);
  }
  qemu_mutex_unlock(arg.first);
  return result;
}

/**
 * Holds the mutex until another thread is parked on it, then `ms` longer, then releases it: a long wait
 * for others that is not a deadlock. (The `ms` are time deliberately let pass: the waiter must stay
 * blocked past the deadlock detector's threshold, CHECK_AFTER_MS, for the test to mean anything.)
 */
export function holdFor(arg: { m: QemuMutex; ms: number; held: Int32Array }): void {
  qemu_mutex_lock(arg.m);
  Atomics.store(arg.held, 0, 1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (arg.m.waiters().length === 0) Atomics.wait(nap, 0, 0, 1);
  Atomics.wait(nap, 0, 0, arg.ms);
  qemu_mutex_unlock(arg.m);
}

export interface CondArg {
  m1: QemuMutex;
  m2: QemuMutex;
  c: QemuCond;
  /** [0]: A is waiting in the cond; [1]: B holds m1. */
  flags: Int32Array;
}

/** Holds m2, then waits in a cond on m1: its relock of m1 will need what B holds. */
export function condSide(arg: CondArg): string {
  qemu_mutex_lock(arg.m2);
  qemu_mutex_lock(arg.m1);
  Atomics.store(arg.flags, 0, 1);
  let result = 'ok';
  try {
    while (Atomics.load(arg.flags, 1) === 0) qemu_cond_wait(arg.c, arg.m1);
    qemu_mutex_unlock(arg.m1);
  } catch (error) {
    result = error instanceof QemuThreadError ? `${error.code}: ${error.message}` : String(error);
  }
  qemu_mutex_unlock(arg.m2);
  return result;
}

/** Takes m1 while A waits, wakes A, then wants m2, which A holds. */
export function lockSide(arg: CondArg): string {
  while (Atomics.load(arg.flags, 0) === 0) Atomics.wait(arg.flags, 0, 0, 20);
  qemu_mutex_lock(arg.m1);
  Atomics.store(arg.flags, 1, 1);
  qemu_cond_signal(arg.c);
  let result = 'ok';
  try {
    qemu_mutex_lock(arg.m2);
    qemu_mutex_unlock(arg.m2);
  } catch (error) {
    result = error instanceof QemuThreadError ? `${error.code}: ${error.message}` : String(error);
  }
  qemu_mutex_unlock(arg.m1);
  return result;
}
