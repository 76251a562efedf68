// Shared helpers for the machine-*.test.ts files (no tests here). The tests drive the machine in two ways:
// in-process (this thread plays QEMU's main loop: it takes the BQL and calls the machine's functions) and
// as a child process (node build/machine/main.js), as a user would.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bql_lock, bql_locked, bql_unlock } from '../machine/bql.js';
import { serial_take, timer_tick } from '../machine/devices.js';
import { assemble } from '../machine/isa.js';
import { assemblerContext, Machine, type MachineOptions } from '../machine/machine.js';

export const MAIN = fileURLToPath(new URL('../machine/main.js', import.meta.url));
export const PROGRAMS = fileURLToPath(new URL('../../machine/programs/', import.meta.url));

/** Generous: these are liveness bounds, never part of what a test asserts. */
export const LIVENESS_MS = 30_000;

export function runCli(args: string[], input?: string) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 50_000,
    input,
    env: { ...process.env, NO_COLOR: '1' },
  });
}

export function program(name: string): string {
  return readFileSync(`${PROGRAMS}${name}`, 'utf8');
}

/** A machine for `source`, not booted yet. */
export function makeMachine(
  source: string,
  smp: number,
  extra: Partial<MachineOptions> = {},
  fb: [number, number] = [64, 40],
): Machine {
  const prog = assemble(source, 'test.s', assemblerContext(fb[0], fb[1]));
  return new Machine({ smp, program: prog, fbWidth: fb[0], fbHeight: fb[1], ...extra });
}

/** Runs `fn` holding the BQL (taking it only if this thread does not already hold it). */
export function locked<T>(fn: () => T): T {
  if (bql_locked()) return fn();
  bql_lock();
  try {
    return fn();
  } finally {
    bql_unlock();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `pred` under the BQL until it holds, releasing the BQL in between (as the main loop does around
 * its poll). Fails after LIVENESS_MS: a hang becomes a failure with a message, not a stuck test run.
 */
export async function until(pred: () => boolean, what: string, ms = LIVENESS_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!locked(pred)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

/**
 * The main loop's chores for an in-process machine: the timer interrupt every 10 ms (it wakes vCPUs
 * halted by `hlt`) and draining the serial FIFO. Returns a stop function and the serial text so far.
 */
export function mainLoopChores(m: Machine): { stop: () => void; serial: () => string } {
  let text = '';
  const timer = setInterval(() => {
    locked(() => {
      timer_tick(m.s, m.present());
      text += Buffer.from(serial_take(m.s)).toString('latin1');
    });
  }, 10);
  return {
    stop: () => clearInterval(timer),
    serial: () => {
      locked(() => {
        text += Buffer.from(serial_take(m.s)).toString('latin1');
      });
      return text;
    },
  };
}

/**
 * The default program's picture, computed the plain way: the Mandelbrot set in Q12 fixed point with the
 * guest's exact integer steps, 64 iterations, palette index 0 inside and 1 + 4 * iterations outside.
 */
export function mandelbrotReference(width: number, height: number): Int32Array {
  const fb = new Int32Array(width * height);
  const dx = Math.trunc(14336 / width);
  const dy = Math.trunc(10240 / height);
  for (let y = 0; y < height; y++) {
    const ci = -5120 + y * dy;
    for (let x = 0; x < width; x++) {
      const cr = -10240 + x * dx;
      let zr = 0;
      let zi = 0;
      let it = 0;
      let escaped = false;
      while (it < 64) {
        const zr2 = Math.imul(zr, zr) >> 12;
        const zi2 = Math.imul(zi, zi) >> 12;
        if (zr2 + zi2 > 16384) {
          escaped = true;
          break;
        }
        zi = (Math.imul(zr, zi) >> 11) + ci;
        zr = zr2 - zi2 + cr;
        it++;
      }
      fb[y * width + x] = escaped ? it * 4 + 1 : 0;
    }
  }
  return fb;
}
