// Storage rows of the contract: own and placed storage, placement errors, several primitives in one
// buffer, wrappers and structured clones sharing state, X.create, X.from and inspection.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_destroy,
  qemu_cond_init,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_cond_wait,
  qemu_event_destroy,
  qemu_event_init,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_event_wait,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_destroy,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_init,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_destroy,
  qemu_mutex_init,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_destroy,
  qemu_rec_mutex_init,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_sem_destroy,
  qemu_sem_init,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_sem_wait,
  qemu_spin_destroy,
  qemu_spin_init,
  qemu_spin_lock,
  qemu_spin_locked,
  qemu_spin_trylock,
  qemu_spin_unlock,
  qemu_thread_get_self,
  qemu_thread_is_self,
  qemu_thread_join,
} from 'qemu-thread';
import { qemuError } from './support/api.js';
import { watched } from './support/watchdog.js';

/** Lets a value of the wrong type through the compiler, to check the run-time TypeError. */
const wrong = (value: unknown): never => value as never;

interface Placed {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

interface StorageClass {
  readonly BYTES: number;
  readonly name: string;
  new (buffer?: SharedArrayBuffer, byteOffset?: number): Placed;
  from(value: unknown): Placed;
}

/** Every class, with a workout that initializes it and touches each of its words. */
const KINDS: [cls: StorageClass, workout: (x: never) => void][] = [
  [
    QemuMutex,
    (m: QemuMutex) => {
      m.init();
      m.lock();
      m.unlock();
      m.destroy();
    },
  ],
  [
    QemuRecMutex,
    (m: QemuRecMutex) => {
      m.init();
      m.lock();
      m.lock();
      m.unlock();
      m.unlock();
      m.destroy();
    },
  ],
  [
    QemuCond,
    (c: QemuCond) => {
      const m = QemuMutex.create();
      c.init();
      m.lock();
      assert.equal(c.timedWait(m, 1), false);
      m.unlock();
      c.broadcast();
      c.destroy();
    },
  ],
  [
    QemuSemaphore,
    (s: QemuSemaphore) => {
      s.init(4294967294);
      s.post();
      s.wait();
      assert.equal(s.timedWait(1), true);
      s.destroy();
    },
  ],
  [
    QemuEvent,
    (e: QemuEvent) => {
      e.init(false);
      assert.equal(e.timedWait(1), false);
      e.set();
      e.reset();
      e.destroy();
    },
  ],
  [
    QemuSpin,
    (s: QemuSpin) => {
      s.init();
      s.lock();
      s.unlock();
      s.destroy();
    },
  ],
  [
    QemuLockCnt,
    (l: QemuLockCnt) => {
      l.init();
      l.inc();
      l.lock();
      l.incAndUnlock();
      l.dec();
      l.dec();
      l.destroy();
    },
  ],
  [
    QemuThread,
    (t: QemuThread) => {
      t.getSelf();
      assert.equal(t.isSelf(), true);
    },
  ],
];

/** The bytes of `x`'s own region. */
const region = (x: Placed, bytes: number) => new Uint8Array(x.buffer, x.byteOffset, bytes);

for (const [cls, workout] of KINDS) {
  watched(`${cls.name}.BYTES is a positive multiple of 4`, () => {
    assert.equal(typeof cls.BYTES, 'number');
    assert.ok(cls.BYTES > 0 && cls.BYTES % 4 === 0, `BYTES = ${cls.BYTES}`);
  });

  watched(`new ${cls.name}() owns zeroed shared storage of its own`, () => {
    const a = new cls();
    const b = new cls();
    assert.ok(a.buffer instanceof SharedArrayBuffer);
    assert.ok(a.buffer.byteLength >= a.byteOffset + cls.BYTES);
    assert.ok(region(a, cls.BYTES).every((byte) => byte === 0));
    workout(a as never);
    // b has storage of its own: a's workout wrote nothing into it.
    assert.notEqual(a.buffer, b.buffer);
    assert.ok(region(b, cls.BYTES).every((byte) => byte === 0));
  });

  watched(`new ${cls.name}(buffer, byteOffset) uses exactly BYTES bytes at byteOffset`, () => {
    const before = 8;
    const after = 8;
    const buffer = new SharedArrayBuffer(before + cls.BYTES + after);
    const bytes = new Uint8Array(buffer);
    bytes.fill(0x5a, 0, before);
    bytes.fill(0x5a, before + cls.BYTES);
    const x = new cls(buffer, before);
    assert.equal(x.buffer, buffer);
    assert.equal(x.byteOffset, before);
    workout(x as never);
    assert.ok(
      bytes.subarray(0, before).every((byte) => byte === 0x5a),
      'wrote before its region',
    );
    assert.ok(
      bytes.subarray(before + cls.BYTES).every((byte) => byte === 0x5a),
      'wrote after its region',
    );
    assert.ok(
      bytes.subarray(before, before + cls.BYTES).some((byte) => byte !== 0),
      'wrote nothing at all',
    );
  });

  watched(`new ${cls.name}(buffer, byteOffset) fits exactly at the end of a buffer`, () => {
    const buffer = new SharedArrayBuffer(4 + cls.BYTES);
    const x = new cls(buffer, 4);
    workout(x as never);
  });

  watched(`new ${cls.name}(non-shared buffer) is a TypeError saying a SharedArrayBuffer is expected`, () => {
    for (const bad of [
      new ArrayBuffer(cls.BYTES),
      new Int32Array(new SharedArrayBuffer(cls.BYTES)),
      {},
      42,
    ]) {
      assert.throws(
        () => new cls(wrong(bad), 0),
        (e: unknown) => e instanceof TypeError && /SharedArrayBuffer/.test(e.message),
      );
    }
  });

  watched(
    `new ${cls.name}(buffer, misaligned offset) is a RangeError saying a multiple of 4 is expected`,
    () => {
      const buffer = new SharedArrayBuffer(cls.BYTES + 8);
      for (const offset of [1, 2, 3, 6]) {
        assert.throws(
          () => new cls(buffer, offset),
          (e: unknown) =>
            e instanceof RangeError && /multiple of 4/.test(e.message) && e.message.includes(`${offset}`),
        );
      }
    },
  );

  watched(`new ${cls.name}(buffer, negative or fractional offset) is a RangeError`, () => {
    const buffer = new SharedArrayBuffer(cls.BYTES + 8);
    for (const offset of [-4, 1.5, Number.NaN]) {
      assert.throws(
        () => new cls(buffer, offset),
        (e: unknown) => e instanceof RangeError && /byteOffset/.test(e.message),
      );
    }
  });

  watched(`new ${cls.name}(buffer too small) is a RangeError saying how many bytes are needed`, () => {
    const cases: [SharedArrayBuffer, number][] = [
      [new SharedArrayBuffer(cls.BYTES - 4), 0],
      [new SharedArrayBuffer(cls.BYTES), 4],
      [new SharedArrayBuffer(cls.BYTES), cls.BYTES],
      [new SharedArrayBuffer(cls.BYTES + 4), cls.BYTES + 8],
    ];
    for (const [buffer, offset] of cases) {
      assert.throws(
        () => new cls(buffer, offset),
        (e: unknown) => e instanceof RangeError && e.message.includes(`${cls.BYTES} bytes`),
      );
    }
  });

  watched(
    `${cls.name}.from(x) is x, and from a structured clone is a working instance of ${cls.name}`,
    () => {
      const x = new cls();
      assert.equal(cls.from(x), x);
      const y = cls.from(structuredClone(x));
      assert.ok(y instanceof cls);
      assert.equal(y.byteOffset, x.byteOffset);
      // Same memory: y's workout is visible through x's buffer.
      workout(y as never);
      assert.ok(region(x, cls.BYTES).some((byte) => byte !== 0));
    },
  );

  watched(`${cls.name}.from(anything but a ${cls.name}) is a TypeError naming ${cls.name}`, () => {
    const other = cls === QemuMutex ? QemuCond.create() : QemuMutex.create();
    const bad = [
      other,
      structuredClone(other),
      { ...structuredClone(new cls()), __qemuKind: 'QemuNothing' },
      { __qemuKind: cls.name },
      {},
      [],
      null,
      undefined,
      42,
      'QemuMutex',
      new SharedArrayBuffer(cls.BYTES),
    ];
    for (const value of bad) {
      assert.throws(
        () => cls.from(value),
        (e: unknown) => e instanceof TypeError && e.message.includes(cls.name),
        `from(${inspect(value)})`,
      );
    }
  });
}

watched('primitives of every kind side by side in one SharedArrayBuffer work independently', () => {
  let offset = 0;
  const at = (bytes: number) => {
    const here = offset;
    offset += bytes;
    return here;
  };
  const layout = {
    mutex: at(QemuMutex.BYTES),
    rec: at(QemuRecMutex.BYTES),
    cond: at(QemuCond.BYTES),
    sem: at(QemuSemaphore.BYTES),
    event: at(QemuEvent.BYTES),
    spin: at(QemuSpin.BYTES),
    lockcnt: at(QemuLockCnt.BYTES),
    thread: at(QemuThread.BYTES),
  };
  const buffer = new SharedArrayBuffer(offset);
  const mutex = QemuMutex.create(buffer, layout.mutex);
  const rec = QemuRecMutex.create(buffer, layout.rec);
  const cond = QemuCond.create(buffer, layout.cond);
  const sem = QemuSemaphore.create(4294967295, buffer, layout.sem);
  const event = QemuEvent.create(true, buffer, layout.event);
  const spin = QemuSpin.create(buffer, layout.spin);
  const lockcnt = QemuLockCnt.create(buffer, layout.lockcnt);
  const thread = new QemuThread(buffer, layout.thread);

  mutex.lock();
  rec.lock();
  rec.lock();
  spin.lock();
  lockcnt.inc();
  lockcnt.inc();
  lockcnt.lock();
  thread.getSelf();

  // Each sees only its own state.
  assert.equal(mutex.isHeldBySelf(), true);
  assert.equal(rec.depthHeldBySelf(), 2);
  assert.equal(cond.waiters(), 0);
  assert.equal(sem.value(), 4294967295);
  assert.equal(event.isSet(), true);
  assert.equal(spin.isLocked(), true);
  assert.equal(lockcnt.count(), 2);
  assert.equal(thread.isSelf(), true);

  // Changing some leaves the others alone.
  mutex.unlock();
  mutex.destroy();
  event.reset();
  assert.equal(sem.timedWait(0), true);
  spin.unlock();
  assert.equal(rec.depthHeldBySelf(), 2);
  assert.equal(sem.value(), 4294967294);
  assert.equal(spin.isLocked(), false);
  assert.equal(lockcnt.count(), 2);
  assert.equal(event.isSet(), false);
  assert.equal(thread.isSelf(), true);
  assert.throws(() => mutex.lock(), qemuError('EINVAL', 'qemu_mutex_lock'));
  assert.equal(rec.tryLock(), true);
  rec.unlock();
  rec.unlock();
  rec.unlock();
  lockcnt.unlock();
  assert.equal(lockcnt.decAndLock(), false);
  const m2 = QemuMutex.create();
  m2.lock();
  assert.equal(cond.timedWait(m2, 0), false);
  m2.unlock();
  cond.destroy();
  assert.equal(sem.value(), 4294967294);
  assert.equal(rec.depthHeldBySelf(), 0);
});

watched('two wrappers on the same buffer and offset share one mutex', () => {
  const buffer = new SharedArrayBuffer(16);
  const a = QemuMutex.create(buffer, 8);
  const b = new QemuMutex(buffer, 8);
  qemu_mutex_lock(a);
  assert.equal(qemu_mutex_trylock(b), -16);
  assert.throws(() => b.lock(), qemuError('EDEADLK', 'qemu_mutex_lock'));
  b.unlock();
  assert.equal(a.isHeldBySelf(), false);
  assert.throws(() => a.unlock(), qemuError('EPERM', 'qemu_mutex_unlock'));
});

watched(
  'two wrappers on the same buffer and offset share a semaphore, an event, a spinlock and a lockcnt',
  () => {
    const buffer = new SharedArrayBuffer(128);
    // One after the other, each at the end of the previous one.
    const EVENT = QemuSemaphore.BYTES;
    const SPIN = EVENT + QemuEvent.BYTES;
    const LOCKCNT = SPIN + QemuSpin.BYTES;
    const COND = LOCKCNT + QemuLockCnt.BYTES;
    const s1 = QemuSemaphore.create(2, buffer, 0);
    const s2 = new QemuSemaphore(buffer, 0);
    s2.wait();
    assert.equal(s1.value(), 1);
    const e1 = QemuEvent.create(false, buffer, EVENT);
    const e2 = new QemuEvent(buffer, EVENT);
    e1.set();
    assert.equal(e2.timedWait(0), true);
    const p1 = QemuSpin.create(buffer, SPIN);
    const p2 = new QemuSpin(buffer, SPIN);
    p1.lock();
    assert.equal(qemu_spin_trylock(p2), true);
    p2.unlock();
    assert.equal(p1.isLocked(), false);
    const l1 = QemuLockCnt.create(buffer, LOCKCNT);
    const l2 = new QemuLockCnt(buffer, LOCKCNT);
    l1.inc();
    assert.equal(l2.decAndLock(), true);
    assert.throws(() => l1.lock(), qemuError('EDEADLK', 'qemu_lockcnt_lock'));
    l1.unlock();
    const c1 = QemuCond.create(buffer, COND);
    const c2 = new QemuCond(buffer, COND);
    c1.destroy();
    assert.throws(() => c2.signal(), qemuError('EINVAL', 'qemu_cond_signal'));
  },
);

watched('every qemu_mutex_* and qemu_rec_mutex_* function accepts a structured clone', () => {
  const m = new QemuMutex();
  const mc = () => structuredClone(m);
  qemu_mutex_init(mc());
  qemu_mutex_lock(mc());
  assert.equal(m.isHeldBySelf(), true);
  assert.equal(qemu_mutex_trylock(mc()), -16);
  qemu_mutex_unlock(mc());
  assert.equal(qemu_mutex_trylock(mc()), 0);
  qemu_mutex_unlock(mc());
  qemu_mutex_destroy(mc());
  assert.throws(() => m.lock(), qemuError('EINVAL', 'qemu_mutex_lock'));

  const r = new QemuRecMutex();
  const rc = () => structuredClone(r);
  qemu_rec_mutex_init(rc());
  qemu_rec_mutex_lock(rc());
  assert.equal(qemu_rec_mutex_trylock(rc()), 0);
  assert.equal(r.depthHeldBySelf(), 2);
  qemu_rec_mutex_unlock(rc());
  qemu_rec_mutex_unlock(rc());
  assert.equal(r.depthHeldBySelf(), 0);
  qemu_rec_mutex_destroy(rc());
  assert.throws(() => r.lock(), qemuError('EINVAL', 'qemu_rec_mutex_lock'));
});

watched('every qemu_cond_* function accepts structured clones of the cond and the mutex', () => {
  const c = new QemuCond();
  const m = QemuMutex.create();
  const cc = () => structuredClone(c);
  const mc = () => structuredClone(m);
  qemu_cond_init(cc());
  qemu_cond_signal(cc());
  qemu_cond_broadcast(cc());
  m.lock();
  assert.equal(qemu_cond_timedwait(cc(), mc(), 0), false);
  assert.equal(qemu_cond_timedwait(cc(), mc(), 1), false);
  assert.equal(m.isHeldBySelf(), true);
  m.unlock();
  // With the mutex free, the EPERM shows both clones were accepted as what they are.
  assert.throws(() => qemu_cond_wait(cc(), mc()), qemuError('EPERM', 'qemu_cond_wait'));
  qemu_cond_destroy(cc());
  assert.throws(() => c.signal(), qemuError('EINVAL', 'qemu_cond_signal'));
});

watched('every qemu_sem_* and qemu_event_* function accepts a structured clone', () => {
  const s = new QemuSemaphore();
  const sc = () => structuredClone(s);
  qemu_sem_init(sc(), 1);
  qemu_sem_post(sc());
  assert.equal(s.value(), 2);
  qemu_sem_wait(sc());
  assert.equal(qemu_sem_timedwait(sc(), 0), 0);
  assert.equal(qemu_sem_timedwait(sc(), 0), -1);
  qemu_sem_destroy(sc());
  assert.throws(() => s.post(), qemuError('EINVAL', 'qemu_sem_post'));

  const e = new QemuEvent();
  const ec = () => structuredClone(e);
  qemu_event_init(ec(), false);
  qemu_event_set(ec());
  assert.equal(e.isSet(), true);
  qemu_event_wait(ec());
  assert.equal(qemu_event_timedwait(ec(), 0), true);
  qemu_event_reset(ec());
  assert.equal(e.isSet(), false);
  qemu_event_destroy(ec());
  assert.throws(() => e.set(), qemuError('EINVAL', 'qemu_event_set'));
});

watched('every qemu_spin_* and qemu_lockcnt_* function accepts a structured clone', () => {
  const p = new QemuSpin();
  const pc = () => structuredClone(p);
  qemu_spin_init(pc());
  qemu_spin_lock(pc());
  assert.equal(qemu_spin_locked(pc()), true);
  assert.equal(qemu_spin_trylock(pc()), true);
  qemu_spin_unlock(pc());
  assert.equal(p.isLocked(), false);
  qemu_spin_destroy(pc());
  assert.throws(() => p.lock(), qemuError('EINVAL', 'qemu_spin_lock'));

  const l = new QemuLockCnt();
  const lc = () => structuredClone(l);
  qemu_lockcnt_init(lc());
  qemu_lockcnt_inc(lc());
  qemu_lockcnt_inc(lc());
  assert.equal(qemu_lockcnt_count(lc()), 2);
  qemu_lockcnt_dec(lc());
  assert.equal(qemu_lockcnt_dec_if_lock(lc()), true);
  qemu_lockcnt_inc_and_unlock(lc());
  assert.equal(qemu_lockcnt_dec_and_lock(lc()), true);
  qemu_lockcnt_unlock(lc());
  qemu_lockcnt_lock(lc());
  qemu_lockcnt_unlock(lc());
  assert.equal(l.count(), 0);
  qemu_lockcnt_destroy(lc());
  assert.throws(() => l.count(), qemuError('EINVAL', 'qemu_lockcnt_count'));
});

watched('qemu_thread_* functions accept a structured clone', () => {
  const t = new QemuThread();
  assert.equal(qemu_thread_is_self(structuredClone(t)), false);
  qemu_thread_get_self(structuredClone(t));
  assert.equal(t.isSelf(), true);
  assert.equal(qemu_thread_is_self(structuredClone(t)), true);
  // Joining the caller's own identity is EDEADLK: the clone was taken for what it is.
  assert.throws(() => qemu_thread_join(structuredClone(t)), qemuError('EDEADLK', 'qemu_thread_join'));
});

watched('X.create returns an initialized primitive, in its own or in placed storage', () => {
  // Each primitive is placed right after the previous one, by the sizes the classes declare.
  const offsets: number[] = [];
  let at = 0;
  for (const bytes of [QemuMutex.BYTES, QemuRecMutex.BYTES, QemuCond.BYTES, QemuSemaphore.BYTES]) {
    offsets.push(at);
    at += bytes;
  }
  for (const bytes of [QemuEvent.BYTES, QemuSpin.BYTES, QemuLockCnt.BYTES]) {
    offsets.push(at);
    at += bytes;
  }
  const buffer = new SharedArrayBuffer(at + 4);
  const [mAt, rAt, cAt, sAt, eAt, spAt, lAt] = offsets;
  const m = QemuMutex.create();
  assert.equal(m.tryLock(), true);
  assert.equal(QemuMutex.create(buffer, mAt).tryLock(), true);
  const r = QemuRecMutex.create(buffer, rAt);
  assert.equal(r.tryLock(), true);
  assert.equal(r.byteOffset, rAt);
  const c = QemuCond.create(buffer, cAt);
  c.signal();
  assert.equal(c.byteOffset, cAt);
  assert.equal(QemuSemaphore.create().value(), 0);
  const s = QemuSemaphore.create(3, buffer, sAt);
  assert.equal(s.value(), 3);
  assert.equal(s.byteOffset, sAt);
  assert.equal(QemuEvent.create().isSet(), false);
  assert.equal(QemuEvent.create(true, buffer, eAt).isSet(), true);
  assert.equal(QemuSpin.create(buffer, spAt).isLocked(), false);
  assert.equal(QemuLockCnt.create(buffer, lAt).count(), 0);
  assert.equal(new Int32Array(buffer, at, 1)[0], 0, 'a create wrote past its region');
});

watched('toString and util.inspect show a mutex state, naming the locking thread', () => {
  const m = new QemuMutex();
  assert.match(String(m), /QemuMutex/);
  assert.match(String(m), /uninit|never/i);
  m.init();
  assert.match(String(m), /unlocked/);
  m.lock();
  const locked = String(m);
  assert.match(locked, new RegExp(`locked by thread ${threadId}\\b`));
  assert.equal(inspect(m), locked);
  assert.ok(inspect({ m }).includes(locked));
  m.unlock();
  m.destroy();
  assert.match(String(m), /destroyed/);
  assert.match(inspect(m), /destroyed/);
});

watched('toString and util.inspect show the state of every other kind', () => {
  const r = QemuRecMutex.create();
  r.lock();
  r.lock();
  assert.match(String(r), new RegExp(`QemuRecMutex.*locked by thread ${threadId}\\b`));
  assert.match(inspect(r), /depth 2/);
  r.unlock();
  r.unlock();
  assert.match(String(r), /unlocked/);

  const c = QemuCond.create();
  assert.match(inspect(c), /QemuCond.*waiters: 0/);
  c.destroy();
  assert.match(String(c), /destroyed/);

  const s = QemuSemaphore.create(3);
  assert.match(inspect(s), /QemuSemaphore.*count: 3/);
  assert.match(String(new QemuSemaphore()), /uninit|never/i);

  const e = QemuEvent.create(true);
  assert.match(inspect(e), /QemuEvent.*\bset\b/);
  e.reset();
  assert.match(String(e), /\bfree\b|\bnot set\b|\breset\b/);

  const p = QemuSpin.create();
  p.lock();
  assert.match(inspect(p), new RegExp(`QemuSpin.*locked by thread ${threadId}\\b`));
  p.unlock();
  assert.match(String(p), /unlocked/);

  const l = QemuLockCnt.create();
  l.inc();
  l.inc();
  assert.match(inspect(l), /QemuLockCnt.*count: 2/);
  l.lock();
  assert.match(String(l), new RegExp(`locked by thread ${threadId}\\b`));
  l.unlock();
  assert.match(String(l), /unlocked/);

  const t = new QemuThread();
  t.getSelf();
  assert.match(inspect(t), new RegExp(`QemuThread.*thread ${threadId}\\b`));
});

watched('a QemuThread that was never started does not claim to be some thread in its inspection', () => {
  const shown = String(new QemuThread());
  assert.match(shown, /QemuThread/);
  assert.match(shown, /never started/);
  // Thread 0 is Node's main thread: naming it here would point a reader at the wrong thread.
  assert.doesNotMatch(shown, /thread \d/);
});
