/**
 * Thread functions for concurrency-lockcnt.test.ts. Visitors inc, use a shared "resource", and leave with
 * dec, dec_and_lock or dec_if_lock; whoever ends up holding the lock with the count at 0 (a visitor whose
 * dec_*_lock returned true, or the reclaimer thread) "frees" the resource and puts it back. The rule of
 * lockcnt.ts: the count goes from 0 to 1 only while the lock is free, so with the lock held and the count
 * at 0 no visitor is inside, and none can get in: a visitor that ever sees the resource freed, or a
 * reclaimer that ever sees a visitor inside, is a violation.
 */
import {
  type QemuLockCnt,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
} from 'qemu-thread';
import { markDone, startLine } from './helpers.js';

export const FREED = 0;
export const INSIDE = 1;
export const VIOLATIONS = 2;
export const RECLAIMS = 3;
export const VISITS = 4;
export const VISITORS_DONE = 5;
export const START = 6;
export const LC_WORDS = 7;

export interface LockCntArg {
  l: QemuLockCnt;
  data: Int32Array;
  visitors: number;
  iterations: number;
  done: Int32Array;
}

/** Called holding the lock with the count at 0: no visitor may be inside while the resource is "freed". */
function reclaim(l: QemuLockCnt, data: Int32Array): void {
  if (qemu_lockcnt_count(l) !== 0) Atomics.add(data, VIOLATIONS, 1);
  if (Atomics.load(data, INSIDE) !== 0) Atomics.add(data, VIOLATIONS, 1);
  Atomics.store(data, FREED, 1);
  for (let k = 0; k < 50; k++) {
    if (Atomics.load(data, INSIDE) !== 0 || qemu_lockcnt_count(l) !== 0) Atomics.add(data, VIOLATIONS, 1);
  }
  Atomics.store(data, FREED, 0);
  Atomics.add(data, RECLAIMS, 1);
}

/** Inside a visit: the resource must not be freed. */
function visit(data: Int32Array): void {
  Atomics.add(data, INSIDE, 1);
  for (let k = 0; k < 5; k++) {
    if (Atomics.load(data, FREED) !== 0) Atomics.add(data, VIOLATIONS, 1);
  }
  Atomics.sub(data, INSIDE, 1);
}

export function visitor(arg: LockCntArg): number {
  const { l, data } = arg;
  try {
    startLine(data.subarray(START), arg.visitors + 1);
    for (let i = 0; i < arg.iterations; i++) {
      qemu_lockcnt_inc(l);
      visit(data);
      switch (i % 3) {
        case 0:
          qemu_lockcnt_dec(l);
          break;
        case 1:
          if (qemu_lockcnt_dec_and_lock(l)) {
            reclaim(l, data);
            qemu_lockcnt_unlock(l);
          }
          break;
        default:
          // QEMU's aio_dispatch_handlers pattern: dec_if_lock does nothing unless the count is 1; after
          // reclaiming, inc_and_unlock turns the lock back into a visit, which the dec ends.
          if (qemu_lockcnt_dec_if_lock(l)) {
            reclaim(l, data);
            qemu_lockcnt_inc_and_unlock(l);
            visit(data);
          }
          qemu_lockcnt_dec(l);
      }
      Atomics.add(data, VISITS, 1);
    }
    return arg.iterations;
  } finally {
    Atomics.add(data, VISITORS_DONE, 1);
    markDone(arg.done);
  }
}

/**
 * Until every visitor is done: lock; reclaim if the count is 0; leave by unlock or by inc_and_unlock
 * (becoming a visitor itself). Then one final pass, when the count must be 0. Returns how many times it
 * reclaimed.
 */
export function reclaimer(arg: LockCntArg): number {
  const { l, data } = arg;
  let mine = 0;
  try {
    startLine(data.subarray(START), arg.visitors + 1);
    for (let i = 0; Atomics.load(data, VISITORS_DONE) < arg.visitors; i++) {
      qemu_lockcnt_lock(l);
      if (qemu_lockcnt_count(l) === 0) {
        reclaim(l, data);
        mine++;
      }
      if (i % 2) {
        qemu_lockcnt_inc_and_unlock(l);
        visit(data);
        qemu_lockcnt_dec(l);
      } else {
        qemu_lockcnt_unlock(l);
      }
    }
    qemu_lockcnt_lock(l);
    if (qemu_lockcnt_count(l) !== 0) {
      qemu_lockcnt_unlock(l);
      throw new Error(`reclaimer: count ${qemu_lockcnt_count(l)} after every visitor left`);
    }
    reclaim(l, data);
    mine++;
    qemu_lockcnt_unlock(l);
    return mine;
  } finally {
    markDone(arg.done);
  }
}
