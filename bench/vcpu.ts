/**
 * Workload 6, run on the cell process's main thread: QEMU's vCPU start. The creator holds the global
 * mutex, creates N threads one at a time and, after each, waits `while (!created[i]) cond_wait(cpuCond,
 * bql)`. A sample is, per thread, the wall time from the create call until the creator is back holding the
 * mutex with `created` set, and the process CPU time over the same span (the creator's, the new worker's
 * boot, and whatever else the process's threads did meanwhile). The reference is a bare `new Worker` until
 * its first message, so that the handshake's (and the library's) own cost shows as the difference.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuMutex,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import {
  classicBroadcast,
  classicCond,
  classicLock,
  classicMutex,
  classicUnlock,
  classicWait,
} from './classic.js';
import { cpuNs, nowNs } from './harness.js';
import type { VcpuArg } from './threads/vcpu-qemu.js';

const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Milliseconds per thread, wall and process CPU. */
export interface StartSamples {
  wall: number[];
  cpu: number[];
}

function startTimer(into: StartSamples): () => void {
  const t0 = nowNs();
  const c0 = cpuNs();
  return () => {
    into.wall.push((nowNs() - t0) / 1e6);
    into.cpu.push((cpuNs() - c0) / 1e6);
  };
}

/** QemuThread.prestart, when this version of the library has a pre-started thread pool. */
export function prestartFunction(): ((count: number) => Promise<void>) | undefined {
  const statics = QemuThread as unknown as { prestart?: (count: number) => Promise<void> };
  return typeof statics.prestart === 'function' ? statics.prestart.bind(QemuThread) : undefined;
}

/** qemu-thread: qemu_thread_create + the seed handshake; milliseconds per thread. */
export function vcpuQemu(n: number): StartSamples {
  const bql = QemuMutex.create();
  const cpuCond = QemuCond.create();
  const haltCond = QemuCond.create();
  const created = shared(n);
  const quit = shared(1);
  const threads: QemuThread[] = [];
  const samples: StartSamples = { wall: [], cpu: [] };
  qemu_mutex_lock(bql);
  for (let index = 0; index < n; index++) {
    const t = new QemuThread();
    threads.push(t);
    const arg: VcpuArg = { index, bql, cpuCond, haltCond, created, quit };
    const done = startTimer(samples);
    qemu_thread_create(
      t,
      `CPU ${index}/TCG`,
      new URL('./threads/vcpu-qemu.js#vcpuThreadFn', import.meta.url),
      arg,
      QEMU_THREAD_JOINABLE,
    );
    while (!created[index]) qemu_cond_wait(cpuCond, bql);
    done();
  }
  quit[0] = 1;
  qemu_cond_broadcast(haltCond);
  qemu_mutex_unlock(bql);
  for (const [index, t] of threads.entries()) {
    const back = qemu_thread_join(t);
    if (back !== index) throw new Error(`vCPU ${index} returned ${String(back)}`);
  }
  return samples;
}

/** Classic baseline: `new Worker` + the same handshake on the classic mutex and cond. */
export async function vcpuClassic(n: number): Promise<StartSamples> {
  const bql = classicMutex();
  const cpuCond = classicCond();
  const haltCond = classicCond();
  const created = shared(n);
  const quit = shared(1);
  const exits: Promise<unknown>[] = [];
  const samples: StartSamples = { wall: [], cpu: [] };
  const url = new URL('./threads/vcpu-classic.js', import.meta.url);
  classicLock(bql);
  for (let index = 0; index < n; index++) {
    const done = startTimer(samples);
    const worker = new Worker(url, { workerData: { index, bql, cpuCond, haltCond, created, quit } });
    exits.push(once(worker, 'exit'));
    while (!created[index]) classicWait(cpuCond, bql);
    done();
  }
  quit[0] = 1;
  classicBroadcast(haltCond);
  classicUnlock(bql);
  await Promise.all(exits);
  return samples;
}

/**
 * Reference with the creator blocked, as in the handshake: a bare `new Worker` (no library) that stores a
 * flag in shared memory while the creator waits for it in `Atomics.wait`. Node boots a worker more slowly
 * while its creator's thread is blocked, so this, not the free-event-loop start, is what the handshake's
 * own cost should be compared with.
 */
export async function bareWorkerStartBlocked(n: number): Promise<StartSamples> {
  const url = new URL('./threads/bare.js', import.meta.url);
  const samples: StartSamples = { wall: [], cpu: [] };
  for (let i = 0; i < n; i++) {
    const flag = shared(1);
    const done = startTimer(samples);
    const worker = new Worker(url, { workerData: { flag } });
    const exited = once(worker, 'exit');
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
    done();
    await exited;
  }
  return samples;
}

/** Reference: a bare `new Worker` until its first message reaches the creator; one worker at a time. */
export async function bareWorkerStart(n: number): Promise<StartSamples> {
  const url = new URL('./threads/bare.js', import.meta.url);
  const samples: StartSamples = { wall: [], cpu: [] };
  for (let i = 0; i < n; i++) {
    const done = startTimer(samples);
    const worker = new Worker(url);
    const exited = once(worker, 'exit');
    await once(worker, 'message');
    done();
    await exited;
  }
  return samples;
}
