/**
 * A thread host: the worker that plays one simulated thread of a scenario, run after run. It installs the
 * model (model-atomics.ts) before anything loads the library, sets the core count the library sees
 * (platform.cores, read once as the library loads) and its spinning (off, or a fixed number of reads per
 * spin, so that every run is the same) as the scenario asks (Scenario.cores, Scenario.spin; the checker
 * passes them, since the scenario's module cannot be loaded before the library), then loops:
 * wait for RUN, run the thread function, report DONE / FAILED / ABORTED (or SUSPENDED, see below).
 * Reusing it across runs avoids a worker start-up per schedule; what the library keeps per thread between
 * runs (trace ids, park stats) does not steer the algorithms.
 *
 * Async thread functions: the host blocks synchronously on its control word while it waits for a command,
 * so continuations can only run once it returns to its event loop. After every command it therefore
 * yields a macrotask (setImmediate): the microtask queue (the thread function's continuations, and every
 * arena operation they announce on the way) drains first. Then it reports DONE / FAILED if the function's
 * promise has settled, else SUSPENDED: the function is awaiting something only the scheduler can settle
 * (an async wait), which it does with SETTLE, resolving the wait's promise here, in the waiter's thread.
 */
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { getEnvironmentData, parentPort, workerData } from 'node:worker_threads';
import { AbortRun, installModel, realAtomics } from './model-atomics.js';
import {
  ABORT,
  ABORTED,
  awaitChange,
  controlBlock,
  DONE,
  FAILED,
  IDLE,
  RUN,
  S_A,
  S_RESULT,
  S_STATE,
  SETTLE,
  SUSPENDED,
  slotWord,
  WAIT_OK,
  WAIT_TIMED_OUT_EARLY,
  writeText,
} from './protocol.js';

interface HostData {
  control: SharedArrayBuffer;
  threads: number;
  index: number;
  arena: SharedArrayBuffer;
  moduleUrl: string;
  exportName: string;
  /** Keys of the process-wide blocks whose operations are scheduled (Scenario.shared). */
  shared: string[];
  /** Scenario.cores and Scenario.spin, with their defaults applied. */
  cores: number;
  spin: number;
}

// Trace lines name the TypeScript source lines (stack frames are only formatted when a failure is replayed).
process.setSourceMapsEnabled(true);
const data = workerData as HostData;
const control = controlBlock(data.threads, data.control);
// The process-wide blocks reach every host through Node's environment data (the checker creates them
// before the hosts: see ModelChecker.open), the very buffers platform.processShared will return.
const shared = data.shared.map((key) => {
  const b = getEnvironmentData(key);
  if (!(b instanceof SharedArrayBuffer)) throw new Error(`thread host: no process-shared block '${key}'`);
  return b;
});
const me = installModel(control, data.index, data.arena, shared);
// The cores the library sees are the scenario's, never the machine's: the schedules must not depend on it.
os.availableParallelism = () => data.cores;
syncBuiltinESMExports();
const { setSpinning } = await import('#internal/park');
setSpinning(data.spin > 0, data.spin);
const { arenaOn, layoutOf } = await import('./scenario.js');
type Scenario = import('./scenario.js').Scenario;
const scenario = (await import(data.moduleUrl))[data.exportName] as Scenario;
// Made outside any run, with the real atomics: a primitive's constructor looks at its first word (is the
// memory another kind's?), which is no step of any thread.
me.direct = true;
const arena = arenaOn(scenario.parts, layoutOf(scenario.parts), data.arena);
me.direct = false;
const fn = scenario.threads[data.index];
const context = {
  index: data.index,
  timeouts: () => ({ ...me.timeouts }),
};

const state = slotWord(data.index, S_STATE);
const ints = control.ints;
parentPort?.postMessage('ready');

// The host loop blocks this worker for good between commands (the checker terminates it): it talks to the
// scheduler through the control block only, and yields to its event loop only to run continuations.
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
const failed = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
// A promise the thread function left behind (not awaited) may reject: when a run is abandoned, or with the
// scenario's own assertion, which is then the thread's failure (unhandled, it would end the worker).
process.on('unhandledRejection', (error) => {
  if (error instanceof AbortRun || me.aborting) return;
  writeText(control, data.index, failed(error));
  finished = FAILED;
});
let last = IDLE;
/** How the current run's thread function ended; null while it is running or suspended. */
let finished: number | null = null;
for (;;) {
  const command = awaitChange(realAtomics, ints, state, last);
  if (command === RUN) {
    me.timeouts.early = 0;
    me.timeouts.forced = 0;
    me.aborting = false;
    me.pending.clear();
    finished = null;
    const ended = (error: unknown) => {
      if (error instanceof AbortRun || me.aborting) return ABORTED;
      writeText(control, data.index, failed(error));
      return FAILED;
    };
    try {
      const result = fn(arena, context);
      if (result instanceof Promise) {
        result.then(
          () => {
            finished ??= me.aborting ? ABORTED : DONE;
          },
          (error: unknown) => {
            finished ??= ended(error);
          },
        );
      } else {
        finished = DONE;
      }
    } catch (error) {
      finished = ended(error);
    }
  } else if (command === SETTLE) {
    const entry = ints[slotWord(data.index, S_A)];
    const code = ints[slotWord(data.index, S_RESULT)];
    const resolve = me.pending.get(entry);
    if (resolve === undefined) throw new Error(`thread host: no pending async wait #${entry}`);
    me.pending.delete(entry);
    if (code === WAIT_OK) resolve('ok');
    else {
      if (code === WAIT_TIMED_OUT_EARLY) me.timeouts.early++;
      else me.timeouts.forced++;
      resolve('timed-out');
    }
  } else if (command === ABORT) {
    // Suspended (or finished with async waits left): nothing to unwind, the run's promises are dropped.
    me.aborting = true;
  } else {
    last = command;
    continue;
  }
  // Let the continuations run (their arena operations are scheduled as usual), then report.
  await macrotask();
  const outcome = me.aborting ? ABORTED : (finished ?? SUSPENDED);
  realAtomics.store(ints, state, outcome);
  realAtomics.notify(ints, state, 1);
  last = outcome;
}
