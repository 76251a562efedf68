// The guards' types (Disposable, Symbol.dispose) come from this lib: a project that imports qemu-thread
// gets it with these declarations, whatever its own "lib" setting.
/// <reference lib="esnext.disposable" preserve="true" />
/**
 * qemu-thread: QEMU's thread layer (QemuMutex, QemuRecMutex, QemuCond, QemuSemaphore, QemuEvent, QemuSpin,
 * QemuLockCnt, QemuThread) for JavaScript threads, on SharedArrayBuffer and Atomics.
 *
 * Every operation exists twice: as QEMU's function (`qemu_mutex_lock(m)`), with QEMU's names, argument
 * order and results, and as a method (`m.lock()`). Start with {@link qemu_thread_create} and
 * {@link QemuMutex}; the README has a five-minute start.
 *
 * @module qemu-thread
 */
// The instrumentation (trace events, the profiler, waiter records, deadlock detection) attaches to the
// primitives' hooks as the library loads.
import './instrument.js';

export {
  ERRNO,
  type ErrorMode,
  getErrorMode,
  type QemuErrorCode,
  QemuThreadError,
  QemuThreadFailure,
  setErrorMode,
  strerror,
} from './errors.js';
export { type Lockable, withLock } from './extras.js';
export type { Waiter } from './hooks.js';
export { type ParkStats, parkStats, resetParkStats, type WaitOptions } from './park.js';
export { QemuCond } from './primitives/cond.js';
export { QemuEvent } from './primitives/event.js';
export { QemuLockCnt } from './primitives/lockcnt.js';
export { QemuMutex } from './primitives/mutex.js';
export { QemuRecMutex } from './primitives/rec-mutex.js';
export { QemuSemaphore } from './primitives/semaphore.js';
export { QemuSpin } from './primitives/spin.js';
export * from './qemu.js';
export type { Notifier } from './thread/self.js';
export {
  currentThreadName,
  QEMU_THREAD_DETACHED,
  QEMU_THREAD_JOINABLE,
  QemuThread,
} from './thread/thread.js';
export {
  type AnyThreadFunction,
  type QemuThreadMode,
  type ThreadArg,
  type ThreadFunction,
  type ThreadFunctionFor,
  type ThreadFunctionNames,
  type ThreadResult,
  type ThreadStartArgs,
  threadFunction,
} from './thread/thread-function.js';
export {
  QSP_SORT_BY_AVG_WAIT_TIME,
  QSP_SORT_BY_TOTAL_WAIT_TIME,
  type QspRow,
  type QspType,
  qspReportText,
  qspRows,
  qspSetBql,
} from './trace/qsp.js';
export {
  parseTraceFile,
  TRACE_EVENTS,
  type TraceEventName,
  type TraceRecord,
  traceEnable,
  traceEventEnabled,
  traceMarkWrapper,
  traceSetFile,
  traceSetLog,
} from './trace/trace.js';
