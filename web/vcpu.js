/**
 * The example machine's vCPU thread (QEMU's qemu_tcg_cpu_thread_fn, reduced): it announces itself with the
 * seed's handshake (created = 1 under the global mutex, then signal), then draws rows of the current frame
 * of a Mandelbrot zoom into the shared framebuffer, frame after frame, until the main loop says quit.
 * Runs in a Web Worker started by qemu_thread_create; it blocks freely (qemu_mutex_lock, qemu_cond_wait).
 */
import { qemu_cond_signal, qemu_cond_wait, qemu_mutex_lock, qemu_mutex_unlock } from '../dist/index.js';
import {
  CPU_WORDS,
  CREATED,
  DONE,
  FRAME,
  FRAMES,
  INIT_ORDER,
  machineBase,
  NEXT_ROW,
  ORDER,
  QUIT,
  ROWS,
} from './layout.js';

/** Escape-time iterations for one pixel (0 = inside the set). */
function escapeTime(cx, cy, maxIter) {
  let x = 0;
  let y = 0;
  for (let i = 1; i <= maxIter; i++) {
    const x2 = x * x;
    const y2 = y * y;
    if (x2 + y2 > 4) return i;
    y = 2 * x * y + cy;
    x = x2 - y2 + cx;
  }
  return 0;
}

function drawRow(cpu, row) {
  const { fb, owner, width, height, view, maxIter, index } = cpu;
  const [centerX, centerY, scale] = view;
  const cy = centerY + (row - height / 2) * scale;
  for (let col = 0; col < width; col++) {
    fb[row * width + col] = escapeTime(centerX + (col - width / 2) * scale, cy, maxIter);
  }
  owner.fill(index + 1, row * width, (row + 1) * width);
}

/** The thread function: `new URL('./vcpu.js#vcpuThreadFn', import.meta.url)`. */
export function vcpuThreadFn(cpu) {
  const { index, bql, cpuCond, haltCond, state, smp, height } = cpu;
  const me = index * CPU_WORDS;
  const m = machineBase(smp);
  qemu_mutex_lock(bql);
  // The seed's handshake: created under the mutex, so the creator's `while (!created)` cannot miss it.
  state[me + INIT_ORDER] = state[m + ORDER]++;
  state[me + CREATED] = 1;
  qemu_cond_signal(cpuCond);
  let seen = 0;
  for (;;) {
    while (state[m + FRAME] === seen && !state[m + QUIT]) qemu_cond_wait(haltCond, bql);
    if (state[m + QUIT]) break;
    seen = state[m + FRAME];
    qemu_mutex_unlock(bql);
    for (
      let row = Atomics.add(state, m + NEXT_ROW, 1);
      row < height;
      row = Atomics.add(state, m + NEXT_ROW, 1)
    ) {
      drawRow(cpu, row);
      Atomics.add(state, me + ROWS, 1);
    }
    qemu_mutex_lock(bql);
    Atomics.add(state, me + FRAMES, 1);
    if (++state[m + DONE] === smp) qemu_cond_signal(cpuCond);
  }
  qemu_mutex_unlock(bql);
  return { index, initOrder: state[me + INIT_ORDER], rows: Atomics.load(state, me + ROWS) };
}
