/**
 * Deliberately broken mutexes and a broken recursive mutex, for the model checker to catch. Each one is
 * QemuMutex's algorithm (Drepper's "mutex2" with the owner in the word, src/primitives/mutex.ts) with one
 * realistic mistake, on the same word and values, and as much of the production code as the mistake leaves
 * (the production lock or unlock, from #internal/mutex). Not library code: the same scenarios
 * pass on the real QemuMutex and QemuRecMutex (scenarios/mutex.ts).
 *
 * - WakeBeforeFree: the contended unlock wakes a waiter before it stores FREE. The woken waiter may look
 *   before the store, see the lock still held, and park again; the store then wakes nobody. To show, a
 *   waiter must be parked (its locker preempted inside the critical section) and the woken one must run
 *   between the unlocker's two steps (the unlocker preempted): 2 preemptions.
 * - ForgetsContended: a locker that has parked takes the lock as plain SELF, not SELF | CONTENDED. Woken by
 *   an unlock, it cannot know whether others still sleep; its own unlock then takes the fast path and wakes
 *   nobody. Needs a second sleeper.
 * - StoresContended: a locker marks the lock contended with a plain store of `seen | CONTENDED` instead of a
 *   compareExchange from `seen`. If the owner unlocks between the locker's look and its store, the store
 *   writes a lock held by nobody, and the locker parks on it for good.
 * - RecMutexDepthAfterUnlock: the recursive unlock releases the lock word first and clears the depth after
 *   (the depth in an atomic word here, so that the race is visible at all). A thread that takes the lock in
 *   between sets the depth to 1, and the late clear sets it back to 0: its next unlock releases a lock it
 *   still holds. The locker must run inside the unlocker's window, and the unlocker inside the locker's.
 */
import { threadId } from 'node:worker_threads';
import { heldBySelf, lockWord, unlockWord } from '#internal/mutex';
import type { Part } from '../scenario.js';
import { exclusionScenario, nestingScenario } from '../scenarios/mutex.js';

/** The lock word's values (src/owner.ts). */
const FREE = 1;
const CONTENDED = 1;
const HELD_MIN = 8;
/** The calling thread's owner code, as owner.ts computes it. */
const self = () => (threadId + 2) << 2;
const LOCK = 0;

abstract class WordMutex {
  readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.w = new Int32Array(sab, byteOffset, 2);
  }

  init(): void {
    Atomics.store(this.w, LOCK, FREE);
  }

  lock(): void {
    lockWord(this.w, 'broken_mutex_lock');
  }

  unlock(): void {
    unlockWord(this.w, 'broken_mutex_unlock');
  }
}

export class WakeBeforeFree extends WordMutex {
  override unlock(): void {
    const me = self();
    if (Atomics.compareExchange(this.w, LOCK, me, FREE) === me) return;
    // The mistake: the wake-up goes out while the word still says "held".
    Atomics.notify(this.w, LOCK, 1);
    Atomics.store(this.w, LOCK, FREE);
  }
}

export class ForgetsContended extends WordMutex {
  override lock(): void {
    const me = self();
    for (;;) {
      const v = Atomics.load(this.w, LOCK);
      if (v === FREE) {
        // The mistake: production takes it as me | CONTENDED once it has parked.
        if (Atomics.compareExchange(this.w, LOCK, FREE, me) === FREE) return;
        continue;
      }
      if (v < HELD_MIN) throw new Error(`lock word ${v}`);
      if ((v & CONTENDED) === 0 && Atomics.compareExchange(this.w, LOCK, v, v | CONTENDED) !== v) continue;
      Atomics.wait(this.w, LOCK, v | CONTENDED);
    }
  }
}

export class StoresContended extends WordMutex {
  override lock(): void {
    const me = self();
    let mine = me;
    for (;;) {
      const v = Atomics.load(this.w, LOCK);
      if (v === FREE) {
        if (Atomics.compareExchange(this.w, LOCK, FREE, mine) === FREE) return;
        continue;
      }
      if (v < HELD_MIN) throw new Error(`lock word ${v}`);
      // The mistake: a store, which overwrites whatever happened to the word since the load.
      if ((v & CONTENDED) === 0) Atomics.store(this.w, LOCK, v | CONTENDED);
      Atomics.wait(this.w, LOCK, v | CONTENDED);
      mine = me | CONTENDED;
    }
  }
}

const DEPTH = 2;

export class RecMutexDepthAfterUnlock {
  readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.w = new Int32Array(sab, byteOffset, 3);
  }

  init(): void {
    Atomics.store(this.w, LOCK, FREE);
    Atomics.store(this.w, DEPTH, 0);
  }

  lock(): void {
    if (heldBySelf(this.w)) {
      Atomics.add(this.w, DEPTH, 1);
      return;
    }
    lockWord(this.w, 'broken_rec_mutex_lock');
    Atomics.store(this.w, DEPTH, 1);
  }

  unlock(): void {
    if (Atomics.load(this.w, DEPTH) > 1) {
      Atomics.sub(this.w, DEPTH, 1);
      return;
    }
    unlockWord(this.w, 'broken_rec_mutex_unlock');
    // The mistake: the depth is cleared after the lock word was released, not before.
    Atomics.store(this.w, DEPTH, 0);
  }

  depthHeldBySelf(): number {
    return heldBySelf(this.w) ? Atomics.load(this.w, DEPTH) : 0;
  }
}

const part = <T>(bytes: number, fields: string[], make: (b: SharedArrayBuffer, o: number) => T): Part<T> => ({
  bytes,
  fields,
  make,
});

export const brokenMutexWakeBeforeFree = exclusionScenario(
  part(8, ['LOCK', '+1'], (b, o) => new WakeBeforeFree(b, o)),
  'broken mutex (wakes before it frees)',
  3,
);
export const brokenMutexForgetsContended = exclusionScenario(
  part(8, ['LOCK', '+1'], (b, o) => new ForgetsContended(b, o)),
  'broken mutex (a woken locker forgets CONTENDED)',
  3,
);
export const brokenMutexStoresContended = exclusionScenario(
  part(8, ['LOCK', '+1'], (b, o) => new StoresContended(b, o)),
  'broken mutex (marks CONTENDED with a store)',
  3,
);
export const brokenRecMutexDepth = nestingScenario(
  part(12, ['LOCK', '+1', 'DEPTH'], (b, o) => new RecMutexDepthAfterUnlock(b, o)),
  'broken rec mutex (depth cleared after the unlock)',
);
