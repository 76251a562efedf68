// Threads that block on a mutex, or sleep in a cond wait, for holders.test.ts.
import {
  type QemuCond,
  type QemuMutex,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';

export function lockOnce(arg: { m: QemuMutex }): void {
  qemu_mutex_lock(arg.m);
  qemu_mutex_unlock(arg.m);
}

export function waitForGo(arg: { m: QemuMutex; c: QemuCond; go: Int32Array }): void {
  qemu_mutex_lock(arg.m);
  while (!arg.go[0]) qemu_cond_wait(arg.c, arg.m);
  qemu_mutex_unlock(arg.m);
}

/** As lockOnce, with the async lock: the thread's event loop runs while it waits. */
export async function lockOnceAsync(arg: { m: QemuMutex }): Promise<void> {
  await arg.m.lockAsync();
  arg.m.unlock();
}

/** As waitForGo, with the async cond wait. */
export async function waitForGoAsync(arg: { m: QemuMutex; c: QemuCond; go: Int32Array }): Promise<void> {
  qemu_mutex_lock(arg.m);
  while (!arg.go[0]) await arg.c.waitAsync(arg.m);
  qemu_mutex_unlock(arg.m);
}
