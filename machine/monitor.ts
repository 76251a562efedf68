/**
 * The monitor, like QEMU's HMP: commands typed at `(qemu) ` on a terminal, or given as a script with
 * `--monitor "stop; info cpus; cont"`. A script is parsed completely before the machine starts, so an
 * unknown command is reported before any thread exists. Commands run on the main loop with the BQL held,
 * as HMP commands do; `sleep` is the exception (it returns to the main loop and waits there).
 */

import {
  QSP_SORT_BY_AVG_WAIT_TIME,
  QSP_SORT_BY_TOTAL_WAIT_TIME,
  qsp_disable,
  qsp_enable,
  qsp_is_enabled,
  qsp_reset,
  qspReportText,
  TRACE_EVENTS,
  traceEnable,
} from 'qemu-thread';
import type { Machine } from './machine.js';
import { K } from './state.js';
import { run_on_cpu, WorkKind } from './work.js';

export class MonitorError extends Error {
  override name = 'MonitorError';
}

export interface MonitorCommand {
  name: string;
  args: string[];
  text: string;
}

interface CommandSpec {
  name: string;
  aliases?: string[];
  args: string;
  help: string;
  /** Checks the arguments' syntax; returns an error message or null. */
  check: (args: string[]) => string | null;
}

const noArgs = (args: string[]) => (args.length ? `takes no arguments` : null);
const isIndex = (t: string | undefined) => t !== undefined && /^\d+$/.test(t);

export const COMMANDS: CommandSpec[] = [
  {
    name: 'info',
    args: 'cpus|registers [N]|status|locks|sync-profile [-m] [-n] [max]',
    help: 'show the vCPUs (thread, state, halted, instructions executed), registers (via run_on_cpu), the VM state, or the synchronization profile',
    check: (a) => {
      if (a[0] === 'cpus' || a[0] === 'status' || a[0] === 'locks')
        return a.length === 1 ? null : `info ${a[0]} takes no arguments`;
      if (a[0] === 'sync-profile') {
        const rest = a.slice(1).filter((x) => x !== '-m' && x !== '-n');
        return rest.length === 0 || (rest.length === 1 && isIndex(rest[0]))
          ? null
          : 'usage: info sync-profile [-m] [-n] [max]';
      }
      if (a[0] === 'registers') {
        if (a.length === 1 || (a.length === 2 && isIndex(a[1]))) return null;
        return 'usage: info registers [N]';
      }
      return a.length === 0
        ? 'info needs a subcommand: cpus, registers, status, locks, sync-profile'
        : `unknown info subcommand '${a[0]}' (known: cpus, registers, status, locks, sync-profile)`;
    },
  },
  { name: 'stop', aliases: ['s'], args: '', help: 'stop the VM (pause_all_vcpus)', check: noArgs },
  { name: 'cont', aliases: ['c'], args: '', help: 'resume the VM (resume_all_vcpus)', check: noArgs },
  {
    name: 'cpu',
    args: 'N',
    help: "select the monitor's current CPU",
    check: (a) => (a.length === 1 && isIndex(a[0]) ? null : 'usage: cpu N'),
  },
  {
    name: 'cpu-unplug',
    args: 'N',
    help: 'unplug vCPU N: stop + unplug, kick, drop the BQL, join its thread',
    check: (a) => (a.length === 1 && isIndex(a[0]) ? null : 'usage: cpu-unplug N'),
  },
  {
    name: 'sleep',
    args: 'MS',
    help: 'let the machine run for MS milliseconds before the next command (for scripts)',
    check: (a) =>
      a.length === 1 && isIndex(a[0]) && Number(a[0]) <= 600_000 ? null : 'usage: sleep MS (0..600000)',
  },
  {
    name: 'quit',
    aliases: ['q'],
    args: '',
    help: 'shut the machine down (every thread joined) and exit',
    check: noArgs,
  },
  {
    name: 'trace-event',
    args: 'NAME on|off',
    help: 'turn the trace events matching NAME (e.g. qemu_mutex_*) on or off, in every thread',
    check: (a) =>
      a.length === 2 && (a[1] === 'on' || a[1] === 'off') ? null : 'usage: trace-event NAME on|off',
  },
  {
    name: 'sync-profile',
    args: '[on|off|reset]',
    help: 'turn the synchronization profiler on or off, or reset it (later reports show what happened since)',
    // QEMU's own message for a bad parameter, given when the command runs.
    check: (a) => (a.length <= 1 ? null : 'usage: sync-profile [on|off|reset]'),
  },
  { name: 'help', aliases: ['?'], args: '', help: 'list the commands', check: () => null },
];

function lookup(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Parses one command line; null for a blank line. Throws MonitorError for an unknown command or bad arguments. */
export function parseCommand(line: string): MonitorCommand | null {
  const text = line.trim();
  if (text === '') return null;
  const [word, ...args] = text.split(/\s+/);
  const spec = lookup(word);
  if (!spec) throw new MonitorError(`unknown command: '${word}' (type 'help' for the list)`);
  const problem = spec.check(args);
  if (problem) throw new MonitorError(`${spec.name}: ${problem}`);
  return { name: spec.name, args, text };
}

/** Parses a whole `--monitor` script: commands separated by `;` or newlines. */
export function parseMonitorScript(script: string): MonitorCommand[] {
  const out: MonitorCommand[] = [];
  for (const part of script.split(/[;\n]/)) {
    const cmd = parseCommand(part);
    if (cmd) out.push(cmd);
  }
  return out;
}

export function helpText(): string {
  return COMMANDS.map((c) => {
    const names = [c.name, ...(c.aliases ?? [])].join('|');
    return `${`${names} ${c.args}`.trimEnd().padEnd(32)} -- ${c.help}`;
  }).join('\n');
}

export interface CommandOutcome {
  quit?: boolean;
  sleepMs?: number;
}

/** Runs commands against a machine. The caller holds the BQL. */
export class Monitor {
  current = 0;

  constructor(
    private readonly machine: Machine,
    private readonly print: (text: string) => void,
  ) {}

  /** Runs one parsed command. A command that cannot be carried out throws MonitorError. */
  execute(cmd: MonitorCommand): CommandOutcome {
    const m = this.machine;
    switch (cmd.name) {
      case 'help':
        this.print(helpText());
        return {};
      case 'info':
        if (cmd.args[0] === 'cpus') this.print(m.infoCpus(this.current).join('\n') || '(no vCPUs left)');
        else if (cmd.args[0] === 'status') this.print(`VM status: ${m.running() ? 'running' : 'paused'}`);
        else if (cmd.args[0] === 'sync-profile') this.infoSyncProfile(cmd.args.slice(1));
        else if (cmd.args[0] === 'locks') this.print(m.infoLocks().join('\n'));
        else this.infoRegisters(cmd.args[1] === undefined ? this.current : Number(cmd.args[1]));
        return {};
      case 'stop':
        m.stop();
        return {};
      case 'cont':
        m.start();
        return {};
      case 'cpu': {
        this.cpuOrThrow(Number(cmd.args[0]), 'cpu');
        this.current = Number(cmd.args[0]);
        return {};
      }
      case 'cpu-unplug': {
        const cpu = this.cpuOrThrow(Number(cmd.args[0]), 'cpu-unplug');
        const r = m.unplug(cpu.index);
        if (r) this.print(`${cpu.name} unplugged; thread ${r.threadId} joined after ${r.insns} instructions`);
        else this.print(`${cpu.name} unplugged; its thread had died: ${m.threadErrors.get(cpu.index)}`);
        return {};
      }
      case 'trace-event': {
        const [pattern, state] = cmd.args;
        if (traceEnable(pattern, state === 'on') === 0) {
          throw new MonitorError(
            `trace-event: no trace event matches '${pattern}' (known: ${TRACE_EVENTS.join(', ')})`,
          );
        }
        return {};
      }
      case 'sync-profile': {
        const op = cmd.args[0];
        if (op === undefined) this.print(`sync-profile is ${qsp_is_enabled() ? 'on' : 'off'}`);
        else if (op === 'on') qsp_enable();
        else if (op === 'off') qsp_disable();
        else if (op === 'reset') qsp_reset();
        else throw new MonitorError(`invalid parameter '${op}', expecting 'on', 'off', or 'reset'`);
        return {};
      }
      case 'sleep':
        return { sleepMs: Number(cmd.args[0]) };
      case 'quit':
        return { quit: true };
      default:
        throw new MonitorError(`unknown command: '${cmd.name}'`);
    }
  }

  /** HMP's `info sync-profile [-m] [-n] [max]`: by mean with -m, not coalesced with -n, 10 rows by default. */
  private infoSyncProfile(args: string[]): void {
    const max = args.find((a) => isIndex(a));
    const sortBy = args.includes('-m') ? QSP_SORT_BY_AVG_WAIT_TIME : QSP_SORT_BY_TOTAL_WAIT_TIME;
    this.print(qspReportText(max === undefined ? 10 : Number(max), sortBy, !args.includes('-n')).trimEnd());
  }

  private cpuOrThrow(index: number, func: string) {
    const cpu = this.machine.cpus[index];
    if (!cpu)
      throw new MonitorError(
        `${func}: CPU ${index} does not exist (the machine has CPUs 0..${this.machine.cpus.length - 1})`,
      );
    if (!this.machine.present().includes(cpu)) throw new MonitorError(`${func}: CPU ${index} is unplugged`);
    return cpu;
  }

  /** `info registers`: the registers are read on the vCPU's own thread with run_on_cpu, as QEMU does. */
  private infoRegisters(index: number): void {
    const cpu = this.cpuOrThrow(index, 'info registers');
    let r: Int32Array;
    try {
      r = run_on_cpu(cpu, WorkKind.GetRegs);
    } catch (error) {
      throw new MonitorError(`info registers: ${error instanceof Error ? error.message : String(error)}`);
    }
    const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
    const lines = [`${cpu.name}: pc=${hex(r[16])} halted=${r[17]} insns=${cpu.count(K.INSNS)}`];
    for (let i = 0; i < 16; i += 4) {
      lines.push([0, 1, 2, 3].map((k) => `r${String(i + k).padEnd(2)}=${hex(r[i + k])}`).join(' '));
    }
    this.print(lines.join('\n'));
  }
}
