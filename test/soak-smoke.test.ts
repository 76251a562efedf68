/**
 * The soak's smoke test: `node build/soak/main.js --quick` (about 3 s of every primitive mixed across
 * 4 threads) must exit 0, report zero violations and a non-zero count of operations of every kind. Then
 * the soak's own checks are checked: a deliberate update outside the mutex and a thread that stops making
 * progress must each be reported as a violation with exit status 1, and a bad option is exit status 2.
 *
 * The same for the chaos soak (`--chaos --quick`: a scripted prologue that terminates a thread in each
 * kind of wait and while holding each lock, then about 3 s of random terminations): no violation, no hang,
 * and what the prologue arranges step by step (so every run does it) done and counted; then its watchdog
 * must report a lost wake-up and a stalled thread, with the state of every thread.
 * The soaks run as child processes, so even a hang in one cannot hang this test (execFile's timeout).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SOAK = fileURLToPath(new URL('../soak/main.js', import.meta.url));
/** Spelled out here, not imported, so that a kind silently dropped from the soak fails the test. */
const KINDS = ['mutex', 'rec-mutex', 'spin', 'lockcnt', 'semaphore', 'event', 'cond', 'buffer'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  result: { ops: Record<string, number>; violations: number; threads: number } | null;
}

function soak(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SOAK, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      const line = stdout.split('\n').find((l) => l.startsWith('soak-result '));
      const result = line ? JSON.parse(line.slice('soak-result '.length)) : null;
      resolve({ status, stdout, stderr, result });
    });
  });
}

test('soak --quick: exit 0, zero violations, operations of every kind', { timeout: 90_000 }, async () => {
  const run = await soak('--quick');
  const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  assert.equal(run.status, 0, context);
  assert.ok(run.result, `no soak-result line; ${context}`);
  assert.equal(run.result.violations, 0, context);
  assert.equal(run.result.threads, 4);
  assert.deepEqual(Object.keys(run.result.ops).sort(), [...KINDS].sort());
  for (const kind of KINDS) assert.ok(run.result.ops[kind] > 0, `no ${kind} operation was done; ${context}`);
  assert.match(run.stdout, /soak: 0 violation\(s\)/);
  assert.equal(run.stderr, '', 'nothing on stderr');
});

test('soak: an update outside the mutex is a violation (exit 1)', { timeout: 90_000 }, async () => {
  // 3 s, not 1: the soak's clock starts before its threads do, and a loaded 2-core machine has been seen
  // to take over a second to start them (a 1 s run then did no operation at all, and found nothing).
  const run = await soak('--seconds', '3', '--threads', '2', '--inject-fault', 'mutex');
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stdout, /VIOLATION: mutex: locked counter vs atomic counter: \d+, expected \d+/);
  assert.ok(run.result && run.result.violations >= 1);
});

test('soak: a thread without progress trips the watchdog (exit 1)', { timeout: 90_000 }, async () => {
  const run = await soak('--seconds', '30', '--watchdog', '1', '--threads', '2', '--inject-fault', 'stall');
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stdout, /VIOLATION: watchdog: thread 0 completed no operation for 1 s/);
  // The stuck thread cannot be joined; the soak says so and prints the primitives' state.
  assert.match(run.stdout, /VIOLATION: 1 thread\(s\) did not stop/);
  assert.match(run.stderr, /state of the primitives:\n {2}m: QemuMutex/);
});

test('soak: bad options are exit status 2 with the usage', async () => {
  const run = await soak('--threads', '1');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--threads expects an integer from 2 to 64, got 1/);
  assert.match(run.stderr, /usage: /);
});

/**
 * Classes of defects that the chaos smoke run does not provoke yet, since the library does not survive them
 * (each is shown failing by `npm run soak -- --chaos --quick --skip <all but it>`); a class leaves this
 * list with its fix. Every class found so far has left it (issue 11's, then join-publish, parked-lists and
 * async-wake-all, which the soak itself found).
 */
const KNOWN_DEFECTS: string[] = [];
/** `--skip` with the known defects, when there are any. */
const skipKnown = KNOWN_DEFECTS.length > 0 ? ['--skip', KNOWN_DEFECTS.join(',')] : [];
/** The scripted terminations that every chaos smoke run does (spelled out: one dropped fails the test). */
const SCRIPTED = [
  'mutex-held',
  'mutex-wait',
  'rec-mutex-held',
  'cond-wait',
  'cond-woken',
  'gate-woken',
  'sem-wait',
  'sem-woken',
  'event-wait',
  'spin-held',
  'lockcnt-held',
  'lockcnt-visit',
  'join-wait',
  'joinee-streaming',
  'mutex-wait (async)',
  'cond-wait (async)',
];
const ACTIVITIES = ['bank', 'rec-bank', 'tickets', 'gate', 'sem', 'event', 'spin', 'lockcnt', 'join'];

interface ChaosResult {
  violations: number;
  violationsByKind: Record<string, number>;
  hangs: number;
  terminations: { total: number; byKind: Record<string, number> };
  scripted: Record<string, string>;
  recoveries: Record<string, number>;
  ops: Record<string, number>;
  joins: Record<string, number>;
  skip: string[];
}

test(
  'soak --chaos --quick: no violation, no hang, every scripted termination done',
  { timeout: 150_000 },
  async () => {
    const run = await soak('--chaos', '--quick', ...skipKnown);
    const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    assert.equal(run.status, 0, context);
    const result = run.result as unknown as ChaosResult;
    assert.ok(result, `no soak-result line; ${context}`);
    assert.equal(result.violations, 0, context);
    assert.equal(result.hangs, 0, context);
    assert.deepEqual(result.skip, KNOWN_DEFECTS);
    // The prologue's steps, each waiting for something observable: every one not skipped is done (but the
    // reader of a 4 MB result may be through before it can be terminated: 'missed').
    const scripted = Object.entries(result.scripted);
    assert.ok(scripted.length >= 10, context);
    for (const [kind, how] of scripted) assert.match(how, /^(done|skipped|missed)$/, kind);
    for (const kind of SCRIPTED) {
      assert.equal(result.scripted[kind], 'done', `${kind}; ${context}`);
      const counted = kind.replace(' (async)', '');
      assert.ok(result.terminations.byKind[counted] >= 1, `no termination counted as ${counted}; ${context}`);
    }
    // Two async waiters terminated, then a single signal woke exactly one of the two threads parked.
    assert.equal(result.scripted['async-wake-probe'], 'done', context);
    // The threads terminated holding a lock: their next lockers got EOWNERDEAD.
    for (const lock of ['mutex', 'rec-mutex', 'spin', 'lockcnt']) {
      assert.ok(result.recoveries[lock] >= 1, `no EOWNERDEAD recovery of the ${lock}; ${context}`);
    }
    assert.deepEqual(Object.keys(result.ops).sort(), [...ACTIVITIES].sort());
    for (const kind of ACTIVITIES)
      assert.ok(result.ops[kind] > 0, `no ${kind} operation was done; ${context}`);
    assert.match(run.stdout, /chaos: 0 violation\(s\), 0 hang\(s\)/);
    // A joinee that threw, whose joiner was terminated after claiming it (the outcome read by nobody alive),
    // failed and was never joined: the library says so on stderr as the process ends, rightly. No other
    // line. (Their number is not bounded by the joiners terminated in a join: a joiner may also die between
    // its claim and its join.)
    const lines = run.stderr.split('\n').filter((line) => line !== '');
    const unjoined =
      /^qemu-thread: thread \d+ 'joinee-\d+' failed and was never joined: Error: joinee \d+ failed$/;
    assert.deepEqual(
      lines.filter((line) => !unjoined.test(line)),
      [],
      'nothing else on stderr',
    );
  },
);

test(
  'soak --chaos: a ticket returned without a signal is reported as a lost wake-up (exit 1)',
  { timeout: 150_000 },
  async () => {
    const run = await soak('--chaos', '--inject-fault', 'lost-wakeup', '--watchdog', '2', ...skipKnown);
    assert.equal(run.status, 1, run.stdout);
    const result = run.result as unknown as ChaosResult;
    assert.equal(result.hangs, 1);
    assert.equal(result.violationsByKind['lost-wakeup'], 1);
    assert.match(
      run.stderr,
      /VIOLATION \(lost-wakeup\): slot 0 \(thread \d+\) made no progress for 2 s, in state cond-wait/,
    );
    assert.match(
      run.stderr,
      /slot 0 \(thread \d+\) sleeps in the ticket cond wait while 1 ticket\(s\) are free/,
    );
    // The state of every thread and primitive, for the person who reads the report.
    assert.match(run.stderr, /state at the hang:\nthreads:\n {2}slot 0: thread \d+/);
    assert.match(run.stderr, / {2}ticket cond: QemuCond \{ waiters: 1 \}, parked \[\d+\], free tickets 1/);
  },
);

test(
  'soak --chaos: a thread without progress trips the watchdog (exit 1)',
  { timeout: 150_000 },
  async () => {
    const run = await soak(
      '--chaos',
      '--no-script',
      '--seconds',
      '60',
      '--kill-rate',
      '0',
      '--watchdog',
      '2',
      '--inject-fault',
      'stall',
      '--skip',
      'known',
    );
    assert.equal(run.status, 1, run.stdout);
    const result = run.result as unknown as ChaosResult;
    assert.equal(result.hangs, 1);
    assert.equal(result.violationsByKind.hang, 1);
    assert.match(
      run.stderr,
      /VIOLATION \(hang\): slot 0 \(thread \d+\) made no progress for 2 s, in state running/,
    );
  },
);

test('soak --chaos: bad options are exit status 2 with the usage', async () => {
  const run = await soak('--chaos', '--skip', 'nonsense');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--skip: unknown class 'nonsense'/);
  assert.match(run.stderr, /usage: npm run soak -- --chaos/);
});
