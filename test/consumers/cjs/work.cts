// The thread function of the CommonJS consumer. Exported with `export =`, which every module setting
// compiles to `module.exports = { count }` (where Node finds `count` when the thread imports the module).
import qemu = require('qemu-thread');

import type { Work } from './types.cjs';

function count(work: Work): never {
  for (let i = 0; i < work.n; i++) {
    qemu.qemu_mutex_lock(work.lock);
    work.counter[0]++;
    qemu.qemu_mutex_unlock(work.lock);
  }
  qemu.qemu_thread_exit({ done: work.n });
}

export = { count };
