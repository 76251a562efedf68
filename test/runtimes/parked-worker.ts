/**
 * A plain worker (no library) for the slice's probe of worker.terminate(): it announces itself in word 1,
 * parks on word 0, and, should it ever wake up, records that in word 2.
 */
import { workerData } from 'node:worker_threads';

const words = workerData as Int32Array;
Atomics.store(words, 1, 1);
Atomics.notify(words, 1);
Atomics.wait(words, 0, 0);
Atomics.store(words, 2, 1);
