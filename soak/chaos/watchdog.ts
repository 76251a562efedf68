/**
 * The chaos soak's watchdog, a thread of its own (the controller's event loop may be what hangs): every
 * 250 ms it looks at each worker's progress counter and the controller's heartbeat. A worker that has
 * completed nothing for the watchdog period, outside the audit barrier, is a hang: the watchdog prints the
 * state of every thread and primitive (shared.ts: describeAll), classifies it as a lost wake-up when a
 * sleeper's predicate holds (shared.ts: lostWakeups), and raises FATAL, on which the controller prints its
 * summary and exits with status 1. If the controller does not, the watchdog ends the process itself.
 */
import { writeSync } from 'node:fs';
import {
  G,
  J,
  JOINEES,
  JS_FREE,
  joineeWord,
  MAIN_TOKEN,
  P,
  S,
  slotWord,
  type WatchdogArg,
} from './layout.js';
import { describeAll, joineeHandles, lostWakeups, stateName, violation } from './shared.js';

const nap = new Int32Array(new SharedArrayBuffer(4));

export function watchdog(arg: WatchdogArg): void {
  const { words: w, threads, watchdogMs } = arg;
  const seen = Array.from({ length: threads }, () => ({ mark: '', since: performance.now() }));
  const joined = Array.from({ length: JOINEES }, () => ({ mark: '', since: performance.now() }));
  let beat = { value: -1, since: performance.now() };
  let fatalSince = 0;
  while (Atomics.load(w, G.STOP) !== 2) {
    Atomics.wait(nap, 0, 0, 250);
    const now = performance.now();
    if (Atomics.load(w, G.FATAL) !== 0) {
      // The controller reports and exits; if it cannot (its event loop is stuck), end the process here.
      if (fatalSince === 0) fatalSince = now;
      else if (now - fatalSince > 2 * watchdogMs)
        fatalExit('the controller did not end the run after a fatal error');
      continue;
    }
    const mainBeat = Atomics.load(w, G.MAIN_BEAT);
    if (mainBeat !== beat.value) beat = { value: mainBeat, since: now };
    else if (now - beat.since > watchdogMs) {
      hang(arg, `the controller's loop has not run for ${watchdogMs / 1000} s`);
      continue;
    }
    // A joinee runs a few milliseconds, and the controller's own joins take no longer.
    for (let j = 0; j < JOINEES; j++) {
      const at = (i: number) => Atomics.load(w, joineeWord(j, i));
      const watched =
        at(J.STATE) !== JS_FREE && (at(J.FLAG) < 2 || at(J.CLAIM) === MAIN_TOKEN) && at(J.GATE) === 0;
      const mark = watched ? `${at(J.STARTS)} ${at(J.FLAG)} ${at(J.STATE)} ${at(J.CLAIM)}` : '';
      if (mark !== joined[j].mark || !watched) joined[j] = { mark, since: now };
      else if (now - joined[j].since > watchdogMs) {
        hang(
          arg,
          `joinee ${j} (thread ${joineeHandles(arg.joinees)[j].threadId()}) has not ended or been joined for ${watchdogMs / 1000} s`,
        );
        break;
      }
    }
    for (let s = 0; s < threads; s++) {
      const state = Atomics.load(w, slotWord(s, P.STATE));
      // A thread waiting at the barrier waits for the controller, whose heartbeat is checked above.
      const mark =
        state === S.barrier
          ? `barrier ${Atomics.load(w, G.BARRIER_GEN)} ${Atomics.load(w, slotWord(s, P.SCRIPT))}`
          : `${Atomics.load(w, slotWord(s, P.TOKEN))} ${Atomics.load(w, slotWord(s, P.PROGRESS))}`;
      if (mark !== seen[s].mark || state === S.barrier) seen[s] = { mark, since: now };
      else if (now - seen[s].since > watchdogMs) {
        hang(
          arg,
          `slot ${s} (thread ${Atomics.load(w, slotWord(s, P.TID))}) made no progress for ` +
            `${watchdogMs / 1000} s, in state ${stateName(state)}`,
        );
        break;
      }
    }
  }
}

function hang(arg: WatchdogArg, what: string): void {
  const { words: w, p, threads } = arg;
  if (Atomics.compareExchange(w, G.FATAL, 0, 2) !== 0) return;
  Atomics.add(w, G.HANGS, 1);
  const lost = lostWakeups(w, p, threads);
  violation(
    w,
    lost.length > 0 ? 'lost-wakeup' : 'hang',
    `${what}${lost.length > 0 ? `: ${lost.join('; ')}` : ''}`,
  );
  writeSync(2, `chaos: state at the hang:\n${describeAll(w, p, threads, arg.joinees)}\n`);
  Atomics.notify(w, G.FATAL);
}

function fatalExit(why: string): never {
  writeSync(2, `chaos: ${why}; ending the process\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error(why);
}
