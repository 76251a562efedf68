/** Idiomatic helpers over the lockable primitives: scoped guards and run-under-lock. */

/** Anything with lock and unlock: QemuMutex, QemuRecMutex, QemuSpin, QemuLockCnt. */
export interface Lockable {
  /** Takes the lock. */
  lock(): void;
  /** Releases the lock. */
  unlock(): void;
}

/**
 * Runs `fn` with `lock` held and releases it afterwards, even if `fn` throws (QEMU's WITH_QEMU_LOCK_GUARD).
 *
 * @example
 * ```ts
 * import { QemuMutex, withLock } from 'qemu-thread';
 *
 * const m = QemuMutex.create();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * const before = withLock(m, () => counter[0]++);
 * console.log(before, counter[0], m.isHeldBySelf()); // 0 1 false
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
