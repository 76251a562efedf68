/**
 * QemuCond: a condition variable on a sequence counter, with a waiter count.
 *
 * State (three Int32): STATE (lifecycle.ts), SEQ (bumped by every signal and broadcast that finds a waiter)
 * and WAITERS (threads between "announced" and "woke up").
 *
 * wait(m): with `m` held, read SEQ and add 1 to WAITERS; unlock `m`; park while SEQ still holds the value
 * read; subtract 1 from WAITERS; lock `m` again. signal / broadcast: if WAITERS > 0, add 1 to SEQ, then
 * notify one / all threads parked on SEQ. With no waiter they cost one atomic load and no notify.
 *
 * Why no wake-up is lost (the bug of waiting on a word that never changes): the waiter reads SEQ and
 * announces itself while it holds `m`. A signaller that changed the predicate under `m` did so either
 * before that (and the waiter saw the predicate true and did not wait) or after the waiter released `m`,
 * so its load of WAITERS, ordered after its own lock of `m`, sees the announcement, and its increment of
 * SEQ comes after the waiter's read. The waiter then parks on a stale value and `Atomics.wait` returns at
 * once, or it is already parked and the notify reaches it. A signal from a thread that does not hold `m`
 * (QEMU's `qemu_cpu_kick` does this) is ordered the same way as long as the predicate itself was written
 * under `m`. Only 2^32 signals landing between one waiter's read and its park could fool it.
 *
 * Wake-ups may be spurious (a notify may be taken by a thread that had not parked yet), as QEMU allows:
 * callers loop on their predicate.
 */
import { fail } from '../errors.js';
import { registerKind, reviveAs, SharedStorage, type StorageClone } from '../layout.js';
import { checkReady, markDestroyed, markReady, READY, STATE, stateName } from '../lifecycle.js';
import { CONTENDED, SELF } from '../owner.js';
import { checkTimeout, deadlineAfter, parkAfterSpin, remainingUntil, wake } from '../park.js';
import { lockWord, notHeldBySelf, QemuMutex, unlockWord } from './mutex.js';

const SEQ = 1;
const WAITERS = 2;
const KIND = 'QemuCond';

/**
 * A QEMU condition variable. Waits happen under a {@link QemuMutex}; signal and broadcast may be called
 * with or without it.
 *
 * @example
 * ```ts
 * m.lock();
 * while (!cpu.created) cond.wait(m);   // always loop: wake-ups may be spurious
 * m.unlock();
 * ```
 */
export class QemuCond extends SharedStorage {
  static readonly BYTES = 12;

  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super(KIND, QemuCond.BYTES, buffer, byteOffset);
  }

  static create(buffer?: SharedArrayBuffer, byteOffset = 0): QemuCond {
    const c = new QemuCond(buffer, byteOffset);
    c.init();
    return c;
  }

  static from(value: unknown, func = 'QemuCond.from'): QemuCond {
    if (value instanceof QemuCond) return value;
    return reviveAs(value, KIND, (c) => new QemuCond(c.buffer, c.byteOffset), func);
  }

  init(): void {
    const w = this.words;
    if (Atomics.load(w, STATE) === READY && Atomics.load(w, WAITERS) > 0) {
      fail('EBUSY', 'qemu_cond_init', `${Atomics.load(w, WAITERS)} thread(s) are waiting on it`);
    }
    Atomics.store(w, SEQ, 0);
    Atomics.store(w, WAITERS, 0);
    markReady(w);
  }

  destroy(): void {
    const waiters = Atomics.load(this.words, WAITERS);
    if (waiters > 0 && Atomics.load(this.words, STATE) === READY) {
      fail('EBUSY', 'qemu_cond_destroy', `${waiters} thread(s) are waiting on it`);
    }
    markDestroyed(this.words, 'qemu_cond_destroy');
  }

  /** Wakes one waiter, if any. */
  signal(): void {
    const w = this.words;
    checkReady(w, 'qemu_cond_signal');
    if (Atomics.load(w, WAITERS) > 0) {
      Atomics.add(w, SEQ, 1);
      wake(w, SEQ, 1);
    }
  }

  /** Wakes every waiter. */
  broadcast(): void {
    const w = this.words;
    checkReady(w, 'qemu_cond_broadcast');
    if (Atomics.load(w, WAITERS) > 0) {
      Atomics.add(w, SEQ, 1);
      wake(w, SEQ, Number.POSITIVE_INFINITY);
    }
  }

  /** Releases `mutex`, sleeps until signalled (or spuriously woken), and takes `mutex` again. */
  wait(mutex: QemuMutex): void {
    this.#wait(mutex, Number.POSITIVE_INFINITY, 'qemu_cond_wait');
  }

  /**
   * As {@link wait}, for at most `ms` milliseconds. Returns false if and only if it timed out; true means
   * signalled or spurious, so re-check the predicate (and the time left).
   */
  timedWait(mutex: QemuMutex, ms: number): boolean {
    checkTimeout(ms, 'qemu_cond_timedwait');
    return this.#wait(mutex, ms, 'qemu_cond_timedwait');
  }

  /**
   * Waits until `predicate()` returns true, re-checking it after every wake-up, with `mutex` held on entry
   * and on return. With `ms`, gives up after that many milliseconds in all and returns the predicate's last
   * value (false on time-out); without it, returns true.
   */
  waitFor(mutex: QemuMutex, predicate: () => boolean, ms?: number): boolean {
    if (ms === undefined) {
      while (!predicate()) this.wait(mutex);
      return true;
    }
    const deadline = deadlineAfter(checkTimeout(ms, 'qemu_cond_timedwait'));
    while (!predicate()) {
      const left = remainingUntil(deadline);
      if (left === 0 || !this.#wait(mutex, left, 'qemu_cond_timedwait')) return predicate();
    }
    return true;
  }

  #wait(mutex: QemuMutex, ms: number, func: string): boolean {
    const w = this.words;
    checkReady(w, func);
    if (!(mutex instanceof QemuMutex)) mutex = QemuMutex.from(mutex, func);
    const mw = mutex.words;
    const owner = Atomics.load(mw, 0);
    if ((owner & ~CONTENDED) !== SELF) notHeldBySelf(owner, func);
    if (ms === 0) return false;
    const seen = Atomics.load(w, SEQ);
    Atomics.add(w, WAITERS, 1);
    unlockWord(mw, func);
    const result = parkAfterSpin(w, SEQ, seen, ms);
    Atomics.sub(w, WAITERS, 1);
    lockWord(mw, func);
    return result !== 'timed-out';
  }

  /** How many threads are waiting now (a racy snapshot, for inspection). */
  waiters(): number {
    return Atomics.load(this.words, WAITERS);
  }

  override toString(): string {
    const state = stateName(this.words);
    return `QemuCond { ${state ?? `waiters: ${this.waiters()}`} }`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

registerKind(KIND, (c: StorageClone) => new QemuCond(c.buffer, c.byteOffset));
