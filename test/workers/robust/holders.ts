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

/** Takes the mutex, waits until told, then ends the way `how` says, still holding it. */
export function lockThenEnd(arg: { m: QemuMutex; held: Int32Array; go: Int32Array; how: string }): string {
  qemu_mutex_lock(arg.m);
  Atomics.store(arg.held, 0, 1);
  Atomics.notify(arg.held, 0);
  while (Atomics.load(arg.go, 0) === 0) Atomics.wait(arg.go, 0, 0, 50);
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
