/**
 * Thread functions for concurrency-buffer.test.ts: a bounded ring buffer shared by producers and consumers,
 * guarded by a QemuMutex with either two QemuConds (not_full / not_empty) or two QemuSemaphores (free
 * slots / filled slots). Consumers record every item in a shared "seen" array and check that the items of
 * each producer come out in the order they went in.
 */
import {
  type QemuCond,
  type QemuMutex,
  type QemuSemaphore,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_timedwait,
} from 'qemu-thread';
import { markDone, startLine } from './helpers.js';

/** Word indexes of the ring: its header, then `capacity` slots. */
export const HEAD = 0;
export const TAIL = 1;
export const FILL = 2;
export const SLOTS = 3;

/** Word indexes of the shared stats. */
export const OPS = 0;
export const START = 1;
export const STATS_WORDS = 2;

export interface BufferArg {
  role: 'producer' | 'consumer';
  /** Producer number (item ids are `id * items + i`); unused by consumers. */
  id: number;
  m: QemuMutex;
  /** The cond variant. */
  notFull?: QemuCond;
  notEmpty?: QemuCond;
  /** The semaphore variant. */
  freeSlots?: QemuSemaphore;
  filledSlots?: QemuSemaphore;
  ring: Int32Array;
  capacity: number;
  producers: number;
  /** Items each producer puts; each consumer takes exactly as many. */
  items: number;
  /** seen[id] counts how often item `id` was consumed. */
  seen: Uint8Array;
  stats: Int32Array;
  threads: number;
  watchdogMs: number;
  done: Int32Array;
}

export interface ConsumerReport {
  taken: number;
  duplicates: number;
  outOfRange: number;
  outOfOrder: number;
}

function put(ring: Int32Array, capacity: number, item: number): void {
  const tail = ring[TAIL];
  ring[SLOTS + tail] = item;
  ring[TAIL] = (tail + 1) % capacity;
  ring[FILL]++;
}

function take(ring: Int32Array, capacity: number): number {
  const head = ring[HEAD];
  const item = ring[SLOTS + head];
  ring[HEAD] = (head + 1) % capacity;
  ring[FILL]--;
  return item;
}

/** Throws if nothing moved in the whole system during a timed-out wait. */
function checkStall(arg: BufferArg, opsBefore: number, what: string): void {
  if (Atomics.load(arg.stats, OPS) === opsBefore) {
    throw new Error(
      `${arg.role} ${arg.id}: no progress anywhere for ${arg.watchdogMs} ms while waiting for ${what} ` +
        `(fill ${arg.ring[FILL]}/${arg.capacity}, ${opsBefore} operations done)`,
    );
  }
}

export function bufferWorker(arg: BufferArg): number | ConsumerReport {
  try {
    startLine(arg.stats.subarray(START), arg.threads);
    if (arg.role === 'producer') {
      if (arg.notFull) producerCond(arg);
      else producerSem(arg);
      return arg.items;
    }
    const report: ConsumerReport = { taken: 0, duplicates: 0, outOfRange: 0, outOfOrder: 0 };
    const last = new Int32Array(arg.producers).fill(-1);
    const total = arg.producers * arg.items;
    for (let j = 0; j < arg.items; j++) {
      const item = arg.notEmpty ? takeCond(arg) : takeSem(arg);
      report.taken++;
      if (!Number.isInteger(item) || item < 0 || item >= total) {
        report.outOfRange++;
        continue;
      }
      if (Atomics.add(arg.seen, item, 1) !== 0) report.duplicates++;
      const p = Math.floor(item / arg.items);
      const index = item % arg.items;
      if (index <= last[p]) report.outOfOrder++;
      last[p] = index;
    }
    return report;
  } finally {
    markDone(arg.done);
  }
}

function producerCond(arg: BufferArg): void {
  const { m, ring, capacity, items, stats } = arg;
  const notFull = arg.notFull!;
  const notEmpty = arg.notEmpty!;
  for (let i = 0; i < items; i++) {
    qemu_mutex_lock(m);
    try {
      while (ring[FILL] === capacity) {
        const before = Atomics.load(stats, OPS);
        if (!qemu_cond_timedwait(notFull, m, arg.watchdogMs) && ring[FILL] === capacity) {
          checkStall(arg, before, 'a free slot');
        }
      }
      put(ring, capacity, arg.id * items + i);
      qemu_cond_signal(notEmpty);
    } finally {
      qemu_mutex_unlock(m);
    }
    Atomics.add(stats, OPS, 1);
  }
}

function takeCond(arg: BufferArg): number {
  const { m, ring, capacity, stats } = arg;
  let item: number;
  qemu_mutex_lock(m);
  try {
    while (ring[FILL] === 0) {
      const before = Atomics.load(stats, OPS);
      if (!qemu_cond_timedwait(arg.notEmpty!, m, arg.watchdogMs) && ring[FILL] === 0) {
        checkStall(arg, before, 'an item');
      }
    }
    item = take(ring, capacity);
    qemu_cond_signal(arg.notFull!);
  } finally {
    qemu_mutex_unlock(m);
  }
  Atomics.add(stats, OPS, 1);
  return item;
}

function producerSem(arg: BufferArg): void {
  const { m, ring, capacity, items, stats } = arg;
  for (let i = 0; i < items; i++) {
    for (;;) {
      const before = Atomics.load(stats, OPS);
      if (qemu_sem_timedwait(arg.freeSlots!, arg.watchdogMs) === 0) break;
      checkStall(arg, before, 'a free slot');
    }
    qemu_mutex_lock(m);
    put(ring, capacity, arg.id * items + i);
    qemu_mutex_unlock(m);
    qemu_sem_post(arg.filledSlots!);
    Atomics.add(stats, OPS, 1);
  }
}

function takeSem(arg: BufferArg): number {
  const { m, ring, capacity, stats } = arg;
  for (;;) {
    const before = Atomics.load(stats, OPS);
    if (qemu_sem_timedwait(arg.filledSlots!, arg.watchdogMs) === 0) break;
    checkStall(arg, before, 'an item');
  }
  qemu_mutex_lock(m);
  const item = take(ring, capacity);
  qemu_mutex_unlock(m);
  qemu_sem_post(arg.freeSlots!);
  Atomics.add(stats, OPS, 1);
  return item;
}
