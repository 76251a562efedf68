/**
 * The machine's devices. Like most QEMU devices they are not thread-safe on their own: every access holds
 * the BQL (the vCPU takes it around an I/O instruction, as KVM's MMIO/PIO exits and TCG's io_writex do).
 *
 * - Serial console (ports SERIAL, SERIAL_NUM): bytes go into a FIFO in shared memory, which the main loop
 *   drains to stdout (the chardev backend runs in the main loop). A FIFO that fills up is written out by
 *   the vCPU itself, still under the BQL, so output is never lost or reordered.
 * - Timer (port TIMER): the main loop raises the timer interrupt on every vCPU each period; `in` reads the
 *   tick count. The interrupt is what wakes a vCPU halted by `hlt`.
 */
import { writeSync } from 'node:fs';
import { BqlAssertionError, bql_locked } from './bql.js';
import { PORT } from './isa.js';
import { CPU_INTERRUPT_TIMER, cpu_interrupt } from './kick.js';
import { C, type CpuState, G, type MachineShared, qemu_notify_event, SERIAL_FIFO_BYTES } from './state.js';

const MASK = SERIAL_FIFO_BYTES - 1;

function assertBql(func: string): void {
  if (!bql_locked()) throw new BqlAssertionError(`${func}: assertion failed: bql_locked()`);
}

function serial_flush_direct(s: MachineShared): void {
  const bytes = serial_take(s);
  Atomics.add(s.globals, G.SERIAL_OVERFLOWS, bytes.length);
  writeSync(1, bytes);
}

/** Appends bytes to the serial FIFO (BQL held). */
export function serial_write(s: MachineShared, bytes: ArrayLike<number>): void {
  assertBql('serial_write');
  const g = s.globals;
  for (let i = 0; i < bytes.length; i++) {
    if (((g[G.SERIAL_TAIL] - g[G.SERIAL_HEAD]) | 0) >= SERIAL_FIFO_BYTES) serial_flush_direct(s);
    s.serial[g[G.SERIAL_TAIL] & MASK] = bytes[i];
    g[G.SERIAL_TAIL] = (g[G.SERIAL_TAIL] + 1) | 0;
  }
  qemu_notify_event(s);
}

/** Takes everything in the serial FIFO (BQL held). */
export function serial_take(s: MachineShared): Uint8Array {
  assertBql('serial_take');
  const g = s.globals;
  const n = (g[G.SERIAL_TAIL] - g[G.SERIAL_HEAD]) | 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = s.serial[(g[G.SERIAL_HEAD] + i) & MASK];
  g[G.SERIAL_HEAD] = g[G.SERIAL_TAIL];
  return out;
}

/** An `out` instruction (BQL held). False for a port with no device. */
export function io_write(cpu: CpuState, port: number, value: number): boolean {
  assertBql('io_write');
  switch (port) {
    case PORT.SERIAL:
      serial_write(cpu.s, [value & 0xff]);
      return true;
    case PORT.SERIAL_NUM:
      serial_write(cpu.s, Buffer.from(String(value), 'latin1'));
      return true;
    default:
      return false;
  }
}

/** An `in` instruction (BQL held). Null for a port with no device. */
export function io_read(cpu: CpuState, port: number): number | null {
  assertBql('io_read');
  switch (port) {
    case PORT.TIMER:
      return Atomics.load(cpu.s.globals, G.TIMER_TICKS);
    default:
      return null;
  }
}

/**
 * One timer period (main loop, BQL held): count the tick and raise the timer interrupt on every vCPU that
 * can take one. The virtual clock stops while the VM is stopped, as QEMU's does.
 */
export function timer_tick(s: MachineShared, cpus: readonly CpuState[]): void {
  assertBql('timer_tick');
  if (!Atomics.load(s.globals, G.RUNSTATE_RUNNING)) return;
  Atomics.add(s.globals, G.TIMER_TICKS, 1);
  for (const cpu of cpus) {
    const off = cpu.get(C.GONE) || cpu.get(C.UNPLUG) || cpu.get(C.ENDED) || cpu.get(C.FAULTED);
    if (off || cpu.get(C.CRASHED) || !cpu.get(C.CREATED)) continue;
    cpu_interrupt(cpu, CPU_INTERRUPT_TIMER);
  }
}
