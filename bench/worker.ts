/** The entry of every workload worker: runs its role (roles.ts) and reports the result to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import type { TaskData, WorkerMessage } from './harness.js';
import { runRole } from './roles.js';

let message: WorkerMessage;
try {
  message = { ok: true, result: runRole(workerData as TaskData) };
} catch (error) {
  message = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
parentPort!.postMessage(message);
// A V8-contender worker stays (idle, in its event loop) until its process ends: with --harmony-struct,
// Node 20 can abort ("NodePlatform::ForIsolate ... Assertion failed") when a worker isolate goes away while
// the others still run and collect garbage.
if ((workerData as TaskData).contender === 'v8') setInterval(() => {}, 1 << 30);
