/**
 * Exclusive sections (cpu-common.c, QEMU-SPEC 2 step 16): start_exclusive waits until no vCPU is between
 * cpu_exec_start and cpu_exec_end, and keeps new ones from entering, until end_exclusive. The counting
 * protocol is QEMU's: `pending_cpus` is 1 + the number of running vCPUs that still have to leave, each of
 * them flagged `has_waiter` so that it, and only it, decrements the count on its way out.
 */
import {
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';
import { current_cpu, qemu_cpu_kick } from './kick.js';
import { C, CpuState, G, K, type MachineShared } from './state.js';

/** Per thread (QEMU's current_cpu->exclusive_context_count). */
let exclusiveContextCount = 0;

export function start_exclusive(s: MachineShared): void {
  const me = current_cpu();
  if (me !== null && Atomics.load(me.w, C.RUNNING)) {
    throw new Error('start_exclusive: assertion failed: !current_cpu->running');
  }
  if (exclusiveContextCount) {
    exclusiveContextCount++;
    return;
  }
  const g = s.globals;
  qemu_mutex_lock(s.qemuCpuListLock);
  // Wait out any earlier section.
  while (Atomics.load(g, G.PENDING_CPUS)) qemu_cond_wait(s.exclusiveResume, s.qemuCpuListLock);
  // From now on new vCPUs cannot enter exec without seeing pending_cpus (Atomics are sequentially
  // consistent, which is the full barrier QEMU puts here).
  Atomics.store(g, G.PENDING_CPUS, 1);
  let running = 0;
  for (let i = 0; i < s.config.smp; i++) {
    const cpu = new CpuState(s, i);
    if (Atomics.load(cpu.w, C.RUNNING)) {
      Atomics.store(cpu.w, C.HAS_WAITER, 1);
      running++;
      qemu_cpu_kick(cpu);
    }
  }
  Atomics.store(g, G.PENDING_CPUS, 1 + running);
  while (Atomics.load(g, G.PENDING_CPUS) > 1) qemu_cond_wait(s.exclusiveCond, s.qemuCpuListLock);
  // Others stay out because pending_cpus is still >= 1.
  qemu_mutex_unlock(s.qemuCpuListLock);
  exclusiveContextCount = 1;
  Atomics.add(g, G.EXCL_SECTIONS, 1);
}

export function end_exclusive(s: MachineShared): void {
  if (exclusiveContextCount <= 0) throw new Error('end_exclusive: assertion failed: exclusive_context_count');
  if (--exclusiveContextCount) return;
  qemu_mutex_lock(s.qemuCpuListLock);
  Atomics.store(s.globals, G.PENDING_CPUS, 0);
  qemu_cond_broadcast(s.exclusiveResume);
  qemu_mutex_unlock(s.qemuCpuListLock);
}

/** Entering the execution loop: running = true, then wait out an exclusive section that did not count us. */
export function cpu_exec_start(cpu: CpuState): void {
  const s = cpu.s;
  Atomics.store(cpu.w, C.RUNNING, 1);
  if (Atomics.load(s.globals, G.PENDING_CPUS)) {
    qemu_mutex_lock(s.qemuCpuListLock);
    if (!Atomics.load(cpu.w, C.HAS_WAITER)) {
      // Not counted by the section in progress: step back and wait for it to end.
      Atomics.store(cpu.w, C.RUNNING, 0);
      while (Atomics.load(s.globals, G.PENDING_CPUS)) qemu_cond_wait(s.exclusiveResume, s.qemuCpuListLock);
      Atomics.store(cpu.w, C.RUNNING, 1);
    }
    qemu_mutex_unlock(s.qemuCpuListLock);
  }
}

/** Leaving the execution loop: running = false; if a section counted us, let it know we are out. */
export function cpu_exec_end(cpu: CpuState): void {
  const s = cpu.s;
  Atomics.store(cpu.w, C.RUNNING, 0);
  if (Atomics.load(s.globals, G.PENDING_CPUS)) {
    qemu_mutex_lock(s.qemuCpuListLock);
    if (Atomics.load(cpu.w, C.HAS_WAITER)) {
      Atomics.store(cpu.w, C.HAS_WAITER, 0);
      if (Atomics.sub(s.globals, G.PENDING_CPUS, 1) - 1 === 1) qemu_cond_signal(s.exclusiveCond);
    }
    qemu_mutex_unlock(s.qemuCpuListLock);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The proof that an exclusive section is exclusive, run inside every one: no other vCPU may be executing
 * guest code (C.EXECUTING), and no other vCPU's instruction count may move while the section lasts (it lingers
 * `exclusiveDwellMs` so that a broken protocol would be caught in the act). Violations are counted in
 * shared memory, where the tests and the summary read them.
 */
export function check_exclusive(s: MachineShared, self: number): number {
  const others: CpuState[] = [];
  for (let i = 0; i < s.config.smp; i++) if (i !== self) others.push(new CpuState(s, i));
  let violations = 0;
  const before = others.map((c) => {
    if (Atomics.load(c.w, C.EXECUTING)) violations++;
    return Atomics.load(c.ctr, K.INSNS);
  });
  if (s.config.exclusiveDwellMs > 0) Atomics.wait(sleeper, 0, 0, s.config.exclusiveDwellMs);
  others.forEach((c, k) => {
    if (Atomics.load(c.w, C.EXECUTING) || Atomics.load(c.ctr, K.INSNS) !== before[k]) violations++;
  });
  if (violations) Atomics.add(s.globals, G.EXCL_VIOLATIONS, violations);
  return violations;
}
