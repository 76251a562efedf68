/**
 * The suite's watchdog (test/support/watchdog.ts) does its job: a test file whose test blocks for ever is
 * ended within its budget, reported as failed by node --test, with the test's name and the threads' and
 * primitives' states in the output; a test that ends in time is left alone. The hanging tests run in a
 * child `node --test` (test/support/watchdog-fixture.ts), which this test bounds with a time-out of its own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./support/watchdog-fixture.js', import.meta.url));
const BUDGET_MS = 2_000;

interface Run {
  code: number | null;
  output: string;
}

/** Runs the fixture's `scenario` in `node --test` (a run of its own, not a part of this one). */
function runFixture(scenario: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WATCHDOG_FIXTURE: scenario,
    WATCHDOG_FIXTURE_MS: String(BUDGET_MS),
    QEMU_TEST_EXIT_BUDGET_MS: String(BUDGET_MS),
  };
  // Inside a node --test run this names the parent's protocol; the child must report on its own.
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', '--test-reporter=tap', FIXTURE],
      { env, timeout: 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        // The TAP reporter prints the child's stderr as comments ('# ', with '#' escaped): undo that.
        const output = `${stdout}\n${stderr}`.replace(/^# /gm, '').replace(/\\#/g, '#');
        resolve({ code, output });
      },
    );
  });
}

/** The number in `text` that `pattern`'s first group matches. */
function numberIn(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  assert.ok(match, `expected ${pattern} in:\n${text}`);
  return Number(match[1]);
}

test('a test blocked for ever is killed after its budget, with the states of its threads', async () => {
  const { code, output } = await runFixture('blocked');
  assert.equal(code, 1, `node --test fails the file:\n${output}`);
  assert.match(output, /^not ok 1 - .*watchdog-fixture\.js$/m, 'the file is reported failed');
  assert.match(output, /signal: 'SIGKILL'/);
  const ran = numberIn(
    output,
    /watchdog: test 'a test that blocks for ever' has run (\d+) ms, over its budget of 2000 ms/,
  );
  assert.ok(ran >= BUDGET_MS, `not before its budget: ${ran} ms`);
  // The threads: who is parked on what, by name, from the library's process-wide tables.
  const m = numberIn(output, /^ {2}m: QemuMutex #(\d+) \{ locked by thread \d+ 'holder'/m);
  const cm = numberIn(output, /^ {2}cm: QemuMutex #(\d+) \{ unlocked \}/m);
  assert.notEqual(m, cm);
  assert.match(output, new RegExp(`^ {2}thread 0 'main': parked on mutex #${m} \\(m\\)`, 'm'));
  assert.match(output, /^ {2}thread \d+ 'holder': not parked on a mutex or cond/m);
  assert.match(output, /^ {2}thread \d+ 'sleeper': parked in a wait on cond #\d+ \(c\)$/m);
  assert.match(output, /^ {2}thread \d+ 'watchdog': this watchdog$/m);
  // What the test showed: each primitive's state, holder and waiters, the threads and the flag.
  assert.match(output, /^ {2}m: .*; held by thread \d+ 'holder'; parked on it: thread 0 'main'$/m);
  assert.match(
    output,
    /^ {2}c: QemuCond \{ waiters: 1 \}; asleep in it: thread \d+ 'sleeper' \(asleep \d+ ms\)$/m,
  );
  assert.match(output, /^ {2}threads\[0\]: QemuThread \{ thread \d+, running \}$/m);
  assert.match(output, /^ {2}threads\[1\]: QemuThread \{ thread \d+, running \}$/m);
  assert.match(
    output,
    /^ {2}held: Int32Array\(1\) \[ -?\d+ \]$/m,
    "the flag, by value (the holder's kernel id)",
  );
  assert.match(output, /killing the process, so that this test file fails/);
});

test('an async test that never settles is killed the same way', async () => {
  const { code, output } = await runFixture('async');
  assert.equal(code, 1, output);
  assert.match(output, /^not ok 1 - .*watchdog-fixture\.js$/m);
  assert.match(output, /watchdog: test 'an async test that never settles' has run \d+ ms/);
  assert.match(output, /^ {2}s: QemuSemaphore \{ count: 0, waiters: 1 \}$/m);
  assert.match(output, /^ {2}t: QemuThread \{ thread \d+, running \}$/m);
  assert.match(output, /^ {2}thread \d+ 'stuck': not parked on a mutex or cond/m);
});

test('tests that end within their budgets pass, and the watchdog says nothing', async () => {
  const { code, output } = await runFixture('in-time');
  assert.equal(code, 0, output);
  assert.match(output, /^pass 2$/m, output);
  assert.doesNotMatch(output, /watchdog:/);
});

test('a thread left behind that keeps the process alive after the last test fails the file too', async () => {
  const { code, output } = await runFixture('leftover');
  assert.equal(code, 1, output);
  assert.match(output, /^ok 1 - a test that leaves a thread behind$/m, 'the test itself passed');
  assert.match(output, /^not ok \d+ - .*watchdog-fixture\.js$/m, 'the file failed');
  assert.match(
    output,
    /watchdog: test '\(after the last test: the process must end, but something keeps it alive\)'/,
  );
  assert.match(output, /^ {2}thread \d+: parked on mutex #\d+( at .*)?$/m, 'the leftover worker, parked');
});
