/**
 * Workload 6, qemu-thread: the seed's vCPU thread (QEMU's qemu_kvm_cpu_thread_fn), started by
 * qemu_thread_create: take the global mutex, set `created`, signal the creator, idle until told to quit.
 */
import {
  type QemuCond,
  type QemuMutex,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';

export interface VcpuArg {
  index: number;
  bql: QemuMutex;
  cpuCond: QemuCond;
  haltCond: QemuCond;
  created: Int32Array;
  quit: Int32Array;
}

export function vcpuThreadFn(arg: VcpuArg): number {
  qemu_mutex_lock(arg.bql);
  arg.created[arg.index] = 1;
  qemu_cond_signal(arg.cpuCond);
  while (!arg.quit[0]) qemu_cond_wait(arg.haltCond, arg.bql);
  qemu_mutex_unlock(arg.bql);
  return arg.index;
}
