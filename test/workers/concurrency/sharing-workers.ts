/**
 * Thread functions for concurrency-sharing.test.ts: primitives nested deep inside a thread's argument, and
 * many primitives embedded in one SharedArrayBuffer, C-struct style, rebuilt from the buffer and offsets.
 */
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  qemu_cond_timedwait,
  qemu_event_timedwait,
  qemu_lockcnt_dec,
  qemu_lockcnt_inc,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_unlock,
  qemu_sem_post,
  qemu_spin_lock,
  qemu_spin_unlock,
} from 'qemu-thread';
import { markDone } from './helpers.js';

// ---- primitives deep inside the argument ------------------------------------------------------------------

export interface DeepArg {
  level1: {
    list: [{ m: QemuMutex }, [QemuSemaphore]];
    map: Map<string, QemuEvent | { c: QemuCond }>;
    set: Set<QemuSpin>;
  };
  top: { rec: QemuRecMutex; l: QemuLockCnt };
  done: Int32Array;
}

/**
 * Checks that every nested primitive arrived as a full instance, then: locks the mutex, posts the
 * semaphore, waits (watchdog 10 s) for the event, unlocks. The main thread meanwhile checks it cannot
 * take the mutex. Returns which of them were instances.
 */
export function deepArgWorker(arg: DeepArg): Record<string, boolean> {
  try {
    const m = arg.level1.list[0].m;
    const s = arg.level1.list[1][0];
    const e = arg.level1.map.get('e') as QemuEvent;
    const c = (arg.level1.map.get('nested') as { c: QemuCond }).c;
    const spin = [...arg.level1.set][0];
    const kinds = {
      mutex: m instanceof QemuMutex,
      sem: s instanceof QemuSemaphore,
      event: e instanceof QemuEvent,
      cond: c instanceof QemuCond,
      spin: spin instanceof QemuSpin,
      rec: arg.top.rec instanceof QemuRecMutex,
      lockcnt: arg.top.l instanceof QemuLockCnt,
    };
    qemu_mutex_lock(m);
    try {
      qemu_sem_post(s);
      if (!qemu_event_timedwait(e, 10_000)) throw new Error('deepArgWorker: the event was never set');
    } finally {
      qemu_mutex_unlock(m);
    }
    return kinds;
  } finally {
    markDone(arg.done);
  }
}

// ---- many primitives in one SharedArrayBuffer ----------------------------------------------------------------

/** Byte offsets inside the one buffer; sentinels before, between kinds and after catch stray writes. */
export const LAYOUT = (() => {
  let at = 0;
  const place = (bytes: number) => {
    const here = at;
    at += bytes;
    return here;
  };
  const layout = {
    sentinel0: place(4),
    m: place(QemuMutex.BYTES),
    c: place(QemuCond.BYTES),
    s: place(QemuSemaphore.BYTES),
    e: place(QemuEvent.BYTES),
    spin: place(QemuSpin.BYTES),
    rec: place(QemuRecMutex.BYTES),
    l: place(QemuLockCnt.BYTES),
    /** Words: [go, locked counter, spin counter, rec counter]. */
    data: place(16),
    sentinel1: place(4),
    size: 0,
  };
  layout.size = at;
  return layout;
})();
export const SENTINEL = 0x5a5a5a5a;
export const GO = 0;
export const BY_MUTEX = 1;
export const BY_SPIN = 2;
export const BY_REC = 3;

/** Every primitive of the buffer, rebuilt from the buffer and the layout (no init: they are shared). */
export function viewsOf(buffer: SharedArrayBuffer) {
  return {
    m: new QemuMutex(buffer, LAYOUT.m),
    c: new QemuCond(buffer, LAYOUT.c),
    s: new QemuSemaphore(buffer, LAYOUT.s),
    e: new QemuEvent(buffer, LAYOUT.e),
    spin: new QemuSpin(buffer, LAYOUT.spin),
    rec: new QemuRecMutex(buffer, LAYOUT.rec),
    l: new QemuLockCnt(buffer, LAYOUT.l),
    data: new Int32Array(buffer, LAYOUT.data, 4),
  };
}

export interface OneBufferArg {
  buffer: SharedArrayBuffer;
  n: number;
  done: Int32Array;
}

/**
 * Only the raw buffer crosses: waits on the cond for `go`, then n increments under each of mutex, spin and
 * recursive mutex, a lockcnt visit, posts the semaphore and waits for the event.
 */
export function oneBufferWorker(arg: OneBufferArg): number {
  const { m, c, s, e, spin, rec, l, data } = viewsOf(arg.buffer);
  try {
    qemu_mutex_lock(m);
    try {
      while (data[GO] === 0) {
        if (!qemu_cond_timedwait(c, m, 10_000) && data[GO] === 0) throw new Error('no go within 10 s');
      }
    } finally {
      qemu_mutex_unlock(m);
    }
    for (let i = 0; i < arg.n; i++) {
      qemu_mutex_lock(m);
      data[BY_MUTEX]++;
      qemu_mutex_unlock(m);
      qemu_spin_lock(spin);
      data[BY_SPIN]++;
      qemu_spin_unlock(spin);
      qemu_rec_mutex_lock(rec);
      qemu_rec_mutex_lock(rec);
      data[BY_REC]++;
      qemu_rec_mutex_unlock(rec);
      qemu_rec_mutex_unlock(rec);
    }
    qemu_lockcnt_inc(l);
    qemu_lockcnt_dec(l);
    qemu_sem_post(s);
    if (!qemu_event_timedwait(e, 10_000)) throw new Error('the event was never set');
    return arg.n;
  } finally {
    markDone(arg.done);
  }
}
