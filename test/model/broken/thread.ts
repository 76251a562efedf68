/**
 * Deliberately broken joiners, for the model checker to catch: QemuThread whose join is a re-written
 * joinSteps / readOutcome (src/thread/thread.ts, result-pipe.ts) with one mistake each, on the same words;
 * the exiting side is the production publishOutcome / streamOutcome. Not library code: the real join
 * passes the same scenario (scenarios/thread.ts, threadJoin).
 *
 * - ReadsBeforePublish: the joiner waits only while the state is RUNNING, so it takes PUBLISHING (the
 *   exiting thread has claimed the pipe and is still writing the first chunk) for the end, and reads the
 *   outcome and length before they are written.
 * - AcksBeforeCopy: the joiner acknowledges a chunk (CHUNK -> 2k + 2) before it copies it out of the
 *   window. An exiting thread that looks at CHUNK right then, without waiting for the notify, refills the
 *   window under the reader's feet: one that has not parked yet (the exiting thread preempted between its
 *   publish and its first look, and the joiner between its acknowledgement and its copy: 2 preemptions),
 *   or one whose sleep's slice ends right then (it looks every PEER_CHECK_MS to see whether its joiner is
 *   still there: 1 preemption and that early time-out).
 *
 * The pipe's words and window come from result-pipe.ts itself (internals.ts); the mistakes are in the happy
 * path, so the re-written joiners leave out what the real one does when a side ends in the middle.
 */
import { deserialize } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { QemuThread } from 'qemu-thread';
import { resultPipe } from '../internals.js';
import { type Part, THREAD_FIELDS } from '../scenario.js';
import { joinScenario } from '../scenarios/thread.js';

/** The thread's words: thread.ts's (not exported), and the pipe's, from result-pipe.ts. */
const STATE = 0;
const JOINER = 3;
const { OUTCOME, LENGTH, CHUNK, WINDOW_OFFSET } = resultPipe;
const RUNNING = 1;
const JOINED = 3;
const PUBLISHING = 5;
const WINDOW_BYTES = QemuThread.BYTES - WINDOW_OFFSET;
/** Returned = 0 (result-pipe.ts). */
const RETURNED = 0;

abstract class ReJoin extends QemuThread {
  override join(): unknown {
    const w = this.words;
    if (Atomics.compareExchange(w, JOINER, 0, (threadId + 2) << 2) !== 0) {
      throw Object.assign(new Error('the thread was already joined'), { code: 'EINVAL' });
    }
    for (let s = Atomics.load(w, STATE); this.stillRunning(s); s = Atomics.load(w, STATE)) {
      Atomics.wait(w, STATE, s);
    }
    const outcome = Atomics.load(w, OUTCOME);
    const length = Atomics.load(w, LENGTH);
    const bytes = new Uint8Array(length);
    const window = new Uint8Array(w.buffer, w.byteOffset + WINDOW_OFFSET, WINDOW_BYTES);
    for (let k = 0, at = 0; at < length; k++, at += WINDOW_BYTES) {
      const full = 2 * k + 1;
      for (let seen = Atomics.load(w, CHUNK); seen !== full; seen = Atomics.load(w, CHUNK)) {
        Atomics.wait(w, CHUNK, seen);
      }
      this.take(w, full, () => bytes.set(window.subarray(0, Math.min(WINDOW_BYTES, length - at)), at));
    }
    Atomics.store(w, STATE, JOINED);
    if (outcome !== RETURNED) throw new Error(`outcome ${outcome}`);
    return deserialize(bytes);
  }

  protected stillRunning(state: number): boolean {
    return state === RUNNING || state === PUBLISHING;
  }

  /** Copies chunk `full` out of the window, then acknowledges it. */
  protected take(w: Int32Array, full: number, copy: () => void): void {
    copy();
    Atomics.store(w, CHUNK, full + 1);
    Atomics.notify(w, CHUNK, 1);
  }
}

export class ReadsBeforePublish extends ReJoin {
  protected override stillRunning(state: number): boolean {
    // The mistake: PUBLISHING is still running (the outcome is being written).
    return state === RUNNING;
  }
}

export class AcksBeforeCopy extends ReJoin {
  protected override take(w: Int32Array, full: number, copy: () => void): void {
    // The mistake: the window is handed back before it is read.
    Atomics.store(w, CHUNK, full + 1);
    Atomics.notify(w, CHUNK, 1);
    copy();
  }
}

const part = <T>(make: (b: SharedArrayBuffer, o: number) => T): Part<T> => ({
  bytes: QemuThread.BYTES,
  fields: THREAD_FIELDS,
  make,
});

export const brokenJoinReadsBeforePublish = joinScenario(
  part((b, o) => new ReadsBeforePublish(b, o)),
  'broken join (reads the outcome while it is published)',
);
export const brokenJoinAcksBeforeCopy = joinScenario(
  part((b, o) => new AcksBeforeCopy(b, o)),
  'broken join (acknowledges a chunk before copying it)',
);
