// QSP: exact counts across threads, QEMU's sort and coalescing rules, reset as a snapshot, the table format.
import assert from 'node:assert/strict';
import {
  QemuCond,
  QemuMutex,
  QemuRecMutex,
  QemuThread,
  QSP_SORT_BY_AVG_WAIT_TIME,
  QSP_SORT_BY_TOTAL_WAIT_TIME,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qsp_disable,
  qsp_enable,
  qsp_is_enabled,
  qsp_reset,
  qspReportText,
  qspRows,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';

const here = (row: { file: string }) => row.file.endsWith('qsp.test.js');

watched(
  'counts are exact across threads, failed trylocks add time but no acquisition',
  { ms: 60_000 },
  () => {
    const m = QemuMutex.create();
    qsp_enable();
    try {
      assert.equal(qsp_is_enabled(), true);
      qsp_reset();
      const t = QemuThread.create(
        'contender',
        new URL('./workers/trace/contend.js#lockMany', import.meta.url),
        {
          m,
          n: 500,
        },
      );
      for (let i = 0; i < 300; i++) {
        qemu_mutex_lock(m);
        qemu_mutex_unlock(m);
      }
      assert.equal(t.join(), 500);
      qemu_mutex_lock(m);
      for (let i = 0; i < 7; i++) assert.equal(qemu_mutex_trylock(m), -16);
      qemu_mutex_unlock(m);
    } finally {
      qsp_disable();
    }
    const rows = qspRows(100, QSP_SORT_BY_TOTAL_WAIT_TIME, false);
    const id = Number(/#(\d+)/.exec(String(m))?.[1]);
    const mine = rows.filter((r) => r.obj === id);
    const worker = mine.filter((r) => r.file.endsWith('workers/trace/contend.js'));
    assert.equal(worker.length, 1);
    assert.equal(worker[0].count, 500);
    assert.equal(worker[0].type, 'mutex');
    const local = mine.filter(here).map((r) => r.count);
    assert.deepEqual(
      local.sort((a, b) => a - b),
      [0, 1, 300],
      'the loop, the lock, the 7 failed trylocks',
    );
    for (const r of mine) assert.ok(r.ns >= 0);
    assert.ok(mine.find((r) => here(r) && r.count === 0)!.ns > 0, 'failed trylocks still count time');
  },
);

watched('reset makes later reports show deltas and drops rows with nothing new', () => {
  const m = QemuMutex.create();
  const other = QemuMutex.create();
  qsp_enable();
  try {
    for (let i = 0; i < 5; i++) {
      qemu_mutex_lock(other);
      qemu_mutex_unlock(other);
    }
    qsp_reset();
    for (let i = 0; i < 4; i++) {
      qemu_mutex_lock(m);
      qemu_mutex_unlock(m);
    }
  } finally {
    qsp_disable();
  }
  const rows = qspRows(100, QSP_SORT_BY_TOTAL_WAIT_TIME, false);
  const idOf = (x: QemuMutex) => Number(/#(\d+)/.exec(String(x))?.[1]);
  assert.equal(rows.filter((r) => r.obj === idOf(other)).length, 0, 'nothing happened on it since the reset');
  assert.deepEqual(
    rows.filter((r) => r.obj === idOf(m)).map((r) => r.count),
    [4],
  );
});

watched('coalescing merges call sites across objects; sort orders follow QEMU', () => {
  const mutexes = [QemuMutex.create(), QemuMutex.create(), QemuMutex.create()];
  const c = QemuCond.create();
  const r = QemuRecMutex.create();
  qsp_enable();
  try {
    qsp_reset();
    for (const m of mutexes) {
      qemu_mutex_lock(m); // one call site, three objects
      qemu_mutex_unlock(m);
    }
    mutexes[0].lock();
    assert.equal(c.timedWait(mutexes[0], 20), false); // a long wait: the largest total and average
    mutexes[0].unlock();
    r.lock();
    r.unlock();
  } finally {
    qsp_disable();
  }
  const coalesced = qspRows(100, QSP_SORT_BY_TOTAL_WAIT_TIME, true).filter(here);
  const shared = coalesced.find((row) => row.objects === 3);
  assert.ok(shared, 'the three mutexes locked at one site share a row');
  assert.equal(shared.count, 3);
  assert.equal(shared.obj, 0);
  const separate = qspRows(100, QSP_SORT_BY_TOTAL_WAIT_TIME, false).filter(here);
  assert.equal(separate.filter((row) => row.line === shared.line).length, 3);
  assert.equal(coalesced[0].type, 'condvar', 'the 20 ms cond wait has the largest total');
  const byAvg = qspRows(100, QSP_SORT_BY_AVG_WAIT_TIME, true).filter(here);
  assert.equal(byAvg[0].type, 'condvar');
  for (let i = 1; i < byAvg.length; i++) {
    const avg = (x: (typeof byAvg)[number]) => (x.count ? Math.floor(x.ns / x.count) : 0);
    assert.ok(avg(byAvg[i - 1]) >= avg(byAvg[i]), 'sorted by average, descending');
  }
  assert.ok(coalesced.some((row) => row.type === 'rec_mutex'));
});

watched("the table has QEMU's header, rule, column widths and number formats", () => {
  const m = QemuMutex.create();
  qsp_enable();
  try {
    qsp_reset();
    qemu_mutex_lock(m);
    qemu_mutex_unlock(m);
  } finally {
    qsp_disable();
  }
  const lines = qspReportText(1).trimEnd().split('\n');
  assert.equal(lines.length, 4);
  const site = qspRows(1)[0];
  const width = Math.max(9, `${site.file}:${site.line}`.length);
  assert.equal(
    lines[0],
    `Type               Object  ${'Call site'.padEnd(width)}  Wait Time (s)         Count  Average (us)`,
  );
  assert.equal(lines[1], '-'.repeat(79 + width - 9));
  assert.equal(lines[3], lines[1]);
  assert.equal(lines[2].length, lines[0].length);
  const row = new RegExp(
    `^mutex {6}[ ]+0x[0-9a-f]+  ${site.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${site.line} *  +\\d+\\.\\d{5}  +1  +\\d+\\.\\d{2}$`,
  );
  assert.match(lines[2], row);
});

watched(
  'nested rec-mutex locks count as QEMU counts them; async locks and waits, and 0 ms waits, are profiled',
  async () => {
    const r = QemuRecMutex.create();
    const m = QemuMutex.create();
    const c = QemuCond.create();
    qsp_enable();
    try {
      qsp_reset();
      for (let i = 0; i < 3; i++) r.lock(); // one site: the outermost lock and two nested ones
      assert.equal(r.tryLock(), true); // a nested trylock
      for (let i = 0; i < 4; i++) r.unlock();
      await m.lockAsync(); // an async lock
      assert.equal(await c.timedWaitAsync(m, 1), false); // an async cond wait
      assert.equal(c.timedWait(m, 0), false); // a wait of 0 ms
      m.unlock();
    } finally {
      qsp_disable();
    }
    const rows = qspRows(100, QSP_SORT_BY_TOTAL_WAIT_TIME, false).filter(here);
    const of = (type: string, id: number) =>
      rows
        .filter((row) => row.type === type && row.obj === id)
        .map((row) => row.count)
        .sort((a, b) => a - b);
    assert.deepEqual(of('rec_mutex', r.objectId()), [1, 3], 'the lock loop, the nested trylock');
    assert.deepEqual(of('mutex', m.objectId()), [1], 'the async lock');
    assert.deepEqual(of('condvar', c.objectId()), [1, 1], 'the async wait, the wait of 0 ms');
  },
);
