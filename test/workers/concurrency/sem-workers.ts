/**
 * Thread functions for concurrency-sem.test.ts: sleepers in qemu_sem_wait woken by back-to-back posts,
 * and posters / timed takers whose units must add up exactly.
 */
import { type QemuSemaphore, qemu_sem_post, qemu_sem_timedwait, qemu_sem_wait } from 'qemu-thread';
import { publishOsThread } from '../../support/os-thread.js';
import { markDone, sleep } from './helpers.js';

// ---- sleepers --------------------------------------------------------------------------------------------

export const ANNOUNCED = 0;
export const WOKEN = 1;
export const SL_STOP = 2;
/** The round the main thread has opened; a sleeper waits for it before its next qemu_sem_wait. */
export const SL_ROUND = 3;
export const SL_WORDS = 4;

export interface SleeperArg {
  s: QemuSemaphore;
  ack: QemuSemaphore;
  data: Int32Array;
  done: Int32Array;
  /** os[index]: this sleeper's kernel thread id (test/support/os-thread.ts). */
  os: Int32Array;
  index: number;
}

/**
 * Round after round: waits for the main thread to open the round (a plain futex wait on SL_ROUND, outside
 * the library), announces itself, sleeps in qemu_sem_wait, and acknowledges its unit on `ack`. Taking one
 * unit per round means that if a post fails to wake a sleeper, no other sleeper can take that unit
 * instead. Ends on a unit that arrives with the stop flag set; returns how many units it took before.
 */
export function sleeper(arg: SleeperArg): number {
  const { s, ack, data } = arg;
  let woke = 0;
  publishOsThread(arg.os, arg.index);
  try {
    for (let r = 1; ; r++) {
      for (let v = Atomics.load(data, SL_ROUND); v < r; v = Atomics.load(data, SL_ROUND)) {
        if (Atomics.wait(data, SL_ROUND, v, 20_000) === 'timed-out') {
          throw new Error(`sleeper: round ${r} was never opened`);
        }
      }
      Atomics.add(data, ANNOUNCED, 1);
      qemu_sem_wait(s);
      if (Atomics.load(data, SL_STOP)) return woke;
      woke++;
      Atomics.add(data, WOKEN, 1);
      qemu_sem_post(ack);
    }
  } finally {
    markDone(arg.done);
  }
}

// ---- posters and timed takers ------------------------------------------------------------------------------

export const POSTED = 0;
export const TAKEN = 1;
export const POSTERS_DONE = 2;
export const PT_WORDS = 3;

export interface PostTakeArg {
  s: QemuSemaphore;
  data: Int32Array;
  /** Units each poster posts. */
  units: number;
  posters: number;
  done: Int32Array;
}

/**
 * Posts `units` units, pausing now and then (time let pass on purpose) so that the takers' timed waits
 * sometimes time out.
 */
export function poster(arg: PostTakeArg): number {
  try {
    for (let i = 0; i < arg.units; i++) {
      qemu_sem_post(arg.s);
      Atomics.add(arg.data, POSTED, 1);
      if (i % 400 === 399) sleep(2);
    }
    return arg.units;
  } finally {
    Atomics.add(arg.data, POSTERS_DONE, 1);
    markDone(arg.done);
  }
}

/**
 * Takes units with short timed waits (some with ms = 0, which never sleeps) until a wait times out after
 * every poster had finished. Returns how many units it took and how many waits timed out.
 */
export function timedTaker(arg: PostTakeArg): { taken: number; timeouts: number } {
  const { s, data } = arg;
  let taken = 0;
  let timeouts = 0;
  try {
    for (let i = 0; ; i++) {
      const postersDone = Atomics.load(data, POSTERS_DONE) === arg.posters;
      const ms = i % 5 === 0 ? 0 : 1 + (i % 3);
      const r = qemu_sem_timedwait(s, ms);
      if (r === 0) {
        taken++;
        Atomics.add(data, TAKEN, 1);
      } else if (r === -1) {
        timeouts++;
        if (postersDone) break;
      } else {
        throw new Error(`qemu_sem_timedwait returned ${String(r)}, expected 0 or -1`);
      }
    }
    return { taken, timeouts };
  } finally {
    markDone(arg.done);
  }
}
