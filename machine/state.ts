/**
 * The machine's shared memory: everything a vCPU thread and the main loop both touch lives in
 * SharedArrayBuffers (functions and objects cannot cross threads; numbers in shared memory can). One
 * MachineShared value is built by the main thread and handed to each vCPU thread as its argument; the
 * library revives the primitives inside it as the same locks and conditions on the other side.
 */
import { QemuCond, QemuMutex, QemuThread } from 'qemu-thread';

/** Per-CPU 32-bit words, `cpu[index * CPU_WORDS + field]`. Comments say who writes them and under what. */
export const C = {
  /** Set by the vCPU thread under the BQL once initialized (qemu_cpu_cond is signalled). */
  CREATED: 0,
  /** Stop request (BQL). */
  STOP: 1,
  /** Stopped state (BQL): the vCPU acknowledged the stop, or was never started. */
  STOPPED: 2,
  /** Unplug request (BQL). */
  UNPLUG: 3,
  /** Halted by the guest's `hlt`, waiting for an interrupt (written by the vCPU's own thread). */
  HALTED: 4,
  /** Polled by the execution loop; store-release/load-acquire (Atomics). */
  EXIT_REQUEST: 5,
  THREAD_KICKED: 6,
  /** Inside cpu_exec_start/cpu_exec_end (atomic, lockless). */
  RUNNING: 7,
  /** Counted by the current exclusive section (qemu_cpu_list_lock). */
  HAS_WAITER: 8,
  /** Pending interrupt lines, a bit mask (set under the BQL by cpu_interrupt). */
  INTERRUPT_REQUEST: 9,
  /** The guest executed `end`: this vCPU is powered off. */
  ENDED: 10,
  /** The guest faulted: this vCPU is stopped for good; FAULT_* say why. */
  FAULTED: 11,
  FAULT_KIND: 12,
  FAULT_PC: 13,
  FAULT_ADDR: 14,
  FAULT_WORD: 15,
  /** The vCPU thread's own thread id, written by itself (qemu_thread_get_self). */
  THREAD_ID: 16,
  /** Order in which the vCPU initialized, and what it saw then (proof of the one-at-a-time handshake). */
  INIT_ORDER: 17,
  SEEN_CREATED: 18,
  SEEN_STARTED: 19,
  /** The thread died of an unexpected error (a machine bug, never a guest fault). */
  CRASHED: 20,
  /** Unplugged and joined: no thread any more. */
  GONE: 21,
  /** The ordering check of the COUNT work item: the last sequence number seen, and how many were out of order. */
  WORK_LAST_SEQ: 22,
  WORK_MISORDERED: 23,
  /**
   * Between the end of cpu_exec_start and the start of cpu_exec_end: really executing guest code. (RUNNING
   * alone is not that: cpu_exec_start sets it for a moment before it sees an exclusive section and backs off.)
   */
  EXECUTING: 24,
} as const;
export const CPU_WORDS = 32;

/** Per-CPU 64-bit counters, `counters[index * CTR_WORDS + field]`, written by the vCPU's own thread. */
export const K = {
  INSNS: 0,
  HALTS: 1,
  WAKEUPS: 2,
  INTERRUPTS: 3,
  EXEC_ENTRIES: 4,
  WORK_RUN: 5,
  ATOMIC_STEPS: 6,
  STOPS: 7,
} as const;
export const CTR_WORDS = 8;

/** Global words. */
export const G = {
  /** cpu-common.c's pending_cpus: written under qemu_cpu_list_lock, read atomically. */
  PENDING_CPUS: 0,
  /** runstate_is_running() (BQL). */
  RUNSTATE_RUNNING: 1,
  /** vCPU threads that reached their first line (before taking the BQL). */
  STARTED_THREADS: 2,
  /** vCPUs that finished initializing. */
  NEXT_INIT: 3,
  /** Timer interrupts raised so far (BQL). */
  TIMER_TICKS: 4,
  /** qemu_notify_event: bumped and notified to wake the main loop from its poll. */
  NOTIFY: 5,
  /** The serial FIFO's read and write positions (BQL). */
  SERIAL_HEAD: 6,
  SERIAL_TAIL: 7,
  /** Exclusive sections entered, and sections that saw another vCPU executing (must stay 0). */
  EXCL_SECTIONS: 8,
  EXCL_VIOLATIONS: 9,
  /** Sync work items completed, async ones, exclusive ones. */
  WORK_SYNC: 10,
  WORK_ASYNC: 11,
  WORK_SAFE: 12,
  /** Bytes the serial device had to write itself because the FIFO was full. */
  SERIAL_OVERFLOWS: 13,
} as const;
export const G_WORDS = 16;

/** Registers per CPU: r0..r15 then the pc. */
export const PC = 16;
export const REG_WORDS = 17;

/** Work item slots per CPU (see work.ts for the layout). */
export const WORK_SLOTS = 32;
export const SLOT_WORDS = 32;
/** Per CPU: HEAD, TAIL, COUNT, the ring of queued slot numbers, then the slots. */
export const WORK_CPU_WORDS = 3 + WORK_SLOTS + WORK_SLOTS * SLOT_WORDS;

export const SERIAL_FIFO_BYTES = 1 << 16;

export interface MachineConfig {
  smp: number;
  ramWords: number;
  fbBase: number;
  fbWidth: number;
  fbHeight: number;
  /** Check exit_request (and publish the instruction count) every this many instructions; a power of 2. */
  pollInterval: number;
  /** Leave the execution loop after this many instructions even without a request (a TB chain's end). */
  execBudget: number;
  /** Exclusive sections linger this long (ms) to prove nobody else runs meanwhile; 0 in normal runs. */
  exclusiveDwellMs: number;
}

export interface MachineShared {
  config: MachineConfig;
  bql: QemuMutex;
  qemuCpuCond: QemuCond;
  qemuPauseCond: QemuCond;
  qemuWorkCond: QemuCond;
  qemuCpuListLock: QemuMutex;
  exclusiveCond: QemuCond;
  exclusiveResume: QemuCond;
  haltConds: QemuCond[];
  workMutexes: QemuMutex[];
  threads: QemuThread[];
  globals: Int32Array;
  cpu: Int32Array;
  counters: BigInt64Array;
  regs: Int32Array;
  work: Int32Array;
  ram: Int32Array;
  serial: Uint8Array;
}

const i32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** qemu_init_cpu_list + qemu_init_cpu_loop + cpu_common_initfn for every CPU: all the shared state. */
export function createShared(config: MachineConfig): MachineShared {
  const n = config.smp;
  return {
    config,
    bql: QemuMutex.create(),
    qemuCpuCond: QemuCond.create(),
    qemuPauseCond: QemuCond.create(),
    qemuWorkCond: QemuCond.create(),
    qemuCpuListLock: QemuMutex.create(),
    exclusiveCond: QemuCond.create(),
    exclusiveResume: QemuCond.create(),
    haltConds: Array.from({ length: n }, () => QemuCond.create()),
    workMutexes: Array.from({ length: n }, () => QemuMutex.create()),
    threads: Array.from({ length: n }, () => new QemuThread()),
    globals: i32(G_WORDS),
    cpu: i32(n * CPU_WORDS),
    counters: new BigInt64Array(new SharedArrayBuffer(8 * n * CTR_WORDS)),
    regs: i32(n * REG_WORDS),
    work: i32(n * WORK_CPU_WORDS),
    ram: i32(config.ramWords),
    serial: new Uint8Array(new SharedArrayBuffer(SERIAL_FIFO_BYTES)),
  };
}

/** One CPU's slice of the shared state: QEMU's CPUState, as views on shared memory. */
export class CpuState {
  readonly w: Int32Array;
  readonly ctr: BigInt64Array;
  readonly regs: Int32Array;
  readonly work: Int32Array;
  readonly haltCond: QemuCond;
  readonly workMutex: QemuMutex;
  readonly thread: QemuThread;
  readonly name: string;

  constructor(
    readonly s: MachineShared,
    readonly index: number,
  ) {
    this.w = s.cpu.subarray(index * CPU_WORDS, (index + 1) * CPU_WORDS);
    this.ctr = s.counters.subarray(index * CTR_WORDS, (index + 1) * CTR_WORDS);
    this.regs = s.regs.subarray(index * REG_WORDS, (index + 1) * REG_WORDS);
    this.work = s.work.subarray(index * WORK_CPU_WORDS, (index + 1) * WORK_CPU_WORDS);
    this.haltCond = s.haltConds[index];
    this.workMutex = s.workMutexes[index];
    this.thread = s.threads[index];
    this.name = `CPU ${index}/TCG`;
  }

  get(field: number): number {
    return Atomics.load(this.w, field);
  }

  set(field: number, value: number): void {
    Atomics.store(this.w, field, value);
  }

  count(field: number): number {
    return Number(Atomics.load(this.ctr, field));
  }

  bump(field: number, by = 1): void {
    Atomics.add(this.ctr, field, BigInt(by));
  }
}

/** qemu_notify_event: wakes the main loop out of its poll. */
export function qemu_notify_event(s: MachineShared): void {
  Atomics.add(s.globals, G.NOTIFY, 1);
  Atomics.notify(s.globals, G.NOTIFY);
}
