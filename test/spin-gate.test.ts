/**
 * The bookkeeping behind the decision to spin at all (park.ts, issue 15): a thread asleep in a wait is
 * marked so in its slot (a locker of a mutex it holds then sleeps at once), and the process-wide count of
 * spinning threads returns to zero once the waits are over. Timings decide nothing here: only the counts
 * and marks are checked. Every wait is bounded by a watchdog.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { QemuMutex, QemuSemaphore, QemuThread } from 'qemu-thread';
import { spinningThreads, threadAsleep } from '#internal/park';

const fn = (name: string) => new URL(`./workers/spin/targets.js#${name}`, import.meta.url);

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`watchdog: ${what} did not happen within ${ms} ms`);
    await delay(1);
  }
}

test('a thread parked in a wait is marked asleep while it sleeps, and not once it has run on', async () => {
  const m = QemuMutex.create();
  const s = QemuSemaphore.create(0);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const t = QemuThread.create('sleeper', fn('holdAndWait'), { m, s, flags });
  const tid = t.threadId();
  await until(() => Atomics.load(flags, 0) === 1, 'the thread holding the mutex');
  await until(() => threadAsleep(tid), 'the thread marked asleep');
  assert.equal(m.holder()?.threadId, tid, 'it sleeps holding the mutex');
  s.post();
  assert.equal(await t.joinAsync(), 'posted');
  assert.equal(threadAsleep(tid), false, 'not asleep once it has run on (and ended)');
});

test('the count of spinning threads is back to zero once every wait is over', async () => {
  const a = QemuSemaphore.create(0);
  const b = QemuSemaphore.create(0);
  const rounds = 20_000;
  const t1 = QemuThread.create('first', fn('handOff'), { mine: a, theirs: b, first: true, rounds });
  const t2 = QemuThread.create('second', fn('handOff'), { mine: b, theirs: a, first: false, rounds });
  assert.equal(await t1.joinAsync(), rounds);
  assert.equal(await t2.joinAsync(), rounds);
  assert.equal(spinningThreads(), 0);
});
