/**
 * The entry point: `node build/machine/main.js [options]` (see cli.ts for the options). The main thread is
 * QEMU's main loop: it holds the BQL except while it waits for events (timers, stdin, a vCPU's
 * qemu_notify_event), exactly as QEMU releases the BQL around its poll.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  qsp_enable,
  qsp_is_enabled,
  qspReportText,
  TRACE_EVENTS,
  traceEnable,
  traceSetFile,
  traceSetLog,
} from 'qemu-thread';
import { bql_lock, bql_unlock } from './bql.js';
import { HELP, parseCli, UsageError } from './cli.js';
import { serial_take, timer_tick } from './devices.js';
import { AsmError, assemble } from './isa.js';
import { assemblerContext, Machine } from './machine.js';
import { Monitor, type MonitorCommand, MonitorError, parseCommand, parseMonitorScript } from './monitor.js';
import { encodePng } from './png.js';
import { renderAnsi, renderAscii, toRgb } from './render.js';
import { Screen } from './screen.js';
import { G, K } from './state.js';

/** The default guest, found relative to build/machine/ (the .s files are not compiled, so not copied). */
export const PROGRAMS_DIR = fileURLToPath(new URL('../../machine/programs/', import.meta.url));
export const DEFAULT_PROGRAM = `${PROGRAMS_DIR}mandelbrot.s`;

/** The timer interrupt's period. */
const TIMER_MS = 10;

type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  t: number,
) => { async: boolean; value: Promise<string> | string };

export async function runMachine(argv: string[]): Promise<number> {
  const fail = (msg: string, code: number) => {
    process.stderr.write(`machine: ${msg}\n`);
    return code;
  };
  let opts: ReturnType<typeof parseCli>;
  try {
    opts = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(`${error.message}\nTry --help for the options.`, 2);
    throw error;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = opts.program ?? DEFAULT_PROGRAM;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read the program '${file}': ${(error as Error).message}`, 2);
  }
  let program: ReturnType<typeof assemble>;
  try {
    program = assemble(source, basename(file), assemblerContext(opts.fbWidth, opts.fbHeight));
  } catch (error) {
    if (error instanceof AsmError) return fail(`the program does not assemble: ${error.message}`, 2);
    throw error;
  }
  if (opts.trace !== null || opts.traceFile !== null) {
    // Before any thread starts, so that every vCPU traces from its first lock.
    if (opts.traceFile !== null) {
      try {
        traceSetFile(opts.traceFile);
      } catch (error) {
        return fail(`cannot write the trace file '${opts.traceFile}': ${(error as Error).message}`, 2);
      }
      if (opts.trace === null) traceSetLog(false);
    }
    if (traceEnable(opts.trace ?? 'qemu_mutex_*') === 0) {
      return fail(`--trace: no trace event matches '${opts.trace}' (known: ${TRACE_EVENTS.join(', ')})`, 2);
    }
  }
  if (opts.syncProfile) qsp_enable();
  let script: MonitorCommand[] = [];
  try {
    if (opts.monitor !== null) script = parseMonitorScript(opts.monitor);
  } catch (error) {
    if (error instanceof MonitorError) return fail(`--monitor: ${error.message}`, 2);
    throw error;
  }

  const screen = new Screen(process.stdout.isTTY === true, opts.quiet);
  const machine = new Machine({ smp: opts.smp, program, fbWidth: opts.fbWidth, fbHeight: opts.fbHeight });
  const s = machine.s;
  const monitor = new Monitor(machine, (text) => screen.monitor(text));
  let failed = false;
  let failure = '';
  const markFailed = (why: string) => {
    if (!failed) failure = why;
    failed = true;
  };

  screen.log(
    `qemu-thread machine: ${opts.smp} vCPU(s), program ${program.file} (${program.instructions} instructions), ` +
      `${s.config.ramWords} words of RAM, framebuffer ${opts.fbWidth}x${opts.fbHeight} at word ${s.config.fbBase}`,
  );
  // qemu_init_subsystems: the main thread takes the BQL and keeps it except while it polls.
  bql_lock();
  try {
    screen.log('main: bql_lock(); creating the vCPUs one at a time');
    machine.boot((line) => screen.log(line));
    if (opts.startStopped) screen.log("main: -S given: the vCPUs stay stopped until 'cont'");
    else {
      machine.start();
      screen.log('main: vm_start() -> resume_all_vcpus(); bql_unlock() around each poll of the main loop');
    }
  } catch (error) {
    screen.error(`machine: ${(error as Error).message}`);
    markFailed('boot failed');
    try {
      machine.shutdown((line) => screen.log(line));
    } catch {}
    bql_unlock();
    screen.finish();
    return 1;
  }
  bql_unlock();

  // --- the main loop's poll: timers, a vCPU's qemu_notify_event, or a local wake-up (monitor, signals)
  let wakeLocal: (() => void) | null = null;
  const wake = () => wakeLocal?.();
  const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
  const poll = (ms: number) =>
    new Promise<void>((resolve) => {
      const seq = Atomics.load(s.globals, G.NOTIFY);
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        wakeLocal = null;
        resolve();
      };
      // The timer keeps Node's event loop alive (a pending waitAsync alone does not).
      const timer = setTimeout(done, ms);
      wakeLocal = done;
      const r = waitAsync(s.globals, G.NOTIFY, seq, ms);
      if (r.async) (r.value as Promise<string>).then(done);
      else done();
    });

  let quit = false;
  let interrupted = false;
  const requestQuit = () => {
    quit = true;
    wake();
  };
  const onSignal = () => {
    interrupted = true;
    requestQuit();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // --- monitor: script first, then (on a terminal) interactive; one command at a time
  let queue: Promise<void> = Promise.resolve();
  const runCommand = async (cmd: MonitorCommand, scripted: boolean) => {
    if (quit) return;
    let outcome: ReturnType<Monitor['execute']> = {};
    bql_lock();
    try {
      outcome = monitor.execute(cmd);
    } catch (error) {
      if (error instanceof MonitorError) {
        screen.error(`machine: ${error.message}`);
        if (scripted) {
          markFailed(`monitor command '${cmd.text}' failed`);
          requestQuit();
        }
      } else {
        // A machine bug, not a user error: report it and take the clean shutdown path (join everything).
        screen.error(`machine: internal error in '${cmd.text}': ${(error as Error).stack ?? error}`);
        markFailed('internal error');
        requestQuit();
      }
    } finally {
      bql_unlock();
    }
    if (outcome.quit) requestQuit();
    if (outcome.sleepMs) await new Promise((r) => setTimeout(r, outcome.sleepMs));
  };
  let scriptDone = script.length === 0;
  queue = queue.then(async () => {
    for (const cmd of script) {
      if (quit) break;
      screen.monitor(`(qemu) ${cmd.text}`);
      await runCommand(cmd, true);
    }
    scriptDone = true;
    wake();
  });
  if (process.stdin.isTTY) {
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      prompt: '(qemu) ',
      terminal: true,
    });
    screen.rl = rl;
    rl.on('line', (line) => {
      screen.lineEntered(line);
      queue = queue.then(async () => {
        let cmd: MonitorCommand | null = null;
        try {
          cmd = parseCommand(line);
        } catch (error) {
          screen.error((error as Error).message);
        }
        if (cmd) await runCommand(cmd, false);
        if (!quit) screen.redraw();
      });
    });
    rl.on('SIGINT', onSignal);
    // End of input on the monitor (Ctrl-D) means quit, as in most REPLs: nothing could stop the machine
    // cleanly afterwards, and it must never be left running with nobody able to end it.
    rl.on('close', () => {
      if (screen.rl !== rl) return;
      screen.rl = null;
      requestQuit();
    });
    screen.redraw();
  }

  // --- the main loop
  const progressMs = screen.tty ? 100 : 1000;
  let nextTick = performance.now() + TIMER_MS;
  let nextProgress = performance.now() + progressMs;
  const started = performance.now();
  const showProgress = () => {
    const counts = machine.cpus
      .map((c) => `CPU${c.index} ${machine.stateOf(c)[0]} ${c.count(K.INSNS)}`)
      .join('  ');
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    screen.progress(`${screen.tty ? '' : 'progress: '}${secs}s  ${counts}`);
  };
  let guestFinished = false;
  try {
    for (;;) {
      bql_lock();
      try {
        const now = performance.now();
        if (now >= nextTick) {
          timer_tick(s, machine.present());
          nextTick = Math.max(nextTick + TIMER_MS, now);
        }
        const out = serial_take(s);
        if (out.length) screen.serial(Buffer.from(out).toString('latin1'));
        for (const msg of machine.takeEvents()) {
          screen.error(`machine: ${msg}`);
          markFailed('a vCPU faulted or died');
        }
        if (now >= nextProgress) {
          showProgress();
          nextProgress = now + progressMs;
        }
        if (quit) break;
        if (scriptDone && machine.guestDone()) {
          guestFinished = true;
          break;
        }
        if (scriptDone && screen.rl === null && !machine.running() && machine.present().length > 0) {
          // Stopped (-S, or a script's `stop`) with no monitor left to say `cont`: it could only hang.
          screen.error('machine: the VM is stopped and no monitor is left to resume it; shutting down');
          markFailed('the VM was left stopped');
          break;
        }
      } finally {
        bql_unlock();
      }
      await poll(Math.max(1, Math.min(nextTick, nextProgress) - performance.now()));
    }
  } catch (error) {
    screen.error(`machine: internal error in the main loop: ${(error as Error).stack ?? error}`);
    markFailed('internal error');
  }

  // --- shutdown: every path comes here, and every vCPU thread is joined
  bql_lock();
  try {
    screen.log(
      guestFinished
        ? 'main: the guest has finished; shutting down'
        : interrupted
          ? 'main: interrupted; shutting down'
          : 'main: quit; shutting down',
    );
    machine.shutdown((line) => screen.log(line));
    const out = serial_take(s);
    if (out.length) screen.serial(Buffer.from(out).toString('latin1'));
    for (const msg of machine.takeEvents()) {
      screen.error(`machine: ${msg}`);
      markFailed('a vCPU faulted or died');
    }
  } finally {
    bql_unlock();
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  screen.finish();
  for (const [i, why] of machine.threadErrors) {
    screen.error(`machine: CPU ${i}/TCG's thread died: ${why}`);
    markFailed('a vCPU thread died');
  }

  const fb = machine.framebuffer();
  const { fbWidth, fbHeight } = s.config;
  if (!opts.quiet && fb.some((v) => v !== 0)) {
    const color = screen.tty && !process.env.NO_COLOR;
    screen.log(`\nFramebuffer (${fbWidth}x${fbHeight}):`);
    process.stdout.write(color ? renderAnsi(fb, fbWidth, fbHeight) : renderAscii(fb, fbWidth, fbHeight));
  }
  if (opts.png !== null) {
    try {
      writeFileSync(opts.png, encodePng(fbWidth, fbHeight, toRgb(fb), opts.pngScale));
      screen.log(`wrote ${opts.png} (${fbWidth * opts.pngScale}x${fbHeight * opts.pngScale} PNG)`);
    } catch (error) {
      screen.error(`machine: cannot write ${opts.png}: ${(error as Error).message}`);
      markFailed('PNG not written');
    }
  }
  if (interrupted) markFailed('interrupted');
  if (opts.syncProfile || qsp_is_enabled()) {
    // Like QEMU's 'info sync-profile' at the end of the run: where the threads waited, longest first.
    process.stdout.write(`\nSync profile (top 10 call sites by total wait)\n${qspReportText(10)}`);
  }
  printSummary(machine, screen, failed ? failure : '');
  return failed ? 1 : 0;
}

function printSummary(machine: Machine, screen: Screen, failure: string): void {
  const ok = machine.creation.every(
    (r) => r.initOrder === r.index && r.seenCreated === r.index && r.seenStarted === r.index + 1,
  );
  const st = machine.stats();
  const lines = [
    '',
    'Summary',
    `  vCPUs created in order: ${machine.creation.map((r) => r.name).join(', ')}`,
    `  creation check: ${ok ? 'ok' : 'VIOLATED'} (each vCPU initialized after exactly the earlier ones were created, before any later thread started)`,
  ];
  for (const cpu of machine.cpus) {
    const r = machine.results.get(cpu.index);
    const died = machine.threadErrors.get(cpu.index);
    const tid = cpu.thread.threadId();
    lines.push(
      `  ${cpu.name}  thread ${tid}  insns ${cpu.count(K.INSNS)}  halts ${cpu.count(K.HALTS)}  wakeups ${cpu.count(K.WAKEUPS)}` +
        `  interrupts ${cpu.count(K.INTERRUPTS)}  atomics ${cpu.count(K.ATOMIC_STEPS)}  work ${cpu.count(K.WORK_RUN)}` +
        `  ${r ? 'joined' : died ? `died: ${died}` : 'NOT JOINED'}`,
    );
  }
  lines.push(
    `  VM: ${machine.resumes} start/resume(s), ${machine.pauses} pause(s); timer ticks ${st.timerTicks}`,
    `  work items: ${st.workSync} run_on_cpu, ${st.workAsync} async_run_on_cpu, ${st.workSafe} async_safe_run_on_cpu`,
    `  exclusive sections: ${st.exclusiveSections} (${st.exclusiveViolations} saw another vCPU executing)`,
    `  shutdown: ${machine.results.size + machine.threadErrors.size} of ${machine.cpus.length} vCPU threads joined`,
    `  result: ${failure ? `FAILED (${failure})` : 'ok'}`,
  );
  if (!machine.creation.length) return;
  screen.log(lines.join('\n'));
  if (failure && screen.quiet) screen.error(`machine: run failed: ${failure}`);
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isEntry) {
  runMachine(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`machine: internal error: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
