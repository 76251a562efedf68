/**
 * A program whose threads end in every way, some of them never joined (thread-failures.test.ts runs it
 * and reads its stderr): a joinable thread that fails and is never joined is reported as this thread
 * ends, and so is one whose runtime exited; one that was joined, returned, was terminated or still runs is
 * not; a detached thread reports its own failure at once; a plain worker that created a failing thread
 * and never joined it reports it as it ends, and if it does not end, the main thread does as it ends.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { QEMU_THREAD_DETACHED, QemuSemaphore, QemuThread } from 'qemu-thread';
import { untilExited } from './abandon.js';

const fn = (name: string) => new URL(`./lifecycle.js#${name}`, import.meta.url);
const gate = QemuSemaphore.create(0);

const producer = QemuThread.create('producer', fn('throwTypeError'), { message: 'bad index' });
const joined = QemuThread.create('joined', fn('throwTypeError'), { message: 'joined, so not reported' });
const fine = QemuThread.create('fine', fn('echo'), 'returned');
const exits = QemuThread.create('exits', fn('exitProcess'), { code: 0 });
const stopped = QemuThread.create('stopped', fn('waitThenReturn'), { gate, value: 'never' });
QemuThread.create('running', fn('waitThenReturn'), { gate, value: 'still running at the end' });
const loose = QemuThread.create(
  'loose',
  fn('throwTypeError'),
  { message: 'nobody joins me' },
  QEMU_THREAD_DETACHED,
);

for (const t of [producer, fine, exits, loose]) untilExited(t);
try {
  joined.join();
} catch {
  // Joined: its failure is the joiner's to handle, not to report.
}
await stopped.terminate();
const exiting = new Worker(new URL('./abandon.js', import.meta.url), {
  workerData: { name: 'orphan of an exiting worker', exit: true },
});
await once(exiting, 'exit');
const staying = new Worker(new URL('./abandon.js', import.meta.url), {
  workerData: { name: 'orphan of a staying worker', exit: false },
});
await once(staying, 'message');
staying.unref();
console.log('main ends');
