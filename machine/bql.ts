/**
 * The Big QEMU Lock (QEMU-SPEC 1.11): one QemuMutex shared by every thread of the machine, plus the
 * per-thread `bql_locked` flag. Module state is per thread here for free: each worker loads its own copy
 * of this module, exactly like QEMU's TLS variable.
 *
 * QEMU asserts rather than deadlocks: a double `bql_lock` or an unlock by a thread that does not hold it is
 * an assertion failure. We throw a BqlAssertionError (the library would also refuse with EDEADLK/EPERM, but
 * the BQL's own check comes first and names the rule that was broken).
 */
import {
  type QemuCond,
  type QemuMutex,
  qemu_cond_timedwait,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  traceMarkWrapper,
} from 'qemu-thread';

// QEMU's bql_lock() is a macro that passes its caller's __FILE__ and __LINE__ to bql_lock_impl, so that
// `info sync-profile` and the trace lines name who takes the BQL. Marked a wrapper, this module's frames
// are skipped the same way: the rows name bql_lock's callers (cpus.ts, vcpu-thread.ts, ...), not this file.
traceMarkWrapper(import.meta.url);

export class BqlAssertionError extends Error {
  override name = 'BqlAssertionError';
}

let bql: QemuMutex | null = null;
/** QEMU's TLS `bql_locked`. */
let locked = false;
/** bql_block_unlock's counter: while non-zero, bql_unlock is an assertion failure. */
let unlockBlocked = 0;

function assert(ok: boolean, func: string, what: string): void {
  if (!ok) throw new BqlAssertionError(`${func}: assertion failed: ${what}`);
}

function mutex(func: string): QemuMutex {
  if (bql === null) throw new BqlAssertionError(`${func}: the BQL was not attached to this thread`);
  return bql;
}

/** qemu_init_cpu_loop's part for the BQL: every thread attaches the one shared mutex before using it. */
export function bql_attach(m: QemuMutex): void {
  bql = m;
  locked = false;
  unlockBlocked = 0;
}

export function bql_lock(): void {
  const m = mutex('bql_lock');
  assert(
    !locked,
    'bql_lock',
    '!bql_locked() (the calling thread already holds the BQL; it is not recursive)',
  );
  qemu_mutex_lock(m);
  locked = true;
}

export function bql_unlock(): void {
  const m = mutex('bql_unlock');
  assert(locked, 'bql_unlock', 'bql_locked() (the calling thread does not hold the BQL)');
  assert(unlockBlocked === 0, 'bql_unlock', '!bql_unlock_blocked (bql_block_unlock is in force)');
  locked = false;
  qemu_mutex_unlock(m);
}

export function bql_locked(): boolean {
  return locked;
}

/** Forbids (true) or allows again (false) bql_unlock, nesting; QEMU uses it for Rust borrows. */
export function bql_block_unlock(increase: boolean): void {
  assert(locked, 'bql_block_unlock', 'bql_locked()');
  if (increase) unlockBlocked++;
  else {
    assert(unlockBlocked > 0, 'bql_block_unlock', 'bql_unlock_blocked > 0');
    unlockBlocked--;
  }
}

/**
 * qemu_cond_wait with the BQL as the mutex. The flag follows the mutex through the wait (bql_update_status,
 * QEMU's 2025-09 fix): while this thread sleeps it does not hold the BQL.
 */
export function qemu_cond_wait_bql(cond: QemuCond): void {
  const m = mutex('qemu_cond_wait_bql');
  assert(locked, 'qemu_cond_wait_bql', 'bql_locked()');
  locked = false;
  try {
    qemu_cond_wait(cond, m);
  } finally {
    locked = true;
  }
}

/** The timed version; like QEMU's it discards whether it timed out. */
export function qemu_cond_timedwait_bql(cond: QemuCond, ms: number): void {
  const m = mutex('qemu_cond_timedwait_bql');
  assert(locked, 'qemu_cond_timedwait_bql', 'bql_locked()');
  locked = false;
  try {
    qemu_cond_timedwait(cond, m, ms);
  } finally {
    locked = true;
  }
}

/** BQL_LOCK_GUARD: runs `fn` holding the BQL, taking it only if this thread does not already hold it. */
export function withBql<T>(fn: () => T): T {
  if (locked) return fn();
  bql_lock();
  try {
    return fn();
  } finally {
    bql_unlock();
  }
}
