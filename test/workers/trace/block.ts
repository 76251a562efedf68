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
