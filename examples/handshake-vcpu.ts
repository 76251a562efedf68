// QEMU's vCPU creation handshake, thread side: runs in each vCPU thread (docs/machine.md).
import {
  type QemuCond,
  type QemuMutex,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';

export interface Cpu {
  index: number;
  created: Int32Array;
  quit: Int32Array;
  bql: QemuMutex;
  cpuCond: QemuCond;
  haltCond: QemuCond;
}

export function vcpuThreadFn(cpu: Cpu): number {
  qemu_mutex_lock(cpu.bql);
  // ... initialize the vCPU ...
  cpu.created[cpu.index] = 1; // under the mutex, so the creator's loop cannot miss it
  qemu_cond_signal(cpu.cpuCond);
  while (!cpu.quit[0]) qemu_cond_wait(cpu.haltCond, cpu.bql);
  qemu_mutex_unlock(cpu.bql);
  return cpu.index; // what qemu_thread_join returns
}
