/** Workload 6, classic baseline: the same vCPU handshake in a plain `new Worker`, on the classic mutex and cond. */
import { workerData } from 'node:worker_threads';
import {
  type ClassicCond,
  type ClassicMutex,
  classicLock,
  classicSignal,
  classicUnlock,
  classicWait,
} from '../classic.js';

const arg = workerData as {
  index: number;
  bql: ClassicMutex;
  cpuCond: ClassicCond;
  haltCond: ClassicCond;
  created: Int32Array;
  quit: Int32Array;
};

classicLock(arg.bql);
arg.created[arg.index] = 1;
classicSignal(arg.cpuCond);
while (!arg.quit[0]) classicWait(arg.haltCond, arg.bql);
classicUnlock(arg.bql);
