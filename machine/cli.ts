/** The command line: options, their checks, and --help. Kept apart from main.ts so tests can call it. */
import { parseArgs } from 'node:util';
import { MAX_FB_WORDS } from './machine.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliOptions {
  smp: number;
  program: string | null;
  monitor: string | null;
  quiet: boolean;
  help: boolean;
  png: string | null;
  pngScale: number;
  startStopped: boolean;
  fbWidth: number;
  fbHeight: number;
  /** Trace events to enable from the start (a pattern like qemu_mutex_*), or null. */
  trace: string | null;
  /** Where to write a Chrome Trace / Perfetto timeline of the traced events, or null. */
  traceFile: string | null;
  /** Start with the synchronization profiler on (QEMU's -enable-sync-profile). */
  syncProfile: boolean;
}

export const HELP = `Usage: node build/machine/main.js [options]      (npm start -- [options])

A small multi-threaded virtual machine on qemu-thread: every vCPU is a real worker thread (CPU n/TCG),
created, run, paused, resumed and unplugged with QEMU's own protocol around the BQL.

Options:
  --smp N            number of vCPUs, 1..64 (default 4)
  --program FILE     guest program, in the machine's assembly language
                     (default machine/programs/mandelbrot.s; see docs/machine.md)
  --monitor "CMDS"   monitor commands to run once the machine has started, separated by ';'
                     (e.g. "stop; info cpus; cont"); an unknown command is an error
  -S                 do not start the vCPUs (like QEMU's -S); use 'cont' in the monitor
  --fb WxH           framebuffer size in pixels (default 160x96)
  --png FILE         write the framebuffer to FILE as a PNG at the end
  --png-scale N      pixels per framebuffer pixel in the PNG, 1..16 (default 4)
  --trace PATTERN    enable the library's trace events matching PATTERN (e.g. 'qemu_mutex_*'): QEMU-style
                     log lines on stderr, or into the --trace-file timeline
  --trace-file FILE  write the traced events as a Chrome Trace / Perfetto JSON timeline (open it in
                     ui.perfetto.dev); with no --trace, traces qemu_mutex_* into the file only
  --sync-profile     start with the synchronization profiler on (QEMU's -enable-sync-profile); the
                     report is printed at the end, and by the monitor's 'info sync-profile'
  --quiet            print only the guest's serial output, monitor output and errors
  --help             show this help

Monitor (on a terminal, type at the '(qemu)' prompt; 'help' lists the commands):
  info cpus | info registers [N] | info status | stop | cont | cpu N | cpu-unplug N |
  info locks | trace-event NAME on|off | sync-profile [on|off|reset] | info sync-profile [-m] [-n] [max] |
  sleep MS | quit | help

Exit status: 0 when the run succeeded, 1 when it failed (a guest fault, a failed monitor command, a vCPU
thread that died), 2 for bad options, a program that does not assemble, or an unknown monitor command.
`;

function integer(text: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return Number(text);
}

export function parseCli(argv: string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        smp: { type: 'string' },
        program: { type: 'string' },
        monitor: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        png: { type: 'string' },
        'png-scale': { type: 'string' },
        S: { type: 'boolean', short: 'S' },
        fb: { type: 'string' },
        trace: { type: 'string' },
        'trace-file': { type: 'string' },
        'sync-profile': { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : null);
  let fbWidth = 160;
  let fbHeight = 96;
  const fb = str('fb');
  if (fb !== null) {
    const m = /^(\d+)x(\d+)$/.exec(fb);
    if (!m) throw new UsageError(`--fb must look like 160x96, got '${fb}'`);
    fbWidth = integer(m[1], '--fb width', 8, 2048);
    fbHeight = integer(m[2], '--fb height', 8, 2048);
    if (fbWidth * fbHeight > MAX_FB_WORDS) {
      throw new UsageError(`--fb ${fb} needs ${fbWidth * fbHeight} words; guest RAM leaves ${MAX_FB_WORDS}`);
    }
  }
  for (const k of ['program', 'png', 'monitor', 'trace', 'trace-file']) {
    if (str(k) === '') throw new UsageError(`--${k} needs a value`);
  }
  return {
    smp: str('smp') === null ? 4 : integer(str('smp')!, '--smp', 1, 64),
    program: str('program'),
    monitor: str('monitor'),
    quiet: values.quiet === true,
    help: values.help === true,
    png: str('png'),
    pngScale: str('png-scale') === null ? 4 : integer(str('png-scale')!, '--png-scale', 1, 16),
    startStopped: values.S === true,
    fbWidth,
    fbHeight,
    trace: str('trace'),
    traceFile: str('trace-file'),
    syncProfile: values['sync-profile'] === true,
  };
}
