import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export interface Job {
  lock: QemuMutex;
  counter: Int32Array;
  rounds: number;
}

export function produce(job: Job): number {
  for (let i = 0; i < job.rounds; i++) {
    qemu_mutex_lock(job.lock);
    job.counter[0]++;
    qemu_mutex_unlock(job.lock);
  }
  return job.rounds;
}
