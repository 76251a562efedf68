/**
 * The QEMU face of the library: QEMU's function names, argument order and results, as thin wrappers over
 * the classes. Each accepts an instance or a structured clone of one (revived once and remembered);
 * anything else is a TypeError.
 */

import type { WaitOptions } from './park.js';
import { platform } from './platform/index.js';
import { QemuCond } from './primitives/cond.js';
import { QemuEvent } from './primitives/event.js';
import { QemuLockCnt } from './primitives/lockcnt.js';
import { lockWord, QemuMutex, tryLockWord, unlockWord } from './primitives/mutex.js';
import { QemuRecMutex } from './primitives/rec-mutex.js';
import { QemuSemaphore } from './primitives/semaphore.js';
import { QemuSpin } from './primitives/spin.js';
import type { Notifier } from './thread/self.js';
import {
  atexitAdd,
  atexitRemove,
  exitThread,
  QEMU_THREAD_JOINABLE,
  QemuThread,
  setNaming,
  startThread,
} from './thread/thread.js';
import type { QemuThreadMode, ThreadArg, ThreadFunctionFor } from './thread/thread-function.js';
import {
  QSP_SORT_BY_TOTAL_WAIT_TIME,
  qspDisable,
  qspEnable,
  qspIsEnabled,
  qspReportText,
  qspReset,
} from './trace/qsp.js';

const mutex = (m: unknown, func: string) => (m instanceof QemuMutex ? m : QemuMutex.from(m, func));
const recMutex = (m: unknown, func: string) => (m instanceof QemuRecMutex ? m : QemuRecMutex.from(m, func));
const cond = (c: unknown, func: string) => (c instanceof QemuCond ? c : QemuCond.from(c, func));
const sem = (s: unknown, func: string) => (s instanceof QemuSemaphore ? s : QemuSemaphore.from(s, func));
const event = (e: unknown, func: string) => (e instanceof QemuEvent ? e : QemuEvent.from(e, func));
const spin = (s: unknown, func: string) => (s instanceof QemuSpin ? s : QemuSpin.from(s, func));
const lockcnt = (l: unknown, func: string) => (l instanceof QemuLockCnt ? l : QemuLockCnt.from(l, func));
const thread = <R>(t: QemuThread<R>, func: string): QemuThread<R> =>
  t instanceof QemuThread ? t : QemuThread.from<R>(t, func);

// QemuMutex
/** Initializes a mutex (QEMU's `qemu_mutex_init`); same as {@link QemuMutex.init}. `EBUSY` if it is held. */
export const qemu_mutex_init = (m: QemuMutex): void => mutex(m, 'qemu_mutex_init').init();
/**
 * Destroys a mutex (`qemu_mutex_destroy`); any later use is `EINVAL` until it is initialized again.
 * `EBUSY` while it is held. Same as {@link QemuMutex.destroy}.
 */
export const qemu_mutex_destroy = (m: QemuMutex): void => mutex(m, 'qemu_mutex_destroy').destroy();
// lock and unlock go straight to the lock word: they are the hottest calls a program makes. The imports
// they use get module-local names, which V8 reads faster than imported bindings (see mutex.ts). A mutex is
// recognized by its constructor, a property load and a compare: `instanceof` against a class that is not
// a compile-time constant (a module binding, in the bundled build) calls a builtin, which made
// qemu_mutex_lock + unlock 31 ns against the methods' 18 (Node 20). Anything else, a subclass or a clone
// included, goes through the checked path, which revives or refuses it.
const Mutex = QemuMutex;
const lockMutexWord = lockWord;
const unlockMutexWord = unlockWord;
const mutexWords = (m: QemuMutex, func: string): Int32Array =>
  (m as { constructor?: unknown } | null | undefined)?.constructor === Mutex ? m.words : mutex(m, func).words;

/**
 * Takes a mutex, sleeping while another thread holds it (`qemu_mutex_lock`); same as {@link QemuMutex.lock}.
 *
 * `EDEADLK` if the calling thread already holds it, or if waiting would close a deadlock cycle; `EOWNERDEAD`
 * (then holding it) if its holder ended while holding it; `EPERM` on a thread that may not block, when the
 * lock is busy (use {@link qemu_mutex_lock_async} there).
 */
export function qemu_mutex_lock(m: QemuMutex): void {
  lockMutexWord(mutexWords(m, 'qemu_mutex_lock'), 'qemu_mutex_lock');
}
/**
 * Takes a mutex if it is free (`qemu_mutex_trylock`): 0 if it took the lock, -16 (-EBUSY) if anyone holds
 * it, the caller included. The method {@link QemuMutex.tryLock} returns true / false.
 */
export const qemu_mutex_trylock = (m: QemuMutex): number =>
  tryLockWord(mutex(m, 'qemu_mutex_trylock').words, 'qemu_mutex_trylock');
/**
 * Releases a mutex the calling thread holds (`qemu_mutex_unlock`); `EPERM` otherwise. Same as
 * {@link QemuMutex.unlock}.
 */
export function qemu_mutex_unlock(m: QemuMutex): void {
  unlockMutexWord(mutexWords(m, 'qemu_mutex_unlock'), 'qemu_mutex_unlock');
}

/**
 * After a lock that failed with `EOWNERDEAD`: declares the state the mutex protects repaired, so it works
 * normally again (POSIX `pthread_mutex_consistent`; QEMU has none). Same as {@link QemuMutex.consistent}.
 */
export const qemu_mutex_consistent = (m: QemuMutex): void => mutex(m, 'qemu_mutex_consistent').consistent();

// QemuRecMutex
/** Initializes a recursive mutex (`qemu_rec_mutex_init`); same as {@link QemuRecMutex.init}. */
export const qemu_rec_mutex_init = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_init').init();
/** Destroys a recursive mutex (`qemu_rec_mutex_destroy`); `EBUSY` while it is held. */
export const qemu_rec_mutex_destroy = (m: QemuRecMutex): void =>
  recMutex(m, 'qemu_rec_mutex_destroy').destroy();
/**
 * Takes a recursive mutex, or nests it if the calling thread holds it (`qemu_rec_mutex_lock`); each lock
 * needs its unlock. Same as {@link QemuRecMutex.lock}.
 */
export const qemu_rec_mutex_lock = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_lock').lock();
/**
 * Takes (or nests) a recursive mutex if possible (`qemu_rec_mutex_trylock`): 0 on success, -16 (-EBUSY) if
 * another thread holds it.
 */
export const qemu_rec_mutex_trylock = (m: QemuRecMutex): number =>
  recMutex(m, 'qemu_rec_mutex_trylock').tryLock() ? 0 : -16;
/** As {@link qemu_mutex_consistent}, for a recursive mutex taken with `EOWNERDEAD`. */
export const qemu_rec_mutex_consistent = (m: QemuRecMutex): void =>
  recMutex(m, 'qemu_rec_mutex_consistent').consistent();
/**
 * Undoes one lock of a recursive mutex (`qemu_rec_mutex_unlock`); the last one releases it. `EPERM` unless
 * the calling thread holds it.
 */
export const qemu_rec_mutex_unlock = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_unlock').unlock();

// QemuCond
/** Initializes a condition variable (`qemu_cond_init`); same as {@link QemuCond.init}. */
export const qemu_cond_init = (c: QemuCond): void => cond(c, 'qemu_cond_init').init();
/** Destroys a condition variable (`qemu_cond_destroy`); `EBUSY` while threads wait on it. */
export const qemu_cond_destroy = (c: QemuCond): void => cond(c, 'qemu_cond_destroy').destroy();
/**
 * Wakes one thread waiting on `c`, if any (`qemu_cond_signal`). Allowed without holding the mutex; costs no
 * `Atomics.notify` when nobody sleeps. Same as {@link QemuCond.signal}.
 */
export const qemu_cond_signal = (c: QemuCond): void => cond(c, 'qemu_cond_signal').signal();
/**
 * Wakes every thread waiting on `c` (`qemu_cond_broadcast`), one after the other so that they do not all
 * fight for the mutex at once. Same as {@link QemuCond.broadcast}.
 */
export const qemu_cond_broadcast = (c: QemuCond): void => cond(c, 'qemu_cond_broadcast').broadcast();
/**
 * Releases `m`, sleeps until `c` is signalled, and takes `m` again (`qemu_cond_wait`). Wake-ups may be
 * spurious: call it in a loop on your condition. `EPERM` unless the calling thread holds `m`. Same as
 * {@link QemuCond.wait}.
 */
export const qemu_cond_wait = (c: QemuCond, m: QemuMutex): void =>
  cond(c, 'qemu_cond_wait').wait(mutex(m, 'qemu_cond_wait'));
/**
 * As {@link qemu_cond_wait}, for at most `ms` milliseconds (`qemu_cond_timedwait`): false if and only if it
 * timed out; `ms = 0` times out at once. `EINVAL` for a negative, `NaN` or infinite `ms`.
 */
export const qemu_cond_timedwait = (c: QemuCond, m: QemuMutex, ms: number): boolean =>
  cond(c, 'qemu_cond_timedwait').timedWait(mutex(m, 'qemu_cond_timedwait'), ms);

// QemuSemaphore
/**
 * Initializes a semaphore with `init` units (`qemu_sem_init`), an integer from 0 to 4294967295 (`EINVAL`
 * otherwise). Same as {@link QemuSemaphore.init}.
 */
export const qemu_sem_init = (s: QemuSemaphore, init: number): void => sem(s, 'qemu_sem_init').init(init);
/** Destroys a semaphore (`qemu_sem_destroy`); `EBUSY` while threads sleep on it. */
export const qemu_sem_destroy = (s: QemuSemaphore): void => sem(s, 'qemu_sem_destroy').destroy();
/**
 * Adds one unit and wakes one sleeper, if any (`qemu_sem_post`); `EINVAL` when the count is already
 * 4294967295. Same as {@link QemuSemaphore.post}.
 */
export const qemu_sem_post = (s: QemuSemaphore): void => sem(s, 'qemu_sem_post').post();
/** Takes one unit, sleeping until one is available (`qemu_sem_wait`). Same as {@link QemuSemaphore.wait}. */
export const qemu_sem_wait = (s: QemuSemaphore): void => sem(s, 'qemu_sem_wait').wait();
/**
 * As {@link qemu_sem_wait}, for at most `ms` milliseconds (`qemu_sem_timedwait`): 0 if it took a unit, -1 on
 * time-out (then no unit was taken); `ms = 0` never sleeps.
 */
export const qemu_sem_timedwait = (s: QemuSemaphore, ms: number): number =>
  sem(s, 'qemu_sem_timedwait').timedWait(ms) ? 0 : -1;

// QemuEvent
/** Initializes a manual-reset event, set or not (`qemu_event_init`); same as {@link QemuEvent.init}. */
export const qemu_event_init = (e: QemuEvent, init: boolean): void => event(e, 'qemu_event_init').init(init);
/** Destroys an event (`qemu_event_destroy`); `EBUSY` while threads wait on it. */
export const qemu_event_destroy = (e: QemuEvent): void => event(e, 'qemu_event_destroy').destroy();
/** Sets an event, waking every waiter (`qemu_event_set`); it stays set until reset. */
export const qemu_event_set = (e: QemuEvent): void => event(e, 'qemu_event_set').set();
/** Clears an event (`qemu_event_reset`); waiters sleep again until the next set. */
export const qemu_event_reset = (e: QemuEvent): void => event(e, 'qemu_event_reset').reset();
/** Returns once the event is set (`qemu_event_wait`), at once if it is. Same as {@link QemuEvent.wait}. */
export const qemu_event_wait = (e: QemuEvent): void => event(e, 'qemu_event_wait').wait();
/**
 * As {@link qemu_event_wait}, for at most `ms` milliseconds (`qemu_event_timedwait`): false if and only if it
 * timed out.
 */
export const qemu_event_timedwait = (e: QemuEvent, ms: number): boolean =>
  event(e, 'qemu_event_timedwait').timedWait(ms);

// QemuSpin
/** Initializes a spinlock (`qemu_spin_init`); same as {@link QemuSpin.init}. */
export const qemu_spin_init = (s: QemuSpin): void => spin(s, 'qemu_spin_init').init();
/** Destroys a spinlock (`qemu_spin_destroy`); `EBUSY` while it is held. */
export const qemu_spin_destroy = (s: QemuSpin): void => spin(s, 'qemu_spin_destroy').destroy();
/**
 * Takes a spinlock, spinning (then napping) while another thread holds it (`qemu_spin_lock`). `EDEADLK` if
 * the calling thread holds it.
 */
export const qemu_spin_lock = (s: QemuSpin): void => spin(s, 'qemu_spin_lock').lock();
/**
 * Takes a spinlock if it is free (`qemu_spin_trylock`), with QEMU's inverted result: true when it FAILED
 * (busy), false when it took the lock. The method {@link QemuSpin.tryLock} returns true on success.
 */
export const qemu_spin_trylock = (s: QemuSpin): boolean => !spin(s, 'qemu_spin_trylock').tryLock();
/** Whether anyone holds the spinlock now (`qemu_spin_locked`), a racy snapshot. */
export const qemu_spin_locked = (s: QemuSpin): boolean => spin(s, 'qemu_spin_locked').isLocked();
/** Releases a spinlock the calling thread holds (`qemu_spin_unlock`); `EPERM` otherwise. */
export const qemu_spin_unlock = (s: QemuSpin): void => spin(s, 'qemu_spin_unlock').unlock();

// QemuLockCnt
/** Initializes a lock-and-counter (`qemu_lockcnt_init`): count 0, lock free. See {@link QemuLockCnt}. */
export const qemu_lockcnt_init = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_init').init();
/** Destroys a lockcnt (`qemu_lockcnt_destroy`); `EBUSY` while its lock is held. */
export const qemu_lockcnt_destroy = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_destroy').destroy();
/** Adds a visitor (`qemu_lockcnt_inc`); while the count is 0 it first waits for the lock to be free. */
export const qemu_lockcnt_inc = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_inc').inc();
/** Removes a visitor (`qemu_lockcnt_dec`); `EINVAL` if the count is already 0. */
export const qemu_lockcnt_dec = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_dec').dec();
/**
 * Removes a visitor (`qemu_lockcnt_dec_and_lock`); true means the count reached 0 and the call returned
 * holding the lock (to free what the visitors used).
 */
export const qemu_lockcnt_dec_and_lock = (l: QemuLockCnt): boolean =>
  lockcnt(l, 'qemu_lockcnt_dec_and_lock').decAndLock();
/**
 * If the count is 1, makes it 0 and returns true holding the lock (`qemu_lockcnt_dec_if_lock`); otherwise
 * returns false and changes nothing.
 */
export const qemu_lockcnt_dec_if_lock = (l: QemuLockCnt): boolean =>
  lockcnt(l, 'qemu_lockcnt_dec_if_lock').decIfLock();
/** Takes the lockcnt's lock, leaving the count as it is (`qemu_lockcnt_lock`). */
export const qemu_lockcnt_lock = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_lock').lock();
/** Releases the lockcnt's lock (`qemu_lockcnt_unlock`); `EPERM` unless the calling thread holds it. */
export const qemu_lockcnt_unlock = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_unlock').unlock();
/** Adds a visitor and releases the lock, as one atomic step (`qemu_lockcnt_inc_and_unlock`). */
export const qemu_lockcnt_inc_and_unlock = (l: QemuLockCnt): void =>
  lockcnt(l, 'qemu_lockcnt_inc_and_unlock').incAndUnlock();
/** The number of visitors (`qemu_lockcnt_count`); exact only while the lock is held. */
export const qemu_lockcnt_count = (l: QemuLockCnt): number => lockcnt(l, 'qemu_lockcnt_count').count();

// QemuThread
/**
 * Starts a thread that runs `fn(arg)` (QEMU's `qemu_thread_create`), on a Node worker or a browser module
 * Web Worker. Same as {@link QemuThread.start}.
 *
 * A function cannot be sent to another thread, so `fn` names it: the URL of an ES module (JavaScript, or
 * TypeScript when the program runs under tsx or a Node.js that strips types), with the export's name in
 * the fragment (`new URL('./vcpu.js#vcpuThreadFn', import.meta.url)`; no fragment means the default
 * export). The new thread imports that module and calls the export with `arg`, a structured clone: plain
 * data arrives copied, while `SharedArrayBuffer`s and the library's primitives, at any depth, arrive as the
 * same shared memory. `name` names the thread in trace output, errors and (with
 * {@link qemu_thread_naming}) the worker. `mode` is {@link QEMU_THREAD_JOINABLE} (join it with
 * {@link qemu_thread_join}) or {@link QEMU_THREAD_DETACHED}; it may be left out (joinable).
 *
 * Typed: name `fn` with {@link threadFunction} and the compiler checks that the export exists and is a
 * function, that `arg` is what it takes, and that it returns what `t` (a `QemuThread<R>`) is declared to
 * hold, so that {@link qemu_thread_join} returns an `R`.
 *
 * `EINVAL` for a relative or malformed URL, a module that does not exist, one whose source shows it has no
 * such export, a bad `mode` or an `arg` that cannot be cloned; `EBUSY` if `t` refers to a thread that is
 * running or was not joined. An export that is missing or not a function is an `EINVAL` too, reported by
 * the join when the create could not tell.
 *
 * @example
 * ```ts
 * // square.ts: the thread's module
 * export function square(n: number): number {
 *   return n * n;
 * }
 * ```
 * ```ts
 * import { QemuThread, qemu_thread_create, qemu_thread_join, threadFunction } from 'qemu-thread';
 * import type * as Square from './square.js';
 *
 * const square = threadFunction<typeof Square>()(new URL('./square.js', import.meta.url), 'square');
 * const t = new QemuThread<number>();
 * qemu_thread_create(t, 'square', square, 7); // '7' or a QemuThread<string> would not compile
 * console.log(qemu_thread_join(t)); // 49
 *
 * // Untyped, with the export in the URL's fragment: the join returns unknown.
 * const u = new QemuThread();
 * qemu_thread_create(u, 'square', new URL('./square.js#square', import.meta.url), 8);
 * console.log(qemu_thread_join(u)); // 64
 * ```
 */
export function qemu_thread_create<R, Fn extends ThreadFunctionFor<R>>(
  t: QemuThread<R>,
  name: string | null,
  fn: Fn,
  arg: ThreadArg<Fn>,
  mode: QemuThreadMode = QEMU_THREAD_JOINABLE,
): void {
  startThread(thread(t, 'qemu_thread_create'), name, fn, arg, mode);
}
/**
 * Waits for a joinable thread to end and returns its function's return value, or what it passed to
 * {@link qemu_thread_exit} (`qemu_thread_join`), as a structured clone: an `R` for a `QemuThread<R>`. If
 * the thread died of an exception, or ended without returning (terminated, its runtime exited), throws a
 * {@link QemuThreadFailure} naming the thread, whose `cause` is the exception (name, message and stack kept;
 * `code`, `errno` and `func` too for a {@link QemuThreadError}).
 * Any thread may join, not only the creator. `EINVAL` if the thread is detached or already joined, or its
 * export is missing or not a function; `EDEADLK` for the calling thread itself; `ESRCH` if `t` was never
 * started. See {@link qemu_thread_create} for an example.
 */
export const qemu_thread_join = <R>(t: QemuThread<R>): R => thread(t, 'qemu_thread_join').join();
/**
 * Ends the calling thread with `retval`, which its joiner receives (`qemu_thread_exit`); never returns.
 * At-exit notifiers run first. `EPERM` on a thread that {@link qemu_thread_create} did not start.
 */
export const qemu_thread_exit = (retval: unknown): never => exitThread(retval);
/** Makes `t` refer to the calling thread (`qemu_thread_get_self`), for {@link qemu_thread_is_self}. */
export const qemu_thread_get_self = (t: QemuThread): void => thread(t, 'qemu_thread_get_self').getSelf();
/** Whether `t` refers to the calling thread (`qemu_thread_is_self`). */
export const qemu_thread_is_self = (t: QemuThread): boolean => thread(t, 'qemu_thread_is_self').isSelf();
/**
 * Adds a notifier that runs when the calling thread's function returns or calls {@link qemu_thread_exit}
 * (`qemu_thread_atexit_add`); notifiers run most recently added first.
 */
export const qemu_thread_atexit_add = (n: Notifier): void => atexitAdd(n);
/**
 * Removes a notifier added by {@link qemu_thread_atexit_add} (`qemu_thread_atexit_remove`); `EINVAL` if it is
 * not on the calling thread's list.
 */
export const qemu_thread_atexit_remove = (n: Notifier): void => atexitRemove(n);
/**
 * Turns thread naming on or off (`qemu_thread_naming`): threads created afterwards from the calling thread
 * get their `name` as their worker's name (shown by debuggers and profilers).
 */
export const qemu_thread_naming = (enable: boolean): void => setNaming(enable);

/** ENOSYS, "Function not implemented": what the affinity calls return, negated. */
const ENOSYS = 38;
/**
 * Would bind thread `t` to the host CPUs whose bits are set in `hostCpus`, `nbits` bits long
 * (`qemu_thread_set_affinity`). Returns -ENOSYS (-38), as QEMU's builds without thread affinity do: a
 * JavaScript worker cannot be bound to CPUs. QEMU's callers (vCPU thread binding) report that and run
 * unbound. `t` must still be a thread handle (a `TypeError` otherwise).
 *
 * @example
 * ```ts
 * import { QemuThread, qemu_thread_get_affinity, qemu_thread_get_self, qemu_thread_set_affinity } from 'qemu-thread';
 *
 * const t = new QemuThread();
 * qemu_thread_get_self(t);
 * console.log(qemu_thread_set_affinity(t, [0b11], 2), qemu_thread_get_affinity(t)); // -38 -38
 * ```
 */
export const qemu_thread_set_affinity = (
  t: QemuThread,
  hostCpus: ArrayLike<number>,
  nbits: number,
): number => {
  thread(t, 'qemu_thread_set_affinity');
  void hostCpus;
  void nbits;
  return -ENOSYS;
};
/**
 * Would report the host CPUs thread `t` is bound to (`qemu_thread_get_affinity`, whose C form fills a bit
 * map and its length): returns -ENOSYS (-38) and reports nothing, as {@link qemu_thread_set_affinity}.
 */
export const qemu_thread_get_affinity = (t: QemuThread): number => {
  thread(t, 'qemu_thread_get_affinity');
  return -ENOSYS;
};

// Async variants, for threads that must not block (a browser's window thread, any event loop). Each
// returns a Promise with the blocking call's result, rejects with its errors (argument errors included),
// takes an optional `{ signal }` to cancel, and interoperates with blocking callers (park.ts).
/**
 * As {@link qemu_mutex_lock}, without blocking the calling thread: resolves holding the lock. For a browser's
 * window thread or any thread with an event loop to keep running; cancel with `options.signal`.
 */
export const qemu_mutex_lock_async = async (m: QemuMutex, options?: WaitOptions): Promise<void> =>
  mutex(m, 'qemu_mutex_lock').lockAsync(options);
/** As {@link qemu_rec_mutex_lock}, without blocking the calling thread. */
export const qemu_rec_mutex_lock_async = async (m: QemuRecMutex, options?: WaitOptions): Promise<void> =>
  recMutex(m, 'qemu_rec_mutex_lock').lockAsync(options);
/**
 * As {@link qemu_cond_wait}, without blocking the calling thread. Resolves, or rejects (cancelled, or an
 * error of the relock), holding `m`.
 */
export const qemu_cond_wait_async = async (c: QemuCond, m: QemuMutex, options?: WaitOptions): Promise<void> =>
  cond(c, 'qemu_cond_wait').waitAsync(mutex(m, 'qemu_cond_wait'), options);
/**
 * As {@link qemu_cond_timedwait}, without blocking the calling thread: resolves false if and only if it timed
 * out, holding `m` either way.
 */
export const qemu_cond_timedwait_async = async (
  c: QemuCond,
  m: QemuMutex,
  ms: number,
  options?: WaitOptions,
): Promise<boolean> =>
  cond(c, 'qemu_cond_timedwait').timedWaitAsync(mutex(m, 'qemu_cond_timedwait'), ms, options);
/** As {@link qemu_sem_wait}, without blocking the calling thread. A cancelled wait took no unit. */
export const qemu_sem_wait_async = async (s: QemuSemaphore, options?: WaitOptions): Promise<void> =>
  sem(s, 'qemu_sem_wait').waitAsync(options);
/**
 * As {@link qemu_sem_timedwait}, without blocking the calling thread: resolves 0 if it took a unit, -1 on
 * time-out (then no unit was taken).
 */
export const qemu_sem_timedwait_async = async (
  s: QemuSemaphore,
  ms: number,
  options?: WaitOptions,
): Promise<number> => ((await sem(s, 'qemu_sem_timedwait').timedWaitAsync(ms, options)) ? 0 : -1);
/** As {@link qemu_event_wait}, without blocking the calling thread. */
export const qemu_event_wait_async = async (e: QemuEvent, options?: WaitOptions): Promise<void> =>
  event(e, 'qemu_event_wait').waitAsync(options);
/**
 * As {@link qemu_event_timedwait}, without blocking the calling thread: resolves false if and only if it
 * timed out.
 */
export const qemu_event_timedwait_async = async (
  e: QemuEvent,
  ms: number,
  options?: WaitOptions,
): Promise<boolean> => event(e, 'qemu_event_timedwait').timedWaitAsync(ms, options);
/**
 * As {@link qemu_thread_join}, without blocking the calling thread: resolves to the thread's return value,
 * rejects with the {@link QemuThreadFailure} of a thread that did not return. A cancelled join leaves the
 * thread joinable.
 */
export const qemu_thread_join_async = async <R>(t: QemuThread<R>, options?: WaitOptions): Promise<R> =>
  thread(t, 'qemu_thread_join').joinAsync(options);

// QSP, the synchronization profiler
/** Turns the synchronization profiler on, in every thread of the process (QEMU's `qsp_enable`). */
export const qsp_enable = (): void => qspEnable();
/** Turns the profiler off; what it recorded is kept (`qsp_disable`). */
export const qsp_disable = (): void => qspDisable();
/** Whether the profiler is on (`qsp_is_enabled`). */
export const qsp_is_enabled = (): boolean => qspIsEnabled();
/** Makes later reports show only what happens from now on (`qsp_reset`). */
export const qsp_reset = (): void => qspReset();
/**
 * Prints QEMU's profiler table to stdout (`qsp_report`): at most `max` rows, sorted by total
 * ({@link QSP_SORT_BY_TOTAL_WAIT_TIME}) or average ({@link QSP_SORT_BY_AVG_WAIT_TIME}) wait, with one row per
 * call site when `callsiteCoalesce` (one per call site and object otherwise). {@link qspReportText} returns
 * it as a string.
 */
export const qsp_report = (
  max: number,
  sortBy = QSP_SORT_BY_TOTAL_WAIT_TIME,
  callsiteCoalesce = true,
): void => platform.writeStdout(qspReportText(max, sortBy, callsiteCoalesce));
