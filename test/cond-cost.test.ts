// The waiter counts exist so that signalling nobody costs no futex call: check it with the counters.
import assert from 'node:assert/strict';
import { parkStats, QemuCond, QemuMutex, QemuSemaphore, resetParkStats } from 'qemu-thread';
import { watched } from './support/watchdog.js';

watched('signal and broadcast with no waiter make no notify call', () => {
  const c = QemuCond.create();
  resetParkStats();
  for (let i = 0; i < 1000; i++) {
    c.signal();
    c.broadcast();
  }
  assert.deepEqual(parkStats(), { parks: 0, wakes: 0, woken: 0 });
});

watched('uncontended mutex and semaphore hand-offs in one thread make no futex call', () => {
  const m = QemuMutex.create();
  const s = QemuSemaphore.create(0);
  resetParkStats();
  for (let i = 0; i < 1000; i++) {
    m.lock();
    m.unlock();
    s.post();
    s.wait();
  }
  assert.deepEqual(parkStats(), { parks: 0, wakes: 0, woken: 0 });
});

watched('a timed wait that times out parks once and counts nothing woken', () => {
  const m = QemuMutex.create();
  const c = QemuCond.create();
  m.lock();
  resetParkStats();
  assert.equal(c.timedWait(m, 5), false);
  m.unlock();
  assert.deepEqual(parkStats(), { parks: 1, wakes: 0, woken: 0 });
});
