/**
 * Run as a plain worker (not a qemu-thread thread) by unjoined.ts: creates a thread that fails, waits until
 * it has ended, and never joins it. With `workerData.exit`, then ends itself (process.exit), and reports
 * the thread as it ends; without, tells its parent and stays (a worker is held open by a joinable
 * thread's pending outcome), so that the main thread reports it as the process ends. Also gives
 * unjoined.ts its wait for a thread's end.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { QemuThread } from 'qemu-thread';

/** Waits (bounded) until `t`'s thread has ended and published its outcome, without joining it. */
export function untilExited(t: QemuThread): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = performance.now() + 20_000;
  while (!String(t).includes('exited')) {
    if (performance.now() > deadline) throw new Error(`${String(t)} did not end within 20 s`);
    Atomics.wait(nap, 0, 0, 5);
  }
}

if (!isMainThread) {
  const { name, exit } = workerData as { name: string; exit: boolean };
  const url = new URL('./lifecycle.js#throwTypeError', import.meta.url);
  untilExited(
    QemuThread.create(name, url, { message: `abandoned by a worker that ${exit ? 'exits' : 'stays'}` }),
  );
  if (exit) process.exit(0);
  parentPort?.postMessage('ready');
}
