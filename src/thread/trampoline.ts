/**
 * The trampoline every QemuThread runs first (QEMU's qemu_thread_start): it records who this thread is,
 * loads the thread function, calls it with its argument, runs the at-exit notifiers, and publishes the
 * outcome for qemu_thread_join through shared memory.
 */
// Every primitive kind must be registered before the argument is revived, whether or not the thread's
// own module imports the library.
import '../index.js';
import { errorToRecord, setErrorMode } from '../errors.js';
import { reviveDeep } from '../layout.js';
import { SELF_THREAD_ID } from '../owner.js';
import { platform } from '../platform/index.js';
import { markFinished } from './liveness.js';
import { printableName, publishThreadName } from './names.js';
import { Outcome } from './result-pipe.js';
import { self } from './self.js';
import {
  isDetached,
  isThreadExit,
  publishOutcome,
  QemuThread,
  streamOutcome,
  type ThreadStart,
} from './thread.js';

/**
 * Runs the calling worker's thread: waits for its start data, loads and calls its function, and
 * publishes the outcome. Called once, by the worker's first module (entry.ts, or the Node build's entry).
 */
export async function runThread(): Promise<void> {
  const start = (await platform.receiveStart()) as ThreadStart;
  const thread = QemuThread.from(start.thread);
  const words = thread.words;
  // The creator also writes TID after spawning; writing it here first means the thread recognizes
  // itself (qemu_thread_get_self, self-join) even before the creator's store lands.
  Atomics.store(words, 1, SELF_THREAD_ID);
  self.storage = words;
  self.name = start.name;
  if (start.name !== null) publishThreadName(start.name);
  self.naming = start.naming;
  self.moduleUrls = start.moduleUrls;
  setErrorMode(start.errorMode);

  let published = false;

  function publish(outcome: Outcome, value: unknown, dying = false): void {
    if (published) return;
    published = true;
    let bytes: Uint8Array;
    try {
      bytes =
        outcome === Outcome.BadFunction ? new TextEncoder().encode(String(value)) : platform.serialize(value);
    } catch (error) {
      outcome = Outcome.Threw;
      const why = error instanceof Error ? error.message : String(error);
      bytes = platform.serialize(
        errorToRecord(new TypeError(`the thread's return value cannot be cloned to the joiner: ${why}`)),
      );
    }
    if (outcome !== Outcome.Returned && isDetached(words)) {
      const who = start.name ? `thread '${printableName(start.name)}'` : `thread ${SELF_THREAD_ID}`;
      const text = outcome === Outcome.BadFunction ? String(value) : describeThrown(value);
      platform.writeStderr(`qemu-thread: detached ${who} failed: ${text}\n`);
    }
    const more = publishOutcome(words, outcome, bytes);
    // Announce before streaming: a finished thread must not keep the process alive while it waits for a
    // joiner that may never come.
    platform.announceFinished();
    // A large outcome waits in the pipe for its joiner, chunk by chunk, which parks this worker. Only once
    // it has nothing else to run (its timers may still take and release locks): from then on it counts as
    // ended for its locks (liveness.ts: FINISHED), so a lock it left held goes on with EOWNERDEAD even
    // while its result waits for a joiner.
    // A thread that is dying (an uncaught error, process.exit) will run nothing else either: at once.
    if (more) {
      const handOver = () => {
        markFinished(SELF_THREAD_ID);
        streamOutcome(words, bytes);
      };
      if (dying) handOver();
      else platform.whenIdle(handOver);
    }
  }

  function describeThrown(record: unknown): string {
    const r = record as { stack?: string; message?: string };
    return r.stack ?? r.message ?? String(record);
  }

  /** Runs the at-exit notifiers (most recently added first); rethrows the first error one of them threw. */
  function runNotifiers(): void {
    const notifiers = self.notifiers.splice(0);
    let firstError: unknown;
    let failed = false;
    for (const notifier of notifiers) {
      try {
        notifier.notify(undefined);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
    if (failed) throw firstError;
  }

  /**
   * The thread function is over, however it ended: `thrown` tells whether `value` was thrown. A thrown
   * ThreadExit is qemu_thread_exit's normal exit. The notifiers run once, then the outcome is published; a
   * notifier that throws turns a normal exit into that error.
   */
  function finish(thrown: boolean, value: unknown, dying = false): void {
    if (published) return;
    let outcome = Outcome.Returned;
    if (thrown && isThreadExit(value)) {
      value = value.value;
    } else if (thrown) {
      outcome = Outcome.Threw;
      value = errorToRecord(value);
    }
    try {
      runNotifiers();
    } catch (error) {
      if (outcome === Outcome.Returned) {
        outcome = Outcome.Threw;
        value = errorToRecord(error);
      }
    }
    publish(outcome, value, dying);
  }

  // qemu_thread_exit from a callback, an uncaught error in one, or the runtime exiting mid-function.
  platform.watchForDeath((error) => finish(true, error, true));

  let fn: unknown;
  try {
    const module = await platform.loadThreadModule(start.moduleUrl);
    fn = module[start.exportName];
    if (typeof fn !== 'function') {
      const what = fn === undefined ? 'has no export' : 'has an export that is not a function:';
      publish(Outcome.BadFunction, `the module ${start.moduleUrl} ${what} '${start.exportName}'`);
    }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    publish(Outcome.BadFunction, `the module ${start.moduleUrl} could not be loaded: ${why}`);
  }

  if (!published) {
    try {
      finish(false, await (fn as (arg: unknown) => unknown)(reviveDeep(start.arg)));
    } catch (error) {
      finish(true, error);
    }
  }
}
