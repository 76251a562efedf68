/**
 * What each worker of a workload does, per contender. qemu-thread and the classic baseline share one
 * implementation through their kit (kits.ts); V8's callback-scoped Atomics.Mutex has its own. The
 * protocols mirror native/pthread-bench.c line for line, so that every contender does the same work.
 *
 * Data guarded by a mutex is read and written with plain typed-array accesses, as C code would; the lock's
 * own atomics order them.
 */

import { QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';
import { lockWord, lockWordUntraced, unlockWord, unlockWordUntraced } from '#internal/mutex';
import { type ClassicMutex, classicLock, classicUnlock } from './classic.js';
import {
  barrier,
  CTL_ARRIVED,
  CTL_GENERATION,
  CTL_STOP,
  nowNs,
  rawNotify,
  rawWait,
  type TaskData,
  type WorkerResult,
} from './harness.js';
import { type AnyKit, kitFor } from './kits.js';
import { type V8Shared, v8Condition, v8Mutex } from './v8.js';

/** The harness's barrier for this task's workers (V8's own primitives for the V8 contender). */
function sync(d: TaskData): void {
  if (d.v8Barrier === undefined) {
    barrier(d.ctl, d.n);
    return;
  }
  const { m, c } = d.v8Barrier;
  const Condition = v8Condition();
  const ctl = d.ctl;
  v8Mutex().lock(m, () => {
    const generation = ctl[CTL_GENERATION];
    if (++ctl[CTL_ARRIVED] === d.n) {
      ctl[CTL_ARRIVED] = 0;
      ctl[CTL_GENERATION]++;
      Condition.notify(c);
    } else {
      while (ctl[CTL_GENERATION] === generation) Condition.wait(c, m);
    }
  });
}

export function runRole(d: TaskData): WorkerResult {
  switch (d.workload) {
    case 'lock':
      return lockRole(d);
    case 'pingpong':
      return d.contender === 'v8' ? pingpongV8(d) : pingpongKit(kitFor(d.contender), d);
    case 'bb':
      return d.contender === 'v8' ? boundedBufferV8(d) : boundedBufferKit(kitFor(d.contender), d);
    case 'broadcast':
      return d.contender === 'v8' ? broadcastV8(d) : broadcastKit(kitFor(d.contender), d);
    case 'contended':
      return d.contender === 'v8' ? contendedV8(d) : contendedKit(kitFor(d.contender), d);
    case 'sem':
      return semKit(kitFor(d.contender), d);
    case 'event':
      return eventKit(kitFor(d.contender), d);
    default:
      throw new Error(`unknown workload '${d.workload}'`);
  }
}

// 1. Uncontended lock + unlock ---------------------------------------------------------------------------

/** The engine's floor for a lock + unlock pair: one compareExchange and one exchange, nothing else. */
function floorPair(w: Int32Array): void {
  Atomics.compareExchange(w, 0, 0, 1);
  Atomics.exchange(w, 0, 0);
}

function lockLoop(d: TaskData): (n: number) => void {
  switch (d.contender) {
    case 'qemu-thread': {
      const m = QemuMutex.from(d.state.m);
      return (n) => {
        for (let i = 0; i < n; i++) {
          qemu_mutex_lock(m);
          qemu_mutex_unlock(m);
        }
      };
    }
    case 'qemu-thread-methods': {
      const m = QemuMutex.from(d.state.m);
      return (n) => {
        for (let i = 0; i < n; i++) {
          m.lock();
          m.unlock();
        }
      };
    }
    case 'qemu-thread-checked': {
      const w = QemuMutex.from(d.state.m).words;
      return (n) => {
        for (let i = 0; i < n; i++) {
          lockWord(w, 'qemu_mutex_lock');
          unlockWord(w, 'qemu_mutex_unlock');
        }
      };
    }
    case 'qemu-thread-uninstrumented': {
      const w = QemuMutex.from(d.state.m).words;
      return (n) => {
        for (let i = 0; i < n; i++) {
          lockWordUntraced(w, 'qemu_mutex_lock');
          unlockWordUntraced(w, 'qemu_mutex_unlock');
        }
      };
    }
    case 'classic': {
      const m = d.state.m as ClassicMutex;
      return (n) => {
        for (let i = 0; i < n; i++) {
          classicLock(m);
          classicUnlock(m);
        }
      };
    }
    case 'v8': {
      const Mutex = v8Mutex();
      const m = d.state.m as V8Shared;
      const body = () => {};
      return (n) => {
        for (let i = 0; i < n; i++) Mutex.lock(m, body);
      };
    }
    case 'floor': {
      const w = d.state.w as Int32Array;
      return (n) => {
        for (let i = 0; i < n; i++) floorPair(w);
      };
    }
    default:
      throw new Error(`no lock loop for '${d.contender}'`);
  }
}

function lockRole(d: TaskData): WorkerResult {
  const { iters, reps, warm } = d.params;
  const loop = lockLoop(d);
  for (let r = 0; r < warm; r++) loop(iters);
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = nowNs();
    loop(iters);
    samples.push((nowNs() - t0) / iters);
  }
  return { samples };
}

// 2. Cond ping-pong: two threads alternate through one mutex and one cond -----------------------------

function pingpongKit(k: AnyKit, d: TaskData): WorkerResult {
  const m = k.reviveMutex(d.state.m);
  const c = k.reviveCond(d.state.c);
  const turn = d.state.turn as Int32Array;
  const { reps, iters, warm } = d.params;
  const role = d.index;
  const other = 1 - role;
  const samples: number[] = [];
  sync(d);
  k.lock(m);
  for (let r = -warm; r < reps; r++) {
    const t0 = nowNs();
    for (let i = 0; i < iters; i++) {
      while (turn[0] !== role) k.wait(c, m);
      turn[0] = other;
      k.signal(c);
    }
    if (role === 0 && r >= 0) samples.push((nowNs() - t0) / (2 * iters));
  }
  k.unlock(m);
  return { samples };
}

function pingpongV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const m = d.state.m as V8Shared;
  const c = d.state.c as V8Shared;
  const turn = d.state.turn as Int32Array;
  const { reps, iters, warm } = d.params;
  const role = d.index;
  const other = 1 - role;
  const samples: number[] = [];
  sync(d);
  Mutex.lock(m, () => {
    for (let r = -warm; r < reps; r++) {
      const t0 = nowNs();
      for (let i = 0; i < iters; i++) {
        while (turn[0] !== role) Condition.wait(c, m);
        turn[0] = other;
        Condition.notify(c, 1);
      }
      if (role === 0 && r >= 0) samples.push((nowNs() - t0) / (2 * iters));
    }
  });
  return { samples };
}

// 3. Bounded buffer, capacity 64 --------------------------------------------------------------------------

export const BB_CAPACITY = 64;
/** Words of the buffer's bookkeeping (`meta`); TAKEN counts across repetitions. */
const HEAD = 0;
const TAIL = 1;
const COUNT = 2;
const TAKEN = 3;
export const BB_META_WORDS = 4;

function boundedBufferKit(k: AnyKit, d: TaskData): WorkerResult {
  const m = k.reviveMutex(d.state.m);
  const notFull = k.reviveCond(d.state.notFull);
  const notEmpty = k.reviveCond(d.state.notEmpty);
  const ring = d.state.ring as Int32Array;
  const meta = d.state.meta as Int32Array;
  const seen = d.state.seen as Uint8Array;
  const { producers, items, reps } = d.params;
  const starts: number[] = [];
  const ends: number[] = [];
  for (let r = 0; r < reps; r++) {
    sync(d);
    const base = r * items;
    const t0 = nowNs();
    if (d.index < producers) {
      for (let i = d.index; i < items; i += producers) {
        k.lock(m);
        while (meta[COUNT] === BB_CAPACITY) k.wait(notFull, m);
        ring[meta[TAIL]] = base + i;
        meta[TAIL] = (meta[TAIL] + 1) % BB_CAPACITY;
        meta[COUNT]++;
        k.signal(notEmpty);
        k.unlock(m);
      }
    } else {
      const target = base + items;
      for (;;) {
        k.lock(m);
        while (meta[COUNT] === 0 && meta[TAKEN] < target) k.wait(notEmpty, m);
        if (meta[COUNT] === 0) {
          k.unlock(m);
          break;
        }
        const item = ring[meta[HEAD]];
        meta[HEAD] = (meta[HEAD] + 1) % BB_CAPACITY;
        meta[COUNT]--;
        if (++meta[TAKEN] === target) k.broadcast(notEmpty);
        k.signal(notFull);
        k.unlock(m);
        Atomics.add(seen, item, 1);
      }
    }
    starts.push(t0);
    ends.push(nowNs());
  }
  return { starts, ends };
}

function boundedBufferV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const m = d.state.m as V8Shared;
  const notFull = d.state.notFull as V8Shared;
  const notEmpty = d.state.notEmpty as V8Shared;
  const ring = d.state.ring as Int32Array;
  const meta = d.state.meta as Int32Array;
  const seen = d.state.seen as Uint8Array;
  const { producers, items, reps } = d.params;
  let item = 0;
  let target = 0;
  const put = () => {
    while (meta[COUNT] === BB_CAPACITY) Condition.wait(notFull, m);
    ring[meta[TAIL]] = item;
    meta[TAIL] = (meta[TAIL] + 1) % BB_CAPACITY;
    meta[COUNT]++;
    Condition.notify(notEmpty, 1);
  };
  const take = (): number => {
    while (meta[COUNT] === 0 && meta[TAKEN] < target) Condition.wait(notEmpty, m);
    if (meta[COUNT] === 0) return -1;
    const taken = ring[meta[HEAD]];
    meta[HEAD] = (meta[HEAD] + 1) % BB_CAPACITY;
    meta[COUNT]--;
    if (++meta[TAKEN] === target) Condition.notify(notEmpty);
    Condition.notify(notFull, 1);
    return taken;
  };
  const starts: number[] = [];
  const ends: number[] = [];
  for (let r = 0; r < reps; r++) {
    sync(d);
    const base = r * items;
    const t0 = nowNs();
    if (d.index < producers) {
      for (let i = d.index; i < items; i += producers) {
        item = base + i;
        Mutex.lock(m, put);
      }
    } else {
      target = base + items;
      for (;;) {
        const got = Mutex.lock(m, take);
        if (got < 0) break;
        Atomics.add(seen, got, 1);
      }
    }
    starts.push(t0);
    ends.push(nowNs());
  }
  return { starts, ends };
}

// 4. Broadcast: W threads wait on one cond; time until all have re-acquired the mutex and acknowledged ----

const ROUND = 0;
const ACKS = 1;
const READY = 2;
export const BROADCAST_META_WORDS = 3;
/** Futex counters (broadcast counting phase): Atomics.wait calls, of them not slept, notify calls, woken. */
const F_WAITS = 0;
const F_NOT_SLEPT = 1;
const F_NOTIFIES = 2;
const F_WOKEN = 3;
export const FUTEX_COUNTER_WORDS = 4;

type WaitFn = typeof Atomics.wait;
type NotifyFn = typeof Atomics.notify;

/** Wraps Atomics.wait / notify in this worker so that every call the primitives make is counted. */
function countFutexOps(counters: Int32Array): void {
  const counted = Atomics as unknown as { wait: WaitFn; notify: NotifyFn };
  counted.wait = ((array: Int32Array, index: number, value: number, timeout?: number) => {
    Atomics.add(counters, F_WAITS, 1);
    const result = rawWait(array, index, value, timeout);
    if (result !== 'ok') Atomics.add(counters, F_NOT_SLEPT, 1);
    return result;
  }) as WaitFn;
  counted.notify = ((array: Int32Array, index: number, count?: number) => {
    Atomics.add(counters, F_NOTIFIES, 1);
    const woken = rawNotify(array, index, count);
    Atomics.add(counters, F_WOKEN, woken);
    return woken;
  }) as NotifyFn;
}

function stopCountingFutexOps(): void {
  const counted = Atomics as unknown as { wait: WaitFn; notify: NotifyFn };
  counted.wait = rawWait;
  counted.notify = rawNotify;
}

function futexPerRound(before: Int32Array, after: Int32Array, rounds: number): Record<string, number> {
  const per = (i: number) => (after[i] - before[i]) / rounds;
  return {
    futexWaits: per(F_WAITS),
    futexSlept: per(F_WAITS) - per(F_NOT_SLEPT),
    futexNotifies: per(F_NOTIFIES),
    futexWoken: per(F_WOKEN),
  };
}

function broadcastKit(k: AnyKit, d: TaskData): WorkerResult {
  const m = k.reviveMutex(d.state.m);
  const c = k.reviveCond(d.state.c);
  const ack = k.reviveCond(d.state.ack);
  const meta = d.state.meta as Int32Array;
  const lastAck = d.state.lastAck as Float64Array;
  const counters = d.state.counters as Int32Array;
  const { waiters, rounds, warm, countRounds } = d.params;
  const samples: number[] = [];
  let extra: Record<string, number> | undefined;
  const phases = countRounds > 0 ? 2 : 1;
  for (let phase = 0; phase < phases; phase++) {
    const counting = phase === 1;
    const total = counting ? countRounds : warm + rounds;
    sync(d);
    if (counting) countFutexOps(counters);
    try {
      k.lock(m);
      if (d.index === 0) {
        while (meta[READY] < waiters * (phase + 1)) k.wait(ack, m);
        const before = counters.slice();
        for (let r = 0; r < total; r++) {
          meta[ACKS] = 0;
          meta[ROUND]++;
          const t0 = nowNs();
          k.broadcast(c);
          while (meta[ACKS] < waiters) k.wait(ack, m);
          if (!counting && r >= warm) samples.push((lastAck[0] - t0) / 1e3);
        }
        if (counting) extra = futexPerRound(before, counters.slice(), total);
      } else {
        let seen = meta[ROUND];
        if (++meta[READY] === waiters * (phase + 1)) k.signal(ack);
        for (let r = 0; r < total; r++) {
          while (meta[ROUND] === seen) k.wait(c, m);
          seen = meta[ROUND];
          if (++meta[ACKS] === waiters) {
            lastAck[0] = nowNs();
            k.signal(ack);
          }
        }
      }
      k.unlock(m);
    } finally {
      if (counting) stopCountingFutexOps();
    }
  }
  return { samples, ...(extra ? { extra } : {}) };
}

function broadcastV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const m = d.state.m as V8Shared;
  const c = d.state.c as V8Shared;
  const ack = d.state.ack as V8Shared;
  const meta = d.state.meta as Int32Array;
  const lastAck = d.state.lastAck as Float64Array;
  const { waiters, rounds, warm } = d.params;
  const total = warm + rounds;
  const samples: number[] = [];
  sync(d);
  Mutex.lock(m, () => {
    if (d.index === 0) {
      while (meta[READY] < waiters) Condition.wait(ack, m);
      for (let r = 0; r < total; r++) {
        meta[ACKS] = 0;
        meta[ROUND]++;
        const t0 = nowNs();
        Condition.notify(c);
        while (meta[ACKS] < waiters) Condition.wait(ack, m);
        if (r >= warm) samples.push((lastAck[0] - t0) / 1e3);
      }
    } else {
      let seen = meta[ROUND];
      if (++meta[READY] === waiters) Condition.notify(ack, 1);
      for (let r = 0; r < total; r++) {
        while (meta[ROUND] === seen) Condition.wait(c, m);
        seen = meta[ROUND];
        if (++meta[ACKS] === waiters) {
          lastAck[0] = nowNs();
          Condition.notify(ack, 1);
        }
      }
    }
  });
  return { samples };
}

// 5. Contended mutex: threads increment one counter under one mutex for a fixed time -------------------

/** Lock round trips between looks at the clock and the stop flag. */
const BATCH = 64;

function contendedLoop(d: TaskData, critical: () => void): WorkerResult {
  const counter = d.state.counter as Int32Array;
  const atomicCounter = d.state.atomicCounter as Int32Array;
  const { ms, reps } = d.params;
  const starts: number[] = [];
  const ends: number[] = [];
  const counts: number[] = [];
  const failures: string[] = [];
  for (let r = 0; r < reps; r++) {
    sync(d);
    const t0 = nowNs();
    const limit = t0 + ms * 1e6;
    let local = 0;
    for (;;) {
      for (let i = 0; i < BATCH; i++) {
        critical();
        Atomics.add(atomicCounter, 0, 1);
      }
      local += BATCH;
      if (d.index === 0 && nowNs() >= limit) Atomics.store(d.ctl, CTL_STOP, 1);
      if (Atomics.load(d.ctl, CTL_STOP) !== 0) break;
    }
    ends.push(nowNs());
    starts.push(t0);
    counts.push(local);
    sync(d);
    if (d.index === 0) {
      const locked = Atomics.load(counter, 0);
      const atomic = Atomics.load(atomicCounter, 0);
      if (locked !== atomic) {
        failures.push(`lost updates: locked counter ${locked} != atomic counter ${atomic} (repetition ${r})`);
      }
      Atomics.store(counter, 0, 0);
      Atomics.store(atomicCounter, 0, 0);
      Atomics.store(d.ctl, CTL_STOP, 0);
    }
  }
  return { starts, ends, counts, failures };
}

function contendedKit(k: AnyKit, d: TaskData): WorkerResult {
  const m = k.reviveMutex(d.state.m);
  const counter = d.state.counter as Int32Array;
  return contendedLoop(d, () => {
    k.lock(m);
    counter[0]++;
    k.unlock(m);
  });
}

function contendedV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const m = d.state.m as V8Shared;
  const counter = d.state.counter as Int32Array;
  const increment = () => {
    counter[0]++;
  };
  return contendedLoop(d, () => Mutex.lock(m, increment));
}

// 7. Semaphore and event hand-offs between two threads -------------------------------------------------

function semKit(k: AnyKit, d: TaskData): WorkerResult {
  const a = k.reviveSem(d.state.a);
  const b = k.reviveSem(d.state.b);
  const { reps, iters, warm } = d.params;
  const samples: number[] = [];
  sync(d);
  for (let r = -warm; r < reps; r++) {
    const t0 = nowNs();
    if (d.index === 0) {
      for (let i = 0; i < iters; i++) {
        k.post(a);
        k.semWait(b);
      }
      if (r >= 0) samples.push((nowNs() - t0) / (2 * iters));
    } else {
      for (let i = 0; i < iters; i++) {
        k.semWait(a);
        k.post(b);
      }
    }
  }
  return { samples };
}

function eventKit(k: AnyKit, d: TaskData): WorkerResult {
  const a = k.reviveEvent(d.state.a);
  const b = k.reviveEvent(d.state.b);
  const { reps, iters, warm } = d.params;
  const samples: number[] = [];
  sync(d);
  for (let r = -warm; r < reps; r++) {
    const t0 = nowNs();
    if (d.index === 0) {
      for (let i = 0; i < iters; i++) {
        k.set(a);
        k.eventWait(b);
        k.reset(b);
      }
      if (r >= 0) samples.push((nowNs() - t0) / (2 * iters));
    } else {
      for (let i = 0; i < iters; i++) {
        k.eventWait(a);
        k.reset(a);
        k.set(b);
      }
    }
  }
  return { samples };
}
