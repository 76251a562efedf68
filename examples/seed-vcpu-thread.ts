/**
 * The vCPU thread of the seed scenario (QEMU's qemu_kvm_cpu_thread_fn): take the global mutex, initialize
 * the vCPU, set `created`, signal the creator, then idle on the vCPU's halt condition until asked to quit.
 */
import { writeSync } from 'node:fs';
import {
  type QemuCond,
  type QemuMutex,
  type QemuThread,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_get_self,
} from 'qemu-thread';

export interface VcpuArg {
  index: number;
  thread: QemuThread;
  globalMutex: QemuMutex;
  cpuCond: QemuCond;
  haltCond: QemuCond;
  /** Per vCPU: [created, initOrder]; then word `quit` at the end. */
  state: Int32Array;
  quitIndex: number;
  /** A shared counter giving each vCPU the order in which it finished initializing. */
  order: Int32Array;
  quiet: boolean;
}

export const CREATED = 0;
export const INIT_ORDER = 1;
export const WORDS_PER_CPU = 2;

export function vcpuThreadFn(arg: VcpuArg): { index: number; initOrder: number; wakeups: number } {
  const { index, globalMutex, cpuCond, haltCond, state } = arg;
  const base = index * WORDS_PER_CPU;
  const say = (text: string) => {
    if (!arg.quiet) writeSync(1, `  [CPU ${index}/TCG] ${text}\n`);
  };

  qemu_mutex_lock(globalMutex);
  qemu_thread_get_self(arg.thread);
  say('thread started, holding the global mutex; initializing the vCPU');
  // "kvm_init_vcpu": nothing to do in JS beyond recording the order in which vCPUs came up.
  state[base + INIT_ORDER] = Atomics.add(arg.order, 0, 1);
  state[base + CREATED] = 1;
  qemu_cond_signal(cpuCond);
  say('created = true, signalled qemu_cpu_cond');

  let wakeups = 0;
  while (!state[arg.quitIndex]) {
    qemu_cond_wait(haltCond, globalMutex);
    wakeups++;
  }
  say('asked to quit; leaving the vCPU loop');
  qemu_mutex_unlock(globalMutex);
  return { index, initOrder: state[base + INIT_ORDER], wakeups };
}
