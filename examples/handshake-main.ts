// QEMU's vCPU creation handshake, main side (docs/machine.md): node build/examples/handshake-main.js
import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuMutex,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';

const bql = QemuMutex.create();
const cpuCond = QemuCond.create();
const haltCond = QemuCond.create();
const created = new Int32Array(new SharedArrayBuffer(4 * 4));
const quit = new Int32Array(new SharedArrayBuffer(4));
const threads: QemuThread[] = [];

qemu_mutex_lock(bql);
for (let index = 0; index < 4; index++) {
  const t = new QemuThread();
  threads.push(t);
  qemu_thread_create(
    t,
    `CPU ${index}/TCG`,
    new URL('./handshake-vcpu.js#vcpuThreadFn', import.meta.url),
    { index, created, quit, bql, cpuCond, haltCond },
    QEMU_THREAD_JOINABLE,
  );
  while (!created[index]) qemu_cond_wait(cpuCond, bql); // vCPUs come up strictly one at a time
}
quit[0] = 1;
qemu_cond_broadcast(haltCond);
qemu_mutex_unlock(bql);
for (const t of threads) console.log('joined', qemu_thread_join(t));
