/**
 * The library's table of ended threads (src/thread/liveness.ts), as the model checker's kills need it: a
 * killed simulated thread must count as ended for the library (a robust mutex it held answers EOWNERDEAD,
 * a join it claimed can be taken over), as its creator would report it, and must count as alive again at
 * the start of the next schedule, since its host (a worker reused run after run) is not really gone.
 *
 * The table is a process-wide block (platform.processShared, so Node's environment data), one Int32 per
 * slot `tid mod SLOTS`: `tid + 1` while that thread is alive, `-(tid + 1)` once it has ended. This file
 * writes it directly, so it must follow liveness.ts's layout; if that changes, the kill scenarios
 * (scenarios/kill.ts) fail loudly (a robust lock whose dead holder is never seen as dead hangs them).
 */
import { getEnvironmentData } from 'node:worker_threads';

const KEY = 'qemu-thread.liveness';
const SLOTS = 1 << 14;

export class Liveness {
  readonly #table: Int32Array;

  /** The table the library in this thread (and every worker created after it) uses. */
  constructor() {
    const b = getEnvironmentData(KEY);
    if (!(b instanceof SharedArrayBuffer) || b.byteLength < SLOTS * 4) {
      throw new Error(`model checker: the library's table of ended threads ('${KEY}') is not where expected`);
    }
    this.#table = new Int32Array(b);
  }

  /** Thread `tid` has ended, as its creator reports a terminated thread. */
  markEnded(tid: number): void {
    Atomics.store(this.#table, tid & (SLOTS - 1), -(tid + 1));
  }

  /** Thread `tid` is alive (a reused host, at the start of a schedule). */
  markAlive(tid: number): void {
    Atomics.store(this.#table, tid & (SLOTS - 1), tid + 1);
  }
}
