// Two copies of qemu-thread in one browser thread act as one (as when a bundler's chunk and a raw file
// meet in a worker): thread functions that use a second copy (test-artifacts/dist-copy/, made here) hand
// their qemu_thread_exit value and their QemuThreadError to the first copy's join, share thread ids,
// names, liveness (EOWNERDEAD) and the thread-id counter, and start threads of their own.
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ARTIFACTS,
  explain,
  openPage,
  openSession,
  type PageLog,
  ROOT,
  runOnWindow,
  type Session,
} from './support.js';

let session: Session;
let page: Page;
let log: PageLog;
before(async () => {
  const copy = join(ARTIFACTS, 'dist-copy');
  rmSync(copy, { recursive: true, force: true });
  cpSync(join(ROOT, 'dist'), copy, { recursive: true });
  session = await openSession();
  ({ page, log } = await openPage(session, '/test/browser/fixtures/'));
});
after(() => session?.close());

interface Run {
  tid: number;
  value?: unknown;
  error?: { failure: boolean; brand: boolean; code: string; message: string };
}

test(
  'a thread function using a second copy of the library acts as with one copy',
  { timeout: 60_000 },
  async () => {
    const r = await runOnWindow<{
      exit: Run;
      thrown: Run;
      locked: Run;
      afterOwnerEnded: string;
      nested: Run;
    }>(page, 'copies').catch((error: Error) => assert.fail(`${error.message}\n${explain(log)}`));
    const why = `${JSON.stringify(r, null, 1)}\n${explain(log)}`;
    assert.deepEqual(r.exit.value, { got: 7 }, `qemu_thread_exit's value, not a wrapper: ${why}`);
    assert.equal(r.thrown.error?.failure, true, `a QemuThreadFailure, its cause the thread's error: ${why}`);
    assert.equal(r.thrown.error?.brand, true, `instanceof QemuThreadError across copies: ${why}`);
    assert.equal(r.thrown.error?.code, 'EPERM', why);
    const locked = r.locked.value as { name: string; held: string };
    assert.equal(locked.name, 'copy thread', why);
    assert.match(locked.held, new RegExp(`locked by thread ${r.locked.tid}\\b`), `one thread id: ${why}`);
    assert.equal(r.afterOwnerEnded, 'EOWNERDEAD', `the owner's end is seen by both copies: ${why}`);
    const nested = r.nested.value as { tid: number; joined: unknown };
    assert.deepEqual(nested.joined, { got: 9 }, why);
    const tids = [r.exit.tid, r.thrown.tid, r.locked.tid, r.nested.tid, nested.tid];
    assert.equal(new Set(tids).size, tids.length, `one thread-id counter: ${why}`);
  },
);
