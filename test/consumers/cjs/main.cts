// A CommonJS consumer of qemu-thread, in strict TypeScript: compiled to require('qemu-thread'), which
// Node >= 20.19 satisfies with the ES module itself. A thread (its function in ./work.cts, a CommonJS
// module too) counts under a mutex with the main thread, then exits with qemu_thread_exit.
import qemu = require('qemu-thread');
import url = require('node:url');
import path = require('node:path');

import type { Work } from './types.cjs';

const N = 10_000;
const work: Work = { lock: qemu.QemuMutex.create(), counter: new Int32Array(new SharedArrayBuffer(4)), n: N };
const t = new qemu.QemuThread();
const fn = `${url.pathToFileURL(path.join(__dirname, 'work.cjs')).href}#count`;
qemu.qemu_thread_create(t, 'worker', fn, work, qemu.QEMU_THREAD_JOINABLE);
for (let i = 0; i < N; i++) {
  qemu.qemu_mutex_lock(work.lock);
  work.counter[0]++;
  qemu.qemu_mutex_unlock(work.lock);
}
const exited = qemu.qemu_thread_join(t) as { done: number };
let code = '';
try {
  qemu.qemu_mutex_unlock(work.lock);
} catch (error) {
  if (error instanceof qemu.QemuThreadError) code = error.code;
}
const ok = work.counter[0] === 2 * N && exited.done === N && code === 'EPERM';
console.log(JSON.stringify({ kind: 'cjs', counter: work.counter[0], exited, code, ok }));
process.exitCode = ok ? 0 : 1;
