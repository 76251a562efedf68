// Thread functions for test/faults.test.ts and test/faults-lesser.test.ts: each exercises one defect of issue 11 from inside a thread.
import {
  type QemuCond,
  type QemuEvent,
  type QemuLockCnt,
  type QemuMutex,
  type QemuSemaphore,
  type QemuSpin,
  type QemuThread,
  QemuThreadError,
} from 'qemu-thread';

function raise(flags: Int32Array, index: number): void {
  Atomics.store(flags, index, 1);
  Atomics.notify(flags, index);
}

/**
 * Returns at once, leaving a timer behind: the timer takes `m` after the function has returned, says so
 * (flags[0]), holds it until told (flags[1]), then unlocks and records how the unlock went (flags[2]:
 * 1 unlocked, 2 failed). The worker is still running the timer, so the thread has not ended: nobody may take
 * `m` from it with EOWNERDEAD.
 */
export function lockFromTimerAfterReturn(arg: { m: QemuMutex; flags: Int32Array }): string {
  setTimeout(() => {
    arg.m.lock();
    raise(arg.flags, 0);
    while (Atomics.load(arg.flags, 1) === 0) Atomics.wait(arg.flags, 1, 0);
    try {
      arg.m.unlock();
      raise(arg.flags, 2);
    } catch {
      Atomics.store(arg.flags, 2, 2);
      Atomics.notify(arg.flags, 2);
    }
  }, 0);
  return 'returned';
}

/** Waits on `c` under `m` until flags[0] is set; returns 'woken'. */
export function condWaiter(arg: { m: QemuMutex; c: QemuCond; flags: Int32Array }): string {
  arg.m.lock();
  while (Atomics.load(arg.flags, 0) === 0) arg.c.wait(arg.m);
  arg.m.unlock();
  return 'woken';
}

/**
 * Takes one unit of `s`; flags[slot] becomes 1 once it has. With `parkedAt`, flags[parkedAt] becomes 1 when
 * the thread goes to sleep in Atomics.wait (not merely spins), so a test can post only to a parked thread.
 */
export function semWaiter(arg: {
  s: QemuSemaphore;
  flags: Int32Array;
  slot: number;
  parkedAt?: number;
}): string {
  const parkedAt = arg.parkedAt;
  if (parkedAt !== undefined) {
    const wait = Atomics.wait;
    Atomics.wait = ((words: Int32Array, index: number, value: number, timeout?: number) => {
      raise(arg.flags, parkedAt);
      return wait(words, index, value, timeout);
    }) as typeof Atomics.wait;
  }
  arg.s.wait();
  raise(arg.flags, arg.slot);
  return 'took';
}

/**
 * A semaphore waiter that dies right after a post's wake-up reached it, before it could take the unit: its
 * thread's Atomics.wait is wrapped so that a wait ended by a notify announces it (flags[1]) and then never
 * returns (the test terminates the thread there). flags[0] says it is about to park.
 */
export function semWaiterStuckAfterWake(arg: { s: QemuSemaphore; flags: Int32Array }): never {
  const wait = Atomics.wait;
  const never = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait = ((words: Int32Array, index: number, value: number, timeout?: number) => {
    raise(arg.flags, 0);
    const result = wait(words, index, value, timeout);
    if (result === 'ok') {
      raise(arg.flags, 1);
      for (;;) wait(never, 0, 0);
    }
    return result;
  }) as typeof Atomics.wait;
  arg.s.wait();
  throw new Error('took a unit: the wake-up did not reach this waiter');
}

/** Returns a result far larger than the join window, so that it streams to the joiner chunk by chunk. */
export function bigResult(arg: { bytes: number }): Uint8Array {
  return new Uint8Array(arg.bytes).fill(7);
}

/** Joins `t` (blocking) and returns how the join ended: 'joined N bytes' or the error's message. */
export function blockingJoin(arg: { t: QemuThread; flags: Int32Array }): string {
  raise(arg.flags, 0);
  try {
    const value = arg.t.join() as Uint8Array;
    return `joined ${value.length} bytes`;
  } catch (e) {
    return `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Holds `b`, says so (flags[0]), then locks `a`: returns how that lock ended. */
export function holdBThenLockA(arg: { a: QemuMutex; b: QemuMutex; flags: Int32Array }): string {
  arg.b.lock();
  raise(arg.flags, 0);
  try {
    arg.a.lock();
  } catch (e) {
    arg.b.unlock();
    return e instanceof QemuThreadError ? e.code : String(e);
  }
  arg.a.unlock();
  arg.b.unlock();
  return 'locked';
}

/** Takes the spinlock and keeps it until terminated (flags[0] says it holds it). */
export function holdSpinForever(arg: { spin: QemuSpin; flags: Int32Array }): never {
  arg.spin.lock();
  raise(arg.flags, 0);
  for (;;) Atomics.wait(arg.flags, 1, 0);
}

/** Takes the lockcnt's lock and keeps it until terminated (flags[0] says it holds it). */
export function holdLockCntForever(arg: { l: QemuLockCnt; flags: Int32Array }): never {
  arg.l.lock();
  raise(arg.flags, 0);
  for (;;) Atomics.wait(arg.flags, 1, 0);
}

/** Waits on the event until terminated (flags[0] says it is about to wait). */
export function eventWaiter(arg: { e: QemuEvent; flags: Int32Array }): string {
  raise(arg.flags, 0);
  arg.e.wait();
  return 'set';
}

/** Takes `m` and keeps it until terminated (flags[0] says it holds it). */
export function holdMutexForever(arg: { m: QemuMutex; flags: Int32Array }): never {
  arg.m.lock();
  raise(arg.flags, 0);
  for (;;) Atomics.wait(arg.flags, 1, 0);
}

/** Returns once flags[1] is set: a thread that stays running while a test looks at its handle. */
export function runUntilTold(arg: { flags: Int32Array }): string {
  raise(arg.flags, 0);
  while (Atomics.load(arg.flags, 1) === 0) Atomics.wait(arg.flags, 1, 0);
  return 'done';
}

/**
 * Returns, but its trampoline never finishes publishing the outcome: this thread's Atomics.store is
 * wrapped so that the first store into its own QemuThread's outcome word (word 4) announces it (flags[0])
 * and then never returns, as if the thread were stopped between PUBLISHING and EXITED.
 */
export function stuckWhilePublishing(arg: { t: QemuThread; flags: Int32Array }): string {
  const store = Atomics.store;
  const never = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store = ((words: Int32Array, index: number, value: number) => {
    if (words.buffer === arg.t.buffer && index === 4) {
      raise(arg.flags, 0);
      for (;;) Atomics.wait(never, 0, 0);
    }
    return store(words, index, value);
  }) as typeof Atomics.store;
  return 'returned';
}

/** Waits for a unit of `s` asynchronously and never gets one: the test terminates the thread meanwhile. */
export async function asyncSemWaiter(arg: { s: QemuSemaphore }): Promise<string> {
  await arg.s.waitAsync();
  return 'took';
}
