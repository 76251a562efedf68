// A thread module written in TypeScript and run as it is (typescript.test.ts: under tsx; the runtime
// slice: under a runtime that strips types), never compiled first. Type-only syntax alone, so that Node's
// type stripping can run it too.
import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export interface Job {
  lock: QemuMutex;
  counter: Int32Array;
  rounds: number;
}

export function count(job: Job): number {
  for (let i = 0; i < job.rounds; i++) {
    qemu_mutex_lock(job.lock);
    job.counter[0]++;
    qemu_mutex_unlock(job.lock);
  }
  return job.rounds;
}

export function fail(message: string): never {
  throw new RangeError(message);
}
