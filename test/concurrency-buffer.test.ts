/**
 * A bounded buffer (capacity 8) with 3 producers and 3 consumers on real threads, 20,000 uniquely numbered
 * items per producer: every item is consumed exactly once (none lost, none duplicated), each producer's
 * items come out in order, and the buffer ends empty. Once with a mutex and two conds (not_full /
 * not_empty), once with a mutex and two semaphores (free slots / filled slots).
 */
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuMutex,
  QemuSemaphore,
  qemu_cond_destroy,
  qemu_mutex_destroy,
  qemu_sem_destroy,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import {
  type BufferArg,
  type ConsumerReport,
  FILL,
  OPS,
  SLOTS,
  STATS_WORDS,
} from './workers/concurrency/buffer-workers.js';
import { joinAll, notifyAllWords, sharedWords, spawn } from './workers/concurrency/helpers.js';

const FN = new URL('./workers/concurrency/buffer-workers.js#bufferWorker', import.meta.url);
const PRODUCERS = 3;
const CONSUMERS = 3;
const ITEMS = 20_000;
const CAPACITY = 8;

function runBuffer(
  sync: Pick<BufferArg, 'notFull' | 'notEmpty' | 'freeSlots' | 'filledSlots'>,
  m: QemuMutex,
) {
  const ring = sharedWords(SLOTS + CAPACITY);
  const seen = new Uint8Array(new SharedArrayBuffer(PRODUCERS * ITEMS));
  const stats = sharedWords(STATS_WORDS);
  const done = sharedWords(1);
  const common = {
    m,
    ...sync,
    ring,
    capacity: CAPACITY,
    producers: PRODUCERS,
    items: ITEMS,
    seen,
    stats,
    threads: PRODUCERS + CONSUMERS,
    watchdogMs: 10_000,
    done,
  };
  const threads = [];
  for (let id = 0; id < PRODUCERS; id++) {
    threads.push(spawn(`producer-${id}`, FN, { ...common, role: 'producer', id } satisfies BufferArg));
  }
  for (let id = 0; id < CONSUMERS; id++) {
    threads.push(spawn(`consumer-${id}`, FN, { ...common, role: 'consumer', id } satisfies BufferArg));
  }
  const results = joinAll(threads, done, {
    what: 'bounded buffer',
    progress: () => Atomics.load(stats, OPS),
    rescue: () => notifyAllWords(m, ...(Object.values(sync) as { words: Int32Array }[])),
    describe: () => `fill ${ring[FILL]}`,
  });
  assert.deepEqual(results.slice(0, PRODUCERS), Array(PRODUCERS).fill(ITEMS), 'every producer put all');
  const reports = results.slice(PRODUCERS) as ConsumerReport[];
  for (const [i, r] of reports.entries()) {
    assert.deepEqual(
      r,
      { taken: ITEMS, duplicates: 0, outOfRange: 0, outOfOrder: 0 },
      `consumer ${i}: took its share; no duplicate, bogus or reordered item`,
    );
  }
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let id = 0; id < seen.length; id++) {
    if (seen[id] === 0) missing.push(id);
    else if (seen[id] !== 1) repeated.push(id);
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} item(s) never consumed`);
  assert.deepEqual(repeated.slice(0, 10), [], `${repeated.length} item(s) consumed more than once`);
  assert.equal(ring[FILL], 0, 'the buffer ends empty');
  assert.equal(Atomics.load(stats, OPS), 2 * PRODUCERS * ITEMS);
}

watched(
  'bounded buffer, mutex + not_full/not_empty conds: 3 x 20,000 items each consumed exactly once',
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    const notFull = QemuCond.create();
    const notEmpty = QemuCond.create();
    runBuffer({ notFull, notEmpty }, m);
    qemu_cond_destroy(notFull);
    qemu_cond_destroy(notEmpty);
    qemu_mutex_destroy(m);
  },
);

watched(
  'bounded buffer, mutex + free/filled semaphores: 3 x 20,000 items each consumed exactly once',
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    const freeSlots = QemuSemaphore.create(CAPACITY);
    const filledSlots = QemuSemaphore.create(0);
    runBuffer({ freeSlots, filledSlots }, m);
    assert.equal(freeSlots.value(), CAPACITY, 'all slots free again');
    assert.equal(filledSlots.value(), 0, 'no filled slot left');
    qemu_sem_destroy(freeSlots);
    qemu_sem_destroy(filledSlots);
    qemu_mutex_destroy(m);
  },
);
