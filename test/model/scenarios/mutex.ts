/**
 * QemuMutex and QemuRecMutex under the model checker. Mutual exclusion is observed, not assumed: each
 * critical section announces itself with an arena operation (a scheduling point, so preemptions inside
 * it are explored) on a counter that must read 0 on entry; a plain increment under the lock must not be
 * lost either.
 */
import { defineScenario, mutex, recMutex, word } from '../scenario.js';

const ROUNDS = 2;

function enterExclusive(inside: Int32Array): void {
  if (Atomics.add(inside, 0, 1) !== 0) throw new Error('two threads inside the critical section');
}

function leave(inside: Int32Array): void {
  Atomics.sub(inside, 0, 1);
}

const parts = { m: mutex, inside: word, count: word };
type MutexArena = { m: import('qemu-thread').QemuMutex; inside: Int32Array; count: Int32Array };

function locker(a: MutexArena): void {
  for (let r = 0; r < ROUNDS; r++) {
    a.m.lock();
    enterExclusive(a.inside);
    a.count[0]++;
    leave(a.inside);
    a.m.unlock();
  }
}

export const mutexExclusion = defineScenario({
  name: 'mutex: mutual exclusion, 3 threads x 2 lock/unlock',
  parts,
  setup: (a) => a.m.init(),
  threads: [locker, locker, locker],
  check: (a) =>
    a.count[0] === 3 * ROUNDS ? null : `count is ${a.count[0]}, expected ${3 * ROUNDS}: an update was lost`,
});

export const mutexTryLock = defineScenario({
  name: 'mutex: trylock vs lock',
  parts: { ...parts, got: word },
  setup: (a) => a.m.init(),
  threads: [
    (a) => locker(a),
    (a) => {
      if (a.m.tryLock()) {
        enterExclusive(a.inside);
        a.count[0]++;
        leave(a.inside);
        a.m.unlock();
        Atomics.store(a.got, 0, 1);
      }
    },
  ],
  check: (a) =>
    a.count[0] === ROUNDS + a.got[0] ? null : `count is ${a.count[0]}, expected ${ROUNDS + a.got[0]}`,
  outcome: (a) => (a.got[0] ? 'trylock took it' : 'trylock failed'),
});

/** The owner nests while another thread contends: the lock is released only by the outer unlock. */
export const recMutexNesting = defineScenario({
  name: 'rec mutex: owner nests while another thread locks',
  parts: { m: recMutex, inside: word, count: word },
  setup: (a) => a.m.init(),
  threads: [
    (a) => {
      a.m.lock();
      enterExclusive(a.inside);
      a.m.lock();
      a.count[0]++;
      a.m.unlock();
      // Still held after the inner unlock: another thread must not have entered.
      a.count[0]++;
      leave(a.inside);
      a.m.unlock();
    },
    (a) => {
      a.m.lock();
      enterExclusive(a.inside);
      if (a.m.depthHeldBySelf() !== 1) throw new Error(`depth ${a.m.depthHeldBySelf()} after the first lock`);
      a.count[0]++;
      leave(a.inside);
      a.m.unlock();
    },
  ],
  check: (a) => (a.count[0] === 3 ? null : `count is ${a.count[0]}, expected 3`),
});
