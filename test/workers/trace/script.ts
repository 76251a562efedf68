// Runs in a child process: a scripted lock sequence with the log backend on, for trace.test.ts.
import {
  QemuCond,
  QemuMutex,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  traceEnable,
} from 'qemu-thread';

const m = QemuMutex.create();
const c = QemuCond.create();
if (process.argv[2] === 'on') traceEnable('qemu_mutex_*');
qemu_mutex_lock(m); // site A
qemu_mutex_unlock(m); // site B
if (qemu_mutex_trylock(m) !== 0) throw new Error('trylock failed'); // site C
c.timedWait(m, 1); // site D
m.unlock(); // site E
process.stdout.write(`mutex ${String(m).split(' ')[1]}\n`);
