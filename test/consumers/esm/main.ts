// An ES-module consumer of qemu-thread, in strict TypeScript: a thread (its function in ./work.ts) counts
// under a mutex with the main thread, then exits with qemu_thread_exit; misuse is a typed error.
import {
  QEMU_THREAD_JOINABLE,
  QemuMutex,
  QemuThread,
  QemuThreadError,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import type { Work } from './work.js';

const N = 10_000;
const work: Work = { lock: QemuMutex.create(), counter: new Int32Array(new SharedArrayBuffer(4)), n: N };
const t = new QemuThread();
qemu_thread_create(t, 'worker', new URL('./work.js#count', import.meta.url), work, QEMU_THREAD_JOINABLE);
for (let i = 0; i < N; i++) {
  qemu_mutex_lock(work.lock);
  work.counter[0]++;
  qemu_mutex_unlock(work.lock);
}
const exited = qemu_thread_join(t) as { done: number };
let code = '';
try {
  qemu_mutex_unlock(work.lock);
} catch (error) {
  if (error instanceof QemuThreadError) code = error.code;
}
const ok = work.counter[0] === 2 * N && exited.done === N && code === 'EPERM';
console.log(JSON.stringify({ kind: 'esm', counter: work.counter[0], exited, code, ok }));
process.exitCode = ok ? 0 : 1;
