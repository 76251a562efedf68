// A program in TypeScript whose threads are TypeScript too, run as it is: `node --import tsx main.ts` or
// `tsx main.ts` (typescript.test.ts checks the output promised below).
import { QemuMutex, QemuThread, QemuThreadError, QemuThreadFailure, threadFunction } from 'qemu-thread';
import type * as Work from './work.js';

const fromWork = threadFunction<typeof Work>();
const job: Work.Job = {
  lock: QemuMutex.create(),
  counter: new Int32Array(new SharedArrayBuffer(4)),
  rounds: 1000,
};

// Named by the .ts file, and by the .js name that TypeScript's own imports use (tsx runs the .ts for it).
const ts = QemuThread.create('ts', fromWork(new URL('./work.ts', import.meta.url), 'count'), job);
const js = QemuThread.create('js', fromWork(new URL('./work.js', import.meta.url), 'count'), job);
console.log(ts.join() + js.join(), job.counter[0]); // 2000 2000

// What the thread throws reaches the join as the failure's cause, its stack in the TypeScript file.
try {
  QemuThread.create('fails', fromWork(new URL('./work.ts', import.meta.url), 'fail'), 'bad index').join();
} catch (e) {
  if (!(e instanceof QemuThreadFailure)) throw e;
  console.log(e.message.replace(/thread \d+/, 'thread N')); // qemu_thread_join: thread N 'fails' failed: RangeError: bad index
  console.log(/work\.ts:\d+/.test(String((e.cause as Error).stack))); // true
}

// A misspelt export of a .ts module is found by the create.
try {
  QemuThread.create('typo', new URL('./work.ts#cuont', import.meta.url), job);
} catch (e) {
  console.log(e instanceof QemuThreadError && e.message.endsWith("has no export 'cuont')")); // true
}
