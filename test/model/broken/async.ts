/**
 * The stalled-async-waiter scenario (test/model/scenarios/async.ts) with park.ts's wake-all disabled, for
 * the model checker to catch: setup biases the process-wide count of pending async waits by -1, so while
 * T1's one async wait is pending the count reads 0 and a post wakes a single waiter, as if the count did
 * not exist. That wake-up lands on T1's queued async wait (first in the FIFO queue) while T1 is blocked
 * elsewhere, and the blocked T2 sleeps beside the unit. No library code changes: the same threads, on the
 * real QemuSemaphore, pass with the count intact.
 */
import { ASYNC_WAITS } from '../scenario.js';
import { stalledScenario } from '../scenarios/async.js';

export const brokenAsyncStalledWaiter = stalledScenario(
  'broken async: a stalled async waiter vs a blocked waiter, no wake-all',
  (shared) => {
    shared[ASYNC_WAITS][0] = -1;
  },
);
