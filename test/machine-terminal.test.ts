// The interactive monitor on a real terminal: the machine runs inside a pseudo-terminal made by
// util-linux's `script`, we type at its `(qemu)` prompt and read the screen (the terminal output with the
// escape sequences removed). Waits are liveness bounds; what is asserted is what the screen shows.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { MAIN, PROGRAMS } from './machine-support.js';

const T = { timeout: 60_000 };
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\r/g;

class Terminal {
  private raw = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;
  private readonly child;

  constructor(args: string[]) {
    const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
    this.child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const take = (d: Buffer) => {
      this.raw += d.toString('utf8');
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** What a person would read: the output without escape sequences and carriage returns. */
  screen(): string {
    return this.raw.replace(ANSI, '');
  }

  async waitFor(re: RegExp, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(this.screen())) {
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`the screen never showed ${what}; it shows:\n${this.screen()}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\r`);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

test(
  'interactive monitor on a terminal: info cpus, an unknown command, cont, to completion',
  { ...T, skip: !hasScript && 'script (util-linux) is not installed' },
  async () => {
    const term = new Terminal(['-S', '--smp', '2']);
    await term.waitFor(/\(qemu\) $/m, 'the (qemu) prompt');
    // The live status line: per-vCPU state and instruction count, both stopped (-S) at 0.
    await term.waitFor(/\d+\.\ds {2}CPU0 s 0 {2}CPU1 s 0/, 'the status line');
    term.type('info cpus');
    await term.waitFor(
      /\* CPU #0: thread_id=\d+ \(CPU 0\/TCG\) state=stopped halted=no insns=0 pc=0x0000\n {2}CPU #1: thread_id=\d+ \(CPU 1\/TCG\) state=stopped halted=no insns=0/,
      'the info cpus table',
    );
    term.type('bogus');
    await term.waitFor(
      /unknown command: 'bogus' \(type 'help' for the list\)/,
      'the unknown-command message',
    );
    term.type('help');
    await term.waitFor(/cpu-unplug N +-- unplug vCPU N/, 'the help text');
    term.type('cont');
    const code = await term.exited;
    const screen = term.screen();
    assert.equal(code, 0, screen);
    assert.match(screen, /\(qemu\) cont\n/);
    assert.match(screen, /main: the guest has finished; shutting down/);
    assert.match(screen, /Framebuffer \(160x96\):\n/);
    assert.match(screen, /shutdown: 2 of 2 vCPU threads joined\n/);
    assert.match(screen, /result: ok/);
  },
);

test(
  'interactive monitor on a terminal: stop, info cpus, cpu-unplug, quit',
  { ...T, skip: !hasScript && 'script (util-linux) is not installed' },
  async () => {
    const term = new Terminal(['--smp', '3', '--program', `${PROGRAMS}spin.s`]);
    await term.waitFor(/\(qemu\) $/m, 'the (qemu) prompt');
    term.type('stop');
    term.type('info status');
    await term.waitFor(/VM status: paused/, 'the paused status');
    term.type('cpu-unplug 2');
    await term.waitFor(/CPU 2\/TCG unplugged; thread \d+ joined after \d+ instructions/, 'the unplug report');
    term.type('info cpus');
    await term.waitFor(
      /\(qemu\) info cpus\n\* CPU #0: .*state=stopped.*\n {2}CPU #1: .*state=stopped.*\n/,
      'two stopped vCPUs',
    );
    term.type('quit');
    const code = await term.exited;
    const screen = term.screen();
    assert.equal(code, 0, screen);
    assert.doesNotMatch(screen.slice(screen.lastIndexOf('(qemu) info cpus')), /CPU #2:/);
    assert.match(screen, /main: quit; shutting down/);
    assert.match(screen, /shutdown: 3 of 3 vCPU threads joined/);
  },
);
