/**
 * A raw `worker_threads` Worker (not started by qemu_thread_create) for concurrency-sharing.test.ts.
 * Primitives reach it by postMessage and workerData, as structured clones (plain objects): it checks that
 * they are clones, that QemuX.from revives them, and it operates on them through the qemu_* functions,
 * which must accept the clones as they are. It answers each request `{ id, cmd, ... }` with
 * `{ id, ok, result | error }`.
 *
 * It only starts serving when created with `workerData.concurrencyRawWorker`, so loading this file
 * anywhere else (node --test may run it as a test file) does nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThreadError,
  qemu_cond_timedwait,
  qemu_event_set,
  qemu_lockcnt_dec,
  qemu_lockcnt_inc,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_unlock,
  qemu_sem_post,
  qemu_spin_lock,
  qemu_spin_unlock,
} from 'qemu-thread';

/** Word indexes of the `data` array some commands use. */
export const RAW_ANNOUNCED = 0;
export const RAW_FLAG = 1;
export const RAW_COUNTER = 2;
export const RAW_WORDS = 3;

export type Prims = {
  m: QemuMutex;
  rec: QemuRecMutex;
  c: QemuCond;
  s: QemuSemaphore;
  e: QemuEvent;
  spin: QemuSpin;
  l: QemuLockCnt;
};

export interface RawRequest {
  id: number;
  cmd: string;
  /** Primitives sent with this message; when absent, those of workerData are used. */
  prims?: Prims;
  data?: Int32Array;
  n?: number;
}

export interface CloneReport {
  /** `instanceof` its class on arrival (false for a structured clone). */
  instance: boolean;
  /** `QemuX.from(clone)` is an instance of QemuX. */
  revived: boolean;
  /** ...on the very same SharedArrayBuffer and offset. */
  sameStorage: boolean;
}

const classes = {
  m: QemuMutex,
  rec: QemuRecMutex,
  c: QemuCond,
  s: QemuSemaphore,
  e: QemuEvent,
  spin: QemuSpin,
  l: QemuLockCnt,
} as const;

function inspect(prims: Prims): Record<string, CloneReport> {
  const out: Record<string, CloneReport> = {};
  for (const [key, Class] of Object.entries(classes)) {
    const clone = prims[key as keyof Prims] as unknown as { buffer: SharedArrayBuffer; byteOffset: number };
    const revived = (Class as { from(v: unknown): unknown }).from(clone) as {
      buffer: SharedArrayBuffer;
      byteOffset: number;
    };
    out[key] = {
      instance: clone instanceof Class,
      revived: revived instanceof Class,
      sameStorage: revived.buffer === clone.buffer && revived.byteOffset === clone.byteOffset,
    };
  }
  return out;
}

function handle(req: RawRequest): unknown {
  const p = req.prims ?? (workerData.prims as Prims);
  switch (req.cmd) {
    case 'inspect':
      return inspect(p);
    case 'mutexLock':
      return qemu_mutex_lock(p.m);
    case 'mutexUnlock':
      return qemu_mutex_unlock(p.m);
    case 'mutexTrylock':
      return qemu_mutex_trylock(p.m);
    case 'recLock':
      return qemu_rec_mutex_lock(p.rec);
    case 'recUnlock':
      return qemu_rec_mutex_unlock(p.rec);
    case 'spinLock':
      return qemu_spin_lock(p.spin);
    case 'spinUnlock':
      return qemu_spin_unlock(p.spin);
    case 'semPost':
      return qemu_sem_post(p.s);
    case 'eventSet':
      return qemu_event_set(p.e);
    case 'lockcntInc':
      return qemu_lockcnt_inc(p.l);
    case 'lockcntDec':
      return qemu_lockcnt_dec(p.l);
    case 'condWait': {
      // Waits (watchdog 10 s per wait) until the main thread raises data[RAW_FLAG] and signals.
      const data = req.data!;
      qemu_mutex_lock(p.m);
      try {
        Atomics.store(data, RAW_ANNOUNCED, 1);
        let wakeups = 0;
        while (data[RAW_FLAG] === 0) {
          if (!qemu_cond_timedwait(p.c, p.m, 10_000) && data[RAW_FLAG] === 0) {
            throw new Error('condWait: no signal within 10 s');
          }
          wakeups++;
        }
        return wakeups;
      } finally {
        qemu_mutex_unlock(p.m);
      }
    }
    case 'counter': {
      const data = req.data!;
      for (let i = 0; i < req.n!; i++) {
        qemu_mutex_lock(p.m);
        const v = data[RAW_COUNTER];
        data[RAW_COUNTER] = v + 1;
        qemu_mutex_unlock(p.m);
      }
      return req.n;
    }
    case 'exit':
      setImmediate(() => parentPort!.close());
      return 'bye';
    default:
      throw new Error(`raw worker: unknown command '${req.cmd}'`);
  }
}

if (parentPort && workerData?.concurrencyRawWorker) {
  const port = parentPort;
  port.on('message', (req: RawRequest) => {
    try {
      port.postMessage({ id: req.id, ok: true, result: handle(req) });
    } catch (error) {
      const e = error as QemuThreadError;
      port.postMessage({
        id: req.id,
        ok: false,
        error: {
          name: e?.name,
          message: e?.message,
          code: e?.code,
          func: e?.func,
          isQemuError: error instanceof QemuThreadError,
        },
      });
    }
  });
}
