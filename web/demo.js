/**
 * The window's side of the example machine: it allocates the shared state, starts the main loop in a Web
 * Worker (qemu_thread_create does not block), and, while that runs, draws the shared framebuffer and the
 * vCPUs' counters every animation frame. The window's thread never blocks: it only uses async calls
 * (qemu_thread_join_async, qemu_mutex_lock_async) and calls that never wait (qemu_sem_post).
 */

import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuMutex,
  QemuSemaphore,
  QemuThread,
  qemu_mutex_lock_async,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_thread_create,
  qemu_thread_join_async,
} from '../dist/index.js';
import { CPU_WORDS, FRAME, FRAMES, MACHINE_WORDS, machineBase, ROWS } from './layout.js';

/** The palette of the demo machine (machine/render.ts): 0 black, then blue -> white -> orange -> red. */
function paletteColor(i) {
  if (i === 0) return [0, 0, 0];
  const t = Math.sqrt(((i - 1) % 255) / 254);
  const stops = [
    [0, 7, 100],
    [32, 107, 203],
    [237, 255, 255],
    [255, 170, 0],
    [100, 2, 0],
  ];
  const x = t * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  return [0, 1, 2].map((c) => Math.round(stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f));
}

const PALETTE = Array.from({ length: 256 }, (_, i) => paletteColor(i));
const CPU_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

/**
 * Runs the machine. Options: smp, frames, width, height, maxIter, frameDelayMs, canvas, bars (elements
 * to draw into, optional), log(text). Resolves with the main loop's result and the window's own counts.
 */
export async function runDemo(options = {}) {
  const smp = options.smp ?? 4;
  const width = options.width ?? 320;
  const height = options.height ?? 200;
  const log = options.log ?? (() => {});
  const bql = QemuMutex.create();
  const machine = {
    smp,
    frames: options.frames ?? 60,
    frameDelayMs: options.frameDelayMs ?? 15,
    width,
    height,
    maxIter: options.maxIter ?? 400,
    bql,
    cpuCond: QemuCond.create(),
    haltCond: QemuCond.create(),
    stop: QemuSemaphore.create(0),
    state: new Int32Array(new SharedArrayBuffer(4 * (smp * CPU_WORDS + MACHINE_WORDS))),
    view: new Float64Array(new SharedArrayBuffer(8 * 3)),
    fb: new Int32Array(new SharedArrayBuffer(4 * width * height)),
    owner: new Uint8Array(new SharedArrayBuffer(width * height)),
  };
  const mainThread = new QemuThread();
  qemu_thread_create(
    mainThread,
    'main-loop',
    new URL('./main-loop.js#mainLoop', import.meta.url),
    machine,
    QEMU_THREAD_JOINABLE,
  );
  options.onStart?.(machine);
  log(`window: started the main loop (thread ${mainThread.threadId()}) for ${smp} vCPU(s)`);

  let running = true;
  let paints = 0;
  const snapshots = [];
  const paint = () => {
    if (options.canvas) drawFrame(options.canvas, machine, options.tint?.() ?? false);
    if (options.bars) drawBars(options.bars, machine);
    paints++;
    if (running) requestAnimationFrame(paint);
  };
  requestAnimationFrame(paint);

  // Now and then, a consistent look at the machine under its global mutex, taken without blocking.
  const sampler = (async () => {
    while (running) {
      await qemu_mutex_lock_async(bql);
      snapshots.push(Atomics.load(machine.state, machineBase(smp) + FRAME));
      qemu_mutex_unlock(bql);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();

  const stop = () => qemu_sem_post(machine.stop);
  const result = await qemu_thread_join_async(mainThread);
  running = false;
  await sampler;
  paint();
  log(`window: main loop joined after ${result.frames} frame(s)`);
  return { ...result, paints, snapshots, stop, smp, machine };
}

function drawFrame(canvas, machine, tint) {
  const { width, height, fb, owner } = machine;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext('2d');
  const image = context.createImageData(width, height);
  const px = image.data;
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = PALETTE[fb[i] & 0xff];
    px[4 * i] = r;
    px[4 * i + 1] = g;
    px[4 * i + 2] = b;
    px[4 * i + 3] = 255;
    if (tint && owner[i]) {
      // Which vCPU drew this row: a wash of its colour.
      const c = CPU_COLORS[(owner[i] - 1) % CPU_COLORS.length];
      px[4 * i] = (r + Number.parseInt(c.slice(1, 3), 16)) >> 1;
      px[4 * i + 1] = (g + Number.parseInt(c.slice(3, 5), 16)) >> 1;
      px[4 * i + 2] = (b + Number.parseInt(c.slice(5, 7), 16)) >> 1;
    }
  }
  context.putImageData(image, 0, 0);
}

function drawBars(container, machine) {
  const { smp, state } = machine;
  if (container.childElementCount !== smp) {
    container.replaceChildren(
      ...Array.from({ length: smp }, (_, i) => {
        const row = document.createElement('div');
        row.className = 'cpu';
        row.innerHTML = `<span class="name" style="color:${CPU_COLORS[i % CPU_COLORS.length]}">CPU ${i}</span><span class="bar"><span></span></span><span class="count"></span>`;
        return row;
      }),
    );
  }
  let most = 1;
  for (let i = 0; i < smp; i++) most = Math.max(most, Atomics.load(state, i * CPU_WORDS + ROWS));
  for (let i = 0; i < smp; i++) {
    const rows = Atomics.load(state, i * CPU_WORDS + ROWS);
    const frames = Atomics.load(state, i * CPU_WORDS + FRAMES);
    const row = container.children[i];
    const fill = row.querySelector('.bar span');
    fill.style.width = `${(100 * rows) / most}%`;
    fill.style.background = CPU_COLORS[i % CPU_COLORS.length];
    row.querySelector('.count').textContent = `${rows} rows, ${frames} frames`;
  }
}
