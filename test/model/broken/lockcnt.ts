/**
 * Deliberately broken lockcnts, for the model checker to catch: QemuLockCnt (src/primitives/lockcnt.ts,
 * QEMU's futex lockcnt) with one mistake each, the rest production code. Not library code: the real
 * QemuLockCnt passes the same scenario (scenarios/lockcnt.ts, lockcntVisitors).
 *
 * - IncForgetsPassOn: an `inc` that slept while the count was 0 and the lock held leaves without passing
 *   the wake-up on. The unlock woke one sleeper, since the lock bits said WAITING; the woken thread takes
 *   no lock (it only counts itself in), so any other sleeper must now be woken by it, or by nobody.
 * - UnlockStoresStale: unlock clears the lock bits with a store of a value it read before, instead of a
 *   compareExchange loop. A visitor that changed the word in between (counted itself out, or marked the
 *   lock WAITING and parked) is undone: its change is overwritten, and a parked one is never woken. The
 *   visitor must have entered before the lock was taken (its reclaimer preempted), and act between the
 *   unlock's read and its store (the unlocker preempted).
 */
import { QemuLockCnt } from 'qemu-thread';
import type { Part } from '../scenario.js';
import { visitorsScenario } from '../scenarios/lockcnt.js';

/** The lockcnt's words and WORD's encoding (lockcnt.ts). */
const WORD = 1;
const OWNER = 2;
const STATE_MASK = 3;
const L_FREE = 0;
const L_LOCKED = 1;
const L_WAITING = 2;
const COUNT_STEP = 4;

export class IncForgetsPassOn extends QemuLockCnt {
  override inc(): void {
    const w = this.words;
    let v = Atomics.load(w, WORD);
    for (;;) {
      let seen: number;
      if (v >= COUNT_STEP) {
        seen = Atomics.compareExchange(w, WORD, v, v + COUNT_STEP);
        if (seen === v) return;
      } else if ((v & STATE_MASK) === L_FREE) {
        // Count 0 -> 1, only while the lock is free.
        seen = Atomics.compareExchange(w, WORD, v, v + COUNT_STEP);
        if (seen === v) return;
      } else if ((v & STATE_MASK) === L_LOCKED) {
        seen = Atomics.compareExchange(w, WORD, v, v - L_LOCKED + L_WAITING);
        if (seen === v) seen = v - L_LOCKED + L_WAITING;
      } else {
        Atomics.wait(w, WORD, v);
        seen = Atomics.load(w, WORD);
        // The mistake: production remembers that it slept, and wakes one sleeper once it is in.
      }
      v = seen;
    }
  }
}

export class UnlockStoresStale extends QemuLockCnt {
  override unlock(): void {
    const w = this.words;
    Atomics.store(w, OWNER, 0);
    const v = Atomics.load(w, WORD);
    // The mistake: a store of what was read above, not a compareExchange loop from it.
    Atomics.store(w, WORD, v & ~STATE_MASK);
    if (v & L_WAITING) Atomics.notify(w, WORD, 1);
  }
}

const part = <T>(make: (b: SharedArrayBuffer, o: number) => T): Part<T> => ({
  bytes: QemuLockCnt.BYTES,
  fields: ['STATE', 'WORD', 'OWNER', 'ID'],
  make,
});

export const brokenLockcntIncForgetsPassOn = visitorsScenario(
  part((b, o) => new IncForgetsPassOn(b, o)),
  'broken lockcnt (inc does not pass a wake-up on)',
);
export const brokenLockcntUnlockStoresStale = visitorsScenario(
  part((b, o) => new UnlockStoresStale(b, o)),
  'broken lockcnt (unlock stores a stale word)',
);
