/**
 * The fixture's thread functions, in TypeScript: the bundler compiles this module into a chunk of the
 * thread worker's build, and the worker imports it by name ('vcpu#vcpuThreadFn').
 */
import {
  QEMU_THREAD_JOINABLE,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_exit,
  qemu_thread_join,
} from 'qemu-thread';
import { brokenCases, threadError } from './checks';
import { type Machine, newMachine, type Report, SMP } from './machine';

export interface Cpu {
  machine: Machine;
  index: number;
}

/** QEMU's vCPU thread: says it is created, counts under the BQL, waits to be told to quit, exits. */
export function vcpuThreadFn({ machine: m, index }: Cpu): never {
  qemu_mutex_lock(m.bql);
  m.created[index] = 1; // under the BQL, so that the creator's wait loop cannot miss it
  qemu_cond_signal(m.cpuCond);
  for (let i = 0; i < m.increments; i++) {
    m.counter[0]++;
    qemu_mutex_unlock(m.bql);
    qemu_mutex_lock(m.bql);
  }
  while (!m.quit[0]) qemu_cond_wait(m.haltCond, m.bql);
  qemu_mutex_unlock(m.bql);
  qemu_thread_exit({ index, via: 'qemu_thread_exit' });
}

export function thrower(message: string): never {
  throw new RangeError(message);
}

/**
 * The same machine started from a worker (QEMU's main loop): the pool first (a blocked creator's new
 * worker cannot boot), then the handshake with blocking calls, the blocking joins, an error from a
 * thread, and the broken cases.
 */
export async function mainLoop({ increments }: { increments: number }): Promise<Report> {
  await QemuThread.prestart(SMP + 1);
  const m = newMachine(increments);
  const threads: QemuThread[] = [];
  const createdOrder: number[] = [];
  qemu_mutex_lock(m.bql);
  for (let index = 0; index < SMP; index++) {
    const t = new QemuThread();
    threads.push(t);
    qemu_thread_create(
      t,
      `CPU ${index}/TCG`,
      'vcpu#vcpuThreadFn',
      { machine: m, index },
      QEMU_THREAD_JOINABLE,
    );
    while (!m.created[index]) qemu_cond_wait(m.cpuCond, m.bql);
    createdOrder.push(index);
  }
  m.quit[0] = 1;
  qemu_cond_broadcast(m.haltCond);
  qemu_mutex_unlock(m.bql);
  const joined = threads.map((t) => qemu_thread_join(t));
  return {
    createdOrder,
    joined,
    counter: m.counter[0],
    expectedCounter: SMP * increments,
    threadError: await threadError(),
    broken: await brokenCases((globalThis as unknown as { location: { href: string } }).location.href),
  };
}
