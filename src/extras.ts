/** Idiomatic helpers over the lockable primitives: scoped guards and run-under-lock. */

/** Anything with lock and unlock: QemuMutex, QemuRecMutex, QemuSpin, QemuLockCnt. */
export interface Lockable {
  lock(): void;
  unlock(): void;
}

/**
 * Runs `fn` with `lock` held and releases it afterwards, even if `fn` throws (QEMU's WITH_QEMU_LOCK_GUARD).
 *
 * @example
 * ```ts
 * const total = withLock(m, () => counter[0]++);
 * ```
 */
export function withLock<T>(lock: Lockable, fn: () => T): T {
  lock.lock();
  try {
    return fn();
  } finally {
    lock.unlock();
  }
}
