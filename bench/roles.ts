/**
 * What each worker of a workload does, per contender. qemu-thread and the classic baseline share one
 * implementation through their kit (kits.ts); V8's callback-scoped Atomics.Mutex has its own. The
 * protocols mirror native/pthread-bench.c line for line, so that every contender does the same work.
 *
 * Data guarded by a mutex is read and written with plain typed-array accesses, as C code would; the lock's
 * own atomics order them.
 */

import { QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';
import { type ClassicMutex, classicLock, classicUnlock } from './classic.js';
import {
  barrier,
  CTL_ARRIVED,
  CTL_GENERATION,
  CTL_STOP,
  cpuNs,
  nowNs,
  rawNotify,
  rawWait,
  type TaskData,
  type WorkerResult,
} from './harness.js';
import {
  lockWord,
  lockWordUntraced,
  parkStats,
  setSpinning,
  unlockWord,
  unlockWordUntraced,
} from './internal.js';
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
  // The no-spin control: qemu-thread with every wait of this worker parking at once (spinning is per thread,
  // and every thread of such a task is one of these workers).
  if (d.contender === 'qemu-nospin') setSpinning(false);
  switch (d.workload) {
    case 'lock':
      return lockRole(d);
    case 'pingpong':
      if (d.contender === 'reference') return pingpongFloor(d);
      return d.contender === 'v8' ? pingpongV8(d) : pingpongKit(kitFor(d.contender), d);
    case 'bb':
      return d.contender === 'v8' ? boundedBufferV8(d) : boundedBufferKit(kitFor(d.contender), d);
    case 'broadcast':
      if (d.contender === 'reference') return broadcastFloor(d);
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

/**
 * Runs `body` for `warm` + `reps` repetitions on every worker of the task, timed as a whole: all workers
 * meet, worker 0 reads the wall clock and the process's CPU clock (every thread's time: the workers', the
 * idle main thread's), releases the others, and reads both again once every worker is through. Returns, on
 * worker 0, the nanoseconds of each measured repetition (warm-ups dropped); `body` gets the repetition's
 * index from 0, warm-ups included.
 */
function timedReps(d: TaskData, body: (rep: number) => void): { wall: number[]; cpu: number[] } {
  const { reps, warm } = d.params;
  const wall: number[] = [];
  const cpu: number[] = [];
  sync(d);
  for (let r = -warm; r < reps; r++) {
    let t0 = 0;
    let c0 = 0;
    if (d.index === 0) {
      t0 = nowNs();
      c0 = cpuNs();
    }
    sync(d);
    body(r + warm);
    sync(d);
    if (d.index === 0 && r >= 0) {
      wall.push(nowNs() - t0);
      cpu.push(cpuNs() - c0);
    }
  }
  return { wall, cpu };
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
  return { metrics: { time: samples } };
}

// 2. Cond ping-pong: P pairs, each alternating through its own mutex and cond ----------------------------

/** Words between two pairs' `turn` words (64 bytes), so that the pairs share no cache line. */
export const PAIR_STRIDE = 16;

function pingpongKit(k: AnyKit, d: TaskData): WorkerResult {
  const pair = d.index >> 1;
  const role = d.index & 1;
  const other = 1 - role;
  const m = k.reviveMutex((d.state.m as unknown[])[pair]);
  const c = k.reviveCond((d.state.c as unknown[])[pair]);
  const turn = d.state.turn as Int32Array;
  const at = pair * PAIR_STRIDE;
  const { iters } = d.params;
  return {
    metrics: timedReps(d, () => {
      k.lock(m);
      for (let i = 0; i < iters; i++) {
        while (turn[at] !== role) k.wait(c, m);
        turn[at] = other;
        k.signal(c);
      }
      k.unlock(m);
    }),
  };
}

function pingpongV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const pair = d.index >> 1;
  const role = d.index & 1;
  const other = 1 - role;
  const m = (d.state.m as V8Shared[])[pair];
  const c = (d.state.c as V8Shared[])[pair];
  const turn = d.state.turn as Int32Array;
  const at = pair * PAIR_STRIDE;
  const { iters } = d.params;
  const loop = () => {
    for (let i = 0; i < iters; i++) {
      while (turn[at] !== role) Condition.wait(c, m);
      turn[at] = other;
      Condition.notify(c, 1);
    }
  };
  return { metrics: timedReps(d, () => Mutex.lock(m, loop)) };
}

/**
 * The engine's floor for a sleeping hand-off (the reference column): the same pairs passing a turn word
 * back and forth with nothing but Atomics.wait / Atomics.notify, no mutex, no cond and no spin. Each
 * one-way hand-off is one notify and, unless the partner's answer came before it slept, one wait: what
 * a hand-off costs in this engine once a waiter sleeps (V8 queues its waiters under one process-wide
 * lock, each with a condition variable of its own).
 */
function pingpongFloor(d: TaskData): WorkerResult {
  const pair = d.index >> 1;
  const role = d.index & 1;
  const other = 1 - role;
  const turn = d.state.turn as Int32Array;
  const at = pair * PAIR_STRIDE;
  const { iters } = d.params;
  return {
    metrics: timedReps(d, () => {
      for (let i = 0; i < iters; i++) {
        while (Atomics.load(turn, at) !== role) rawWait(turn, at, other);
        Atomics.store(turn, at, other);
        rawNotify(turn, at, 1);
      }
    }),
  };
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
  const { producers, items } = d.params;
  // Repetition r moves the items r * items ... (r + 1) * items - 1, so that each is checked exactly once.
  const metrics = timedReps(d, (r) => {
    const base = r * items;
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
  });
  return { metrics };
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
  const { producers, items } = d.params;
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
  const metrics = timedReps(d, (r) => {
    const base = r * items;
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
  });
  return { metrics };
}

// 4. Broadcast: W threads wait on one cond; time until all have re-acquired the mutex and acknowledged ----

const ROUND = 0;
const ACKS = 1;
const READY = 2;
/** The floor's broadcaster sleeps on this word until the last waiter of the round stores the round in it. */
const ACKED = 3;
export const BROADCAST_META_WORDS = 4;

interface FutexCounts {
  waits: number;
  notifies: number;
  woken: number;
}

type WaitFn = typeof Atomics.wait;
type NotifyFn = typeof Atomics.notify;

/**
 * This thread's futex operations so far, for the contenders that park in Atomics.wait: qemu-thread counts
 * them itself (parkStats, per thread); for the classic baseline, Atomics.wait / notify are wrapped in this
 * worker (the classic primitives look them up at each call) and counted in plain per-thread variables, so
 * the count costs a few nanoseconds a call and can run during the timed rounds. V8 parks in its own queue:
 * nothing to count (undefined).
 */
function futexCounter(contender: string): (() => FutexCounts) | undefined {
  if (contender === 'qemu-thread' || contender === 'qemu-nospin') {
    return () => {
      const s = parkStats();
      return { waits: s.parks, notifies: s.wakes, woken: s.woken };
    };
  }
  if (contender !== 'classic') return undefined;
  const counts: FutexCounts = { waits: 0, notifies: 0, woken: 0 };
  const wrapped = Atomics as unknown as { wait: WaitFn; notify: NotifyFn };
  wrapped.wait = ((array: Int32Array, index: number, value: number, timeout?: number) => {
    counts.waits++;
    return rawWait(array, index, value, timeout);
  }) as WaitFn;
  wrapped.notify = ((array: Int32Array, index: number, count?: number) => {
    counts.notifies++;
    const woken = rawNotify(array, index, count);
    counts.woken += woken;
    return woken;
  }) as NotifyFn;
  return () => ({ ...counts });
}

function futexSums(before: FutexCounts | undefined, after: FutexCounts | undefined): Record<string, number> {
  if (!before || !after) return {};
  return {
    waits: after.waits - before.waits,
    notifies: after.notifies - before.notifies,
    woken: after.woken - before.woken,
  };
}

/**
 * The broadcaster (worker 0) times each round from its broadcast to the last waiter's acknowledgement, and
 * reads the process's CPU clock every `block` rounds, holding the mutex (the waiters are parked or on
 * their way to park). Every worker counts its futex operations over the timed rounds: from its first
 * timed round until its last acknowledgement (the broadcaster's: until the last round's acks are in).
 */
function broadcastKit(k: AnyKit, d: TaskData): WorkerResult {
  const m = k.reviveMutex(d.state.m);
  const c = k.reviveCond(d.state.c);
  const ack = k.reviveCond(d.state.ack);
  const meta = d.state.meta as Int32Array;
  const lastAck = d.state.lastAck as Float64Array;
  const { waiters, rounds, warm, block } = d.params;
  const count = futexCounter(d.contender);
  const total = warm + rounds;
  const latency: number[] = [];
  const cpu: number[] = [];
  let before: FutexCounts | undefined;
  sync(d);
  k.lock(m);
  if (d.index === 0) {
    while (meta[READY] < waiters) k.wait(ack, m);
    let c0 = 0;
    for (let r = 0; r < total; r++) {
      const timed = r - warm;
      if (timed === 0) before = count?.();
      if (timed >= 0 && timed % block === 0) c0 = cpuNs();
      meta[ACKS] = 0;
      meta[ROUND]++;
      const t0 = nowNs();
      k.broadcast(c);
      while (meta[ACKS] < waiters) k.wait(ack, m);
      if (timed >= 0) latency.push((lastAck[0] - t0) / 1e3);
      if (timed >= 0 && timed % block === block - 1) cpu.push((cpuNs() - c0) / block / 1e3);
    }
  } else {
    let seen = meta[ROUND];
    if (++meta[READY] === waiters) k.signal(ack);
    for (let r = 0; r < total; r++) {
      if (r === warm) before = count?.();
      while (meta[ROUND] === seen) k.wait(c, m);
      seen = meta[ROUND];
      if (++meta[ACKS] === waiters) {
        lastAck[0] = nowNs();
        k.signal(ack);
      }
    }
  }
  const sums = futexSums(before, count?.());
  k.unlock(m);
  return { metrics: d.index === 0 ? { latency, cpu } : {}, sums };
}

function broadcastV8(d: TaskData): WorkerResult {
  const Mutex = v8Mutex();
  const Condition = v8Condition();
  const m = d.state.m as V8Shared;
  const c = d.state.c as V8Shared;
  const ack = d.state.ack as V8Shared;
  const meta = d.state.meta as Int32Array;
  const lastAck = d.state.lastAck as Float64Array;
  const { waiters, rounds, warm, block } = d.params;
  const total = warm + rounds;
  const latency: number[] = [];
  const cpu: number[] = [];
  sync(d);
  Mutex.lock(m, () => {
    if (d.index === 0) {
      while (meta[READY] < waiters) Condition.wait(ack, m);
      let c0 = 0;
      for (let r = 0; r < total; r++) {
        const timed = r - warm;
        if (timed >= 0 && timed % block === 0) c0 = cpuNs();
        meta[ACKS] = 0;
        meta[ROUND]++;
        const t0 = nowNs();
        Condition.notify(c);
        while (meta[ACKS] < waiters) Condition.wait(ack, m);
        if (timed >= 0) latency.push((lastAck[0] - t0) / 1e3);
        if (timed >= 0 && timed % block === block - 1) cpu.push((cpuNs() - c0) / block / 1e3);
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
  return { metrics: d.index === 0 ? { latency, cpu } : {} };
}

/**
 * The engine's floor for a broadcast (the reference column): a herd wake with nothing but Atomics, no
 * mutex to re-take. The broadcaster bumps ROUND and notifies every thread parked on it; each waiter,
 * once it runs, counts itself in ACKS, and the last one stores the round in ACKED and notifies the
 * broadcaster. A round's latency is the time from the notify until the last waiter ran: the kernel
 * wake-ups of every waiter through V8's futex queue, and nothing else.
 */
function broadcastFloor(d: TaskData): WorkerResult {
  const meta = d.state.meta as Int32Array;
  const lastAck = d.state.lastAck as Float64Array;
  const { waiters, rounds, warm, block } = d.params;
  const total = warm + rounds;
  const latency: number[] = [];
  const cpu: number[] = [];
  const counts: FutexCounts = { waits: 0, notifies: 0, woken: 0 };
  let timedCounts: FutexCounts | undefined;
  const wait = (index: number, value: number) => {
    if (timedCounts) timedCounts.waits++;
    rawWait(meta, index, value);
  };
  const notify = (index: number) => {
    const woken = rawNotify(meta, index);
    if (timedCounts) {
      timedCounts.notifies++;
      timedCounts.woken += woken;
    }
  };
  // Read before the workers meet, so that no waiter can miss the first round.
  let seen = Atomics.load(meta, ROUND);
  sync(d);
  if (d.index === 0) {
    let c0 = 0;
    for (let r = 0; r < total; r++) {
      const timed = r - warm;
      if (timed === 0) timedCounts = counts;
      if (timed >= 0 && timed % block === 0) c0 = cpuNs();
      Atomics.store(meta, ACKS, 0);
      const round = Atomics.add(meta, ROUND, 1) + 1;
      const t0 = nowNs();
      notify(ROUND);
      for (let acked = Atomics.load(meta, ACKED); acked !== round; acked = Atomics.load(meta, ACKED)) {
        wait(ACKED, acked);
      }
      if (timed >= 0) latency.push((lastAck[0] - t0) / 1e3);
      if (timed >= 0 && timed % block === block - 1) cpu.push((cpuNs() - c0) / block / 1e3);
    }
  } else {
    for (let r = 0; r < total; r++) {
      if (r === warm) timedCounts = counts;
      while (Atomics.load(meta, ROUND) === seen) wait(ROUND, seen);
      seen = Atomics.load(meta, ROUND);
      if (Atomics.add(meta, ACKS, 1) + 1 === waiters) {
        lastAck[0] = nowNs();
        Atomics.store(meta, ACKED, seen);
        notify(ACKED);
      }
    }
  }
  return { metrics: d.index === 0 ? { latency, cpu } : {}, sums: { ...counts } };
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
  const { iters } = d.params;
  return {
    metrics: timedReps(d, () => {
      if (d.index === 0) {
        for (let i = 0; i < iters; i++) {
          k.post(a);
          k.semWait(b);
        }
      } else {
        for (let i = 0; i < iters; i++) {
          k.semWait(a);
          k.post(b);
        }
      }
    }),
  };
}

function eventKit(k: AnyKit, d: TaskData): WorkerResult {
  const a = k.reviveEvent(d.state.a);
  const b = k.reviveEvent(d.state.b);
  const { iters } = d.params;
  return {
    metrics: timedReps(d, () => {
      if (d.index === 0) {
        for (let i = 0; i < iters; i++) {
          k.set(a);
          k.eventWait(b);
          k.reset(b);
        }
      } else {
        for (let i = 0; i < iters; i++) {
          k.eventWait(a);
          k.reset(a);
          k.set(b);
        }
      }
    }),
  };
}
