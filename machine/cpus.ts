/**
 * QEMU's vCPU protocol (QEMU-SPEC section 2, system/cpus.c): creation, the per-iteration event processing
 * of the vCPU loop, stop/resume, pause_all/resume_all, and unplug. Functions that the main loop calls
 * assert the BQL like QEMU's do; functions of the vCPU loop run on the vCPU's own thread.
 */
import { QEMU_THREAD_JOINABLE, qemu_cond_broadcast, qemu_thread_create, qemu_thread_join } from 'qemu-thread';
import { BqlAssertionError, bql_lock, bql_locked, bql_unlock, qemu_cond_wait_bql } from './bql.js';
import { cpu_exit, qemu_cpu_is_self, qemu_cpu_kick } from './kick.js';
import { C, type CpuState, G, K, type MachineShared } from './state.js';
import { cpu_work_pending, process_queued_cpu_work } from './work.js';

function assertBql(func: string): void {
  if (!bql_locked()) throw new BqlAssertionError(`${func}: assertion failed: bql_locked()`);
}

export function runstate_is_running(s: MachineShared): boolean {
  return Atomics.load(s.globals, G.RUNSTATE_RUNNING) !== 0;
}

/** cpu_is_stopped: stopped, or the whole VM is not running. */
export function cpu_is_stopped(cpu: CpuState): boolean {
  return cpu.get(C.STOPPED) !== 0 || !runstate_is_running(cpu.s);
}

/** cpu_can_run: no stop request and not stopped. */
export function cpu_can_run(cpu: CpuState): boolean {
  return !cpu.get(C.STOP) && !cpu_is_stopped(cpu);
}

/** The guest powered this vCPU off (`end`) or it faulted: it never executes again. */
export function cpu_powered_off(cpu: CpuState): boolean {
  return cpu.get(C.ENDED) !== 0 || cpu.get(C.FAULTED) !== 0;
}

/** cpu_has_work: an interrupt is pending. */
export function cpu_has_work(cpu: CpuState): boolean {
  return cpu.get(C.INTERRUPT_REQUEST) !== 0;
}

/** cpu_thread_is_idle, in QEMU's order. */
export function cpu_thread_is_idle(cpu: CpuState): boolean {
  if (cpu.get(C.STOP) || cpu_work_pending(cpu)) return false;
  if (cpu_is_stopped(cpu)) return true;
  if (cpu_powered_off(cpu)) return true;
  if (!cpu.get(C.HALTED) || cpu_has_work(cpu)) return false;
  return true;
}

/** qemu_cpu_stop: on the vCPU's own thread, acknowledge a stop and tell the pauser. */
export function qemu_cpu_stop(cpu: CpuState, exit: boolean): void {
  if (!qemu_cpu_is_self(cpu)) throw new Error('qemu_cpu_stop: assertion failed: qemu_cpu_is_self(cpu)');
  cpu.set(C.STOP, 0);
  cpu.set(C.STOPPED, 1);
  cpu.bump(K.STOPS);
  if (exit) cpu_exit(cpu);
  qemu_cond_broadcast(cpu.s.qemuPauseCond);
}

/**
 * qemu_process_cpu_events (vCPU thread, BQL held): clear exit_request, sleep on halt_cond while idle, then
 * turn a stop request into `stopped` and run queued work.
 */
export function qemu_process_cpu_events(cpu: CpuState): void {
  Atomics.store(cpu.w, C.EXIT_REQUEST, 0);
  while (cpu_thread_is_idle(cpu)) qemu_cond_wait_bql(cpu.haltCond);
  Atomics.store(cpu.w, C.THREAD_KICKED, 0);
  if (cpu.get(C.STOP)) qemu_cpu_stop(cpu, false);
  process_queued_cpu_work(cpu);
}

/** The vCPU thread function, by URL (functions cannot cross threads). */
export const VCPU_THREAD_FN = new URL('./vcpu-thread.js#vcpu_thread_fn', import.meta.url);

/**
 * qemu_init_vcpu (BQL held): the CPU starts stopped; create its thread (`CPU n/TCG`, JOINABLE) and wait
 * `while (!cpu->created) qemu_cond_wait(&qemu_cpu_cond, &bql)`. Returns the number of cond waits.
 */
export function qemu_init_vcpu(cpu: CpuState): number {
  assertBql('qemu_init_vcpu');
  cpu.set(C.STOPPED, 1);
  qemu_thread_create(
    cpu.thread,
    cpu.name,
    VCPU_THREAD_FN,
    { index: cpu.index, shared: cpu.s },
    QEMU_THREAD_JOINABLE,
  );
  let waits = 0;
  // A thread that dies before `created` (a machine bug) would leave QEMU waiting forever; here it says so.
  while (!cpu.get(C.CREATED) && !cpu.get(C.CRASHED)) {
    qemu_cond_wait_bql(cpu.s.qemuCpuCond);
    waits++;
  }
  return waits;
}

/** cpu_pause: from the vCPU's own thread stop now; otherwise request the stop and make it leave exec. */
export function cpu_pause(cpu: CpuState): void {
  if (qemu_cpu_is_self(cpu)) qemu_cpu_stop(cpu, true);
  else {
    cpu.set(C.STOP, 1);
    cpu_exit(cpu);
  }
}

/** cpu_resume: clear stop and stopped, and kick. */
export function cpu_resume(cpu: CpuState): void {
  cpu.set(C.STOP, 0);
  cpu.set(C.STOPPED, 0);
  qemu_cpu_kick(cpu);
}

/** all_vcpus_paused; a thread that died counts as paused (it will never run again). */
export function all_vcpus_paused(cpus: readonly CpuState[]): boolean {
  return cpus.every((cpu) => cpu.get(C.STOPPED) || cpu.get(C.CRASHED));
}

/** pause_all_vcpus (BQL held): request a stop on every vCPU and wait on qemu_pause_cond until all stopped. */
export function pause_all_vcpus(cpus: readonly CpuState[]): number {
  if (cpus.length === 0) return 0;
  assertBql('pause_all_vcpus');
  for (const cpu of cpus) cpu_pause(cpu);
  let waits = 0;
  while (!all_vcpus_paused(cpus)) {
    qemu_cond_wait_bql(cpus[0].s.qemuPauseCond);
    waits++;
    for (const cpu of cpus) qemu_cpu_kick(cpu); // QEMU's own comment: "FIXME: is this needed?"
  }
  return waits;
}

/** resume_all_vcpus (BQL held): does nothing unless the VM is running; does not wait. */
export function resume_all_vcpus(cpus: readonly CpuState[]): void {
  if (cpus.length === 0) return;
  assertBql('resume_all_vcpus');
  if (!runstate_is_running(cpus[0].s)) return;
  for (const cpu of cpus) cpu_resume(cpu);
}

/** vm_start: the runstate becomes running, then resume_all_vcpus. */
export function vm_start(s: MachineShared, cpus: readonly CpuState[]): void {
  assertBql('vm_start');
  Atomics.store(s.globals, G.RUNSTATE_RUNNING, 1);
  resume_all_vcpus(cpus);
}

/** vm_stop (do_vm_stop): if running, the runstate becomes paused, then pause_all_vcpus. */
export function vm_stop(s: MachineShared, cpus: readonly CpuState[]): boolean {
  assertBql('vm_stop');
  if (!runstate_is_running(s)) return false;
  Atomics.store(s.globals, G.RUNSTATE_RUNNING, 0);
  pause_all_vcpus(cpus);
  return true;
}

/**
 * cpu_remove_sync (BQL held): `stop = unplug = true; cpu_exit; bql_unlock; qemu_thread_join; bql_lock`.
 * Returns what the thread returned; rethrows what it died of, after retaking the BQL.
 */
export function cpu_remove_sync(cpu: CpuState): unknown {
  assertBql('cpu_remove_sync');
  cpu.set(C.STOP, 1);
  cpu.set(C.UNPLUG, 1);
  cpu_exit(cpu);
  bql_unlock();
  try {
    return qemu_thread_join(cpu.thread);
  } finally {
    bql_lock();
    cpu.set(C.GONE, 1);
  }
}
