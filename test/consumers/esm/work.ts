// The thread function of the ES-module consumer.
import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock, qemu_thread_exit } from 'qemu-thread';

export interface Work {
  lock: QemuMutex;
  counter: Int32Array;
  n: number;
}

export function count(work: Work): never {
  for (let i = 0; i < work.n; i++) {
    qemu_mutex_lock(work.lock);
    work.counter[0]++;
    qemu_mutex_unlock(work.lock);
  }
  qemu_thread_exit({ done: work.n });
}
