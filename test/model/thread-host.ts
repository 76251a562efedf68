/**
 * A thread host: the worker that plays one simulated thread of a scenario, run after run. It installs the
 * model (model-atomics.ts) before anything loads the library, turns the library's spinning off (each spin
 * read would be one more scheduling point, and spinning changes only how soon a waiter sleeps), pins the
 * core count the library sees to 1, then loops:
 * wait for RUN, run the thread function, report DONE / FAILED / ABORTED. Reusing it across runs avoids a
 * worker start-up per schedule; what the library keeps per thread between runs (trace ids, park stats)
 * does not steer the algorithms.
 */
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { AbortRun, installModel, realAtomics } from './model-atomics.js';
import {
  ABORTED,
  awaitChange,
  controlBlock,
  DONE,
  FAILED,
  IDLE,
  RUN,
  S_STATE,
  slotWord,
  writeText,
} from './protocol.js';

interface HostData {
  control: SharedArrayBuffer;
  threads: number;
  index: number;
  arena: SharedArrayBuffer;
  moduleUrl: string;
  exportName: string;
}

// Trace lines name the TypeScript source lines (stack frames are only formatted when a failure is replayed).
process.setSourceMapsEnabled(true);
const data = workerData as HostData;
const control = controlBlock(data.threads, data.control);
const me = installModel(control, data.index, data.arena);
// One core, as the library sees it: a broadcast then wakes one waiter and each woken waiter passes it on
// (cond.ts), so the chain is always checked, and the schedules do not depend on the machine.
os.availableParallelism = () => 1;
syncBuiltinESMExports();
const { setSpinning } = await import('qemu-thread/internal/park');
setSpinning(false);
const { arenaOn, layoutOf } = await import('./scenario.js');
type Scenario = import('./scenario.js').Scenario;
const scenario = (await import(data.moduleUrl))[data.exportName] as Scenario;
const arena = arenaOn(scenario.parts, layoutOf(scenario.parts), data.arena);
const fn = scenario.threads[data.index];
const context = {
  index: data.index,
  timeouts: () => ({ ...me.timeouts }),
};

const state = slotWord(data.index, S_STATE);
const ints = control.ints;
parentPort?.postMessage('ready');

// The host loop blocks this worker for good (the checker terminates it): it talks to the scheduler
// through the control block only.
let last = IDLE;
for (;;) {
  const command = awaitChange(realAtomics, ints, state, last);
  if (command !== RUN) {
    last = command;
    continue;
  }
  me.timeouts.early = 0;
  me.timeouts.forced = 0;
  me.aborting = false;
  let outcome = DONE;
  try {
    fn(arena, context);
  } catch (error) {
    if (error instanceof AbortRun || me.aborting) {
      outcome = ABORTED;
    } else {
      outcome = FAILED;
      writeText(
        control,
        data.index,
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
    }
  }
  realAtomics.store(ints, state, outcome);
  realAtomics.notify(ints, state, 1);
  last = outcome;
}
