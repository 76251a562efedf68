// API table rows for QemuEvent (manual reset): set / reset / wait / timedwait through both faces.
import assert from 'node:assert/strict';
import {
  QemuEvent,
  qemu_event_destroy,
  qemu_event_init,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_event_wait,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { watched } from './support/watchdog.js';

watched('init, set, reset, wait and destroy return undefined through both faces', () => {
  const e = new QemuEvent();
  assert.equal(qemu_event_init(e, true), undefined);
  assert.equal(qemu_event_wait(e), undefined);
  assert.equal(qemu_event_reset(e), undefined);
  assert.equal(qemu_event_set(e), undefined);
  assert.equal(e.wait(), undefined);
  assert.equal(e.reset(), undefined);
  assert.equal(e.set(), undefined);
  assert.equal(qemu_event_destroy(e), undefined);
  assert.equal(e.init(false), undefined);
  assert.equal(e.destroy(), undefined);
});

watched('an event initialized set: wait returns at once and timedwait is true, for ms = 0 too', () => {
  const e = new QemuEvent();
  qemu_event_init(e, true);
  assert.equal(e.isSet(), true);
  qemu_event_wait(e);
  e.wait();
  assert.equal(qemu_event_timedwait(e, 0), true);
  assert.equal(qemu_event_timedwait(e, 20), true);
  assert.equal(e.timedWait(0), true);
  // Waiting does not consume a manual-reset event.
  assert.equal(e.isSet(), true);
});

watched(
  'an event initialized free: timedwait(0) is false at once, and timedwait(ms) false after about ms',
  () => {
    const e = new QemuEvent();
    qemu_event_init(e, false);
    assert.equal(e.isSet(), false);
    assert.equal(qemu_event_timedwait(e, 0), false);
    assert.equal(e.timedWait(0), false);
    const ms = 30;
    const start = performance.now();
    assert.equal(qemu_event_timedwait(e, ms), false);
    assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
  },
);

watched('timedWait (method) times out on a free event after about ms', () => {
  const e = QemuEvent.create(false);
  const ms = 20;
  const start = performance.now();
  assert.equal(e.timedWait(ms), false);
  assert.ok(performance.now() - start >= ms - 2, 'returned well before the time-out');
});

watched('set then wait returns; reset then timedwait times out; set again wakes', () => {
  const e = QemuEvent.create(false);
  qemu_event_set(e);
  assert.equal(e.isSet(), true);
  qemu_event_wait(e);
  assert.equal(qemu_event_timedwait(e, 0), true);
  qemu_event_reset(e);
  assert.equal(e.isSet(), false);
  assert.equal(qemu_event_timedwait(e, 0), false);
  assert.equal(qemu_event_timedwait(e, 5), false);
  // A timed-out wait left the event waiting-for-set; set must still turn it set.
  e.set();
  assert.equal(e.isSet(), true);
  assert.equal(e.timedWait(5), true);
  e.wait();
});

watched('set on a set event and reset on a free event change nothing', () => {
  const e = QemuEvent.create(true);
  qemu_event_set(e);
  e.set();
  assert.equal(e.isSet(), true);
  e.reset();
  qemu_event_reset(e);
  assert.equal(e.isSet(), false);
  assert.equal(qemu_event_timedwait(e, 0), false);
});

watched('init(e, true) and init(e, false) on a used event set its state as asked', () => {
  const e = QemuEvent.create(false);
  qemu_event_init(e, true);
  assert.equal(qemu_event_timedwait(e, 0), true);
  qemu_event_init(e, false);
  assert.equal(qemu_event_timedwait(e, 0), false);
  assert.equal(QemuEvent.create(true).isSet(), true);
  assert.equal(QemuEvent.create().isSet(), false);
});

watched('destroy after a timed-out timedwait succeeds: nobody is waiting any more', () => {
  const e = QemuEvent.create(false);
  assert.equal(qemu_event_timedwait(e, 5), false);
  assert.equal(qemu_event_destroy(e), undefined);
  assert.throws(() => qemu_event_wait(e), qemuError('EINVAL', 'qemu_event_wait'));
});

watched('destroy after timedwait(e, 0) on a free event succeeds (ms = 0 never waits)', () => {
  const e = QemuEvent.create(false);
  assert.equal(e.timedWait(0), false);
  assert.equal(e.destroy(), undefined);
});

watched('init after a timed-out timedwait re-initializes the event as asked', () => {
  const e = QemuEvent.create(false);
  assert.equal(qemu_event_timedwait(e, 0), false);
  assert.equal(qemu_event_init(e, true), undefined);
  assert.equal(e.isSet(), true);
  assert.equal(qemu_event_timedwait(e, 0), true);
});

// The same time-out rule as qemu_cond_timedwait, so a bad ms never turns into an endless wait.
for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
  watched(`qemu_event_timedwait with ms = ${ms} is EINVAL through both faces`, () => {
    const e = QemuEvent.create(false);
    assert.throws(() => qemu_event_timedwait(e, ms), qemuError('EINVAL', 'qemu_event_timedwait'));
    assert.throws(() => e.timedWait(ms), qemuError('EINVAL', 'qemu_event_timedwait'));
  });
}

watched('double destroy is EINVAL through both faces', () => {
  const e = QemuEvent.create(false);
  qemu_event_destroy(e);
  assert.throws(() => qemu_event_destroy(e), qemuError('EINVAL', 'qemu_event_destroy'));
  assert.throws(() => e.destroy(), qemuError('EINVAL', 'qemu_event_destroy'));
});

// The event is set before it is destroyed, so a call that skipped the check would return, not hang.
const OPERATIONS: [func: string, functional: (e: QemuEvent) => unknown, method: (e: QemuEvent) => unknown][] =
  [
    ['qemu_event_set', qemu_event_set, (e) => e.set()],
    ['qemu_event_reset', qemu_event_reset, (e) => e.reset()],
    ['qemu_event_wait', qemu_event_wait, (e) => e.wait()],
    ['qemu_event_timedwait', (e) => qemu_event_timedwait(e, 10), (e) => e.timedWait(10)],
    ['qemu_event_destroy', qemu_event_destroy, (e) => e.destroy()],
  ];

for (const [func, functional, method] of OPERATIONS) {
  watched(`${func} on a never-initialized event is EINVAL through both faces`, () => {
    const e = new QemuEvent();
    assert.throws(() => functional(e), qemuError('EINVAL', func));
    assert.throws(() => method(e), qemuError('EINVAL', func));
  });

  watched(`${func} on a destroyed event is EINVAL through both faces`, () => {
    const e = QemuEvent.create(true);
    e.destroy();
    assert.throws(() => functional(e), qemuError('EINVAL', func));
    assert.throws(() => method(e), qemuError('EINVAL', func));
  });
}
