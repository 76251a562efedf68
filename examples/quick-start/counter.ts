import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export interface Job {
  lock: QemuMutex;
  counter: Int32Array;
  rounds: number;
}

// Runs in each new thread, on a structured clone of main.ts's `job`: the mutex and the counter's
// SharedArrayBuffer arrive as the same shared memory, not as copies.
export function count(job: Job): number {
  for (let i = 0; i < job.rounds; i++) {
    qemu_mutex_lock(job.lock);
    job.counter[0]++; // a plain read-modify-write, made safe by the mutex
    qemu_mutex_unlock(job.lock);
  }
  return job.rounds; // what qemu_thread_join returns
}
