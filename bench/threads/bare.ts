/** Workload 6's reference: a worker that does nothing but say it has started. */
import { parentPort, workerData } from 'node:worker_threads';

const flag = (workerData as { flag?: Int32Array } | null)?.flag;
if (flag) {
  // The blocked-creator variant: the creator sleeps in Atomics.wait on this word.
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
} else {
  parentPort!.postMessage('started');
}
