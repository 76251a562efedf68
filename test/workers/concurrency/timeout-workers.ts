/**
 * Thread functions for concurrency-timeout.test.ts: timed waits on primitives that nobody signals, in
 * threads other than the one that made the primitives.
 */
import {
  type QemuCond,
  type QemuEvent,
  type QemuMutex,
  type QemuSemaphore,
  qemu_cond_timedwait,
  qemu_event_timedwait,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_sem_timedwait,
} from 'qemu-thread';
import { markDone } from './helpers.js';

/** Word indexes of TimeoutArg.data. */
export const ANNOUNCED = 0;
export const RELEASED = 1;
export const TO_WORDS = 2;

export interface TimeoutArg {
  kind: 'cond' | 'sem' | 'event';
  m?: QemuMutex;
  cond?: QemuCond;
  sem?: QemuSemaphore;
  event?: QemuEvent;
  ms: number;
  data: Int32Array;
  done: Int32Array;
}

export interface TimeoutReport {
  result: boolean | number;
  elapsedMs: number;
  /** cond only: qemu_mutex_trylock right after the wait returned (-16: the mutex was held, by this thread). */
  trylockAfter?: number;
  /** cond only: data[RELEASED] right after the wait returned. */
  releasedSeen?: number;
}

export function timedWaiter(arg: TimeoutArg): TimeoutReport {
  try {
    if (arg.kind === 'cond') {
      const m = arg.m!;
      qemu_mutex_lock(m);
      Atomics.add(arg.data, ANNOUNCED, 1);
      const t0 = performance.now();
      const result = qemu_cond_timedwait(arg.cond!, m, arg.ms);
      const elapsedMs = performance.now() - t0;
      const trylockAfter = qemu_mutex_trylock(m);
      const releasedSeen = Atomics.load(arg.data, RELEASED);
      qemu_mutex_unlock(m); // throws EPERM unless the wait returned holding the mutex
      return { result, elapsedMs, trylockAfter, releasedSeen };
    }
    Atomics.add(arg.data, ANNOUNCED, 1);
    const t0 = performance.now();
    const result =
      arg.kind === 'sem' ? qemu_sem_timedwait(arg.sem!, arg.ms) : qemu_event_timedwait(arg.event!, arg.ms);
    return { result, elapsedMs: performance.now() - t0 };
  } finally {
    markDone(arg.done);
  }
}
