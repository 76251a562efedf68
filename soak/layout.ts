/**
 * What the soak's main thread and its worker threads share: the kinds of activity, the word indexes of
 * the shared state, and the argument each thread receives. No side effects at import.
 */
import type {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
} from 'qemu-thread';

/** The activities, one per primitive (or classic pattern); each counts its completed operations. */
export const KINDS = [
  'mutex', // locked plain counter == atomic counter (QEMU's test-thread check), no overlap
  'rec-mutex', // nested twice; the section stays exclusive after the inner unlock
  'spin', // locked plain counter, no overlap
  'lockcnt', // visitors never see freed data; the count goes 0 -> 1 only while the lock is free
  'semaphore', // never more than K units in use; all K back at the end
  'event', // reset / check / wait rounds around a ring of threads; no set is missed
  'cond', // ping-pong between odd and even threads on a predicate under the mutex
  'buffer', // bounded buffer: every item consumed exactly once, in each producer's order
] as const;
export type Kind = (typeof KINDS)[number];

/** Word indexes of `SoakArg.words`. */
export const W = {
  STOP: 0,
  VIOLATIONS: 1,
  /** Completed operations per kind: OPS + kind index. */
  OPS: 2,
  /** Threads that have finished (returned or thrown). */
  DONE: 2 + KINDS.length,
  // mutex
  M_PLAIN: 3 + KINDS.length,
  M_ATOMIC: 4 + KINDS.length,
  M_INSIDE: 5 + KINDS.length,
  // rec mutex
  R_PLAIN: 6 + KINDS.length,
  R_ATOMIC: 7 + KINDS.length,
  R_INSIDE: 8 + KINDS.length,
  // spin
  S_PLAIN: 9 + KINDS.length,
  S_ATOMIC: 10 + KINDS.length,
  S_INSIDE: 11 + KINDS.length,
  // lockcnt: the "list" visitors read, and whether it is alive (0 = freed)
  L_PTR: 12 + KINDS.length,
  L_ALIVE: 13 + KINDS.length,
  // semaphore
  SEM_IN_USE: 14 + KINDS.length,
  // cond ping-pong: the ball under CM, and its shadow
  C_BALL: 15 + KINDS.length,
  C_SHADOW: 16 + KINDS.length,
  // bounded buffer: ring header, then slots
  B_HEAD: 17 + KINDS.length,
  B_FILL: 18 + KINDS.length,
  B_SLOTS: 19 + KINDS.length,
} as const;

/** Ring capacity of the bounded buffer. */
export const CAPACITY = 4;
/** Semaphore units. */
export const SEM_UNITS = 3;
/**
 * Per-thread words after the common ones: event flag, event sets done, items produced, items consumed,
 * next sequence number expected from it as a producer, operations completed (for the watchdog).
 */
export const PER_THREAD = 6;
export const T_FLAG = 0;
export const T_SET_DONE = 1;
export const T_PRODUCED = 2;
export const T_CONSUMED = 3;
/** Next sequence number expected from this producer (under the buffer mutex). */
export const T_EXPECT = 4;
export const T_PROGRESS = 5;

export const COMMON_WORDS = W.B_SLOTS + CAPACITY;

export function wordsFor(threads: number): number {
  return COMMON_WORDS + PER_THREAD * threads;
}

/** Index of thread `t`'s word `which`. */
export function threadWord(t: number, which: number): number {
  return COMMON_WORDS + PER_THREAD * t + which;
}

export interface SoakPrims {
  m: QemuMutex;
  r: QemuRecMutex;
  s: QemuSpin;
  l: QemuLockCnt;
  sem: QemuSemaphore;
  /** One event per thread: only its owner resets it (as in QEMU), its ring neighbour sets it. */
  events: QemuEvent[];
  cm: QemuMutex;
  cc: QemuCond;
  bm: QemuMutex;
  notFull: QemuCond;
  notEmpty: QemuCond;
}

export interface SoakArg {
  index: number;
  threads: number;
  words: Int32Array;
  p: SoakPrims;
  /** Seed of this thread's activity order. */
  seed: number;
  /** A deliberate bug, to show that the checks catch it (--inject-fault). */
  fault: Fault | null;
}

export const FAULTS = ['mutex', 'stall'] as const;
export type Fault = (typeof FAULTS)[number];

/** Buffer items pack (producer, sequence number). */
export const ITEM_SHIFT = 8;
