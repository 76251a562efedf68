/**
 * QemuLockCnt under the model checker, with the use QEMU makes of it: visitors `inc` before they look at a
 * shared object and leave with `decAndLock`; a reclaimer takes the lock, unpublishes the object, and frees
 * it if the count is 0, or else leaves that to the last visitor (who gets the lock when the count drops to
 * 0). The rule checked: the count cannot go 0 -> 1 while the lock is held, so a visitor never sees a freed
 * object, the object is freed exactly once, and nobody is left waiting for the lock.
 */
import { defineScenario, lockcnt, word } from '../scenario.js';

type A = { l: import('qemu-thread').QemuLockCnt; published: Int32Array; freed: Int32Array };

function free(a: A): void {
  if (Atomics.add(a.freed, 0, 1) !== 0) throw new Error('the object was freed twice');
}

function visitor(a: A): void {
  a.l.inc();
  if (Atomics.load(a.published, 0) !== 0 && Atomics.load(a.freed, 0) !== 0) {
    throw new Error('a visitor found a published object already freed');
  }
  if (a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a);
    a.l.unlock();
  }
}

function reclaimer(a: A): void {
  a.l.lock();
  Atomics.store(a.published, 0, 0);
  if (a.l.count() === 0) free(a);
  a.l.unlock();
}

export const lockcntVisitors = defineScenario({
  name: 'lockcnt: 2 visitors vs reclaimer',
  parts: { l: lockcnt, published: word, freed: word },
  setup: (a) => {
    a.l.init();
    Atomics.store(a.published, 0, 1);
  },
  threads: [visitor, visitor, reclaimer],
  check: (a) => (a.freed[0] === 1 ? null : `the object was freed ${a.freed[0]} times, expected once`),
});

/**
 * A visitor that tries decIfLock first; when it was not the last, it leaves with decAndLock (a plain dec
 * could race with the last visitor's exit and leave the object unfreed: a leak the checker finds).
 */
function lastOutFrees(a: A): void {
  a.l.inc();
  if (Atomics.load(a.published, 0) !== 0 && Atomics.load(a.freed, 0) !== 0) {
    throw new Error('a visitor found a published object already freed');
  }
  if (a.l.decIfLock() || a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a);
    a.l.unlock();
  }
}

/** Enters under the lock (incAndUnlock: count 0 -> 1 with the lock held, which only the holder may do). */
function lockedEntry(a: A): void {
  a.l.lock();
  const published = Atomics.load(a.published, 0) !== 0;
  a.l.incAndUnlock();
  if (published && Atomics.load(a.freed, 0) !== 0)
    throw new Error('freed while a visitor entered under the lock');
  if (a.l.decAndLock()) {
    if (Atomics.load(a.published, 0) === 0 && Atomics.load(a.freed, 0) === 0) free(a);
    a.l.unlock();
  }
}

export const lockcntDecIfLock = defineScenario({
  name: 'lockcnt: decIfLock / incAndUnlock visitors vs reclaimer',
  parts: { l: lockcnt, published: word, freed: word },
  setup: (a) => {
    a.l.init();
    Atomics.store(a.published, 0, 1);
  },
  threads: [lastOutFrees, lockedEntry, reclaimer],
  check: (a) => (a.freed[0] === 1 ? null : `the object was freed ${a.freed[0]} times, expected once`),
});
