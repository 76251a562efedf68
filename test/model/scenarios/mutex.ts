/**
 * QemuMutex and QemuRecMutex under the model checker. Mutual exclusion is observed, not assumed: each
 * critical section announces itself with an arena operation (a scheduling point, so preemptions inside
 * it are explored) on a counter that must read 0 on entry; a plain increment under the lock must not be
 * lost either. The outcome names the thread that entered first and the one that left last: every thread
 * can be either (nothing orders them but the schedule).
 *
 * The same thread bodies run on the broken mutexes and rec mutex of test/model/broken/mutex.ts.
 */
import type { ThreadContext } from '../scenario.js';
import { defineScenario, mutex, type Part, recMutex, word, words } from '../scenario.js';

const ROUNDS = 2;

/** What the bodies need of a mutex: QemuMutex and the broken ones all fit. */
export interface MutexLike {
  init(): void;
  lock(): void;
  unlock(): void;
}

export interface RecMutexLike extends MutexLike {
  depthHeldBySelf(): number;
}

export function enterExclusive(inside: Int32Array): void {
  if (Atomics.add(inside, 0, 1) !== 0) throw new Error('two threads inside the critical section');
}

export function leave(inside: Int32Array): void {
  Atomics.sub(inside, 0, 1);
}

/** FIRST and LAST: 1 + the index of the thread that entered first and of the one that entered last. */
interface MutexArena {
  m: MutexLike;
  inside: Int32Array;
  count: Int32Array;
  order: Int32Array;
}

/** Plain writes under the lock (no scheduling point): who entered first, and who last. */
function noteEntry(a: MutexArena, ctx: ThreadContext): void {
  if (a.order[0] === 0) a.order[0] = ctx.index + 1;
  a.order[1] = ctx.index + 1;
}

function locker(a: MutexArena, ctx: ThreadContext): void {
  for (let r = 0; r < ROUNDS; r++) {
    a.m.lock();
    enterExclusive(a.inside);
    noteEntry(a, ctx);
    a.count[0]++;
    leave(a.inside);
    a.m.unlock();
  }
}

const orderOutcome = (a: { count: Int32Array; order: Int32Array }) =>
  `count ${a.count[0]}, T${a.order[0]} first, T${a.order[1]} last`;

/**
 * `n` lockers doing ROUNDS lock/unlock each, on a given mutex part (QemuMutex, or a broken one); `spin`:
 * Scenario.spin (the lock's spin before it parks).
 */
export function exclusionScenario(m: Part<unknown>, label: string, n: number, spin = 0) {
  const parts = { m, inside: word, count: word, order: words(2, ['FIRST', 'LAST']) };
  type A = import('../scenario.js').Arena<typeof parts>;
  const body = locker as unknown as (a: A, ctx: ThreadContext) => void;
  return defineScenario({
    name: `${label}: mutual exclusion, ${n} threads x ${ROUNDS} lock/unlock${spin ? `, spinning ${spin} reads` : ''}`,
    parts,
    spin,
    setup: (a) => (a.m as MutexLike).init(),
    threads: Array.from({ length: n }, () => body),
    check: (a) =>
      a.count[0] === n * ROUNDS ? null : `count is ${a.count[0]}, expected ${n * ROUNDS}: an update was lost`,
    outcome: orderOutcome,
  });
}

export const mutexExclusion = exclusionScenario(mutex, 'mutex', 3);
/** Spinning on: a locker spins (2 reads) before it parks, and may take the lock while spinning. */
export const mutexExclusionSpin = exclusionScenario(mutex, 'mutex', 2, 2);

const parts = { m: mutex, inside: word, count: word, order: words(2, ['FIRST', 'LAST']) };

export const mutexTryLock = defineScenario({
  name: 'mutex: trylock vs lock',
  parts: { ...parts, got: word },
  setup: (a) => a.m.init(),
  threads: [
    (a, ctx) => locker(a, ctx),
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
  outcome: (a) => `count ${a.count[0]}, trylock ${a.got[0] ? 'took it' : 'failed'}`,
});

/** The nesting owner: the lock is released only by its outer unlock. */
function nester(a: { m: RecMutexLike; inside: Int32Array; count: Int32Array; order: Int32Array }): void {
  a.m.lock();
  enterExclusive(a.inside);
  if (a.order[0] === 0) a.order[0] = 1;
  a.m.lock();
  a.count[0]++;
  a.m.unlock();
  // Still held after the inner unlock: another thread must not have entered.
  a.count[0]++;
  leave(a.inside);
  a.m.unlock();
}

function single(a: { m: RecMutexLike; inside: Int32Array; count: Int32Array; order: Int32Array }): void {
  a.m.lock();
  enterExclusive(a.inside);
  if (a.order[0] === 0) a.order[0] = 2;
  const depth = a.m.depthHeldBySelf();
  if (depth !== 1) throw new Error(`depth ${depth} after the first lock`);
  a.count[0]++;
  leave(a.inside);
  a.m.unlock();
}

/** The owner nests while another thread contends, on a given rec mutex part (QemuRecMutex, or a broken one). */
export function nestingScenario(m: Part<unknown>, label: string) {
  const p = { m, inside: word, count: word, order: words(2, ['FIRST', 'LAST']) };
  type A = import('../scenario.js').Arena<typeof p>;
  const as = (f: typeof nester) => f as unknown as (a: A) => void;
  return defineScenario({
    name: `${label}: owner nests while another thread locks`,
    parts: p,
    setup: (a) => (a.m as MutexLike).init(),
    threads: [as(nester), as(single)],
    check: (a) => (a.count[0] === 3 ? null : `count is ${a.count[0]}, expected 3`),
    outcome: (a) => `count ${a.count[0]}, T${a.order[0]} first`,
  });
}

export const recMutexNesting = nestingScenario(recMutex, 'rec mutex');
