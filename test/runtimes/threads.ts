/**
 * Thread functions of the portable slice (slice.ts). Plain ES module, no Node-only import beyond what the
 * library itself uses, so every runtime loads it the same way. Lines marked `// site:` are the call sites
 * that the deadlock and QSP checks expect to find in reports (found by the marker, not by line number).
 */
import {
  type QemuCond,
  type QemuEvent,
  type QemuMutex,
  type QemuSemaphore,
  type QemuSpin,
  QemuThreadError,
  qemu_cond_signal,
  qemu_cond_wait,
  qemu_event_set,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_sem_post,
  qemu_sem_wait,
  qemu_thread_exit,
} from 'qemu-thread';

function announce(flag: Int32Array, index = 0): void {
  Atomics.add(flag, index, 1);
  Atomics.notify(flag, index);
}

/** Parks until `flag[index]` is not 0. */
function awaitFlag(flag: Int32Array, index = 0): void {
  while (Atomics.load(flag, index) === 0) Atomics.wait(flag, index, 0);
}

/** Adds 1 to `data[0]` `n` times with a plain read and write under the mutex: only mutual exclusion keeps it exact. */
export function countUnderMutex(arg: { m: QemuMutex; data: Int32Array; n: number }): number {
  for (let i = 0; i < arg.n; i++) {
    qemu_mutex_lock(arg.m);
    arg.data[0] = arg.data[0] + 1;
    qemu_mutex_unlock(arg.m);
  }
  return arg.n;
}

/** As {@link countUnderMutex}, under a spinlock. */
export function countUnderSpin(arg: { s: QemuSpin; data: Int32Array; n: number }): number {
  for (let i = 0; i < arg.n; i++) {
    arg.s.lock();
    arg.data[0] = arg.data[0] + 1;
    arg.s.unlock();
  }
  return arg.n;
}

export interface PingPongArg {
  m: QemuMutex;
  c: QemuCond;
  /** [0]: whose turn (0 or 1); [1]: hand-offs so far. */
  data: Int32Array;
  me: 0 | 1;
  rounds: number;
}

/**
 * Takes `rounds` turns, alternating with the other side through one mutex and one cond: each turn checks
 * that the count is the one its side expects, so a lost or doubled hand-off fails the run.
 */
export function pingPong(arg: PingPongArg): number {
  const { m, c, data, me } = arg;
  for (let i = 0; i < arg.rounds; i++) {
    qemu_mutex_lock(m);
    while (data[0] !== me) qemu_cond_wait(c, m);
    if (data[1] !== 2 * i + me) throw new Error(`side ${me}, turn ${i}: count ${data[1]}, not ${2 * i + me}`);
    data[1]++;
    data[0] = 1 - me;
    qemu_cond_signal(c);
    qemu_mutex_unlock(m);
  }
  return arg.rounds;
}

/** Posts `n` units. */
export function postEach(arg: { s: QemuSemaphore; n: number }): number {
  for (let i = 0; i < arg.n; i++) qemu_sem_post(arg.s);
  return arg.n;
}

/** Takes `n` units and returns how many it took. */
export function takeEach(arg: { s: QemuSemaphore; n: number }): number {
  for (let i = 0; i < arg.n; i++) qemu_sem_wait(arg.s);
  return arg.n;
}

/** Locks, announces, and keeps the lock until `go` is set; then unlocks. */
export function holdUntilGo(arg: { m: QemuMutex; held: Int32Array; go: Int32Array }): string {
  qemu_mutex_lock(arg.m);
  announce(arg.held);
  awaitFlag(arg.go);
  qemu_mutex_unlock(arg.m);
  return 'released';
}

/** Takes the mutex and returns without unlocking it: the next locker gets EOWNERDEAD. */
export function lockAndReturn(arg: { m: QemuMutex }): string {
  qemu_mutex_lock(arg.m);
  return 'left it locked';
}

/** Takes the mutex, announces, waits for `go`, then dies of an exception while holding it. */
export function lockThenThrow(arg: { m: QemuMutex; held: Int32Array; go: Int32Array }): never {
  qemu_mutex_lock(arg.m);
  announce(arg.held);
  awaitFlag(arg.go);
  throw new RangeError('died holding the lock');
}

/** Takes the mutex and parks for ever on a word nobody changes: only terminate ends it. */
export function holdForever(arg: { m: QemuMutex; held: Int32Array }): never {
  qemu_mutex_lock(arg.m);
  announce(arg.held);
  const word = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(word, 0, 0);
}

/** Waits on the cond until `flag[0]` is set (never, for the thread that is terminated); returns 'woken'. */
export function waitForFlag(arg: { m: QemuMutex; c: QemuCond; flag: Int32Array }): string {
  qemu_mutex_lock(arg.m);
  while (arg.flag[0] === 0) qemu_cond_wait(arg.c, arg.m);
  qemu_mutex_unlock(arg.m);
  return 'woken';
}

/** Sets `flag[0]` under the mutex and signals the cond once. */
export function setFlagAndSignal(arg: { m: QemuMutex; c: QemuCond; flag: Int32Array }): string {
  qemu_mutex_lock(arg.m);
  arg.flag[0] = 1;
  qemu_cond_signal(arg.c);
  qemu_mutex_unlock(arg.m);
  return 'signalled';
}

/** Sets the event. */
export function setEvent(arg: { e: QemuEvent }): string {
  qemu_event_set(arg.e);
  return 'set';
}

/** Ends through qemu_thread_exit from a nested call; the return below is never reached. */
export function exitWith(arg: { value: unknown }): string {
  (() => qemu_thread_exit(arg.value))();
  return 'returned';
}

/** Throws an error of its own class, for join to rethrow. */
export function throwTypeError(arg: { message: string }): never {
  throw new TypeError(arg.message);
}

/** Unlocks a mutex that another thread holds: returns the error's code, func and message. */
export function unlockForeign(arg: { m: QemuMutex }): string {
  try {
    qemu_mutex_unlock(arg.m);
    return 'unlocked';
  } catch (error) {
    return error instanceof QemuThreadError ? `${error.code} ${error.func}: ${error.message}` : String(error);
  }
}

export interface AbbaArg {
  first: QemuMutex;
  second: QemuMutex;
  /** [0]: threads that hold their first mutex; each waits for both before taking its second. */
  ready: Int32Array;
}

/** Takes `first`, then `second` once the other thread holds its own first: returns 'ok' or the error. */
export function lockInOrder(arg: AbbaArg): string {
  qemu_mutex_lock(arg.first); // site: abba-first
  Atomics.add(arg.ready, 0, 1);
  Atomics.notify(arg.ready, 0);
  for (let seen = Atomics.load(arg.ready, 0); seen < 2; seen = Atomics.load(arg.ready, 0)) {
    Atomics.wait(arg.ready, 0, seen);
  }
  let result = 'ok';
  try {
    qemu_mutex_lock(arg.second); // site: abba-second
    qemu_mutex_unlock(arg.second);
  } catch (error) {
    result = error instanceof QemuThreadError ? `${error.code}: ${error.message}` : String(error);
  }
  qemu_mutex_unlock(arg.first);
  return result;
}

/** Locks and unlocks `m` `n` times at one call site, for the QSP check. */
export function lockAtOneSite(arg: { m: QemuMutex; n: number }): number {
  for (let i = 0; i < arg.n; i++) {
    qemu_mutex_lock(arg.m); // site: qsp-thread
    qemu_mutex_unlock(arg.m);
  }
  return arg.n;
}
