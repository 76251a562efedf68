// Runs in a child process: a lockcnt sequence with the lockcnt_* events on, for trace.test.ts.
import { QemuLockCnt, traceEnable } from 'qemu-thread';

const l = QemuLockCnt.create();
traceEnable('lockcnt_*');
l.inc();
l.lock();
l.unlock();
traceEnable('lockcnt_*', false);
l.dec();
