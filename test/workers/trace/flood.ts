// Runs in a child process: many log-backend lines on a stderr pipe that the parent leaves full for a
// while, for trace.test.ts. Prints 'writing' before the lines and 'done' after them, on stdout.
import { writeSync } from 'node:fs';
import { QemuMutex, traceEnable } from 'qemu-thread';

const LINES = 5_000;

// Opening the stream makes Node set fd 2 non-blocking, as in any program that also logs through it.
process.stderr.write('');
const m = QemuMutex.create();
traceEnable('qemu_mutex_locked');
writeSync(1, 'writing\n');
for (let i = 0; i < LINES; i++) {
  m.lock();
  m.unlock();
}
traceEnable('qemu_mutex_locked', false);
writeSync(1, 'done\n');
