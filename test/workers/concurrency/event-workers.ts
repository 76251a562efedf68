/**
 * Thread functions for concurrency-event.test.ts: several waiters released together by one qemu_event_set,
 * and QEMU's `reset(); if (!done) wait();` idiom with one waiter and several setters, or in lockstep.
 */
import {
  type QemuEvent,
  type QemuSemaphore,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_event_wait,
  qemu_sem_post,
} from 'qemu-thread';
import { publishOsThread } from '../../support/os-thread.js';
import { markDone } from './helpers.js';

// ---- all waiters released by one set -------------------------------------------------------------------

export const ROUND = 0;
export const EV_STOP = 1;
export const RELEASED = 2;
export const ALL_WORDS = 3;

export interface AllWaitersArg {
  id: number;
  /** Round r waits on events[r % 2]: the main thread resets the one not in use, never one being waited on. */
  events: [QemuEvent, QemuEvent];
  ack: QemuSemaphore;
  data: Int32Array;
  rounds: number;
  done: Int32Array;
  /** os[id]: this waiter's kernel thread id (test/support/os-thread.ts). */
  os: Int32Array;
}

/** For each round: qemu_event_wait until the main thread has opened it, then acknowledge. */
export function roundWaiter(arg: AllWaitersArg): number {
  const { events, ack, data } = arg;
  let r = 1;
  publishOsThread(arg.os, arg.id);
  try {
    for (; r <= arg.rounds; r++) {
      while (Atomics.load(data, ROUND) < r && !Atomics.load(data, EV_STOP)) qemu_event_wait(events[r % 2]);
      if (Atomics.load(data, EV_STOP)) break;
      Atomics.add(data, RELEASED, 1);
      qemu_sem_post(ack);
    }
    return r - 1;
  } finally {
    markDone(arg.done);
  }
}

// ---- the reset / check / wait idiom -------------------------------------------------------------------------

export const PROGRESS = 0;
export const WAITS = 1;
export const IDIOM_WORDS = 2;

/**
 * QEMU's idiom: `for (;;) { reset(ev); if (ready()) return; wait(ev); }`, with a watchdog. A wait that
 * lasts the whole watchdog period is a failure: if `ready()` has become true meanwhile, the set that made
 * it so was lost (the setter makes the condition true before it sets); otherwise, with no change in
 * `progress()`, it is a stall. (The elapsed time is checked, not just the result: qemu_event_timedwait
 * reports true, not a time-out, if the event happens to be set when its time runs out, which is exactly
 * what a lost wake-up looks like.)
 */
export function idiomWait(
  ev: QemuEvent,
  ready: () => boolean,
  progress: () => number,
  watchdogMs: number,
  what: string,
): number {
  let waits = 0;
  for (;;) {
    qemu_event_reset(ev);
    if (ready()) return waits;
    const before = progress();
    waits++;
    const t0 = performance.now();
    const woken = qemu_event_timedwait(ev, watchdogMs);
    if (!woken || performance.now() - t0 >= watchdogMs) {
      if (ready()) throw new Error(`${what}: lost wake-up: slept ${watchdogMs} ms although it was set`);
      if (progress() === before) throw new Error(`${what}: stalled for ${watchdogMs} ms`);
    }
  }
}

export interface IdiomArg {
  ev: QemuEvent;
  /** Word PROGRESS: how many increments the setters made so far. */
  data: Int32Array;
  increments: number;
  setters: number;
  watchdogMs: number;
  done: Int32Array;
}

/** Makes `increments` increments of data[PROGRESS], setting the event after each one. */
export function idiomSetter(arg: IdiomArg): number {
  try {
    for (let i = 0; i < arg.increments; i++) {
      Atomics.add(arg.data, PROGRESS, 1);
      qemu_event_set(arg.ev);
    }
    return arg.increments;
  } finally {
    markDone(arg.done);
  }
}

/**
 * Waits, with the idiom, for every total from 1 to setters * increments in turn. Returns how many times it
 * actually had to wait.
 */
export function idiomWaiter(arg: IdiomArg): number {
  const { ev, data } = arg;
  const total = arg.setters * arg.increments;
  let waits = 0;
  try {
    for (let target = 1; target <= total; target++) {
      waits += idiomWait(
        ev,
        () => Atomics.load(data, PROGRESS) >= target,
        () => Atomics.load(data, PROGRESS),
        arg.watchdogMs,
        `idiom waiter at ${target}/${total}`,
      );
    }
    Atomics.add(data, WAITS, waits);
    return waits;
  } finally {
    markDone(arg.done);
  }
}

// ---- lockstep: two events, each with one waiter and one setter -------------------------------------------

export const REQUEST = 0;
export const ANSWER = 1;
export const ABORTED = 2;
export const LOCKSTEP_WORDS = 3;

export interface LockstepArg {
  request: QemuEvent;
  answer: QemuEvent;
  data: Int32Array;
  rounds: number;
  watchdogMs: number;
  done?: Int32Array;
}

/** The answering side: for each round, waits for REQUEST >= r, then ANSWER = r and sets `answer`. */
export function lockstepAnswerer(arg: LockstepArg): number {
  const { data } = arg;
  try {
    for (let r = 1; r <= arg.rounds; r++) {
      idiomWait(
        arg.request,
        () => Atomics.load(data, REQUEST) >= r || Atomics.load(data, ABORTED) !== 0,
        () => Atomics.load(data, ANSWER),
        arg.watchdogMs,
        `answerer at round ${r}`,
      );
      if (Atomics.load(data, ABORTED)) throw new Error('lockstep: the requesting side failed');
      Atomics.store(data, ANSWER, r);
      qemu_event_set(arg.answer);
    }
    return arg.rounds;
  } catch (error) {
    Atomics.store(data, ABORTED, 1);
    qemu_event_set(arg.answer);
    throw error;
  } finally {
    if (arg.done) markDone(arg.done);
  }
}

/** The requesting side: for each round, REQUEST = r, sets `request`, waits for ANSWER >= r. */
export function lockstepRequester(arg: LockstepArg): number {
  const { data } = arg;
  try {
    for (let r = 1; r <= arg.rounds; r++) {
      Atomics.store(data, REQUEST, r);
      qemu_event_set(arg.request);
      idiomWait(
        arg.answer,
        () => Atomics.load(data, ANSWER) >= r || Atomics.load(data, ABORTED) !== 0,
        () => Atomics.load(data, REQUEST),
        arg.watchdogMs,
        `requester at round ${r}`,
      );
      if (Atomics.load(data, ABORTED)) throw new Error('lockstep: the answering side failed');
    }
    return arg.rounds;
  } catch (error) {
    Atomics.store(data, ABORTED, 1);
    qemu_event_set(arg.request);
    throw error;
  } finally {
    if (arg.done) markDone(arg.done);
  }
}
