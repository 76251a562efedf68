// Thread functions that end while holding a lock, for robust.test.ts.
import {
  type QemuMutex,
  type QemuRecMutex,
  qemu_mutex_lock,
  qemu_rec_mutex_lock,
  qemu_thread_exit,
} from 'qemu-thread';

/** Takes the mutex, signals that it holds it, and returns without unlocking. */
export function lockAndReturn(arg: { m: QemuMutex; held: Int32Array }): string {
  qemu_mutex_lock(arg.m);
  Atomics.store(arg.held, 0, 1);
  Atomics.notify(arg.held, 0);
  return 'left it locked';
}

/**
 * Takes the mutex, waits until another thread is parked on it (the library's waiting table says so), then
 * ends the way `how` says, still holding it: the lock must go to the parked thread, with EOWNERDEAD.
 */
export function lockThenEnd(arg: { m: QemuMutex; held: Int32Array; how: string }): string {
  qemu_mutex_lock(arg.m);
  Atomics.store(arg.held, 0, 1);
  Atomics.notify(arg.held, 0);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (arg.m.waiters().length === 0) Atomics.wait(nap, 0, 0, 1);
  if (arg.how === 'exit') qemu_thread_exit('exited');
  if (arg.how === 'throw') throw new Error('died holding the lock');
  if (arg.how === 'process.exit') process.exit(3);
  return 'returned';
}

/** Takes the recursive mutex twice and returns. */
export function recLockTwice(arg: { r: QemuRecMutex; held: Int32Array }): void {
  qemu_rec_mutex_lock(arg.r);
  qemu_rec_mutex_lock(arg.r);
  Atomics.store(arg.held, 0, 1);
}
