/**
 * The library's instrumentation, attached at the park layer's hooks (hooks.ts) when the entry point
 * loads: QEMU's trace events (trace/trace.ts), the synchronization profiler (trace/qsp.ts), holder and
 * waiter records (trace/holders.ts), where locks were taken and waited for (thread/lock-sites.ts),
 * deadlock detection (thread/deadlock.ts) and the waits table (thread/waits.ts). No primitive imports any
 * of these: each primitive calls its hooks at the same few points, blocking and async alike, so every
 * wait is recorded, traced and profiled the same way.
 *
 * What attaches where:
 * - beforeSleep / afterWake (every sleep of a wait): the waiter record of a mutex or cond, which
 *   `waiters()` and `parkedThreads()` read; a lock waiter's deadlock edge.
 * - stillBlocked (a lock wait's slice ended, the lock still held): where the thread waits, and the
 *   deadlock check (EDEADLK). waitEnded: the edge and the site are cleared.
 * - arrive / depart (a counted waiter of a cond, semaphore or event): the waits table.
 * - lockBegin / acquired / released, condWaitBegin / condWaitEnd (only while tracing or the profiler is
 *   on): the trace events, the profiler's rows, when and where the holder took the mutex.
 * - point: the lockcnt's trace events.
 */
import { installHooks, KIND_COND, KIND_MUTEX, KIND_REC_MUTEX, NESTED, type Probe, TRYING } from './hooks.js';
import { ownerThread } from './owner.js';
import { platform } from './platform/index.js';
import { blockedFor, CHECK_AFTER_MS, noteBlocked, noteUnblocked, refuseDeadlock } from './thread/deadlock.js';
import { forgetWaitSite, noteTakenSite, noteWaitSite, waitSiteOf } from './thread/lock-sites.js';
import { enterWait, leaveWait, liveWaitersOf } from './thread/waits.js';
import { heldSinceMs, noteAwake, noteHeld, noteReleased, noteWaiting, waitersOf } from './trace/holders.js';
import { type QspType, qspRecord } from './trace/qsp.js';
import {
  callSite,
  type LockcntEvent,
  QSP_BIT,
  traceCondWaitBegin,
  traceControl,
  traceLock,
  traceLockcnt,
  traceLocked,
  traceUnlock,
} from './trace/trace.js';

const me = platform.threadId;

/** The profiler's row type of a lock call. */
function qspType(kind: number): QspType {
  return kind === KIND_REC_MUTEX ? 'rec_mutex' : kind === KIND_COND ? 'condvar' : 'mutex';
}

/** Whether the profiler is on: then a probe carries its start time. */
function profiling(): boolean {
  return (traceControl[0] & QSP_BIT) !== 0;
}

function probe(kind: number, id: number, mutexId: number, flags: number, site: string): Probe {
  return { kind, id, mutexId, flags, site, start: profiling() ? performance.now() : -1 };
}

/** Adds the call's time (and an acquisition, if `taken`) to the profiler, if it was on at the start. */
function profile(p: Probe, taken: boolean): void {
  if (p.start >= 0) qspRecord(qspType(p.kind), p.id, p.site, (performance.now() - p.start) * 1e6, taken);
}

/** A lock kind (mutex, rec mutex): its waits have an owner, so they take part in deadlock detection. */
const isLock = (kind: number) => kind === KIND_MUTEX || kind === KIND_REC_MUTEX;

installHooks({
  arrive: enterWait,
  depart: leaveWait,
  liveWaiters: liveWaitersOf,
  beforeSleep(kind, id, expected, first) {
    if (isLock(kind)) {
      noteBlocked(id, ownerThread(expected), first);
      return noteWaiting(id);
    }
    return kind === KIND_COND ? noteWaiting(-id) : -1;
  },
  afterWake: noteAwake,
  stillBlocked(kind, w, id, func, async) {
    if (!isLock(kind)) return;
    // Stuck for a while: now a stack capture costs nothing that matters, and names the code in a report.
    // (Not for an async waiter: its stack is the event loop's, not its caller's.)
    if (!async && waitSiteOf(me) === null) noteWaitSite(callSite());
    if (blockedFor() >= CHECK_AFTER_MS) refuseDeadlock(w, id, func, traceControl[0] !== 0);
  },
  waitEnded(kind) {
    if (!isLock(kind)) return;
    // However the call ends, this thread is no longer blocked: the deadlock check must never see it so.
    noteUnblocked();
    forgetWaitSite();
  },
  waitersOf,
  heldSince: heldSinceMs,

  lockBegin(kind, id, flags) {
    const site = callSite();
    if ((flags & TRYING) === 0) traceLock(id, site);
    return probe(kind, id, 0, flags, site);
  },
  acquired(p, taken) {
    profile(p, taken);
    if (!taken) return;
    // A nested lock of a recursive mutex is traced and profiled, but the holder records stay the first's.
    if ((p.flags & NESTED) === 0) {
      noteHeld(p.id);
      noteTakenSite(p.id, p.site);
    }
    traceLocked(p.id, p.site);
  },
  released(id, flags) {
    traceUnlock(id);
    if ((flags & NESTED) === 0) noteReleased(id);
  },
  condWaitBegin(condId, mutexId) {
    const site = callSite();
    traceCondWaitBegin(mutexId, site);
    noteReleased(mutexId);
    return probe(KIND_COND, condId, mutexId, 0, site);
  },
  condWaitEnd(p) {
    profile(p, true);
    noteHeld(p.mutexId);
    noteTakenSite(p.mutexId, p.site);
    traceLocked(p.mutexId, p.site);
  },
  point(name, id, a, b) {
    traceLockcnt(name as LockcntEvent, id, a, b);
  },
});
