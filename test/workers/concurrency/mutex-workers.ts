/**
 * Thread functions for concurrency-mutex.test.ts: increments of a plain (non-atomic) counter under each
 * kind of lock, with an atomic counter incremented outside the lock and an "inside" gauge that must never
 * see two threads in the critical section.
 */
import {
  type QemuLockCnt,
  type QemuMutex,
  type QemuRecMutex,
  type QemuSpin,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_unlock,
  qemu_spin_lock,
  qemu_spin_unlock,
} from 'qemu-thread';
import { markDone, startLine } from './helpers.js';

/** Word indexes of CounterArg.data. */
export const PLAIN = 0;
export const ATOMIC = 1;
export const INSIDE = 2;
export const OVERLAPS = 3;
/** The start line (helpers.startLine). */
export const START = 4;
export const DATA_WORDS = 5;

export type LockKind = 'mutex' | 'rec' | 'spin' | 'lockcnt';

export interface CounterArg {
  kind: LockKind;
  lock: QemuMutex | QemuRecMutex | QemuSpin | QemuLockCnt;
  data: Int32Array;
  iterations: number;
  /** How many threads run this together (for the start line). */
  threads: number;
  done: Int32Array;
}

/** The critical section: read the plain counter, write it back + 1; count overlapping entries. */
function critical(data: Int32Array): void {
  if (Atomics.add(data, INSIDE, 1) !== 0) Atomics.add(data, OVERLAPS, 1);
  const v = data[PLAIN];
  data[PLAIN] = v + 1;
  Atomics.sub(data, INSIDE, 1);
}

/** Only the overlap check, for a section that is still held after a nested unlock. */
function exclusive(data: Int32Array): void {
  if (Atomics.add(data, INSIDE, 1) !== 0) Atomics.add(data, OVERLAPS, 1);
  Atomics.sub(data, INSIDE, 1);
}

export function counterWorker(arg: CounterArg): number {
  const { data, iterations: n } = arg;
  try {
    startLine(data.subarray(START), arg.threads);
    switch (arg.kind) {
      case 'mutex': {
        const m = arg.lock as QemuMutex;
        for (let i = 0; i < n; i++) {
          qemu_mutex_lock(m);
          critical(data);
          qemu_mutex_unlock(m);
          Atomics.add(data, ATOMIC, 1);
        }
        break;
      }
      case 'rec': {
        const m = arg.lock as QemuRecMutex;
        for (let i = 0; i < n; i++) {
          qemu_rec_mutex_lock(m);
          qemu_rec_mutex_lock(m);
          critical(data);
          qemu_rec_mutex_unlock(m);
          // Still held once: the section must still be exclusive.
          exclusive(data);
          qemu_rec_mutex_unlock(m);
          Atomics.add(data, ATOMIC, 1);
        }
        break;
      }
      case 'spin': {
        const s = arg.lock as QemuSpin;
        for (let i = 0; i < n; i++) {
          qemu_spin_lock(s);
          critical(data);
          qemu_spin_unlock(s);
          Atomics.add(data, ATOMIC, 1);
        }
        break;
      }
      case 'lockcnt': {
        const l = arg.lock as QemuLockCnt;
        for (let i = 0; i < n; i++) {
          qemu_lockcnt_lock(l);
          critical(data);
          qemu_lockcnt_unlock(l);
          Atomics.add(data, ATOMIC, 1);
        }
        break;
      }
    }
    return n;
  } finally {
    markDone(arg.done);
  }
}
