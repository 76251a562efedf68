// Thread functions that the terminate tests stop from outside, each parked somewhere different.
import {
  type QemuCond,
  type QemuEvent,
  type QemuLockCnt,
  type QemuMutex,
  type QemuSemaphore,
  type QemuThread,
  QemuThreadError,
} from 'qemu-thread';
import { publishOsThread } from '../../support/os-thread.js';

/** Says "about to block" by storing the thread's kernel id (non-zero), so the test can see it asleep. */
function announce(held: Int32Array): void {
  publishOsThread(held, 0);
}

/** Parks for ever on a word nobody changes (only terminate ends it). */
function sleepForever(): never {
  const word = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(word, 0, 0);
}

/** Takes the mutex and keeps it for ever. */
export function holdForever(arg: { m: QemuMutex; held: Int32Array }): never {
  arg.m.lock();
  announce(arg.held);
  sleepForever();
}

export type BlockKind = 'mutex' | 'cond' | 'sem' | 'event' | 'join' | 'lockcnt' | 'sleep';

/** Announces itself, then blocks in the wait `kind` names, which nothing will ever end. */
export function blockIn(arg: {
  kind: BlockKind;
  held: Int32Array;
  m: QemuMutex;
  c: QemuCond;
  s: QemuSemaphore;
  e: QemuEvent;
  l: QemuLockCnt;
  t: QemuThread;
}): void {
  if (arg.kind === 'cond') arg.m.lock();
  announce(arg.held);
  switch (arg.kind) {
    case 'mutex':
      arg.m.lock();
      break;
    case 'cond':
      for (;;) arg.c.wait(arg.m);
    case 'sem':
      arg.s.wait();
      break;
    case 'event':
      arg.e.wait();
      break;
    case 'join':
      arg.t.join();
      break;
    case 'lockcnt':
      arg.l.lock();
      break;
    case 'sleep':
      sleepForever();
  }
  throw new Error(`blockIn(${arg.kind}) returned: something woke it`);
}

/** Announces itself, then locks: returns the code of the error the lock ended with, or 'locked'. */
export function lockAndReport(arg: { m: QemuMutex; held: Int32Array }): string {
  announce(arg.held);
  try {
    arg.m.lock();
  } catch (e) {
    if (e instanceof QemuThreadError) {
      arg.m.consistent();
      arg.m.unlock();
      return e.code;
    }
    throw e;
  }
  arg.m.unlock();
  return 'locked';
}

/** Tries to terminate a thread this thread did not create: returns the error code. */
export async function terminateOthers(arg: { t: QemuThread }): Promise<string> {
  try {
    await arg.t.terminate();
    return 'terminated';
  } catch (e) {
    return e instanceof QemuThreadError ? `${e.code}: ${e.message}` : String(e);
  }
}
