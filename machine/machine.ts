/**
 * The machine, main-thread side: QEMU's board + vl.c in miniature. It owns the shared state, loads the
 * guest program, creates the vCPUs one at a time, and offers the main loop and the monitor the operations
 * they need (start, stop, cont, unplug, shutdown, info). Every method that touches vCPU state expects the
 * BQL held, as QEMU's do; the main loop holds it except while it polls.
 */
import { type QemuCond, type QemuMutex, qspSetBql } from 'qemu-thread';
import { BqlAssertionError, bql_attach, bql_locked } from './bql.js';
import {
  cpu_is_stopped,
  cpu_powered_off,
  cpu_remove_sync,
  qemu_init_vcpu,
  runstate_is_running,
  vm_start,
  vm_stop,
} from './cpus.js';
import { describeFault, Fault } from './exec.js';
import type { AssemblerContext, Program } from './isa.js';
import { C, CpuState, createShared, G, K, type MachineConfig, type MachineShared, PC } from './state.js';
import type { VcpuResult } from './vcpu-thread.js';

/** Guest RAM: 1 Mi words (4 MiB). The framebuffer starts at FB_BASE; programs live below it. */
export const RAM_WORDS = 1 << 20;
export const FB_BASE = 0x40000;
export const MAX_FB_WORDS = RAM_WORDS - FB_BASE;

export interface MachineOptions {
  smp: number;
  program: Program;
  fbWidth: number;
  fbHeight: number;
  exclusiveDwellMs?: number;
  pollInterval?: number;
  execBudget?: number;
}

/** The symbols the assembler predefines for a machine with this framebuffer. */
export function assemblerContext(fbWidth: number, fbHeight: number): AssemblerContext {
  return { ramWords: RAM_WORDS, fbBase: FB_BASE, fbWidth, fbHeight };
}

export interface CreationRecord {
  index: number;
  name: string;
  condWaits: number;
  threadId: number;
  initOrder: number;
  seenCreated: number;
  seenStarted: number;
}

export class Machine {
  readonly s: MachineShared;
  readonly cpus: CpuState[];
  readonly program: Program;
  readonly creation: CreationRecord[] = [];
  readonly results = new Map<number, VcpuResult>();
  readonly threadErrors = new Map<number, string>();
  pauses = 0;
  resumes = 0;
  private reported = new Set<number>();

  constructor(opts: MachineOptions) {
    const config: MachineConfig = {
      smp: opts.smp,
      ramWords: RAM_WORDS,
      fbBase: FB_BASE,
      fbWidth: opts.fbWidth,
      fbHeight: opts.fbHeight,
      pollInterval: opts.pollInterval ?? 1024,
      execBudget: opts.execBudget ?? 1 << 20,
      exclusiveDwellMs: opts.exclusiveDwellMs ?? 0,
    };
    if ((config.pollInterval & (config.pollInterval - 1)) !== 0)
      throw new RangeError('pollInterval: not a power of 2');
    this.s = createShared(config);
    this.program = opts.program;
    this.s.ram.set(opts.program.words, 0);
    this.cpus = Array.from({ length: opts.smp }, (_, i) => new CpuState(this.s, i));
    // qemu_init_cpu_loop: the main thread attaches the BQL (and then takes it: see main.ts).
    bql_attach(this.s.bql);
    // The profiler reports this mutex as QEMU reports its big lock.
    qspSetBql(this.s.bql.objectId());
  }

  private assertBql(func: string): void {
    if (!bql_locked()) throw new BqlAssertionError(`${func}: assertion failed: bql_locked()`);
  }

  /** vCPUs that still have a thread. */
  present(): CpuState[] {
    return this.cpus.filter((c) => !c.get(C.GONE));
  }

  /** Creates every vCPU, strictly one after the other (qemu_init_vcpu's handshake). */
  boot(log: (line: string) => void = () => {}): void {
    this.assertBql('boot');
    for (const cpu of this.cpus) {
      log(
        `main: qemu_thread_create(${cpu.name}, JOINABLE); while (!created) qemu_cond_wait(qemu_cpu_cond, bql)`,
      );
      const condWaits = qemu_init_vcpu(cpu);
      if (cpu.get(C.CRASHED)) throw new Error(`${cpu.name} died while initializing: ${this.reap(cpu)}`);
      const rec: CreationRecord = {
        index: cpu.index,
        name: cpu.name,
        condWaits,
        threadId: cpu.thread.threadId(),
        initOrder: cpu.get(C.INIT_ORDER),
        seenCreated: cpu.get(C.SEEN_CREATED),
        seenStarted: cpu.get(C.SEEN_STARTED),
      };
      this.creation.push(rec);
      log(
        `main: ${cpu.name} created (thread ${rec.threadId}, after ${condWaits} cond wait(s)); it starts stopped`,
      );
    }
  }

  /** vm_start / `cont`. */
  start(): void {
    this.assertBql('start');
    if (runstate_is_running(this.s)) return;
    vm_start(this.s, this.present());
    this.resumes++;
  }

  /** vm_stop / `stop`: returns once every vCPU has acknowledged. */
  stop(): void {
    this.assertBql('stop');
    if (vm_stop(this.s, this.present())) this.pauses++;
  }

  running(): boolean {
    return runstate_is_running(this.s);
  }

  /** cpu_remove_sync on vCPU `index`: its thread is joined when this returns. */
  unplug(index: number): VcpuResult | undefined {
    this.assertBql('unplug');
    const cpu = this.cpus[index];
    if (!cpu) throw new RangeError(`CPU ${index} does not exist (the machine has ${this.cpus.length})`);
    if (cpu.get(C.GONE)) throw new RangeError(`CPU ${index} is already unplugged`);
    try {
      const result = cpu_remove_sync(cpu) as VcpuResult;
      this.results.set(index, result);
      return result;
    } catch (error) {
      this.threadErrors.set(index, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  /** The shutdown path: stop the VM, then unplug (and so join) every vCPU still present, in order. */
  shutdown(log: (line: string) => void = () => {}): void {
    this.assertBql('shutdown');
    // Stop first so the final counts are final; not counted as a pause (that is the monitor's `stop`).
    vm_stop(this.s, this.present());
    for (const cpu of this.present()) {
      const r = this.unplug(cpu.index);
      if (r) log(`main: ${cpu.name} unplugged and joined (thread ${r.threadId}, ${r.insns} instructions)`);
      else log(`main: ${cpu.name} joined; its thread had died: ${this.threadErrors.get(cpu.index)}`);
    }
  }

  /** Joins a thread that died, returning what it died of. */
  private reap(cpu: CpuState): string {
    try {
      cpu_remove_sync(cpu);
      return 'it returned early';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Faults and thread deaths not reported yet, as messages. */
  takeEvents(): string[] {
    const out: string[] = [];
    for (const cpu of this.cpus) {
      if (this.reported.has(cpu.index)) continue;
      if (cpu.get(C.FAULTED)) {
        this.reported.add(cpu.index);
        out.push(`${this.faultMessage(cpu)}; ${cpu.name} is stopped, the other vCPUs go on`);
      } else if (cpu.get(C.CRASHED)) {
        this.reported.add(cpu.index);
        out.push(`${cpu.name}: the vCPU thread died of an internal error (see the summary)`);
      }
    }
    return out;
  }

  faulted(): CpuState[] {
    return this.cpus.filter((c) => c.get(C.FAULTED));
  }

  crashed(): CpuState[] {
    return this.cpus.filter((c) => c.get(C.CRASHED) || this.threadErrors.has(c.index));
  }

  faultMessage(cpu: CpuState): string {
    const kind = cpu.get(C.FAULT_KIND);
    const pc = cpu.get(C.FAULT_PC);
    const addr = cpu.get(C.FAULT_ADDR);
    const word = cpu.get(C.FAULT_WORD) >>> 0;
    const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(4, '0')}`;
    let what = describeFault(kind);
    if (kind === Fault.BadOpcode) what += ` ${`0x${word.toString(16).padStart(8, '0')}`}`;
    if (kind === Fault.BadAddress) what += ` ${addr} (RAM is words 0..${this.s.ram.length - 1})`;
    if (kind === Fault.BadPort) what += ` ${hex(addr)}`;
    const src = this.program.lines.get(pc);
    const where = src ? ` (${this.program.file}:${src.line}: ${src.text})` : '';
    return `${cpu.name}: guest fault: ${what} at pc ${hex(pc)}${where}`;
  }

  /** The guest is done when every vCPU still present has powered off (`end`), faulted, or died. */
  guestDone(): boolean {
    return this.present().every((c) => cpu_powered_off(c) || c.get(C.CRASHED));
  }

  /** `info cpus`: one line per present vCPU; `*` marks the monitor's current CPU. */
  infoCpus(current: number): string[] {
    return this.present().map((cpu) => {
      const mark = cpu.index === current ? '*' : ' ';
      const tid = cpu.get(C.THREAD_ID);
      const halted = cpu.get(C.HALTED) ? 'yes' : 'no';
      const pc = `0x${(cpu.regs[PC] >>> 0).toString(16).padStart(4, '0')}`;
      return `${mark} CPU #${cpu.index}: thread_id=${tid} (${cpu.name}) state=${this.stateOf(cpu)} halted=${halted} insns=${cpu.count(K.INSNS)} pc=${pc}`;
    });
  }

  /**
   * `info locks`: for each of the machine's mutexes and conds, who holds it (and since when, while tracing
   * or profiling), and which threads are parked on it, by name.
   */
  infoLocks(): string[] {
    const names = new Map<number, string>([[0, 'main']]);
    for (const cpu of this.cpus) names.set(cpu.get(C.THREAD_ID), cpu.name);
    const who = (tid: number) => names.get(tid) ?? `thread ${tid}`;
    const now = performance.timeOrigin + performance.now();
    const ago = (since: number) => `${(now - since).toFixed(1)} ms`;
    const lines: string[] = [];
    const mutexes: [string, QemuMutex][] = [
      ['bql', this.s.bql],
      ['qemu_cpu_list_lock', this.s.qemuCpuListLock],
      ...this.s.workMutexes.map((m, i): [string, QemuMutex] => [`cpu ${i} work_mutex`, m]),
    ];
    for (const [name, m] of mutexes) {
      const holder = m.holder();
      const held = holder
        ? `held by ${who(holder.threadId)}${holder.since === null ? '' : ` for ${ago(holder.since)}`}`
        : 'free';
      const waiters = m.waiters().map((w) => `${who(w.threadId)} (${ago(w.since)})`);
      lines.push(
        `mutex #${m.objectId()} ${name}: ${held}${waiters.length ? `; waiting: ${waiters.join(', ')}` : ''}`,
      );
    }
    const conds: [string, QemuCond][] = [
      ['qemu_cpu_cond', this.s.qemuCpuCond],
      ['qemu_pause_cond', this.s.qemuPauseCond],
      ['qemu_work_cond', this.s.qemuWorkCond],
      ['exclusive_cond', this.s.exclusiveCond],
      ['exclusive_resume', this.s.exclusiveResume],
      ...this.s.haltConds.map((c, i): [string, QemuCond] => [`cpu ${i} halt_cond`, c]),
    ];
    for (const [name, c] of conds) {
      const parked = c.parkedThreads().map((w) => `${who(w.threadId)} (${ago(w.since)})`);
      if (parked.length) lines.push(`cond #${c.objectId()} ${name}: asleep: ${parked.join(', ')}`);
    }
    return lines;
  }

  stateOf(cpu: CpuState): string {
    if (cpu.get(C.GONE)) return 'unplugged';
    if (cpu.get(C.CRASHED)) return 'crashed';
    if (cpu.get(C.FAULTED)) return 'faulted';
    if (cpu.get(C.ENDED)) return 'ended';
    if (cpu_is_stopped(cpu)) return 'stopped';
    if (cpu.get(C.HALTED)) return 'halted';
    return 'running';
  }

  /** A copy of the framebuffer (one palette index per pixel). */
  framebuffer(): Int32Array {
    const { fbBase, fbWidth, fbHeight } = this.s.config;
    return this.s.ram.slice(fbBase, fbBase + fbWidth * fbHeight);
  }

  insns(): number[] {
    return this.cpus.map((c) => c.count(K.INSNS));
  }

  stats(): {
    exclusiveSections: number;
    exclusiveViolations: number;
    workSync: number;
    workAsync: number;
    workSafe: number;
    timerTicks: number;
  } {
    const g = this.s.globals;
    return {
      exclusiveSections: Atomics.load(g, G.EXCL_SECTIONS),
      exclusiveViolations: Atomics.load(g, G.EXCL_VIOLATIONS),
      workSync: Atomics.load(g, G.WORK_SYNC),
      workAsync: Atomics.load(g, G.WORK_ASYNC),
      workSafe: Atomics.load(g, G.WORK_SAFE),
      timerTicks: Atomics.load(g, G.TIMER_TICKS),
    };
  }
}
