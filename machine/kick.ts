/**
 * Waking a vCPU (QEMU-SPEC 2, step 8) and the per-thread `current_cpu`. Kept apart from cpus.ts because
 * the work queue and exclusive sections need to kick too.
 */
import { qemu_cond_broadcast } from 'qemu-thread';
import { BqlAssertionError, bql_locked } from './bql.js';
import { C, type CpuState } from './state.js';

/** QEMU's TLS current_cpu: the vCPU this thread runs, or null on the main loop. Per thread (per module copy). */
let currentCpu: CpuState | null = null;

export function current_cpu(): CpuState | null {
  return currentCpu;
}

export function set_current_cpu(cpu: CpuState | null): void {
  currentCpu = cpu;
}

/** Whether the calling thread is `cpu`'s thread. */
export function qemu_cpu_is_self(cpu: CpuState): boolean {
  return currentCpu !== null && currentCpu.index === cpu.index;
}

/**
 * qemu_cpu_kick: broadcast halt_cond first (wakes a vCPU sleeping in qemu_process_cpu_events), then the
 * accelerator's kick. MTTCG's kick is a store-release of exit_request, which the execution loop polls;
 * there is no signal to send to a worker, and none is needed.
 */
export function qemu_cpu_kick(cpu: CpuState): void {
  qemu_cond_broadcast(cpu.haltCond);
  Atomics.store(cpu.w, C.THREAD_KICKED, 1);
  Atomics.store(cpu.w, C.EXIT_REQUEST, 1);
}

/** cpu_exit: ask the vCPU to leave its execution loop, and wake it if it sleeps. */
export function cpu_exit(cpu: CpuState): void {
  Atomics.store(cpu.w, C.EXIT_REQUEST, 1);
  qemu_cpu_kick(cpu);
}

export const CPU_INTERRUPT_TIMER = 1;

/** cpu_interrupt: raise interrupt lines on `cpu` (BQL held) and kick it unless it is the caller. */
export function cpu_interrupt(cpu: CpuState, mask: number): void {
  if (!bql_locked()) throw new BqlAssertionError('cpu_interrupt: assertion failed: bql_locked()');
  Atomics.or(cpu.w, C.INTERRUPT_REQUEST, mask);
  if (!qemu_cpu_is_self(cpu)) qemu_cpu_kick(cpu);
}
