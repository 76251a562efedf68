// Shared by the API-table tests: the exact-error validator and a lock held by another thread.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { QemuThreadError } from 'qemu-thread';
import type { HoldData, HoldKind } from '../workers/api/hold.js';

// Expected values are spelled out here rather than read from the library, so a wrong table there fails.
export const ERRNO_OF = { EPERM: 1, ESRCH: 3, EBUSY: 16, EINVAL: 22, EDEADLK: 35 } as const;
export type Code = keyof typeof ERRNO_OF;
export const STRERROR_OF: Record<Code, string> = {
  EPERM: 'Operation not permitted',
  ESRCH: 'No such process',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  EDEADLK: 'Resource deadlock avoided',
};

/** An assert.throws validator for a QemuThreadError with exactly this code and public function name. */
export function qemuError(code: Code, func: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof QemuThreadError, `expected a QemuThreadError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'QemuThreadError');
    assert.equal(e.code, code);
    assert.equal(e.errno, ERRNO_OF[code]);
    assert.equal(e.func, func);
    assert.ok(e.message.startsWith(`${func}: ${STRERROR_OF[code]}`), `message: ${e.message}`);
    return true;
  };
}

/**
 * Runs `body` while a worker thread holds `lock`, then lets the worker unlock and exit. The hand-shake is
 * through a shared flag, so no step depends on timing.
 */
export async function whileHeldByWorker(
  kind: HoldKind,
  lock: unknown,
  body: (threadId: number) => void,
): Promise<void> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const workerData: HoldData = { kind, lock, flag };
  const worker = new Worker(new URL('../workers/api/hold.js', import.meta.url), { workerData });
  const exited = once(worker, 'exit');
  try {
    while (Atomics.load(flag, 0) === 0) {
      assert.notEqual(Atomics.wait(flag, 0, 0, 30_000), 'timed-out', 'the worker never took the lock');
    }
    body(worker.threadId);
  } finally {
    Atomics.store(flag, 0, 2);
    Atomics.notify(flag, 0);
  }
  const [exitCode] = await exited;
  assert.equal(exitCode, 0);
}
