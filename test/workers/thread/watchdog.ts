/**
 * The watchdog behind harness.ts: a plain worker that kills the process when a test stays blocked too long.
 *
 * The thread tests block the main thread (qemu_thread_join, qemu_sem_wait, ...), so node:test's own
 * timeout cannot fire while a blocking call hangs. This worker can: the main thread arms it (odd sequence
 * number) when a test starts and disarms it (even) when the test ends; a test that stays armed past the
 * limit gets its name printed and the process killed, so a hang is a bounded failure, never a stuck run.
 * Its code runs only in a worker started by harness.ts (never when the test runner loads this file).
 */
import { writeSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';

export interface WatchdogData {
  /** [0]: sequence, odd while a test runs; [1]: length of the test's name in `label`. */
  words: Int32Array;
  label: Uint8Array;
  limitMs: number;
}

export const WATCHDOG_KEY = 'qemuThreadTestWatchdog';

function watch({ words, label, limitMs }: WatchdogData): never {
  for (;;) {
    const seq = Atomics.load(words, 0);
    if (seq % 2 === 0) {
      Atomics.wait(words, 0, seq);
    } else if (Atomics.wait(words, 0, seq, limitMs) === 'timed-out') {
      const name = new TextDecoder().decode(label.slice(0, Atomics.load(words, 1)));
      writeSync(2, `\nwatchdog: test '${name}' still blocked after ${limitMs} ms; killing the process\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
}

const data = isMainThread ? undefined : (workerData as Record<string, WatchdogData> | null)?.[WATCHDOG_KEY];
if (data !== undefined) watch(data);
