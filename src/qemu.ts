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
} from './thread/thread.js';
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
const thread = (t: unknown, func: string) => (t instanceof QemuThread ? t : QemuThread.from(t, func));

// QemuMutex
export const qemu_mutex_init = (m: QemuMutex): void => mutex(m, 'qemu_mutex_init').init();
export const qemu_mutex_destroy = (m: QemuMutex): void => mutex(m, 'qemu_mutex_destroy').destroy();
// lock and unlock go straight to the lock word: they are the hottest calls a program makes. The imports
// they use get module-local names, which V8 reads faster than imported bindings (see mutex.ts).
const Mutex = QemuMutex;
const lockMutexWord = lockWord;
const unlockMutexWord = unlockWord;

export function qemu_mutex_lock(m: QemuMutex): void {
  lockMutexWord(m instanceof Mutex ? m.words : mutex(m, 'qemu_mutex_lock').words, 'qemu_mutex_lock');
}
/** 0 if it took the lock, -16 (-EBUSY) if anyone holds it, the caller included. */
export const qemu_mutex_trylock = (m: QemuMutex): number =>
  tryLockWord(mutex(m, 'qemu_mutex_trylock').words, 'qemu_mutex_trylock');
export function qemu_mutex_unlock(m: QemuMutex): void {
  unlockMutexWord(m instanceof Mutex ? m.words : mutex(m, 'qemu_mutex_unlock').words, 'qemu_mutex_unlock');
}

/** After EOWNERDEAD: the protected state is repaired, the mutex works normally again. */
export const qemu_mutex_consistent = (m: QemuMutex): void => mutex(m, 'qemu_mutex_consistent').consistent();

// QemuRecMutex
export const qemu_rec_mutex_init = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_init').init();
export const qemu_rec_mutex_destroy = (m: QemuRecMutex): void =>
  recMutex(m, 'qemu_rec_mutex_destroy').destroy();
export const qemu_rec_mutex_lock = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_lock').lock();
/** 0 if it took (or nested) the lock, -16 (-EBUSY) if another thread holds it. */
export const qemu_rec_mutex_trylock = (m: QemuRecMutex): number =>
  recMutex(m, 'qemu_rec_mutex_trylock').tryLock() ? 0 : -16;
export const qemu_rec_mutex_consistent = (m: QemuRecMutex): void =>
  recMutex(m, 'qemu_rec_mutex_consistent').consistent();
export const qemu_rec_mutex_unlock = (m: QemuRecMutex): void => recMutex(m, 'qemu_rec_mutex_unlock').unlock();

// QemuCond
export const qemu_cond_init = (c: QemuCond): void => cond(c, 'qemu_cond_init').init();
export const qemu_cond_destroy = (c: QemuCond): void => cond(c, 'qemu_cond_destroy').destroy();
export const qemu_cond_signal = (c: QemuCond): void => cond(c, 'qemu_cond_signal').signal();
export const qemu_cond_broadcast = (c: QemuCond): void => cond(c, 'qemu_cond_broadcast').broadcast();
export const qemu_cond_wait = (c: QemuCond, m: QemuMutex): void =>
  cond(c, 'qemu_cond_wait').wait(mutex(m, 'qemu_cond_wait'));
/** false if and only if it timed out; `ms` is relative, in milliseconds. */
export const qemu_cond_timedwait = (c: QemuCond, m: QemuMutex, ms: number): boolean =>
  cond(c, 'qemu_cond_timedwait').timedWait(mutex(m, 'qemu_cond_timedwait'), ms);

// QemuSemaphore
export const qemu_sem_init = (s: QemuSemaphore, init: number): void => sem(s, 'qemu_sem_init').init(init);
export const qemu_sem_destroy = (s: QemuSemaphore): void => sem(s, 'qemu_sem_destroy').destroy();
export const qemu_sem_post = (s: QemuSemaphore): void => sem(s, 'qemu_sem_post').post();
export const qemu_sem_wait = (s: QemuSemaphore): void => sem(s, 'qemu_sem_wait').wait();
/** 0 if it took a unit, -1 on time-out (then no unit was taken). */
export const qemu_sem_timedwait = (s: QemuSemaphore, ms: number): number =>
  sem(s, 'qemu_sem_timedwait').timedWait(ms) ? 0 : -1;

// QemuEvent
export const qemu_event_init = (e: QemuEvent, init: boolean): void => event(e, 'qemu_event_init').init(init);
export const qemu_event_destroy = (e: QemuEvent): void => event(e, 'qemu_event_destroy').destroy();
export const qemu_event_set = (e: QemuEvent): void => event(e, 'qemu_event_set').set();
export const qemu_event_reset = (e: QemuEvent): void => event(e, 'qemu_event_reset').reset();
export const qemu_event_wait = (e: QemuEvent): void => event(e, 'qemu_event_wait').wait();
/** false if and only if it timed out. */
export const qemu_event_timedwait = (e: QemuEvent, ms: number): boolean =>
  event(e, 'qemu_event_timedwait').timedWait(ms);

// QemuSpin
export const qemu_spin_init = (s: QemuSpin): void => spin(s, 'qemu_spin_init').init();
export const qemu_spin_destroy = (s: QemuSpin): void => spin(s, 'qemu_spin_destroy').destroy();
export const qemu_spin_lock = (s: QemuSpin): void => spin(s, 'qemu_spin_lock').lock();
/** QEMU's inverted convention: true when it FAILED to take the lock (busy). */
export const qemu_spin_trylock = (s: QemuSpin): boolean => !spin(s, 'qemu_spin_trylock').tryLock();
export const qemu_spin_locked = (s: QemuSpin): boolean => spin(s, 'qemu_spin_locked').isLocked();
export const qemu_spin_unlock = (s: QemuSpin): void => spin(s, 'qemu_spin_unlock').unlock();

// QemuLockCnt
export const qemu_lockcnt_init = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_init').init();
export const qemu_lockcnt_destroy = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_destroy').destroy();
export const qemu_lockcnt_inc = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_inc').inc();
export const qemu_lockcnt_dec = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_dec').dec();
/** true means it returned holding the lock (the count reached 0). */
export const qemu_lockcnt_dec_and_lock = (l: QemuLockCnt): boolean =>
  lockcnt(l, 'qemu_lockcnt_dec_and_lock').decAndLock();
/** true means the count was 1, is now 0, and the lock is held. */
export const qemu_lockcnt_dec_if_lock = (l: QemuLockCnt): boolean =>
  lockcnt(l, 'qemu_lockcnt_dec_if_lock').decIfLock();
export const qemu_lockcnt_lock = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_lock').lock();
export const qemu_lockcnt_unlock = (l: QemuLockCnt): void => lockcnt(l, 'qemu_lockcnt_unlock').unlock();
export const qemu_lockcnt_inc_and_unlock = (l: QemuLockCnt): void =>
  lockcnt(l, 'qemu_lockcnt_inc_and_unlock').incAndUnlock();
export const qemu_lockcnt_count = (l: QemuLockCnt): number => lockcnt(l, 'qemu_lockcnt_count').count();

// QemuThread
export const qemu_thread_create = (
  t: QemuThread,
  name: string | null,
  fn: URL | string,
  arg: unknown,
  mode: number = QEMU_THREAD_JOINABLE,
): void => thread(t, 'qemu_thread_create').start(name, fn, arg, mode);
/** The thread's return value (or qemu_thread_exit's argument); rethrows the exception it died of. */
export const qemu_thread_join = (t: QemuThread): unknown => thread(t, 'qemu_thread_join').join();
export const qemu_thread_exit = (retval: unknown): never => exitThread(retval);
export const qemu_thread_get_self = (t: QemuThread): void => thread(t, 'qemu_thread_get_self').getSelf();
export const qemu_thread_is_self = (t: QemuThread): boolean => thread(t, 'qemu_thread_is_self').isSelf();
export const qemu_thread_atexit_add = (n: Notifier): void => atexitAdd(n);
export const qemu_thread_atexit_remove = (n: Notifier): void => atexitRemove(n);
export const qemu_thread_naming = (enable: boolean): void => setNaming(enable);

// Async variants, for threads that must not block (a browser's window thread, any event loop). Each
// returns a Promise with the blocking call's result, rejects with its errors (argument errors included),
// takes an optional `{ signal }` to cancel, and interoperates with blocking callers (park.ts).
export const qemu_mutex_lock_async = async (m: QemuMutex, options?: WaitOptions): Promise<void> =>
  mutex(m, 'qemu_mutex_lock').lockAsync(options);
export const qemu_rec_mutex_lock_async = async (m: QemuRecMutex, options?: WaitOptions): Promise<void> =>
  recMutex(m, 'qemu_rec_mutex_lock').lockAsync(options);
/** Resolves, or rejects, holding `m`. */
export const qemu_cond_wait_async = async (c: QemuCond, m: QemuMutex, options?: WaitOptions): Promise<void> =>
  cond(c, 'qemu_cond_wait').waitAsync(mutex(m, 'qemu_cond_wait'), options);
/** Resolves false if and only if it timed out; holding `m` either way. */
export const qemu_cond_timedwait_async = async (
  c: QemuCond,
  m: QemuMutex,
  ms: number,
  options?: WaitOptions,
): Promise<boolean> =>
  cond(c, 'qemu_cond_timedwait').timedWaitAsync(mutex(m, 'qemu_cond_timedwait'), ms, options);
export const qemu_sem_wait_async = async (s: QemuSemaphore, options?: WaitOptions): Promise<void> =>
  sem(s, 'qemu_sem_wait').waitAsync(options);
/** Resolves 0 if it took a unit, -1 on time-out (then no unit was taken). */
export const qemu_sem_timedwait_async = async (
  s: QemuSemaphore,
  ms: number,
  options?: WaitOptions,
): Promise<number> => ((await sem(s, 'qemu_sem_timedwait').timedWaitAsync(ms, options)) ? 0 : -1);
export const qemu_event_wait_async = async (e: QemuEvent, options?: WaitOptions): Promise<void> =>
  event(e, 'qemu_event_wait').waitAsync(options);
/** Resolves false if and only if it timed out. */
export const qemu_event_timedwait_async = async (
  e: QemuEvent,
  ms: number,
  options?: WaitOptions,
): Promise<boolean> => event(e, 'qemu_event_timedwait').timedWaitAsync(ms, options);
/** The thread's return value; rejects with the exception it died of. */
export const qemu_thread_join_async = async (t: QemuThread, options?: WaitOptions): Promise<unknown> =>
  thread(t, 'qemu_thread_join').joinAsync(options);

// QSP, the synchronization profiler
export const qsp_enable = (): void => qspEnable();
export const qsp_disable = (): void => qspDisable();
export const qsp_is_enabled = (): boolean => qspIsEnabled();
export const qsp_reset = (): void => qspReset();
/** Prints QEMU's report table to stdout: at most `max` rows, by total or average wait, coalesced or not. */
export const qsp_report = (
  max: number,
  sortBy = QSP_SORT_BY_TOTAL_WAIT_TIME,
  callsiteCoalesce = true,
): void => platform.writeStdout(qspReportText(max, sortBy, callsiteCoalesce));
