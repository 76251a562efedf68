/**
 * The execution loop: QEMU's tcg_cpu_exec for this machine's ISA, run by a vCPU thread WITHOUT the BQL,
 * between cpu_exec_start and cpu_exec_end. It polls exit_request every `pollInterval` instructions (where
 * TCG checks it at the start of each translation block) and publishes the instruction count there, so a
 * stopped vCPU's count is final. I/O instructions take the BQL around the device access.
 */
import { bql_lock, bql_unlock } from './bql.js';
import { io_read, io_write } from './devices.js';
import {
  check_exclusive,
  cpu_exec_end,
  cpu_exec_start,
  end_exclusive,
  start_exclusive,
} from './exclusive.js';
import { IMM, NOBASE, Op } from './isa.js';
import { C, type CpuState, K, PC } from './state.js';

/** Why the execution loop returned (QEMU's EXCP_* values, plus this machine's own). */
export enum Excp {
  /** exit_request was set (a kick, an interrupt, a stop, queued work), or the budget ran out. */
  Interrupt = 1,
  /** The guest executed `hlt` with no interrupt pending. */
  Halted,
  /** The next instruction must run alone: cpu_exec_step_atomic inside an exclusive section. */
  Atomic,
  /** The guest executed `end`. */
  End,
  /** A guest fault; C.FAULT_* describe it. */
  Fault,
}

export enum Fault {
  BadOpcode = 1,
  BadAddress,
  BadPc,
  DivideByZero,
  BadPort,
}

function fault(cpu: CpuState, kind: Fault, pc: number, addr: number, word: number): Excp {
  cpu.set(C.FAULT_KIND, kind);
  cpu.set(C.FAULT_PC, pc);
  cpu.set(C.FAULT_ADDR, addr);
  cpu.set(C.FAULT_WORD, word);
  return Excp.Fault;
}

/** Takes pending interrupts (to a handler that just counts them), as TCG does at block boundaries. */
function deliverInterrupts(cpu: CpuState): boolean {
  if (!Atomics.load(cpu.w, C.INTERRUPT_REQUEST)) return false;
  Atomics.exchange(cpu.w, C.INTERRUPT_REQUEST, 0);
  cpu.bump(K.INTERRUPTS);
  return true;
}

/** cpu_exec: run guest code until something needs the vCPU loop's attention. Called without the BQL. */
export function cpu_exec(cpu: CpuState): Excp {
  cpu.bump(K.EXEC_ENTRIES);
  cpu_exec_start(cpu);
  Atomics.store(cpu.w, C.EXECUTING, 1);
  try {
    // cpu_handle_halt: a halted CPU resumes only if an interrupt is pending.
    if (Atomics.load(cpu.w, C.HALTED)) {
      if (!deliverInterrupts(cpu)) return Excp.Halted;
      Atomics.store(cpu.w, C.HALTED, 0);
      cpu.bump(K.WAKEUPS);
    }
    return run(cpu);
  } finally {
    Atomics.store(cpu.w, C.EXECUTING, 0);
    cpu_exec_end(cpu);
  }
}

function run(cpu: CpuState): Excp {
  const regs = cpu.regs;
  const ram = cpu.s.ram;
  const w = cpu.w;
  const size = ram.length;
  const mask = cpu.s.config.pollInterval - 1;
  const budget = cpu.s.config.execBudget;
  const smp = cpu.s.config.smp;
  const base = Number(Atomics.load(cpu.ctr, K.INSNS));
  let pc = regs[PC];
  let n = 0;
  let excp = Excp.Interrupt;
  loop: for (;;) {
    if ((n & mask) === 0) {
      Atomics.store(cpu.ctr, K.INSNS, BigInt(base + n));
      if (Atomics.load(w, C.EXIT_REQUEST) || n >= budget) break;
      deliverInterrupts(cpu);
    }
    if (pc < 0 || pc > size - 2) {
      excp = fault(cpu, Fault.BadPc, pc, pc, 0);
      break;
    }
    const insn = ram[pc];
    const imm = ram[pc + 1];
    const rd = (insn >>> 8) & 15;
    const ra = (insn >>> 12) & 15;
    const b = insn & IMM ? imm : regs[(insn >>> 16) & 15];
    switch (insn & 0xff) {
      case Op.NOP:
        break;
      case Op.LI:
        regs[rd] = imm;
        break;
      case Op.MOV:
        regs[rd] = regs[ra];
        break;
      case Op.ADD:
        regs[rd] = (regs[ra] + b) | 0;
        break;
      case Op.SUB:
        regs[rd] = (regs[ra] - b) | 0;
        break;
      case Op.MUL:
        regs[rd] = Math.imul(regs[ra], b);
        break;
      case Op.DIV:
        if (b === 0) {
          excp = fault(cpu, Fault.DivideByZero, pc, 0, insn);
          break loop;
        }
        regs[rd] = (regs[ra] / b) | 0;
        break;
      case Op.REM:
        if (b === 0) {
          excp = fault(cpu, Fault.DivideByZero, pc, 0, insn);
          break loop;
        }
        regs[rd] = (regs[ra] % b) | 0;
        break;
      case Op.AND:
        regs[rd] = regs[ra] & b;
        break;
      case Op.OR:
        regs[rd] = regs[ra] | b;
        break;
      case Op.XOR:
        regs[rd] = regs[ra] ^ b;
        break;
      case Op.SHL:
        regs[rd] = regs[ra] << (b & 31);
        break;
      case Op.SHR:
        regs[rd] = (regs[ra] >>> (b & 31)) | 0;
        break;
      case Op.SAR:
        regs[rd] = regs[ra] >> (b & 31);
        break;
      case Op.LD:
      case Op.ST: {
        const addr = ((insn & NOBASE ? 0 : regs[ra]) + imm) | 0;
        if (addr < 0 || addr >= size) {
          excp = fault(cpu, Fault.BadAddress, pc, addr, insn);
          break loop;
        }
        if ((insn & 0xff) === Op.LD) regs[rd] = ram[addr];
        else ram[addr] = regs[rd];
        break;
      }
      case Op.JMP:
        pc = imm;
        n++;
        continue;
      case Op.CALL:
        regs[15] = pc + 2;
        pc = imm;
        n++;
        continue;
      case Op.RET:
        pc = regs[15];
        n++;
        continue;
      case Op.BEQ:
      case Op.BNE:
      case Op.BLT:
      case Op.BGE:
      case Op.BGT:
      case Op.BLE:
      case Op.BEQZ:
      case Op.BNEZ: {
        const x = regs[ra];
        const y = regs[(insn >>> 16) & 15];
        const op = insn & 0xff;
        const taken =
          op === Op.BEQ
            ? x === y
            : op === Op.BNE
              ? x !== y
              : op === Op.BLT
                ? x < y
                : op === Op.BGE
                  ? x >= y
                  : op === Op.BGT
                    ? x > y
                    : op === Op.BLE
                      ? x <= y
                      : op === Op.BEQZ
                        ? x === 0
                        : x !== 0;
        if (taken) {
          pc = imm;
          n++;
          continue;
        }
        break;
      }
      case Op.OUT:
      case Op.IN: {
        // A PIO exit: devices need the BQL, which exec runs without.
        bql_lock();
        let ok: boolean;
        try {
          if ((insn & 0xff) === Op.OUT) ok = io_write(cpu, imm, regs[ra]);
          else {
            const v = io_read(cpu, imm);
            ok = v !== null;
            if (v !== null) regs[rd] = v;
          }
        } finally {
          bql_unlock();
        }
        if (!ok) {
          excp = fault(cpu, Fault.BadPort, pc, imm, insn);
          break loop;
        }
        break;
      }
      case Op.HLT:
        pc += 2;
        n++;
        // An interrupt already pending is taken now and the halt completes at once (x86 semantics).
        if (deliverInterrupts(cpu)) continue;
        excp = Excp.Halted;
        break loop;
      case Op.CPUID:
        regs[rd] = cpu.index;
        break;
      case Op.NCPUS:
        regs[rd] = smp;
        break;
      case Op.XADD:
        // Guest atomics leave the loop and run alone (EXCP_ATOMIC); the pc stays on the instruction.
        excp = Excp.Atomic;
        break loop;
      case Op.END:
        pc += 2;
        n++;
        excp = Excp.End;
        break loop;
      default:
        excp = fault(cpu, Fault.BadOpcode, pc, 0, insn);
        break loop;
    }
    pc += 2;
    n++;
  }
  regs[PC] = pc;
  Atomics.store(cpu.ctr, K.INSNS, BigInt(base + n));
  return excp;
}

/**
 * cpu_exec_step_atomic (called without the BQL): the `xadd` at the pc runs inside an exclusive section, so
 * no other vCPU executes while it reads, adds and writes guest memory. Returns Excp.Fault on a bad address.
 */
export function cpu_exec_step_atomic(cpu: CpuState): Excp {
  start_exclusive(cpu.s);
  try {
    check_exclusive(cpu.s, cpu.index);
    const regs = cpu.regs;
    const ram = cpu.s.ram;
    const pc = regs[PC];
    const insn = ram[pc];
    const addr = ((insn & NOBASE ? 0 : regs[(insn >>> 12) & 15]) + ram[pc + 1]) | 0;
    if (addr < 0 || addr >= ram.length) return fault(cpu, Fault.BadAddress, pc, addr, insn);
    const old = ram[addr];
    ram[addr] = (old + regs[(insn >>> 16) & 15]) | 0;
    regs[(insn >>> 8) & 15] = old;
    regs[PC] = pc + 2;
    cpu.bump(K.INSNS);
    cpu.bump(K.ATOMIC_STEPS);
    return Excp.Interrupt;
  } finally {
    end_exclusive(cpu.s);
  }
}

export function describeFault(kind: number): string {
  switch (kind) {
    case Fault.BadOpcode:
      return 'illegal instruction';
    case Fault.BadAddress:
      return 'bad address';
    case Fault.BadPc:
      return 'pc outside RAM';
    case Fault.DivideByZero:
      return 'division by zero';
    case Fault.BadPort:
      return 'no device at I/O port';
    default:
      return `fault ${kind}`;
  }
}
