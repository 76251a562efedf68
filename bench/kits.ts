/**
 * The two lock/unlock-shaped contenders behind one interface, so that the multi-thread workloads are
 * written once for both: qemu-thread through its public QEMU-named functions, and the classic JS baseline.
 * A worker only ever uses one kit, so every call through it stays monomorphic (and inlinable).
 *
 * V8's Atomics.Mutex is callback-scoped and does not fit this shape; its workloads are written out in
 * roles.ts.
 */
import {
  QemuCond,
  QemuEvent,
  QemuMutex,
  QemuSemaphore,
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_wait,
} from 'qemu-thread';
import {
  type ClassicCond,
  type ClassicEvent,
  type ClassicMutex,
  type ClassicSem,
  classicBroadcast,
  classicCond,
  classicEvent,
  classicEventReset,
  classicEventSet,
  classicEventWait,
  classicLock,
  classicMutex,
  classicSem,
  classicSemPost,
  classicSemWait,
  classicSignal,
  classicUnlock,
  classicWait,
} from './classic.js';

export interface Kit<M, C, S, E> {
  /** Main side: new shared primitives (structured-cloneable). */
  mutex(): M;
  cond(): C;
  sem(): S;
  event(): E;
  /** Worker side: the usable primitive for what arrived through workerData. */
  reviveMutex(x: unknown): M;
  reviveCond(x: unknown): C;
  reviveSem(x: unknown): S;
  reviveEvent(x: unknown): E;
  lock(m: M): void;
  unlock(m: M): void;
  wait(c: C, m: M): void;
  signal(c: C): void;
  broadcast(c: C): void;
  post(s: S): void;
  semWait(s: S): void;
  set(e: E): void;
  reset(e: E): void;
  eventWait(e: E): void;
}

// biome-ignore lint/suspicious/noExplicitAny: a kit's primitive types are opaque to the workloads
export type AnyKit = Kit<any, any, any, any>;

export const qemuKit: Kit<QemuMutex, QemuCond, QemuSemaphore, QemuEvent> = {
  mutex: () => QemuMutex.create(),
  cond: () => QemuCond.create(),
  sem: () => QemuSemaphore.create(0),
  event: () => QemuEvent.create(false),
  reviveMutex: (x) => QemuMutex.from(x),
  reviveCond: (x) => QemuCond.from(x),
  reviveSem: (x) => QemuSemaphore.from(x),
  reviveEvent: (x) => QemuEvent.from(x),
  lock: qemu_mutex_lock,
  unlock: qemu_mutex_unlock,
  wait: qemu_cond_wait,
  signal: qemu_cond_signal,
  broadcast: qemu_cond_broadcast,
  post: qemu_sem_post,
  semWait: qemu_sem_wait,
  set: qemu_event_set,
  reset: qemu_event_reset,
  eventWait: qemu_event_wait,
};

export const classicKit: Kit<ClassicMutex, ClassicCond, ClassicSem, ClassicEvent> = {
  mutex: classicMutex,
  cond: classicCond,
  sem: classicSem,
  event: classicEvent,
  reviveMutex: (x) => x as ClassicMutex,
  reviveCond: (x) => x as ClassicCond,
  reviveSem: (x) => x as ClassicSem,
  reviveEvent: (x) => x as ClassicEvent,
  lock: classicLock,
  unlock: classicUnlock,
  wait: classicWait,
  signal: classicSignal,
  broadcast: classicBroadcast,
  post: classicSemPost,
  semWait: classicSemWait,
  set: classicEventSet,
  reset: classicEventReset,
  eventWait: classicEventWait,
};

export function kitFor(contender: string): AnyKit {
  // The no-spin control is qemu-thread itself, its workers having turned their spinning off (roles.ts).
  if (contender === 'qemu-thread' || contender === 'qemu-nospin') return qemuKit;
  if (contender === 'classic') return classicKit;
  throw new Error(`no lock kit for contender '${contender}'`);
}
