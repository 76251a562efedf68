// QEMU's vCPU creation handshake, main side, with methods; the vCPU side (handshake-vcpu.ts) uses QEMU's
// functions on the same primitives. Run: node build/examples/handshake-methods.js
import { QemuCond, QemuMutex, QemuThread } from 'qemu-thread';
import type { Cpu } from './handshake-vcpu.js';

const bql = QemuMutex.create();
const cpuCond = QemuCond.create();
const haltCond = QemuCond.create();
const created = new Int32Array(new SharedArrayBuffer(4 * 4));
const quit = new Int32Array(new SharedArrayBuffer(4));
const vcpu = new URL('./handshake-vcpu.js#vcpuThreadFn', import.meta.url);
const threads: QemuThread[] = [];

bql.lock();
for (let index = 0; index < 4; index++) {
  const cpu: Cpu = { index, created, quit, bql, cpuCond, haltCond };
  threads.push(QemuThread.create(`CPU ${index}/TCG`, vcpu, cpu));
  cpuCond.waitFor(bql, () => created[index] === 1); // the vCPUs come up strictly one at a time
}
quit[0] = 1;
haltCond.broadcast();
bql.unlock();
console.log(threads.map((t) => t.join()).join(' ')); // 0 1 2 3
