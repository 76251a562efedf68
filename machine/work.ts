/**
 * run_on_cpu and friends (QEMU-SPEC 2, steps 14-15). A function cannot cross threads, so a work item names
 * its work by a small enum (WorkKind) and carries its arguments and its result in shared memory: each CPU
 * has WORK_SLOTS slots and a FIFO ring of queued slot numbers, all guarded by that CPU's work_mutex.
 *
 * Slot words: STATE (FREE/QUEUED/RUNNING), KIND, FLAGS (ASYNC: the vCPU frees it; EXCLUSIVE: run it inside
 * start_exclusive without the BQL), DONE (store-release by the vCPU, load-acquire by the waiter), ARG0,
 * ARG1, STATUS (0 ok, -1 the vCPU died before running it), then RESULT words.
 */
import { threadId } from 'node:worker_threads';
import { qemu_cond_broadcast, qemu_mutex_lock, qemu_mutex_unlock, qemu_thread_is_self } from 'qemu-thread';
import { bql_lock, bql_locked, bql_unlock, qemu_cond_wait_bql } from './bql.js';
import { check_exclusive, end_exclusive, start_exclusive } from './exclusive.js';
import { cpu_exit, current_cpu, qemu_cpu_is_self } from './kick.js';
import { C, type CpuState, G, K, PC, SLOT_WORDS, WORK_SLOTS } from './state.js';

export enum WorkKind {
  /** Reports which thread ran it: [threadId, cpu index, qemu_thread_is_self(cpu->thread), bql_locked, current_cpu]. */
  WhoAmI = 1,
  /** Reads the registers ("cpu_synchronize_state" for `info registers`): r0..r15, pc, halted. */
  GetRegs = 2,
  /** Checks FIFO order: ARG0 must be one more than the previous COUNT item's on this CPU. */
  Count = 3,
  /** Inside an exclusive section: checks that no other vCPU executes meanwhile; result [violations]. */
  SafeCheck = 4,
  /** Sets register ARG0 to ARG1. */
  SetReg = 5,
}

const HEAD = 0;
const TAIL = 1;
const COUNT = 2;
const RING = 3;
const SLOTS = RING + WORK_SLOTS;

const STATE = 0;
const KIND = 1;
const FLAGS = 2;
const DONE = 3;
const ARG0 = 4;
const ARG1 = 5;
const STATUS = 6;
export const RESULT = 8;
export const RESULT_WORDS = SLOT_WORDS - RESULT;

const FREE = 0;
const QUEUED = 1;
const RUNNING = 2;

const ASYNC = 1;
const EXCLUSIVE = 2;

const slotBase = (slot: number) => SLOTS + slot * SLOT_WORDS;

export class WorkQueueFull extends Error {
  override name = 'WorkQueueFull';
}

/** queue_work_on_cpu: claim a slot, fill it, append it to the ring, then cpu_exit the target. */
function queue_work_on_cpu(cpu: CpuState, kind: WorkKind, flags: number, arg0: number, arg1: number): number {
  const q = cpu.work;
  qemu_mutex_lock(cpu.workMutex);
  let slot = -1;
  for (let i = 0; i < WORK_SLOTS; i++) {
    if (q[slotBase(i) + STATE] === FREE) {
      slot = i;
      break;
    }
  }
  if (slot < 0) {
    qemu_mutex_unlock(cpu.workMutex);
    throw new WorkQueueFull(`run_on_cpu: the work queue of ${cpu.name} is full (${WORK_SLOTS} items)`);
  }
  const b = slotBase(slot);
  q.fill(0, b, b + SLOT_WORDS);
  q[b + STATE] = QUEUED;
  q[b + KIND] = kind;
  q[b + FLAGS] = flags;
  q[b + ARG0] = arg0;
  q[b + ARG1] = arg1;
  Atomics.store(q, b + DONE, 0);
  q[RING + q[TAIL]] = slot;
  q[TAIL] = (q[TAIL] + 1) % WORK_SLOTS;
  q[COUNT]++;
  qemu_mutex_unlock(cpu.workMutex);
  cpu_exit(cpu);
  return slot;
}

/** cpu_work_list_empty's opposite, read without the lock (a hint; process_queued_cpu_work re-checks). */
export function cpu_work_pending(cpu: CpuState): boolean {
  return Atomics.load(cpu.work, COUNT) > 0;
}

/**
 * run_on_cpu (BQL held): run `kind` on `cpu`'s own thread and return its result words. Inline if called on
 * that thread; otherwise queue it and wait `while (!done) qemu_cond_wait(qemu_work_cond, bql)`.
 */
export function run_on_cpu(cpu: CpuState, kind: WorkKind, arg0 = 0, arg1 = 0): Int32Array {
  if (!bql_locked()) throw new Error('run_on_cpu: assertion failed: bql_locked()');
  if (qemu_cpu_is_self(cpu)) {
    const out = new Int32Array(RESULT_WORDS);
    runItem(cpu, kind, arg0, arg1, out);
    return out;
  }
  if (Atomics.load(cpu.w, C.CRASHED) || Atomics.load(cpu.w, C.GONE) || Atomics.load(cpu.w, C.UNPLUG)) {
    throw new Error(`run_on_cpu: ${cpu.name} has no thread to run it`);
  }
  const slot = queue_work_on_cpu(cpu, kind, 0, arg0, arg1);
  const b = slotBase(slot);
  // QEMU saves and restores current_cpu around each wait; here it is per thread and a wait cannot change it.
  while (!Atomics.load(cpu.work, b + DONE)) qemu_cond_wait_bql(cpu.s.qemuWorkCond);
  qemu_mutex_lock(cpu.workMutex);
  const status = cpu.work[b + STATUS];
  const out = cpu.work.slice(b + RESULT, b + RESULT + RESULT_WORDS);
  cpu.work[b + STATE] = FREE;
  qemu_mutex_unlock(cpu.workMutex);
  if (status !== 0) throw new Error(`run_on_cpu: ${cpu.name} died before running the work item`);
  return out;
}

/**
 * async_run_on_cpu: queue and return at once; the vCPU frees the item after running it. Unlike QEMU we
 * require the BQL here too: the vCPU decides to sleep on halt_cond under the BQL, and the kick's broadcast
 * is only guaranteed to reach it if the work was queued under the BQL as well (qemu-thread's cond rule:
 * the predicate must change under the waiter's mutex).
 */
export function async_run_on_cpu(cpu: CpuState, kind: WorkKind, arg0 = 0, arg1 = 0): void {
  if (!bql_locked()) throw new Error('async_run_on_cpu: assertion failed: bql_locked()');
  queue_work_on_cpu(cpu, kind, ASYNC, arg0, arg1);
}

/** async_safe_run_on_cpu: as async, but the item runs inside an exclusive section, without the BQL. */
export function async_safe_run_on_cpu(cpu: CpuState, kind: WorkKind, arg0 = 0, arg1 = 0): void {
  if (!bql_locked()) throw new Error('async_safe_run_on_cpu: assertion failed: bql_locked()');
  queue_work_on_cpu(cpu, kind, ASYNC | EXCLUSIVE, arg0, arg1);
}

/** The work itself, on the target vCPU's thread. */
function runItem(cpu: CpuState, kind: number, arg0: number, arg1: number, out: Int32Array): void {
  switch (kind) {
    case WorkKind.WhoAmI:
      out[0] = threadId;
      out[1] = cpu.index;
      out[2] = qemu_thread_is_self(cpu.thread) ? 1 : 0;
      out[3] = bql_locked() ? 1 : 0;
      out[4] = current_cpu()?.index ?? -1;
      break;
    case WorkKind.GetRegs:
      for (let r = 0; r <= PC; r++) out[r] = cpu.regs[r];
      out[PC + 1] = Atomics.load(cpu.w, C.HALTED);
      break;
    case WorkKind.Count: {
      const last = Atomics.load(cpu.w, C.WORK_LAST_SEQ);
      if (arg0 !== last + 1) Atomics.add(cpu.w, C.WORK_MISORDERED, 1);
      Atomics.store(cpu.w, C.WORK_LAST_SEQ, arg0);
      break;
    }
    case WorkKind.SafeCheck:
      out[0] = check_exclusive(cpu.s, cpu.index);
      break;
    case WorkKind.SetReg:
      cpu.regs[arg0 & 15] = arg1;
      break;
    default:
      throw new Error(`run_on_cpu: unknown work kind ${kind}`);
  }
  cpu.bump(K.WORK_RUN);
}

/**
 * process_queued_cpu_work (vCPU thread, BQL held): pop items one by one, dropping work_mutex while each
 * runs; an exclusive item runs as `bql_unlock(); start_exclusive(); fn(); end_exclusive(); bql_lock();`.
 * Synchronous items get DONE (store-release); asynchronous ones are freed. One broadcast of qemu_work_cond
 * after the batch: every waiter re-checks its own DONE.
 */
export function process_queued_cpu_work(cpu: CpuState): void {
  const q = cpu.work;
  const g = cpu.s.globals;
  qemu_mutex_lock(cpu.workMutex);
  if (q[COUNT] === 0) {
    qemu_mutex_unlock(cpu.workMutex);
    return;
  }
  const out = new Int32Array(RESULT_WORDS);
  while (q[COUNT] > 0) {
    const slot = q[RING + q[HEAD]];
    q[HEAD] = (q[HEAD] + 1) % WORK_SLOTS;
    Atomics.sub(q, COUNT, 1);
    const b = slotBase(slot);
    q[b + STATE] = RUNNING;
    const kind = q[b + KIND];
    const flags = q[b + FLAGS];
    const arg0 = q[b + ARG0];
    const arg1 = q[b + ARG1];
    qemu_mutex_unlock(cpu.workMutex);
    out.fill(0);
    if (flags & EXCLUSIVE) {
      bql_unlock();
      start_exclusive(cpu.s);
      try {
        runItem(cpu, kind, arg0, arg1, out);
      } finally {
        end_exclusive(cpu.s);
        bql_lock();
      }
      Atomics.add(g, G.WORK_SAFE, 1);
    } else {
      runItem(cpu, kind, arg0, arg1, out);
    }
    qemu_mutex_lock(cpu.workMutex);
    if (flags & ASYNC) {
      q[b + STATE] = FREE;
      if (!(flags & EXCLUSIVE)) Atomics.add(g, G.WORK_ASYNC, 1);
    } else {
      q.set(out, b + RESULT);
      Atomics.add(g, G.WORK_SYNC, 1);
      Atomics.store(q, b + DONE, 1);
    }
  }
  qemu_mutex_unlock(cpu.workMutex);
  qemu_cond_broadcast(cpu.s.qemuWorkCond);
}

/**
 * For a vCPU thread that is dying of a machine bug: complete every queued item with STATUS -1, so that no
 * run_on_cpu waiter is left waiting for a thread that will never process its queue.
 */
export function fail_queued_cpu_work(cpu: CpuState): void {
  const q = cpu.work;
  qemu_mutex_lock(cpu.workMutex);
  while (q[COUNT] > 0) {
    const slot = q[RING + q[HEAD]];
    q[HEAD] = (q[HEAD] + 1) % WORK_SLOTS;
    Atomics.sub(q, COUNT, 1);
    const b = slotBase(slot);
    if (q[b + FLAGS] & ASYNC) q[b + STATE] = FREE;
    else {
      q[b + STATUS] = -1;
      Atomics.store(q, b + DONE, 1);
    }
  }
  qemu_mutex_unlock(cpu.workMutex);
  qemu_cond_broadcast(cpu.s.qemuWorkCond);
}
