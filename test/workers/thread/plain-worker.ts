/**
 * Run as a plain worker_threads Worker (not by qemu_thread_create), posting what it saw to its parent:
 * with `workerData.join` (a QemuThread), joins it; otherwise calls qemu_thread_exit, which must fail with
 * EPERM. Does nothing when loaded on a main thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type QemuThread, qemu_thread_exit, qemu_thread_join } from 'qemu-thread';
import { describeError } from './lifecycle.js';

function probe(): unknown {
  const target = (workerData as { join?: QemuThread } | null)?.join;
  try {
    if (target !== undefined) return { got: qemu_thread_join(target) };
    qemu_thread_exit('from a plain worker');
  } catch (error) {
    return { error: describeError(error) };
  }
}

if (!isMainThread) parentPort?.postMessage(probe() ?? { returned: true });
