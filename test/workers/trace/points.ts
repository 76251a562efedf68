// Runs in a child process: QEMU's emission points beyond the plain lock (an async lock, a recursive mutex's
// nested lock and unlock, timed cond waits of 0 ms), with the log backend on, for trace.test.ts.
import { QemuCond, QemuMutex, QemuRecMutex, traceEnable } from 'qemu-thread';

const m = QemuMutex.create();
const r = QemuRecMutex.create();
const c = QemuCond.create();
traceEnable('qemu_mutex_*');
await m.lockAsync(); // site F
m.unlock(); // site G
r.lock(); // site H
r.lock(); // site I: nested
r.unlock(); // site J: nested
r.unlock(); // site K
m.lock(); // site L
if (c.timedWait(m, 0)) throw new Error('a wait of 0 ms did not time out'); // site M
if (await c.timedWaitAsync(m, 0)) throw new Error('an async wait of 0 ms did not time out'); // site N
m.unlock(); // site O
traceEnable('*', false);
process.stdout.write(`mutex #${m.objectId()} rec #${r.objectId()}\n`);
