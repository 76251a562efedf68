// A thread that takes a mutex `n` times at one call site, for the QSP test.
import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export function lockMany(arg: { m: QemuMutex; n: number }): number {
  for (let i = 0; i < arg.n; i++) {
    qemu_mutex_lock(arg.m); // the worker's call site
    qemu_mutex_unlock(arg.m);
  }
  return arg.n;
}
