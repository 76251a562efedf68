/**
 * Typed access to V8's shared-memory `Atomics.Mutex` / `Atomics.Condition` (Node 20 with
 * `node --harmony-struct` on the command line; NODE_OPTIONS and Worker execArgv refuse the flag, and
 * workers of a flagged process have it). The lock is callback-scoped: `lock(m, cb)` runs `cb` holding `m`;
 * `Condition.wait(c, m)` must be called inside such a callback.
 */

/** An opaque V8 shared mutex or condition (shared by reference through postMessage / workerData). */
export type V8Shared = object;

export interface V8MutexStatics {
  new (): V8Shared;
  lock<T>(m: V8Shared, cb: () => T): T;
  tryLock(m: V8Shared, cb: () => unknown): boolean;
}

export interface V8ConditionStatics {
  new (): V8Shared;
  wait(c: V8Shared, m: V8Shared, timeoutMs?: number): boolean;
  notify(c: V8Shared, count?: number): number;
}

const atomics = Atomics as unknown as { Mutex?: V8MutexStatics; Condition?: V8ConditionStatics };

/** Null when V8's shared mutex is available, else why not. */
export function v8Unavailable(): string | null {
  if (typeof atomics.Mutex === 'function' && typeof atomics.Condition === 'function') return null;
  return 'Atomics.Mutex is off: run with `node --harmony-struct` on the command line (npm run bench does)';
}

export function v8Mutex(): V8MutexStatics {
  return atomics.Mutex!;
}

export function v8Condition(): V8ConditionStatics {
  return atomics.Condition!;
}
