/**
 * Main scripts for the async tests that need a process of their own (they are run with `node`, never
 * imported by a test): whether a pending async wait keeps the process alive, and the polling fallback
 * for engines without Atomics.waitAsync. Each prints one result line to stdout.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const [mode, what] = process.argv.slice(2);

if (mode === 'no-wait-async') {
  // As if the engine had no Atomics.waitAsync: must be gone before the library is loaded.
  delete (Atomics as { waitAsync?: unknown }).waitAsync;
}

const q = await import('qemu-thread');

/**
 * How the worker below sees that the main thread's async wait is pending: the primitive counts it as a
 * waiter (a semaphore's or an event's WAITERS word, a cond's waiters(), a mutex word marked contended).
 */
const PENDING = `
  const pending = {
    sem: (p) => Atomics.load(p.words, 2) > 0,
    event: (p) => Atomics.load(p.words, 2) > 0,
    cond: (p) => q.QemuCond.from(p.c).waiters() > 0,
    mutex: (p) => q.QemuMutex.from(p).holder()?.contended === true,
  }[workerData.what];
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!pending(workerData.prim)) Atomics.wait(nap, 0, 0, 1);
  // Then time is let pass on purpose: a process that the pending wait did not keep alive ends meanwhile.
  Atomics.wait(nap, 0, 0, workerData.ms);`;

/**
 * A raw worker that, once the main thread's async wait is pending and `ms` more have passed, does
 * `action` to the shared primitive; unref'd, so it does not keep the process alive: only the main
 * thread's pending async wait can.
 */
function later(action: string, prim: unknown, ms: number): void {
  const source = `
    const { workerData } = require('node:worker_threads');
    import('qemu-thread').then((q) => {
      ${PENDING}
      const p = workerData.prim;
      if (workerData.action === 'post') q.qemu_sem_post(p);
      else if (workerData.action === 'signal') { q.qemu_mutex_lock(p.m); p.flag[0] = 1; q.qemu_cond_signal(p.c); q.qemu_mutex_unlock(p.m); }
      else if (workerData.action === 'set') q.qemu_event_set(p);
    });`;
  const worker = new Worker(source, { eval: true, workerData: { action, prim, ms, what } });
  worker.unref();
}

/** A worker that takes `m` and keeps it until the main thread's async lock is pending and `ms` more. */
function holdInWorker(m: unknown, ms: number): void {
  const source = `
    const { workerData } = require('node:worker_threads');
    import('qemu-thread').then((q) => {
      q.qemu_mutex_lock(workerData.prim);
      Atomics.store(workerData.flag, 0, 1);
      Atomics.notify(workerData.flag, 0);
      ${PENDING}
      q.qemu_mutex_unlock(workerData.prim);
    });`;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(source, { eval: true, workerData: { prim: m, flag, ms, what } });
  worker.unref();
  Atomics.wait(flag, 0, 0, 20_000);
}

async function run(): Promise<string> {
  if (what === 'sem') {
    const s = q.QemuSemaphore.create(0);
    later('post', s, 300);
    await q.qemu_sem_wait_async(s);
    return `sem woken, count ${s.value()}`;
  }
  if (what === 'mutex') {
    const m = q.QemuMutex.create();
    holdInWorker(m, 300);
    await q.qemu_mutex_lock_async(m);
    return `mutex taken, held by self ${m.holder()?.threadId === 0}`;
  }
  if (what === 'cond') {
    const m = q.QemuMutex.create();
    const c = q.QemuCond.create();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    await m.lockAsync();
    later('signal', { m, c, flag }, 300);
    while (flag[0] === 0) await q.qemu_cond_wait_async(c, m);
    m.unlock();
    return `cond woken, flag ${flag[0]}`;
  }
  if (what === 'event') {
    const e = q.QemuEvent.create(false);
    later('set', e, 300);
    await q.qemu_event_wait_async(e);
    return `event woken, set ${e.isSet()}`;
  }
  throw new Error(`unknown scenario ${what}`);
}

writeSync(1, `${await run()}\n`);
