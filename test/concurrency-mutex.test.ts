/**
 * Mutual exclusion with exact totals, with real worker threads: 4 threads x N increments of a plain
 * (non-atomic) counter under one lock, for QemuMutex, QemuRecMutex (nested twice), QemuSpin and
 * QemuLockCnt's lock. A lost update or an overlap in the critical section fails the test; so does a lost
 * wake-up (no progress for 15 s, reported by joinAll instead of a hang).
 */
import assert from 'node:assert/strict';
import {
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSpin,
  qemu_lockcnt_count,
  qemu_lockcnt_destroy,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_destroy,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_destroy,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_spin_destroy,
  qemu_spin_locked,
  qemu_spin_trylock,
  qemu_spin_unlock,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import { joinAll, notifyAllWords, sharedWords, spawn } from './workers/concurrency/helpers.js';
import {
  ATOMIC,
  type CounterArg,
  DATA_WORDS,
  INSIDE,
  type LockKind,
  OVERLAPS,
  PLAIN,
} from './workers/concurrency/mutex-workers.js';

const THREADS = 4;
const FN = new URL('./workers/concurrency/mutex-workers.js#counterWorker', import.meta.url);

function runCounter(kind: LockKind, lock: CounterArg['lock'], iterations: number): Int32Array {
  const data = sharedWords(DATA_WORDS);
  const done = sharedWords(1);
  const threads = [];
  for (let i = 0; i < THREADS; i++) {
    const arg: CounterArg = { kind, lock, data, iterations, threads: THREADS, done };
    threads.push(spawn(`${kind}-${i}`, FN, arg));
  }
  const results = joinAll(threads, done, {
    what: `${kind} counter`,
    progress: () => Atomics.load(data, ATOMIC),
    rescue: () => notifyAllWords(lock),
    describe: () => `plain ${data[PLAIN]}, atomic ${Atomics.load(data, ATOMIC)}, lock ${String(lock)}`,
  });
  assert.deepEqual(results, Array(THREADS).fill(iterations), 'every thread did all its iterations');
  assert.equal(Atomics.load(data, OVERLAPS), 0, 'two threads were inside the critical section at once');
  assert.equal(Atomics.load(data, INSIDE), 0);
  assert.equal(Atomics.load(data, ATOMIC), THREADS * iterations, 'atomic counter (outside the lock)');
  assert.equal(data[PLAIN], Atomics.load(data, ATOMIC), 'locked counter == atomic counter (lost update?)');
  return data;
}

watched(
  'QemuMutex: 4 threads x 50,000 locked increments of a plain counter are exact',
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    runCounter('mutex', m, 50_000);
    assert.equal(qemu_mutex_trylock(m), 0, 'the mutex is free at the end');
    qemu_mutex_unlock(m);
    qemu_mutex_destroy(m);
  },
);

watched('QemuRecMutex: 4 threads x 50,000 increments, nested twice, are exact', { ms: 60_000 }, () => {
  const m = QemuRecMutex.create();
  runCounter('rec', m, 50_000);
  assert.equal(qemu_rec_mutex_trylock(m), 0, 'the recursive mutex is free at the end');
  qemu_rec_mutex_unlock(m);
  qemu_rec_mutex_destroy(m);
});

watched('QemuSpin: 4 threads x 50,000 locked increments of a plain counter are exact', { ms: 60_000 }, () => {
  const s = QemuSpin.create();
  runCounter('spin', s, 50_000);
  assert.equal(qemu_spin_locked(s), false, 'the spinlock is free at the end');
  assert.equal(qemu_spin_trylock(s), false, 'trylock succeeds (false = not busy)');
  qemu_spin_unlock(s);
  qemu_spin_destroy(s);
});

watched(
  'QemuLockCnt lock: 4 threads x 50,000 locked increments of a plain counter are exact',
  { ms: 60_000 },
  () => {
    const l = QemuLockCnt.create();
    runCounter('lockcnt', l, 50_000);
    assert.equal(qemu_lockcnt_count(l), 0);
    qemu_lockcnt_lock(l);
    qemu_lockcnt_unlock(l);
    qemu_lockcnt_destroy(l);
  },
);
