/**
 * Failures that nobody joins are not silent: a program (test/workers/thread/unjoined.ts) whose threads end
 * in every way is run, and its stderr must name exactly the joinable threads that failed and were never
 * joined (reported by their creator as it ends, or by the main thread as the process ends), once each,
 * and the detached thread that failed (reported at once), each in the documented form; its exit status
 * stays 0.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { threadTest } from './workers/thread/harness.js';

threadTest('failed threads never joined are reported on stderr by their creator; the others are not', () => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./workers/thread/unjoined.js', import.meta.url))],
    {
      encoding: 'utf8',
      timeout: 50_000,
    },
  );
  assert.equal(run.error, undefined, `the program hung: ${run.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'main ends\n', run.stderr);
  const reports = run.stderr.split('\n').filter((line) => line.startsWith('qemu-thread: '));
  const expected = [
    /^qemu-thread: detached thread \d+ 'loose' failed: TypeError: nobody joins me$/,
    /^qemu-thread: thread \d+ 'orphan of an exiting worker' failed and was never joined: TypeError: abandoned by a worker that exits$/,
    /^qemu-thread: thread \d+ 'orphan of a staying worker' failed and was never joined: TypeError: abandoned by a worker that stays$/,
    /^qemu-thread: thread \d+ 'producer' failed and was never joined: TypeError: bad index$/,
    /^qemu-thread: thread \d+ 'exits' was never joined; it exited before its function returned \(exit code 0\)$/,
  ];
  assert.equal(reports.length, expected.length, `stderr:\n${run.stderr}`);
  for (const pattern of expected) {
    assert.equal(reports.filter((line) => pattern.test(line)).length, 1, `${pattern} in:\n${run.stderr}`);
  }
  // The detached thread's report goes on with its stack.
  assert.match(run.stderr, /'loose' failed: TypeError: nobody joins me\n\s+at throwTypeError /);
});
