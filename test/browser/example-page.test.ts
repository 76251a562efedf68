// The example page (web/) in Debian's Chromium: cross-origin isolated, the seed's vCPU handshake run by a
// main loop in a Web Worker with exact results, the window thread on async calls only, and a screenshot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ARTIFACTS, explain, openPage, openSession, type Session } from './support.js';

let session: Session;
before(async () => {
  session = await openSession();
});
after(() => session?.close());

interface DemoResult {
  created: { index: number; waits: number; tid: number }[];
  joined: { index: number; initOrder: number; rows: number }[];
  frames: number;
  paints: number;
  snapshots: number[];
}

const SMP = 4;
const FRAMES = 12;
const HEIGHT = 120;

test(
  'the example page runs the seed handshake in Web Workers, and the window only awaits',
  { timeout: 120_000 },
  async () => {
    const { page, log } = await openPage(
      session,
      `/web/?smp=${SMP}&frames=${FRAMES}&width=160&height=${HEIGHT}&frameDelayMs=5&tint=1`,
    );
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
      ),
      true,
      'crossOriginIsolated',
    );
    const result = await page
      .evaluate(async () => {
        const r = await (globalThis as unknown as { demo: Promise<DemoResult> }).demo;
        return {
          created: r.created,
          joined: r.joined,
          frames: r.frames,
          paints: r.paints,
          snapshots: r.snapshots.length,
        };
      })
      .catch((error: Error) => assert.fail(`${error.message}\n${explain(log)}`));

    // Created strictly one at a time: vCPU i was created i-th, its creator saw its `created` flag only
    // after waiting on the condition variable (it held the mutex that the vCPU needs to set it).
    assert.equal(result.created.length, SMP);
    for (const [i, c] of result.created.entries()) {
      assert.equal(c.index, i);
      assert.ok(c.waits >= 1, `CPU ${i}: the creator waited for created (waits = ${c.waits})`);
    }
    assert.equal(new Set(result.created.map((c) => c.tid)).size, SMP, 'distinct thread ids');
    // Joins return each vCPU's own result; every row of every frame was drawn exactly once.
    assert.equal(result.joined.length, SMP);
    for (const [i, j] of result.joined.entries()) {
      assert.equal(j.index, i);
      assert.equal(j.initOrder, i, `CPU ${i} initialized in creation order`);
    }
    assert.equal(result.frames, FRAMES);
    assert.equal(
      result.joined.reduce((sum, j) => sum + j.rows, 0),
      FRAMES * HEIGHT,
      'rows drawn over all frames',
    );
    assert.ok(result.paints > 0, 'the view was painted');
    assert.ok(result.snapshots > 0, 'the window sampled the machine under the mutex (qemu_mutex_lock_async)');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __windowWaits: number }).__windowWaits),
      0,
      'no Atomics.wait on the window thread',
    );
    const text = await page.locator('#log').textContent();
    assert.match(text ?? '', /CPU 3 created/);
    assert.deepEqual(log.errors, [], explain(log));

    const path = `${ARTIFACTS}example-page.png`;
    await page.screenshot({ path });
    const png = readFileSync(path);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(png.length > 10_000, 'a screenshot with a picture in it');
    await page.close();
  },
);

test(
  'the stop button (a qemu_sem_post from the window) ends a long zoom early, every frame complete',
  { timeout: 120_000 },
  async () => {
    const { page, log } = await openPage(
      session,
      '/web/?smp=2&frames=100000&width=64&height=40&frameDelayMs=2',
    );
    // Stop once the machine is visibly running.
    await page.waitForFunction(
      "/[1-9]\\d* frames/.test(document.getElementById('cpus')?.textContent ?? '')",
      undefined,
      { timeout: 60_000 },
    );
    await page.click('#stop');
    const result = await page
      .evaluate(async () => {
        const r = await (globalThis as unknown as { demo: Promise<DemoResult> }).demo;
        return { frames: r.frames, rows: r.joined.reduce((sum, j) => sum + j.rows, 0) };
      })
      .catch((error: Error) => assert.fail(`${error.message}\n${explain(log)}`));
    assert.ok(result.frames >= 1 && result.frames < 100_000, `stopped after ${result.frames} frames`);
    assert.equal(result.rows, result.frames * 40, 'every frame drawn completely, none half-drawn');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __windowWaits: number }).__windowWaits),
      0,
    );
    await page.close();
  },
);

test(
  'without the isolation headers the page says so, and the library says how to fix it',
  { timeout: 60_000 },
  async () => {
    const page = await session.browser.newPage();
    // The same files, served without COOP/COEP.
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    await page.goto(new URL('/web/', session.server.url).href);
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
      ),
      false,
    );
    assert.match((await page.locator('#isolation').textContent()) ?? '', /Not cross-origin isolated/);
    const message = await page.evaluate(() =>
      import('/dist/index.js' as string).then(
        () => 'imported',
        (error: Error) => error.message,
      ),
    );
    assert.match(message, /SharedArrayBuffer is not available: the page must be cross-origin isolated/);
    assert.match(message, /Cross-Origin-Opener-Policy: same-origin/);
    assert.match(message, /Cross-Origin-Embedder-Policy: require-corp/);
    await page.close();
  },
);
