/**
 * Thread functions for concurrency-cond.test.ts: ping-pong through one mutex and two conds, broadcast to
 * every waiter by generations, signal to one of several waiters by tokens, and a lone timed wait.
 *
 * Every wait is a qemu_cond_timedwait with a generous watchdog: a time-out while the predicate has become
 * true means the signal that made it true was lost; a time-out with no progress at all is a stall. Both
 * throw (after unlocking), so the failure comes back through qemu_thread_join instead of a hang.
 */
import {
  type QemuCond,
  type QemuMutex,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
} from 'qemu-thread';
import { markDone } from './helpers.js';

// ---- ping-pong ---------------------------------------------------------------------------------------

/** Word indexes of PingPongArg.data. */
export const TURN = 0;
export const COUNT = 1;
export const ABORT = 2;
export const PP_WORDS = 3;

export interface PingPongArg {
  /** 0 or 1: this side may act when TURN === me, and acts on even (0) or odd (1) counts. */
  me: 0 | 1;
  m: QemuMutex;
  /** conds[i] is the one side i waits on. */
  conds: [QemuCond, QemuCond];
  data: Int32Array;
  /** log[k] = side + 1 of whoever made hand-off k. */
  log: Uint8Array;
  /** Total hand-offs (both sides). */
  handoffs: number;
  /** Signal the other side after unlocking (QEMU's qemu_cpu_kick style) instead of under the mutex. */
  signalOutside: boolean;
  watchdogMs: number;
  /** Set when this side runs in a thread created by qemu_thread_create. */
  done?: Int32Array;
}

/** One side of the ping-pong; returns how many hand-offs it made. */
export function pingPongSide(arg: PingPongArg): number {
  const { me, m, conds, data, log, handoffs, watchdogMs } = arg;
  const other = 1 - me;
  const mine = (handoffs + 1 - me) >> 1;
  let made = 0;
  let held = false;
  try {
    for (let k = 0; k < mine; k++) {
      qemu_mutex_lock(m);
      held = true;
      // A time-out with the turn handed to this side is a lost wake-up, reported at once; a time-out
      // without it is only reported at the second one in a row, so that when one side loses a wake-up it
      // is that side, not the other one, that reports first and precisely.
      let idle = 0;
      while (data[TURN] !== me) {
        if (Atomics.load(data, ABORT)) throw new Error(`ping-pong side ${me}: the other side failed`);
        const before = data[COUNT];
        if (qemu_cond_timedwait(conds[me], m, watchdogMs)) {
          idle = 0;
          continue;
        }
        if (data[TURN] === me) {
          throw new Error(
            `ping-pong side ${me}: lost wake-up: slept ${watchdogMs} ms although the turn had been handed ` +
              `to it (after hand-off ${data[COUNT]})`,
          );
        }
        if (data[COUNT] !== before) idle = 0;
        else if (++idle === 2) {
          throw new Error(
            `ping-pong side ${me}: stalled: for ${2 * watchdogMs} ms the turn stayed with side ${other}, ` +
              `which never took it (hand-off ${before})`,
          );
        }
      }
      const c = data[COUNT];
      if (c % 2 !== me)
        throw new Error(`ping-pong side ${me}: its turn came at hand-off ${c} (out of order)`);
      log[c] = me + 1;
      data[COUNT] = c + 1;
      data[TURN] = other;
      made++;
      if (!arg.signalOutside) qemu_cond_signal(conds[other]);
      held = false;
      qemu_mutex_unlock(m);
      if (arg.signalOutside) qemu_cond_signal(conds[other]);
    }
    return made;
  } catch (error) {
    Atomics.store(data, ABORT, 1);
    if (held) qemu_mutex_unlock(m);
    qemu_cond_broadcast(conds[other]);
    throw error;
  } finally {
    if (arg.done) markDone(arg.done);
  }
}

// ---- broadcast by generations ---------------------------------------------------------------------------

export const GEN = 0;
export const ACKS = 1;
export const STOP = 2;
export const READY = 3;
export const BC_WORDS = 4;

export interface BroadcastArg {
  id: number;
  m: QemuMutex;
  cond: QemuCond;
  ackCond: QemuCond;
  data: Int32Array;
  threads: number;
  watchdogMs: number;
  done: Int32Array;
}

/**
 * Waits for each new generation, acknowledges it, and waits again without ever releasing the mutex except
 * inside the wait: whenever the main thread holds the mutex and sees every acknowledgement, every waiter is
 * inside qemu_cond_wait. Returns the last generation seen.
 */
export function broadcastWaiter(arg: BroadcastArg): number {
  const { id, m, cond, ackCond, data, threads, watchdogMs } = arg;
  let last = 0;
  qemu_mutex_lock(m);
  try {
    data[READY]++;
    for (;;) {
      while (data[GEN] === last && !data[STOP]) {
        if (!qemu_cond_timedwait(cond, m, watchdogMs)) {
          if (data[GEN] !== last || data[STOP]) {
            throw new Error(
              `waiter ${id}: lost broadcast: slept ${watchdogMs} ms although generation ${data[GEN]} ` +
                `had been broadcast (it had seen ${last})`,
            );
          }
          throw new Error(`waiter ${id}: no broadcast for ${watchdogMs} ms after generation ${last}`);
        }
      }
      if (data[STOP]) return last;
      if (data[GEN] !== last + 1) {
        throw new Error(`waiter ${id}: saw generation ${data[GEN]} right after ${last} (missed one)`);
      }
      last = data[GEN];
      if (++data[ACKS] === threads) qemu_cond_signal(ackCond);
    }
  } finally {
    qemu_mutex_unlock(m);
    markDone(arg.done);
  }
}

// ---- signal by tokens -------------------------------------------------------------------------------------

export const TOKENS = 0;
export const CONSUMED = 1;
export const T_STOP = 2;
export const WAITING = 3;
export const TK_WORDS = 4;

export interface TokenArg {
  m: QemuMutex;
  cond: QemuCond;
  ackCond: QemuCond;
  data: Int32Array;
  watchdogMs: number;
  done: Int32Array;
}

/** Takes tokens one at a time, holding the mutex except inside the wait; returns how many it took. */
export function tokenWaiter(arg: TokenArg): number {
  const { m, cond, ackCond, data, watchdogMs } = arg;
  let taken = 0;
  qemu_mutex_lock(m);
  try {
    data[WAITING]++;
    for (;;) {
      // A time-out here is not an error by itself (another waiter may take every token); the main thread
      // judges liveness. The watchdog only bounds how long this thread can be stuck.
      while (data[TOKENS] === 0 && !data[T_STOP]) qemu_cond_timedwait(cond, m, watchdogMs);
      if (data[T_STOP]) return taken;
      data[TOKENS]--;
      data[CONSUMED]++;
      taken++;
      qemu_cond_signal(ackCond);
    }
  } finally {
    qemu_mutex_unlock(m);
    markDone(arg.done);
  }
}

// ---- a lone timed wait -----------------------------------------------------------------------------------

export interface LoneWaitArg {
  m: QemuMutex;
  cond: QemuCond;
  ms: number;
  done: Int32Array;
}

/** One qemu_cond_timedwait with nobody signalling; returns its result. */
export function loneTimedWait(arg: LoneWaitArg): boolean {
  try {
    qemu_mutex_lock(arg.m);
    const result = qemu_cond_timedwait(arg.cond, arg.m, arg.ms);
    qemu_mutex_unlock(arg.m);
    return result;
  } finally {
    markDone(arg.done);
  }
}
