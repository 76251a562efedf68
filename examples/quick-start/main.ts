import { QemuMutex, QemuThread, qemu_thread_create, qemu_thread_join } from 'qemu-thread';
import type { Job } from './counter.js';

const job: Job = {
  lock: QemuMutex.create(),
  counter: new Int32Array(new SharedArrayBuffer(4)),
  rounds: 100_000,
};

const threads: QemuThread[] = [];
for (let i = 0; i < 4; i++) {
  const t = new QemuThread();
  // A function cannot be sent to a thread: name it by its compiled module's URL, export after the '#'.
  qemu_thread_create(t, `counter ${i}`, new URL('./counter.js#count', import.meta.url), job);
  threads.push(t);
}

let total = 0;
for (const t of threads) total += qemu_thread_join(t) as number;
console.log(`${total} increments, counter ${job.counter[0]}`); // 400000 increments, counter 400000
