/**
 * The vCPU thread (QEMU's mttcg_cpu_thread_fn): take the BQL, initialize, signal `created`, then loop:
 * process events (sleeping on halt_cond while idle), and when the CPU can run, drop the BQL and execute
 * guest code. Leaves the loop when unplugged, signals its destruction, and returns its statistics, which
 * reach the main thread through qemu_thread_join.
 */
import { threadId } from 'node:worker_threads';
import { qemu_cond_broadcast, qemu_cond_signal, qemu_thread_get_self } from 'qemu-thread';
import { bql_attach, bql_lock, bql_locked, bql_unlock } from './bql.js';
import { cpu_can_run, cpu_powered_off, qemu_process_cpu_events } from './cpus.js';
import { cpu_exec, cpu_exec_step_atomic, Excp } from './exec.js';
import { set_current_cpu } from './kick.js';
import { C, CPU_WORDS, CpuState, G, K, type MachineShared, PC, qemu_notify_event } from './state.js';
import { fail_queued_cpu_work } from './work.js';

export interface VcpuArg {
  index: number;
  shared: MachineShared;
}

export interface VcpuResult {
  index: number;
  name: string;
  threadId: number;
  insns: number;
  halts: number;
  wakeups: number;
  interrupts: number;
  atomicSteps: number;
  workRun: number;
  stops: number;
}

export function vcpu_thread_fn(arg: VcpuArg): VcpuResult {
  const s = arg.shared;
  const cpu = new CpuState(s, arg.index);
  // Counted before taking the BQL: proves that vCPU n+1's thread does not exist while n initializes.
  Atomics.add(s.globals, G.STARTED_THREADS, 1);
  bql_attach(s.bql);
  bql_lock();
  try {
    qemu_thread_get_self(cpu.thread);
    cpu.set(C.THREAD_ID, threadId);
    set_current_cpu(cpu);
    let created = 0;
    for (let i = 0; i < s.config.smp; i++) if (Atomics.load(s.cpu, i * CPU_WORDS + C.CREATED)) created++;
    cpu.set(C.SEEN_CREATED, created);
    cpu.set(C.SEEN_STARTED, Atomics.load(s.globals, G.STARTED_THREADS));
    cpu.set(C.INIT_ORDER, Atomics.add(s.globals, G.NEXT_INIT, 1));
    cpu.regs.fill(0);
    cpu.regs[PC] = 0;
    // cpu_thread_signal_created: under the BQL, so the creator's `while (!created)` cannot miss it.
    cpu.set(C.CREATED, 1);
    qemu_cond_signal(s.qemuCpuCond);

    do {
      qemu_process_cpu_events(cpu);
      if (cpu_can_run(cpu) && !cpu_powered_off(cpu)) {
        bql_unlock();
        let r = cpu_exec(cpu);
        bql_lock();
        if (r === Excp.Atomic) {
          bql_unlock();
          r = cpu_exec_step_atomic(cpu);
          bql_lock();
        }
        handle_exit(cpu, r);
      }
    } while (!cpu.get(C.UNPLUG) || cpu_can_run(cpu));

    // tcg_cpu_destroy + cpu_thread_signal_destroyed.
    cpu.set(C.CREATED, 0);
    qemu_cond_signal(s.qemuCpuCond);
    set_current_cpu(null);
    bql_unlock();
    return {
      index: cpu.index,
      name: cpu.name,
      threadId,
      insns: cpu.count(K.INSNS),
      halts: cpu.count(K.HALTS),
      wakeups: cpu.count(K.WAKEUPS),
      interrupts: cpu.count(K.INTERRUPTS),
      atomicSteps: cpu.count(K.ATOMIC_STEPS),
      workRun: cpu.count(K.WORK_RUN),
      stops: cpu.count(K.STOPS),
    };
  } catch (error) {
    crashed(cpu);
    throw error;
  }
}

/** What the vCPU loop does with the execution loop's exit reason (BQL held). */
function handle_exit(cpu: CpuState, r: Excp): void {
  switch (r) {
    case Excp.Halted:
      if (!cpu.get(C.HALTED)) {
        cpu.set(C.HALTED, 1);
        cpu.bump(K.HALTS);
      }
      break;
    case Excp.End:
      cpu.set(C.ENDED, 1);
      qemu_notify_event(cpu.s);
      break;
    case Excp.Fault:
      // The faulting vCPU stops for good; the main loop reports it. The others go on.
      cpu.set(C.FAULTED, 1);
      qemu_notify_event(cpu.s);
      break;
    default:
      break;
  }
}

/**
 * A machine bug killed this thread. Leave shared state so that nobody waits for it forever: it counts as
 * stopped for pause_all_vcpus, its queued work completes with an error, and the main loop is told.
 */
function crashed(cpu: CpuState): void {
  try {
    if (!bql_locked()) bql_lock();
    cpu.set(C.CRASHED, 1);
    cpu.set(C.STOPPED, 1);
    qemu_cond_broadcast(cpu.s.qemuPauseCond);
    qemu_cond_signal(cpu.s.qemuCpuCond);
    fail_queued_cpu_work(cpu);
    qemu_notify_event(cpu.s);
    bql_unlock();
  } catch {
    // Already reporting an error; the join will carry the original one.
  }
}
