/** The state shared by the fixture's threads: QEMU's big lock, the creation handshake, a counter. */
import { QemuCond, QemuMutex } from 'qemu-thread';

export interface Machine {
  bql: QemuMutex;
  cpuCond: QemuCond;
  haltCond: QemuCond;
  /** created[i] = 1 once vCPU i says so, under the BQL. */
  created: Int32Array;
  quit: Int32Array;
  /** Incremented under the BQL by every vCPU, `increments` times each. */
  counter: Int32Array;
  increments: number;
}

export const SMP = 4;

export function newMachine(increments: number): Machine {
  return {
    bql: QemuMutex.create(),
    cpuCond: QemuCond.create(),
    haltCond: QemuCond.create(),
    created: new Int32Array(new SharedArrayBuffer(4 * SMP)),
    quit: new Int32Array(new SharedArrayBuffer(4)),
    counter: new Int32Array(new SharedArrayBuffer(4)),
    increments,
  };
}

/** What a scenario reports to the test, which checks it. */
export interface Report {
  /** The vCPUs in the order the handshake saw them created. */
  createdOrder: number[];
  /** What each vCPU's join returned (its qemu_thread_exit value), in vCPU order. */
  joined: unknown[];
  counter: number;
  expectedCounter: number;
  threadError: { name: string; threadName: string | null; cause: { name: string; message: string } } | string;
  broken: BrokenCase[];
}

export interface BrokenCase {
  name: string;
  /** 'ok' if the thread unexpectedly ran; else the error's code and message. */
  code: string;
  message: string;
  ms: number;
}
