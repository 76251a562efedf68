// QemuThread.prestart: idle workers that make qemu_thread_create skip the worker's boot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QemuThread, QemuThreadError, qemu_thread_create, qemu_thread_join } from 'qemu-thread';
import { watched } from './support/watchdog.js';

const fn = (name: string) => new URL(`./workers/thread/lifecycle.js#${name}`, import.meta.url);

watched(
  'pre-started workers run the next threads, each one once, with their arguments',
  { ms: 60_000 },
  async () => {
    const ready = QemuThread.prestart(3);
    assert.equal(QemuThread.prestarted(), 3);
    // Booted and waiting, so that the creates below take loaded workers.
    await ready;
    const threads = [0, 1, 2].map((i) => {
      const t = new QemuThread();
      qemu_thread_create(t, `pooled-${i}`, fn('echo'), { i, text: `hello ${i}` }, 0);
      return t;
    });
    assert.equal(QemuThread.prestarted(), 0, 'each create took one idle worker');
    const ids = new Set(threads.map((t) => t.threadId()));
    assert.equal(ids.size, 3, 'three distinct workers');
    for (const [i, t] of threads.entries()) assert.deepEqual(qemu_thread_join(t), { i, text: `hello ${i}` });
    // The pool is empty now: the next create spawns a fresh worker and still works.
    const fresh = QemuThread.create('fresh', fn('echo'), 42);
    assert.equal(fresh.join(), 42);
  },
);

watched('an argument that cannot be cloned leaves the idle worker in the pool', { ms: 60_000 }, async () => {
  await QemuThread.prestart(1);
  const t = new QemuThread();
  assert.throws(
    () => qemu_thread_create(t, 'bad', fn('echo'), { f: () => 1 }, 0),
    (e: unknown) => e instanceof QemuThreadError && e.code === 'EINVAL' && e.func === 'qemu_thread_create',
  );
  assert.equal(QemuThread.prestarted(), 1);
  qemu_thread_create(t, 'good', fn('echo'), 'ok', 0);
  assert.equal(QemuThread.prestarted(), 0);
  assert.equal(qemu_thread_join(t), 'ok');
});

watched('idle workers do not keep the process alive', { ms: 60_000 }, () => {
  const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const script = `import { QemuThread } from ${JSON.stringify(index)}; QemuThread.prestart(3);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  assert.equal(run.signal, null, 'the process ended by itself, not by the time-out');
  assert.equal(run.status, 0, String(run.stderr));
});

watched('prestart refuses a count that is not a non-negative integer', () => {
  assert.throws(() => QemuThread.prestart(-1), RangeError);
  assert.throws(() => QemuThread.prestart(1.5), RangeError);
});

watched('prestart resolves once the idle workers are loaded and waiting', { ms: 60_000 }, async () => {
  const before = QemuThread.prestarted();
  await QemuThread.prestart(2);
  assert.equal(QemuThread.prestarted(), before + 2, 'still idle, ready to be launched');
  const t = QemuThread.create('after-ready', fn('echo'), 'ready');
  assert.equal(t.join(), 'ready');
});

watched(
  'awaiting prestart keeps the process alive until the workers are up, then lets it end',
  { ms: 60_000 },
  () => {
    const index = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `import { QemuThread } from ${JSON.stringify(index)}; await QemuThread.prestart(2); console.log('up', QemuThread.prestarted());`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    assert.equal(run.signal, null, 'the process ended by itself, not by the time-out');
    assert.equal(run.status, 0, String(run.stderr));
    assert.equal(String(run.stdout).trim(), 'up 2');
  },
);
