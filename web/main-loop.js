/**
 * The example machine's main loop (QEMU's main thread), run in a Web Worker because the window's thread
 * may not block. It pre-starts one worker per vCPU and awaits them (a browser does not boot a new worker
 * while its creator blocks), then does exactly what the seed does: holding the global mutex, it creates
 * each vCPU thread and waits `while (!created) qemu_cond_wait(cpu_cond, bql)` before the next. Then it
 * drives the frames of the zoom, asks the vCPUs to quit and joins them.
 */
import {
  QEMU_THREAD_JOINABLE,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_timedwait,
  qemu_thread_create,
  qemu_thread_join,
} from '../dist/index.js';
import { CPU_WORDS, CREATED, DONE, FRAME, machineBase, NEXT_ROW, QUIT } from './layout.js';

/** The view (center x, center y, units per pixel) of frame f: a zoom towards a point on the set's edge. */
function viewOf(f, width) {
  return [-0.743643887037151, 0.13182590420533, (3.2 / width) * 0.93 ** f];
}

/** The thread function: `new URL('./main-loop.js#mainLoop', import.meta.url)`. */
export async function mainLoop(machine) {
  const { smp, frames, frameDelayMs, bql, cpuCond, haltCond, stop, state, view, width } = machine;
  const m = machineBase(smp);
  // Pre-started workers boot while this thread still runs its event loop; after this, creating a thread
  // only hands a pre-started worker its start data, which it receives while we block.
  await QemuThread.prestart(smp);
  const threads = [];
  const log = [];
  qemu_mutex_lock(bql);
  for (let index = 0; index < smp; index++) {
    const thread = new QemuThread();
    threads.push(thread);
    const cpu = { ...machine, index };
    const fn = new URL('./vcpu.js#vcpuThreadFn', import.meta.url);
    qemu_thread_create(thread, `CPU ${index}/TCG`, fn, cpu, QEMU_THREAD_JOINABLE);
    let waits = 0;
    while (!state[index * CPU_WORDS + CREATED]) {
      qemu_cond_wait(cpuCond, bql);
      waits++;
    }
    log.push({ index, waits, tid: thread.threadId() });
  }
  let drawn = 0;
  for (let f = 0; f < frames; f++) {
    view.set(viewOf(f, width));
    state[m + NEXT_ROW] = 0;
    state[m + DONE] = 0;
    state[m + FRAME] = f + 1;
    qemu_cond_broadcast(haltCond);
    while (state[m + DONE] < smp) qemu_cond_wait(cpuCond, bql);
    drawn++;
    // Between frames, let go of the mutex and give the window a moment; a post on `stop` ends the zoom.
    qemu_mutex_unlock(bql);
    const stopped = qemu_sem_timedwait(stop, frameDelayMs) === 0;
    qemu_mutex_lock(bql);
    if (stopped) break;
  }
  state[m + QUIT] = 1;
  qemu_cond_broadcast(haltCond);
  qemu_mutex_unlock(bql);
  const joined = threads.map((t) => qemu_thread_join(t));
  return { created: log, joined, frames: drawn };
}
