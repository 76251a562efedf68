/**
 * Main scripts for the faults tests that need a process of their own (run with `node`, never imported by a
 * test). Each prints its result on stdout.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const [scenario] = process.argv.slice(2);
const targets = new URL('./targets.js', import.meta.url);
const nap = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (scenario === 'import-order') {
  // A plain worker loads the library, takes a mutex and ends while the main thread has not loaded the
  // library yet; the main thread loads it only then. The worker's lock must still come back with EOWNERDEAD.
  const buffer = new SharedArrayBuffer(64);
  const flags = new Int32Array(buffer, 32, 4);
  const source = `
    const { workerData } = require('node:worker_threads');
    import('qemu-thread').then((q) => {
      const m = q.QemuMutex.create(workerData.buffer, 0);
      m.lock();
      Atomics.store(workerData.flags, 0, 1);
      Atomics.notify(workerData.flags, 0);
      while (Atomics.load(workerData.flags, 1) === 0) Atomics.wait(workerData.flags, 1, 0);
    });`;
  const worker = new Worker(source, { eval: true, workerData: { buffer, flags } });
  while (Atomics.load(flags, 0) === 0) Atomics.wait(flags, 0, 0);
  const q = await import('qemu-thread');
  const ended = new Promise((resolve) => worker.once('exit', resolve));
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  await ended;
  const m = new q.QemuMutex(buffer, 0);
  try {
    m.lock();
    writeSync(1, 'locked\n');
  } catch (e) {
    writeSync(1, `${e instanceof q.QemuThreadError ? e.code : String(e)}\n`);
  }
} else if (scenario === 'main-returns') {
  // Threads parked for ever, one joinable and one detached; the main thread returns. As in C, where returning
  // from main ends the process, the process must end.
  const q = await import('qemu-thread');
  const s = q.QemuSemaphore.create(0);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  q.QemuThread.create('joinable', new URL('#semWaiter', targets), { s, flags, slot: 0 });
  q.QemuThread.create(
    'detached',
    new URL('#semWaiter', targets),
    { s, flags, slot: 1 },
    q.QEMU_THREAD_DETACHED,
  );
  while (!String(s).includes('waiters: 2')) nap(1);
  writeSync(1, 'returning\n');
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
