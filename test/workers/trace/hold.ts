// A thread that takes and releases a mutex twice, for the JSON backend test.
import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export function holdTwice(arg: { m: QemuMutex }): number {
  for (let i = 0; i < 2; i++) {
    qemu_mutex_lock(arg.m);
    qemu_mutex_unlock(arg.m);
  }
  return 2;
}
