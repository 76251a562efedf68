/**
 * A deliberately broken semaphore, for the model checker to catch: post notifies only when the count goes
 * from 0 to 1. With two waiters parked, two posts in a row wake one of them: the second post finds the
 * count at 1 (the woken waiter has not taken its unit yet) and notifies nobody, and the other waiter
 * sleeps forever beside a unit. Not library code: the same scenarios pass on QemuSemaphore
 * (test/model/scenarios/semaphore.ts), which notifies on every post that sees a waiter.
 */

import type { Part } from '../scenario.js';
import { semScenarios } from '../scenarios/semaphore.js';

const COUNT = 0;
const WAITERS = 1;

export class BrokenSemaphore {
  readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.w = new Int32Array(sab, byteOffset, 2);
  }

  init(n: number): void {
    Atomics.store(this.w, COUNT, n);
    Atomics.store(this.w, WAITERS, 0);
  }

  post(): void {
    if (Atomics.add(this.w, COUNT, 1) === 0 && Atomics.load(this.w, WAITERS) > 0) {
      Atomics.notify(this.w, COUNT, 1);
    }
  }

  #take(): boolean {
    for (let c = Atomics.load(this.w, COUNT); c > 0; c = Atomics.load(this.w, COUNT)) {
      if (Atomics.compareExchange(this.w, COUNT, c, c - 1) === c) return true;
    }
    return false;
  }

  wait(): void {
    while (!this.#take()) {
      Atomics.add(this.w, WAITERS, 1);
      Atomics.wait(this.w, COUNT, 0);
      Atomics.sub(this.w, WAITERS, 1);
    }
  }

  timedWait(ms: number): boolean {
    while (!this.#take()) {
      Atomics.add(this.w, WAITERS, 1);
      const r = Atomics.wait(this.w, COUNT, 0, ms);
      Atomics.sub(this.w, WAITERS, 1);
      if (r === 'timed-out') return false;
    }
    return true;
  }

  value(): number {
    return Atomics.load(this.w, COUNT);
  }
}

const brokenSem: Part<BrokenSemaphore> = {
  bytes: 8,
  fields: ['COUNT', 'WAITERS'],
  make: (b, o) => new BrokenSemaphore(b, o),
};

const broken = semScenarios(brokenSem, 'broken semaphore');
export const brokenSemTwoWaiters = broken.twoWaiters;
export const brokenSemTimedWait = broken.timedWait;
