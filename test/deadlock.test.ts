// Deadlock detection: a lock-order inversion between real threads gives exactly one of them EDEADLK
// naming the cycle; a long wait that is not a deadlock never does.
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuMutex,
  QemuThread,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qsp_disable,
  qsp_enable,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';

const fn = (name: string) => new URL(`./workers/deadlock/abba.js#${name}`, import.meta.url);

for (const [n, profiled] of [
  [2, false],
  [3, false],
  [2, true],
] as const) {
  watched(
    `a cycle of ${n} threads: one gets EDEADLK naming the cycle and where it waits, the others then finish${profiled ? '; with the profiler on, also where each lock was taken' : ''}`,
    { ms: 60_000 },
    (w) => {
      // The profiler (like tracing) computes each lock's call site, which the report then shows.
      if (profiled) qsp_enable();
      const mutexes = Array.from({ length: n }, () => QemuMutex.create());
      const ready = new Int32Array(new SharedArrayBuffer(4));
      // Thread i holds mutex i and wants mutex i+1: a cycle through all of them.
      const threads = mutexes.map((first, i) =>
        QemuThread.create(`t${i}`, fn('lockInOrder'), {
          first,
          second: mutexes[(i + 1) % n],
          ready,
          threads: n,
        }),
      );
      w.show({ mutexes, threads, ready });
      const results = threads.map((t) => String(t.join()));
      const refused = results.filter((r) => r.startsWith('EDEADLK'));
      assert.equal(refused.length, 1, results.join('\n'));
      assert.equal(results.filter((r) => r === 'ok').length, n - 1, results.join('\n'));
      assert.match(refused[0], /^EDEADLK: qemu_mutex_lock: Resource deadlock avoided \(deadlock: /);
      for (const m of mutexes) assert.ok(refused[0].includes(`mutex #${m.objectId()}`), refused[0]);
      threads.forEach((t, i) => {
        assert.ok(refused[0].includes(`thread ${t.threadId()} 't${i}'`), `names each thread: ${refused[0]}`);
      });
      // The reporter has been asleep long enough to have recorded where it waits (the line of its lock).
      assert.match(refused[0], /waits for mutex #\d+ at [^,;]*abba\.js:\d+/);
      if (profiled) {
        qsp_disable();
        assert.equal(refused[0].match(/\(taken at [^)]*abba\.js:\d+\)/g)?.length, n, refused[0]);
      } else {
        assert.doesNotMatch(refused[0], /taken at/);
      }
    },
  );
}

watched('a long wait for a busy holder is not a deadlock', { ms: 60_000 }, (w) => {
  const m = QemuMutex.create();
  const held = new Int32Array(new SharedArrayBuffer(4));
  const t = QemuThread.create('slow holder', fn('holdFor'), { m, ms: 1500, held });
  w.show({ m, t });
  while (Atomics.load(held, 0) === 0) Atomics.wait(held, 0, 0, 20);
  qemu_mutex_lock(m); // parked for 1.5 s after the holder sees it parked, well past the detector's threshold
  qemu_mutex_unlock(m);
  t.join();
});

watched("a cycle through a cond wait's relock is found too", { ms: 60_000 }, (w) => {
  const arg = {
    m1: QemuMutex.create(),
    m2: QemuMutex.create(),
    c: QemuCond.create(),
    flags: new Int32Array(new SharedArrayBuffer(8)),
  };
  const a = QemuThread.create('cond side', fn('condSide'), arg);
  const b = QemuThread.create('lock side', fn('lockSide'), arg);
  w.show({ ...arg, a, b });
  const results = [String(a.join()), String(b.join())];
  assert.equal(results.filter((r) => r.startsWith('EDEADLK')).length, 1, results.join('\n'));
  assert.equal(results.filter((r) => r === 'ok').length, 1, results.join('\n'));
  const refused = results.find((r) => r.startsWith('EDEADLK')) ?? '';
  assert.match(refused, /^EDEADLK: qemu_(mutex_lock|cond_wait): Resource deadlock avoided \(deadlock: /);
});
