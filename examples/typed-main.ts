import { QemuMutex, QemuThread, qemu_thread_create, qemu_thread_join, threadFunction } from 'qemu-thread';
import type * as Producer from './typed-producer.js'; // a type-only import: it loads nothing

const produce = threadFunction<typeof Producer>()(new URL('./typed-producer.js', import.meta.url), 'produce');
const job: Producer.Job = {
  lock: QemuMutex.create(),
  counter: new Int32Array(new SharedArrayBuffer(4)),
  rounds: 1000,
};

// The class face infers the handle's type: QemuThread<number>. A wrong `job`, or 'prodcuer', would not compile.
const t = QemuThread.create('producer', produce, job);
const rounds: number = t.join();

// The functional face: the handle says what its join returns, and the create checks the function against it.
const u = new QemuThread<number>();
qemu_thread_create(u, 'producer', produce, job);
const more: number = qemu_thread_join(u);

console.log(rounds + more, job.counter[0]); // 2000 2000
