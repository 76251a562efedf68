/**
 * Showing the framebuffer. Each framebuffer word is an index into a fixed 256-entry palette, like VGA's
 * mode 13h: 0 is black, 1..255 a smooth gradient. On a colour terminal each character cell shows two
 * pixels with the upper-half block (foreground = upper, background = lower); otherwise plain ASCII.
 */

/** The palette: index -> [r, g, b]. */
export function paletteColor(index: number): [number, number, number] {
  const i = index & 0xff;
  if (i === 0) return [0, 0, 0];
  // A cubic-ish gradient: dark blue -> cyan -> white -> orange -> dark red, repeating every 255.
  // The square root spreads the many low indices (points that escape at once) over more colours.
  const t = Math.sqrt((i - 1) / 254);
  const stops: [number, number, number][] = [
    [0, 7, 100],
    [32, 107, 203],
    [237, 255, 255],
    [255, 170, 0],
    [100, 2, 0],
  ];
  const x = t * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  const a = stops[k];
  const b = stops[k + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

/** The framebuffer as RGB bytes. */
export function toRgb(fb: Int32Array): Uint8Array {
  const out = new Uint8Array(fb.length * 3);
  for (let i = 0; i < fb.length; i++) out.set(paletteColor(fb[i]), i * 3);
  return out;
}

/** Pixels per character column so that the picture fits in `columns`. */
function stepFor(width: number, columns: number): number {
  return Math.max(1, Math.ceil(width / columns));
}

const RAMP = ' .:-=+*%#';

/** ASCII art: one character per `step` x `2*step` pixels (terminal cells are about twice as tall as wide). */
export function renderAscii(fb: Int32Array, width: number, height: number, columns = 80): string {
  const step = stepFor(width, columns);
  const lines: string[] = [];
  for (let y = 0; y < height; y += 2 * step) {
    let line = '';
    for (let x = 0; x < width; x += step) {
      const v = fb[y * width + x] & 0xff;
      line +=
        v === 0 ? '@' : RAMP[Math.min(RAMP.length - 1, Math.floor(Math.sqrt((v - 1) / 255) * RAMP.length))];
    }
    lines.push(line.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

/** xterm's 256-colour cube index nearest to an RGB colour. */
function xterm256([r, g, b]: [number, number, number]): number {
  const q = (v: number) => (v < 48 ? 0 : v < 115 ? 1 : Math.min(5, Math.floor((v - 35) / 40)));
  return 16 + 36 * q(r) + 6 * q(g) + q(b);
}

/** ANSI art with half blocks: one cell per `step` x `2*step` pixels, showing two of them. */
export function renderAnsi(fb: Int32Array, width: number, height: number, columns = 80): string {
  const step = stepFor(width, columns);
  const lines: string[] = [];
  for (let y = 0; y < height; y += 2 * step) {
    let line = '';
    for (let x = 0; x < width; x += step) {
      const top = xterm256(paletteColor(fb[y * width + x]));
      const y2 = y + step < height ? y + step : y;
      const bottom = xterm256(paletteColor(fb[y2 * width + x]));
      line += `\x1b[38;5;${top};48;5;${bottom}m\u2580`;
    }
    lines.push(`${line}\x1b[0m`);
  }
  return `${lines.join('\n')}\n`;
}
