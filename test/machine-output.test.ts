// The default guest's output is right: the framebuffer the vCPUs render equals a plain JS computation of
// the same picture, in guest RAM, in the terminal rendering, and in the PNG.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { crc32 } from '../machine/png.js';
import { renderAscii, toRgb } from '../machine/render.js';
import {
  locked,
  mainLoopChores,
  makeMachine,
  mandelbrotReference,
  program,
  runCli,
  until,
} from './machine-support.js';
import { runReport } from './support/run-report.js';
import { watched } from './support/watchdog.js';

const T = { ms: 60_000 };

/** Serial lines "CPU n: k rows": one per vCPU, and the rows add up to the picture's height. */
function checkRowReport(serial: string, smp: number, height: number): void {
  const lines = serial.trim().split('\n').sort();
  assert.equal(lines.length, smp, serial);
  let total = 0;
  for (const [i, line] of lines.entries()) {
    const m = /^CPU (\d+): (\d+) rows$/.exec(line);
    assert.ok(m, `unexpected serial line '${line}'`);
    assert.equal(Number(m[1]), i);
    total += Number(m[2]);
  }
  assert.equal(total, height, 'every row rendered exactly once');
}

watched('in-process: the vCPUs render exactly the reference Mandelbrot into guest RAM', T, async () => {
  const [w, h] = [64, 40];
  const m = makeMachine(program('mandelbrot.s'), 3, {}, [w, h]);
  const chores = mainLoopChores(m);
  try {
    locked(() => {
      m.boot();
      m.start();
    });
    await until(() => m.guestDone(), 'the guest ends');
    assert.deepEqual(m.framebuffer(), mandelbrotReference(w, h));
    checkRowReport(chores.serial(), 3, h);
    assert.equal(m.stats().exclusiveViolations, 0);
  } finally {
    chores.stop();
    locked(() => m.shutdown());
  }
});

/** Decodes an 8-bit RGB PNG as encodePng writes it (filter type 0), checking every chunk's CRC. */
function decodePng(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    assert.equal(png.readUInt32BE(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0]);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
    if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    assert.equal(raw[row], 0, 'filter type 0');
    rgb.set(raw.subarray(row + 1, row + 1 + width * 3), y * width * 3);
  }
  return { width, height, rgb };
}

watched(
  'npm start: the default machine prints the right picture, writes the right PNG, joins everything',
  T,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'machine-'));
    try {
      const file = join(dir, 'out.png');
      const run = runCli(['--png', file, '--png-scale', '2']);
      assert.equal(run.status, 0, runReport(run));
      assert.equal(run.stderr, '');
      const ref = mandelbrotReference(160, 96);
      assert.ok(
        run.stdout.includes(
          `Framebuffer (160x96):\n${renderAscii(ref, 160, 96)}wrote ${file} (320x192 PNG)\n`,
        ),
        'the ASCII picture is the reference one',
      );
      const serial = run.stdout
        .split('\n')
        .filter((l) => l.startsWith('CPU '))
        .join('\n');
      checkRowReport(serial, 4, 96);
      assert.match(run.stdout, /vCPUs created in order: CPU 0\/TCG, CPU 1\/TCG, CPU 2\/TCG, CPU 3\/TCG\n/);
      assert.match(run.stdout, /creation check: ok/);
      assert.match(run.stdout, /exclusive sections: \d+ \(0 saw another vCPU executing\)/);
      assert.match(run.stdout, /shutdown: 4 of 4 vCPU threads joined\n/);
      assert.match(run.stdout, /result: ok\n/);
      for (let i = 0; i < 4; i++) {
        assert.match(
          run.stdout,
          new RegExp(`main: CPU ${i}/TCG unplugged and joined \\(thread \\d+, \\d+ instructions\\)`),
        );
      }
      // The PNG: 2x2 pixels per framebuffer pixel, in the palette's colours.
      const png = decodePng(readFileSync(file));
      assert.equal(png.width, 320);
      assert.equal(png.height, 192);
      const rgb = toRgb(ref);
      for (let y = 0; y < 192; y++) {
        for (let x = 0; x < 320; x++) {
          const src = ((y >> 1) * 160 + (x >> 1)) * 3;
          const dst = (y * 320 + x) * 3;
          if (
            png.rgb[dst] !== rgb[src] ||
            png.rgb[dst + 1] !== rgb[src + 1] ||
            png.rgb[dst + 2] !== rgb[src + 2]
          ) {
            assert.fail(`PNG pixel (${x}, ${y}) differs from the reference`);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
