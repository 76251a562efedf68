// A second thread for the API tests that need "held by another thread" or "a thread is waiting".
// The main thread drives it through one shared flag, so every step happens in a known order.
import { workerData } from 'node:worker_threads';
import { QemuCond, QemuLockCnt, QemuMutex, QemuRecMutex, QemuSpin } from 'qemu-thread';

/** flag[0]: the main thread waits for HOLDING, then stores RELEASE to let this thread go. */
export const START = 0;
export const HOLDING = 1;
export const RELEASE = 2;

export type HoldKind = 'mutex' | 'rec-mutex' | 'spin' | 'lockcnt' | 'cond-wait';

export interface HoldData {
  kind: HoldKind;
  lock: unknown;
  cond?: unknown;
  flag: Int32Array;
}

function announce(flag: Int32Array): void {
  Atomics.store(flag, 0, HOLDING);
  Atomics.notify(flag, 0);
}

function awaitRelease(flag: Int32Array): void {
  while (Atomics.load(flag, 0) !== RELEASE) Atomics.wait(flag, 0, HOLDING);
}

function run(data: HoldData): void {
  const { flag } = data;
  if (data.kind === 'cond-wait') {
    // Waits on the cond with the mutex released, so the main thread can lock it and see a waiter.
    const m = QemuMutex.from(data.lock);
    const c = QemuCond.from(data.cond);
    m.lock();
    announce(flag);
    while (Atomics.load(flag, 0) !== RELEASE) c.wait(m);
    m.unlock();
    return;
  }
  const lock =
    data.kind === 'mutex'
      ? QemuMutex.from(data.lock)
      : data.kind === 'rec-mutex'
        ? QemuRecMutex.from(data.lock)
        : data.kind === 'spin'
          ? QemuSpin.from(data.lock)
          : QemuLockCnt.from(data.lock);
  lock.lock();
  announce(flag);
  awaitRelease(flag);
  lock.unlock();
}

if (workerData !== null && typeof workerData === 'object' && 'flag' in workerData) {
  run(workerData as HoldData);
}
