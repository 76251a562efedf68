/**
 * The fixture page's side (the window's thread, which only awaits): the seed handshake with async
 * calls, then the same from a worker, each returning a report for the test (window.qemuFixture).
 */
import {
  QEMU_THREAD_JOINABLE,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_wait_async,
  qemu_mutex_lock_async,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join_async,
} from 'qemu-thread';
import { brokenCases, threadError } from './checks';
import { newMachine, type Report, SMP } from './machine';

async function fromWindow(increments: number, threadWorker: () => object): Promise<Report> {
  const m = newMachine(increments);
  const threads: QemuThread[] = [];
  const createdOrder: number[] = [];
  await qemu_mutex_lock_async(m.bql);
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
    while (!m.created[index]) await qemu_cond_wait_async(m.cpuCond, m.bql);
    createdOrder.push(index);
  }
  m.quit[0] = 1;
  qemu_cond_broadcast(m.haltCond);
  qemu_mutex_unlock(m.bql);
  const joined = await Promise.all(threads.map((t) => qemu_thread_join_async(t)));
  return {
    createdOrder,
    joined,
    counter: m.counter[0],
    expectedCounter: SMP * increments,
    threadError: await threadError(),
    broken: await brokenCases(threadWorker),
  };
}

async function fromWorker(increments: number): Promise<Report> {
  const t = new QemuThread();
  qemu_thread_create(t, 'main loop', 'vcpu#mainLoop', { increments }, QEMU_THREAD_JOINABLE);
  return (await qemu_thread_join_async(t)) as Report;
}

/** Called by the fixture's main module once it has set the thread worker. */
export function exposeFixture(threadWorker: () => object): void {
  (globalThis as Record<string, unknown>).qemuFixture = {
    fromWindow: (increments: number) => fromWindow(increments, threadWorker),
    fromWorker,
  };
}
