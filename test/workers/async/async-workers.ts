/**
 * Thread functions for the async-variant tests: the blocking side of every mixed scenario. Each one is
 * driven by shared words, so the main thread decides the order of steps without timing. No side effects
 * at import: node --test may load this file as a test file.
 */
import {
  type QemuCond,
  type QemuEvent,
  type QemuMutex,
  type QemuSemaphore,
  QemuThreadError,
  qemu_cond_signal,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_wait,
} from 'qemu-thread';
import { publishOsThread } from '../../support/os-thread.js';

/** flag[0] steps for {@link holdMutex}. */
export const HOLDING = 1;
export const RELEASE = 2;

function waitForValue(flag: Int32Array, index: number, value: number): void {
  for (let v = Atomics.load(flag, index); v !== value; v = Atomics.load(flag, index)) {
    Atomics.wait(flag, index, v, 50);
  }
}

function store(flag: Int32Array, index: number, value: number): void {
  Atomics.store(flag, index, value);
  Atomics.notify(flag, index);
}

/** Takes the mutex, says so (flag[0] = HOLDING), and lets go once told (flag[0] = RELEASE). */
export function holdMutex(arg: { m: { lock(): void; unlock(): void }; flag: Int32Array }): void {
  arg.m.lock();
  store(arg.flag, 0, HOLDING);
  waitForValue(arg.flag, 0, RELEASE);
  arg.m.unlock();
}

/** Once flag[0] is 1: does `what` to the primitive (the predicate, flag[1], is set first, under `m`). */
export function actWhenTold(arg: {
  what: 'signal' | 'broadcast' | 'post' | 'set';
  flag: Int32Array;
  m?: QemuMutex;
  c?: QemuCond;
  s?: QemuSemaphore;
  e?: QemuEvent;
}): void {
  waitForValue(arg.flag, 0, 1);
  if (arg.what === 'post') {
    store(arg.flag, 1, 1);
    (arg.s as QemuSemaphore).post();
  } else if (arg.what === 'set') {
    store(arg.flag, 1, 1);
    (arg.e as QemuEvent).set();
  } else {
    const m = arg.m as QemuMutex;
    m.lock();
    store(arg.flag, 1, 1);
    if (arg.what === 'signal') (arg.c as QemuCond).signal();
    else (arg.c as QemuCond).broadcast();
    m.unlock();
  }
}

/** Waits (blocking) on `c` until flag[1] is set. */
export function waitForPredicate(arg: { m: QemuMutex; c: QemuCond; flag: Int32Array }): string {
  arg.m.lock();
  while (Atomics.load(arg.flag, 1) === 0) arg.c.wait(arg.m);
  arg.m.unlock();
  return 'woken';
}

/** Returns `value` (or throws a QemuThreadError) once flag[0] is 1. */
export function endWhenTold(arg: { flag: Int32Array; value: unknown; fail?: boolean }): unknown {
  waitForValue(arg.flag, 0, 1);
  if (arg.fail) throw new QemuThreadError('EBUSY', 'qemu_test_thread', 'thrown on purpose');
  return arg.value;
}

/** An async thread function: keeps its worker alive only through a pending async wait. */
export async function awaitPost(arg: { s: QemuSemaphore }): Promise<string> {
  await arg.s.waitAsync();
  return 'woken';
}

/** data words of {@link semTaker}. */
export const ANNOUNCED = 0;
export const TOOK = 1;
export const GATE = 2;
/** The taker's kernel thread id (test/support/os-thread.ts), so the main thread can see it asleep. */
export const OS_TID = 3;
export const TAKER_WORDS = 4;

/**
 * `rounds` times: announces itself (data[ANNOUNCED]), takes a unit blocking, counts it (data[TOOK]).
 * If `gated`, round r (from 1) starts only once data[GATE] >= r, so the main thread decides who queues first.
 */
export function semTaker(arg: { s: QemuSemaphore; data: Int32Array; rounds: number; gated?: boolean }): void {
  publishOsThread(arg.data, OS_TID);
  for (let r = 0; r < arg.rounds; r++) {
    if (arg.gated) {
      for (let g = Atomics.load(arg.data, GATE); g <= r; g = Atomics.load(arg.data, GATE)) {
        Atomics.wait(arg.data, GATE, g);
      }
    }
    Atomics.add(arg.data, ANNOUNCED, 1);
    Atomics.notify(arg.data, ANNOUNCED);
    qemu_sem_wait(arg.s);
    Atomics.add(arg.data, TOOK, 1);
    Atomics.notify(arg.data, TOOK);
  }
}

/** `n` increments of a plain (non-atomic) counter under `m`, with the blocking lock. */
export function countUnderLock(arg: { m: QemuMutex; counter: Int32Array; n: number }): void {
  for (let i = 0; i < arg.n; i++) {
    qemu_mutex_lock(arg.m);
    arg.counter[0]++;
    qemu_mutex_unlock(arg.m);
  }
}

/**
 * A bounded buffer in shared memory, for producer/consumer scenarios that mix blocking and async sides.
 * words: [0] head, [1] tail, [2] count, [3..] the ring of CAPACITY slots. Items are >= 0; -1 tells a
 * consumer to stop.
 */
export const CAPACITY = 8;
export interface Ring {
  m: QemuMutex;
  notEmpty: QemuCond;
  notFull: QemuCond;
  words: Int32Array;
}

export function ringWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (3 + CAPACITY)));
}

/** Puts an item; the caller holds `m` and has seen count < CAPACITY. */
export function ringPut(ring: Ring, item: number): void {
  const w = ring.words;
  w[3 + w[1]] = item;
  w[1] = (w[1] + 1) % CAPACITY;
  w[2]++;
  qemu_cond_signal(ring.notEmpty);
}

/** Takes an item; the caller holds `m` and has seen count > 0. */
export function ringTake(ring: Ring): number {
  const w = ring.words;
  const item = w[3 + w[0]];
  w[0] = (w[0] + 1) % CAPACITY;
  w[2]--;
  qemu_cond_signal(ring.notFull);
  return item;
}

/** Puts items `first`, `first + 1`, ... (`n` of them) with blocking waits. */
export function produce(arg: { ring: Ring; first: number; n: number }): void {
  const { ring } = arg;
  for (let i = 0; i < arg.n; i++) {
    ring.m.lock();
    while (ring.words[2] === CAPACITY) ring.notFull.wait(ring.m);
    ringPut(ring, arg.first + i);
    ring.m.unlock();
  }
}

/** As {@link produce}, then puts one -1, which stops one consumer. */
export function produceThenStop(arg: { ring: Ring; first: number; n: number }): void {
  produce(arg);
  produce({ ring: arg.ring, first: -1, n: 1 });
}

/** Takes items until it takes -1, marking each in `seen` (seen[item]++), with blocking waits. */
export function consume(arg: { ring: Ring; seen: Int32Array }): number {
  const { ring } = arg;
  let taken = 0;
  for (;;) {
    ring.m.lock();
    while (ring.words[2] === 0) ring.notEmpty.wait(ring.m);
    const item = ringTake(ring);
    ring.m.unlock();
    if (item < 0) return taken;
    Atomics.add(arg.seen, item, 1);
    taken++;
  }
}

/**
 * For the time-out race: `n` posts, each after a short pause of 0-2 ms. The pauses are time let pass on
 * purpose: they make the 1 ms timed waits on the other side time out now and then, racing the posts.
 */
export function postSlowly(arg: { s: QemuSemaphore; n: number }): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < arg.n; i++) {
    Atomics.wait(nap, 0, 0, i % 3);
    qemu_sem_post(arg.s);
  }
}
