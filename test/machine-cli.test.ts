// The machine as a user runs it (node build/machine/main.js): options, scripted monitor, bad input.
// Every run must end by itself (spawnSync's timeout is only a liveness bound) with the right exit code.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROGRAMS, runCli } from './machine-support.js';
import { runReport } from './support/run-report.js';

const T = { timeout: 60_000 };
const SPIN = `${PROGRAMS}spin.s`;
const HELLO = `${PROGRAMS}hello.s`;

function tempProgram(text: string): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'machine-'));
  const file = join(dir, 'guest.s');
  writeFileSync(file, text);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `info cpus` blocks of a transcript, as {cpu: insns} maps. */
function infoCpus(stdout: string): Map<number, number>[] {
  const blocks: Map<number, number>[] = [];
  for (const part of stdout.split('(qemu) info cpus\n').slice(1)) {
    const map = new Map<number, number>();
    for (const line of part.split('\n')) {
      const m = /^[* ] CPU #(\d+): thread_id=\d+ \(CPU \d+\/TCG\) state=(\w+) halted=\w+ insns=(\d+)/.exec(
        line,
      );
      if (!m) break;
      map.set(Number(m[1]), Number(m[3]));
    }
    blocks.push(map);
  }
  return blocks;
}

test('--help', T, () => {
  const run = runCli(['--help']);
  assert.equal(run.status, 0, runReport(run));
  assert.match(run.stdout, /^Usage: node build\/machine\/main\.js/);
  assert.match(run.stdout, /--smp N/);
});

test('bad options: a clear message, exit 2, no machine started', T, () => {
  const cases: [string[], RegExp][] = [
    [['--smp', '0'], /--smp must be an integer from 1 to 64, got '0'/],
    [['--smp', '65'], /--smp must be an integer from 1 to 64/],
    [['--smp', 'four'], /--smp must be an integer/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--fb', '100'], /--fb must look like 160x96/],
    [['--png-scale', '99'], /--png-scale must be an integer from 1 to 16/],
    [['stray'], /unexpected argument 'stray'/],
    [['--program', '/nonexistent/guest.s'], /cannot read the program '\/nonexistent\/guest\.s'/],
    [['--monitor', 'stop; frob; cont'], /--monitor: unknown command: 'frob'/],
    [['--monitor', 'info widgets'], /--monitor: info: unknown info subcommand 'widgets'/],
    [['--monitor', 'cpu-unplug one'], /--monitor: cpu-unplug: usage: cpu-unplug N/],
  ];
  for (const [args, message] of cases) {
    const run = runCli(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^machine: /);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '', 'nothing ran');
  }
});

test('a program that does not assemble: file, line and reason; exit 2', T, () => {
  const cases: [string, RegExp][] = [
    ['start:\n  li r1, 1\n  frob r1\n', /guest\.s:3: unknown instruction 'frob'\n {4}frob r1/],
    ['  add r1, r2\n', /guest\.s:1: 'add' takes 3 operands, got 2/],
    ['  li r16, 1\n', /guest\.s:1: expected a register r0\.\.r15, got 'r16'/],
    ['  jmp nowhere\n', /guest\.s:1: undefined symbol 'nowhere'/],
    ['a:\na:\n  end\n', /guest\.s:2: 'a' is defined twice/],
    ['; only a comment\n', /guest\.s: the program has no instructions/],
  ];
  for (const [text, message] of cases) {
    const p = tempProgram(text);
    try {
      const run = runCli(['--program', p.file]);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /^machine: the program does not assemble: /);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    } finally {
      p.done();
    }
  }
});

test('guest faults: the faulting vCPUs stop with a clear message, the others finish, exit 1', T, () => {
  // vCPU 0 runs into an illegal instruction, vCPU 2 divides by zero; 1 and 3 run hello.s and end.
  const hello = readFileSync(HELLO, 'utf8').replace(/^start:/m, 'say_hello:');
  const p = tempProgram(`
start:
    cpuid r1
    beqz  r1, illegal
    li    r2, 2
    beq   r1, r2, divide
    jmp   say_hello
illegal:
    .word 0xee, 0
divide:
    li    r3, 0
    div   r4, r1, r3
    end
${hello}`);
  try {
    const run = runCli(['--program', p.file, '--smp', '4']);
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /machine: CPU 0\/TCG: guest fault: illegal instruction 0x000000ee at pc 0x000a; CPU 0\/TCG is stopped, the other vCPUs go on/,
    );
    assert.match(
      run.stderr,
      /machine: CPU 2\/TCG: guest fault: division by zero at pc 0x000e \(guest\.s:12: div {3}r4, r1, r3\)/,
    );
    assert.deepEqual(
      run.stdout
        .split('\n')
        .filter((l) => l.startsWith('Hello'))
        .sort(),
      ['Hello from CPU 1 of 4', 'Hello from CPU 3 of 4'],
    );
    assert.match(run.stdout, /shutdown: 4 of 4 vCPU threads joined/);
    assert.match(run.stdout, /result: FAILED \(a vCPU faulted or died\)/);
  } finally {
    p.done();
  }
});

test(
  'scripted monitor: stop freezes the instruction counts, cont and cpu-unplug work, quit joins all',
  T,
  () => {
    // The sleeps are time let pass on purpose: the vCPUs run a while, and then, stopped, have 300 ms in
    // which their counts must not move (that nothing happens cannot be observed otherwise).
    const run = runCli([
      '--program',
      SPIN,
      '--smp',
      '3',
      '--monitor',
      'sleep 100; stop; info cpus; sleep 300; info cpus; info status; cont; info status; cpu-unplug 1; info cpus; quit',
    ]);
    assert.equal(run.status, 0, runReport(run));
    const [a, b, c] = infoCpus(run.stdout);
    assert.deepEqual([...a.keys()], [0, 1, 2]);
    assert.deepEqual(b, a, 'no instruction executed while stopped');
    assert.match(run.stdout, /\(qemu\) info cpus\n\* CPU #0: thread_id=\d+ \(CPU 0\/TCG\) state=stopped/);
    assert.match(
      run.stdout,
      /\(qemu\) info status\nVM status: paused\n\(qemu\) cont\n\(qemu\) info status\nVM status: running\n/,
    );
    assert.match(
      run.stdout,
      /\(qemu\) cpu-unplug 1\nCPU 1\/TCG unplugged; thread \d+ joined after \d+ instructions\n/,
    );
    assert.deepEqual([...c.keys()], [0, 2], 'the unplugged vCPU is gone');
    assert.match(run.stdout, /main: quit; shutting down/);
    assert.match(run.stdout, /shutdown: 3 of 3 vCPU threads joined/);
    assert.match(run.stdout, /VM: 2 start\/resume\(s\), 1 pause\(s\)/);
  },
);

test('a monitor command that fails in a script: message, clean shutdown, exit 1', T, () => {
  const run = runCli(['--program', SPIN, '--smp', '2', '--monitor', 'cpu-unplug 1; cpu-unplug 1; info cpus']);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /machine: cpu-unplug: CPU 1 is unplugged/);
  assert.doesNotMatch(run.stdout, /\(qemu\) info cpus/, 'the script stopped at the failure');
  assert.match(run.stdout, /shutdown: 2 of 2 vCPU threads joined/);
  assert.match(run.stdout, /result: FAILED \(monitor command 'cpu-unplug 1' failed\)/);
});

test('--smp 8: vCPUs are created one at a time, in order, in the log', T, () => {
  const run = runCli(['--program', HELLO, '--smp', '8']);
  assert.equal(run.status, 0, runReport(run));
  const steps = run.stdout
    .split('\n')
    .map((l) => /^main: (?:qemu_thread_create\((CPU \d)\/TCG|(CPU \d)\/TCG created)/.exec(l))
    .filter((m) => m !== null)
    .map((m) => (m[1] ? `create ${m[1]}` : `created ${m[2]}`));
  const expected = [];
  for (let i = 0; i < 8; i++) expected.push(`create CPU ${i}`, `created CPU ${i}`);
  assert.deepEqual(steps, expected);
  assert.match(run.stdout, /creation check: ok/);
  const hello = run.stdout.split('\n').filter((l) => l.startsWith('Hello'));
  assert.deepEqual(
    hello.sort(),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `Hello from CPU ${i} of 8`),
  );
});

test('--quiet prints only the guest serial output', T, () => {
  const run = runCli(['--program', HELLO, '--smp', '3', '--quiet']);
  assert.equal(run.status, 0, runReport(run));
  assert.deepEqual(run.stdout.trimEnd().split('\n').sort(), [
    'Hello from CPU 0 of 3',
    'Hello from CPU 1 of 3',
    'Hello from CPU 2 of 3',
  ]);
});

test('-S or a final `stop` with no monitor left to resume: a clean shutdown, exit 1, never a hang', T, () => {
  for (const args of [['-S'], ['--monitor', 'stop']]) {
    const run = runCli(['--program', SPIN, '--smp', '2', ...args]); // spin.s never ends by itself
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /machine: the VM is stopped and no monitor is left to resume it; shutting down/);
    assert.match(run.stdout, /shutdown: 2 of 2 vCPU threads joined/);
    assert.match(run.stdout, /result: FAILED \(the VM was left stopped\)/);
  }
});
