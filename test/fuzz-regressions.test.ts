/**
 * Regressions found by the free-running fuzz (fuzz-threads.test.ts), replayed deterministically.
 *
 * QemuLockCnt lost wake-up: a thread woken from qemu_lockcnt_dec_and_lock (or dec_if_lock) that then
 * finds the count at 0 fails with EINVAL, as documented, but drops the wake-up it inherited (lockcnt.ts:
 * "a woken thread has in effect inherited the lock's wake-up duty"), so a second thread parked on the
 * same lock sleeps forever although the lock is free. The fuzz saw it as threads stuck with the lockcnt
 * "count: 0, unlocked". The replay is bounded: if thread B is not through within 10 s, the test wakes it
 * by hand (a bare notify on the lockcnt's words, which its loop survives) and then fails.
 * Found against commit 34511ac; fixed in b49f8af (the EINVAL path now wakes one waiter when it had waited).
 */
import assert from 'node:assert/strict';
import {
  QEMU_THREAD_JOINABLE,
  QemuLockCnt,
  QemuThread,
  qemu_lockcnt_dec,
  qemu_lockcnt_inc,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import { untilAsleep } from './support/os-thread.js';
import { watched } from './support/watchdog.js';
import {
  A_OUTCOME,
  A_STARTED,
  B_ACQUIRED,
  B_STARTED,
  FLAG_WORDS,
  OUT_EINVAL,
  type RegressArg,
} from './workers/fuzz/regress.js';

const FN = (name: string) => new URL(`./workers/fuzz/regress.js#${name}`, import.meta.url);
const napWord = new Int32Array(new SharedArrayBuffer(4));
/** A pause between two looks at something the test waits for. */
const nap = (ms: number) => Atomics.wait(napWord, 0, 0, ms);

/** Waits until `flags[index]` is non-zero, at most `ms`; returns whether it became so. */
function waitFlag(flags: Int32Array, index: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  while (Atomics.load(flags, index) === 0) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(flags, index, 0, left);
  }
  return true;
}

function spawn(name: string, arg: RegressArg): QemuThread {
  const t = new QemuThread();
  qemu_thread_create(t, name, FN(name), arg, QEMU_THREAD_JOINABLE);
  return t;
}

watched(
  'QemuLockCnt: a dec_and_lock woken to EINVAL passes the wake-up on to the next waiter',
  { ms: 60_000 },
  (w) => {
    const l = QemuLockCnt.create();
    const flags = new Int32Array(new SharedArrayBuffer(4 * FLAG_WORDS));
    const arg: RegressArg = { l, flags };
    w.show({ l, flags });
    qemu_lockcnt_inc(l); // count 1
    qemu_lockcnt_lock(l); // the main thread holds the lock

    // A: count 1 and the lock held, so dec_and_lock waits for the lock (marking it "waiting").
    const a = spawn('decAndLockWaiter', arg);
    assert.ok(waitFlag(flags, A_STARTED, 10_000), 'thread A started');
    for (const deadline = performance.now() + 10_000; (Atomics.load(l.words, 1) & 3) !== 2; ) {
      assert.ok(performance.now() < deadline, `thread A never waited for the lock (${String(l)})`);
      nap(1);
    }
    // A must be first in the futex queue: asleep in the kernel before B even starts.
    untilAsleep(Atomics.load(flags, A_STARTED));
    // B: a plain lock, parked behind A.
    const b = spawn('lockWaiter', arg);
    assert.ok(waitFlag(flags, B_STARTED, 10_000), 'thread B started');
    untilAsleep(Atomics.load(flags, B_STARTED));
    w.show({ a, b });

    // The main thread takes the count to 0 (a misuse: A's dec then has no visitor left) and unlocks,
    // which wakes the first waiter, A.
    qemu_lockcnt_dec(l);
    qemu_lockcnt_unlock(l);
    assert.ok(waitFlag(flags, A_OUTCOME, 10_000), 'thread A returned');
    assert.equal(Atomics.load(flags, A_OUTCOME), OUT_EINVAL, 'dec_and_lock at count 0 is EINVAL');

    // B must now get the lock: it is free and nobody else wants it.
    const through = waitFlag(flags, B_ACQUIRED, 10_000);
    if (!through) {
      // Rescue, so the test ends: B's loop re-reads the word after any wake-up.
      for (let i = 0; i < 500 && Atomics.load(flags, B_ACQUIRED) === 0; i++) {
        Atomics.notify(l.words, 1);
        nap(10);
      }
    }
    qemu_thread_join(a);
    if (Atomics.load(flags, B_ACQUIRED) !== 0) qemu_thread_join(b);
    assert.ok(
      through,
      'thread B stayed parked on a free lockcnt lock: the wake-up A inherited was lost when A failed ' +
        'with EINVAL (src/primitives/lockcnt.ts, #decLocking: the EINVAL path does not wake the next waiter)',
    );
    assert.equal(l.count(), 0);
  },
);
