/**
 * QemuLockCnt across real threads: 3 visitors inc / dec (also through dec_and_lock and dec_if_lock) while
 * a reclaimer repeatedly takes the lock; whoever holds the lock with the count at 0 frees the shared
 * resource. No visitor may ever see it freed, no reclaimer may ever see a visitor inside, and the counts
 * must come out exact.
 */
import assert from 'node:assert/strict';
import {
  QemuLockCnt,
  qemu_lockcnt_count,
  qemu_lockcnt_destroy,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import { joinAll, notifyAllWords, sharedWords, spawn } from './workers/concurrency/helpers.js';
import {
  INSIDE,
  LC_WORDS,
  type LockCntArg,
  RECLAIMS,
  VIOLATIONS,
  VISITS,
} from './workers/concurrency/lockcnt-workers.js';

const WORKERS = new URL('./workers/concurrency/lockcnt-workers.js', import.meta.url);
const fn = (name: string) => new URL(`#${name}`, WORKERS);

watched(
  'lockcnt: with the lock held and the count at 0, no visitor is inside (3 visitors x 100,000 + reclaimer)',
  { ms: 60_000 },
  () => {
    const VISITORS = 3;
    const ITERATIONS = 100_000;
    const l = QemuLockCnt.create();
    const data = sharedWords(LC_WORDS);
    const done = sharedWords(1);
    const arg: LockCntArg = { l, data, visitors: VISITORS, iterations: ITERATIONS, done };
    const threads = [spawn('reclaimer', fn('reclaimer'), arg)];
    for (let i = 0; i < VISITORS; i++) threads.push(spawn(`visitor-${i}`, fn('visitor'), arg));
    const [reclaimerReclaims, ...visits] = joinAll(threads, done, {
      what: 'lockcnt',
      progress: () => Atomics.load(data, VISITS) + Atomics.load(data, RECLAIMS),
      rescue: () => notifyAllWords(l),
      describe: () => String(l),
    });
    assert.deepEqual(visits, Array(VISITORS).fill(ITERATIONS));
    assert.equal(
      Atomics.load(data, VIOLATIONS),
      0,
      'a visitor saw the resource freed, or a reclaimer saw a visitor',
    );
    assert.equal(Atomics.load(data, INSIDE), 0);
    assert.equal(Atomics.load(data, VISITS), VISITORS * ITERATIONS);
    assert.ok((reclaimerReclaims as number) >= 1, 'the reclaimer reclaimed at least at the end');
    assert.ok(Atomics.load(data, RECLAIMS) >= (reclaimerReclaims as number));
    assert.equal(qemu_lockcnt_count(l), 0, 'every inc was matched');
    qemu_lockcnt_lock(l);
    qemu_lockcnt_unlock(l);
    qemu_lockcnt_destroy(l);
  },
);
