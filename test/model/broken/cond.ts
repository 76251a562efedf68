/**
 * A deliberately broken condition variable, for the model checker to catch: it waits on a word that never
 * changes (what two well-known JS libraries do). A signal that lands between the waiter's unlock and its
 * `Atomics.wait` finds nobody parked, and the waiter then sleeps on an unchanged word forever. Not
 * library code: it exists to show that the checker finds this lost wake-up and that QemuCond does not
 * have it (the same scenarios, test/model/scenarios/cond.ts).
 */
import type { QemuMutex } from 'qemu-thread';
import type { Part } from '../scenario.js';
import { condScenarios } from '../scenarios/cond.js';

export class BrokenCond {
  readonly word: Int32Array;

  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.word = new Int32Array(sab, byteOffset, 1);
  }

  init(): void {
    Atomics.store(this.word, 0, 0);
  }

  wait(m: QemuMutex): void {
    m.unlock();
    Atomics.wait(this.word, 0, 0);
    m.lock();
  }

  timedWait(m: QemuMutex, ms: number): boolean {
    m.unlock();
    const r = Atomics.wait(this.word, 0, 0, ms);
    m.lock();
    return r !== 'timed-out';
  }

  signal(): void {
    Atomics.notify(this.word, 0, 1);
  }

  broadcast(): void {
    Atomics.notify(this.word, 0);
  }
}

const brokenCond: Part<BrokenCond> = { bytes: 4, fields: ['WORD'], make: (b, o) => new BrokenCond(b, o) };

const broken = condScenarios(brokenCond, 'broken cond');
export const brokenCondSignal = broken.signal;
export const brokenCondBroadcast = broken.broadcast;
export const brokenCondTimedWait = broken.timedWait;
