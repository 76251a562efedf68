/**
 * Everything the main thread prints goes through here (vCPU threads never print: their serial output
 * reaches stdout through the main loop). On a terminal it keeps a live area at the bottom: a status line
 * with per-vCPU instruction counts and, when the monitor is interactive, the `(qemu) ` prompt below it;
 * other output is written above the live area. Without a terminal, progress is a plain line now and then.
 */
import { writeSync } from 'node:fs';
import type { Interface } from 'node:readline';

const CLEAR_LINE = '\r\x1b[2K';
const UP = '\x1b[1A';

export class Screen {
  /** The interactive monitor's readline, when there is one. */
  rl: Interface | null = null;
  private statusText = '';
  private liveLines = 0;
  private serialPartial = '';

  constructor(
    readonly tty: boolean,
    readonly quiet: boolean,
  ) {}

  private write(fd: number, text: string): void {
    if (text) writeSync(fd, text);
  }

  private clearLive(): void {
    if (!this.tty || this.liveLines === 0) return;
    let out = CLEAR_LINE;
    for (let i = 1; i < this.liveLines; i++) out += UP + CLEAR_LINE;
    this.write(1, out);
    this.liveLines = 0;
  }

  private drawLive(): void {
    if (!this.tty) return;
    if (this.statusText) {
      this.write(1, this.statusText + (this.rl ? '\n' : ''));
      this.liveLines = 1;
    }
    if (this.rl) {
      this.rl.prompt(true);
      this.liveLines++;
    }
  }

  /** Writes complete text above the live area. */
  private above(fd: number, text: string): void {
    this.clearLive();
    this.write(fd, text);
    this.drawLive();
  }

  /** A line of the machine's own log (hidden by --quiet). */
  log(line: string): void {
    if (!this.quiet) this.above(1, `${line}\n`);
  }

  /** Monitor output: always shown. */
  monitor(text: string): void {
    this.above(1, text.endsWith('\n') ? text : `${text}\n`);
  }

  /** An error: always shown, on stderr. */
  error(text: string): void {
    this.above(2, text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * Guest serial output. Only whole lines are written (the rest waits for its newline, or the end), so a
   * guest line is never cut by the monitor's or the machine's own output.
   */
  serial(text: string): void {
    const all = this.serialPartial + text;
    const cut = all.lastIndexOf('\n') + 1;
    this.serialPartial = all.slice(cut);
    if (cut > 0) this.above(1, all.slice(0, cut));
  }

  /** Live progress: redraws the status line on a terminal; a plain line otherwise. */
  progress(text: string): void {
    if (this.quiet) return;
    if (!this.tty) {
      this.write(1, `${text}\n`);
      return;
    }
    this.clearLive();
    this.statusText = `\x1b[7m${text}\x1b[0m`;
    this.drawLive();
  }

  /** The user pressed Enter at the prompt: the typed line stays, the old live area is gone. */
  lineEntered(line: string): void {
    if (!this.tty || !this.rl) return;
    // Readline moved to a fresh line. Put the command where the status line was, clear what is below it.
    if (this.statusText) this.write(1, `${UP}${UP}${CLEAR_LINE}(qemu) ${line}\n${CLEAR_LINE}`);
    this.liveLines = 0;
  }

  /** Redraws the live area after the monitor's output (the prompt again). */
  redraw(): void {
    this.clearLive();
    this.drawLive();
  }

  /** Removes the live area and flushes a partial serial line: the machine is done. */
  finish(): void {
    this.clearLive();
    this.statusText = '';
    if (this.rl) {
      const rl = this.rl;
      this.rl = null;
      rl.close();
    }
    if (this.serialPartial) {
      this.write(1, `${this.serialPartial}\n`);
      this.serialPartial = '';
    }
  }
}
