/**
 * A deliberately broken event, for the model checker to catch: QemuEvent (src/primitives/event.ts) whose
 * reset stores FREE instead of OR-ing it in, so that it turns BUSY (free, and somebody is parked) into FREE.
 * A waiter parked on BUSY then misses the next set: the set sees FREE, so it wakes nobody, and the waiter
 * sleeps while the event is set. Not library code: the real QemuEvent passes the same scenario
 * (scenarios/event.ts, eventTwoWaiters), whose second consumer resets while the first is parked.
 */
import { QemuEvent } from 'qemu-thread';
import type { Part } from '../scenario.js';
import { twoWaitersScenario } from '../scenarios/event.js';

/** The event's words (event.ts): STATE, VALUE (SET 0, FREE 1, BUSY -1), WAITERS. */
const VALUE = 1;
const EV_FREE = 1;

export class ResetClearsBusy extends QemuEvent {
  override reset(): void {
    // The mistake: production ORs in FREE, which leaves BUSY (-1) as it is.
    Atomics.store(this.words, VALUE, EV_FREE);
  }
}

const part: Part<ResetClearsBusy> = {
  bytes: QemuEvent.BYTES,
  fields: ['STATE', 'VALUE', 'WAITERS'],
  make: (b, o) => new ResetClearsBusy(b, o),
};

export const brokenEventResetClearsBusy = twoWaitersScenario(part, 'broken event (reset clears BUSY)');
