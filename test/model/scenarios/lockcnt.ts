/**
 * QemuLockCnt under the model checker, with the use QEMU makes of it: visitors `inc` before they look at a
 * shared object and leave with `decAndLock`; a reclaimer takes the lock, unpublishes the object, and frees
 * it if the count is 0, or else leaves that to the last visitor (who gets the lock when the count drops to
 * 0). The rule checked: the count cannot go 0 -> 1 while the lock is held, so a visitor never sees a freed
 * object, the object is freed exactly once, and nobody is left waiting for the lock.
 */
import type { ThreadContext } from '../scenario.js';
import { defineScenario, lockcnt, type Part, word } from '../scenario.js';

/** What the bodies need of a lockcnt: QemuLockCnt and the broken ones all fit. */
export interface LockCntLike {
  init(): void;
  inc(): void;
  decAndLock(): boolean;
  decIfLock(): boolean;
  lock(): void;
  unlock(): void;
  incAndUnlock(): void;
  count(): number;
}

/** FREED: how many times the object was freed; FREED_BY: 1 + the index of the thread that freed it. */
type A = { l: LockCntLike; published: Int32Array; freed: Int32Array; freedBy: Int32Array };

function free(a: A, ctx: ThreadContext): void {
  if (Atomics.add(a.freed, 0, 1) !== 0) throw new Error('the object was freed twice');
  a.freedBy[0] = ctx.index + 1;
}

function visitor(a: A, ctx: ThreadContext): void {
  a.l.inc();
  if (Atomics.load(a.published, 0) !== 0 && Atomics.load(a.freed, 0) !== 0) {
    throw new Error('a visitor found a published object already freed');
  }
  if (a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a, ctx);
    a.l.unlock();
  }
}

function reclaimer(a: A, ctx: ThreadContext): void {
  a.l.lock();
  Atomics.store(a.published, 0, 0);
  if (a.l.count() === 0) free(a, ctx);
  a.l.unlock();
}

const freedOnce = (a: { freed: Int32Array }) =>
  a.freed[0] === 1 ? null : `the object was freed ${a.freed[0]} times, expected once`;
const freedBy = (a: { freedBy: Int32Array }) => `freed by T${a.freedBy[0]}`;

/** Two visitors and a reclaimer, on a given lockcnt part (QemuLockCnt, or a broken one). */
export function visitorsScenario(l: Part<unknown>, label: string) {
  const parts = { l, published: word, freed: word, freedBy: word };
  type P = import('../scenario.js').Arena<typeof parts>;
  const as = (f: (a: A, ctx: ThreadContext) => void) => f as unknown as (a: P, ctx: ThreadContext) => void;
  return defineScenario({
    name: `${label}: 2 visitors vs reclaimer`,
    parts,
    setup: (a) => {
      (a.l as LockCntLike).init();
      Atomics.store(a.published, 0, 1);
    },
    threads: [as(visitor), as(visitor), as(reclaimer)],
    check: freedOnce,
    outcome: freedBy,
  });
}

export const lockcntVisitors = visitorsScenario(lockcnt, 'lockcnt');

/**
 * A visitor that tries decIfLock first; when it was not the last, it leaves with decAndLock (a plain dec
 * could race with the last visitor's exit and leave the object unfreed: a leak the checker finds).
 */
function lastOutFrees(a: A, ctx: ThreadContext): void {
  a.l.inc();
  if (Atomics.load(a.published, 0) !== 0 && Atomics.load(a.freed, 0) !== 0) {
    throw new Error('a visitor found a published object already freed');
  }
  if (a.l.decIfLock() || a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a, ctx);
    a.l.unlock();
  }
}

/** Enters under the lock (incAndUnlock: count 0 -> 1 with the lock held, which only the holder may do). */
function lockedEntry(a: A, ctx: ThreadContext): void {
  a.l.lock();
  const published = Atomics.load(a.published, 0) !== 0;
  a.l.incAndUnlock();
  if (published && Atomics.load(a.freed, 0) !== 0)
    throw new Error('freed while a visitor entered under the lock');
  if (a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a, ctx);
    a.l.unlock();
  }
}

export const lockcntDecIfLock = defineScenario({
  name: 'lockcnt: decIfLock / incAndUnlock visitors vs reclaimer',
  parts: { l: lockcnt, published: word, freed: word, freedBy: word },
  setup: (a) => {
    a.l.init();
    Atomics.store(a.published, 0, 1);
  },
  threads: [lastOutFrees, lockedEntry, reclaimer],
  check: freedOnce,
  outcome: freedBy,
});
