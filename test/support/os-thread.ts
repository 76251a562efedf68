/**
 * Whether a thread is really asleep, seen from another thread: for the scenarios that must have a thread
 * parked in the kernel (queued in a futex wait) before they go on, e.g. "a post must wake a thread that
 * sleeps", where a thread that has not parked yet would take the unit without sleeping and the round would
 * prove nothing.
 *
 * A thread's flag in shared memory ("I am about to wait") and the library's own waiter counts are set
 * just before the thread parks; on a loaded machine the thread can sit between that point and the park for
 * milliseconds. On Linux the kernel shows the rest: a thread publishes its kernel id once
 * ({@link publishOsThread}, read from /proc/thread-self), and /proc/self/task/<id> then says whether it is
 * asleep (state S) in a futex wait, which is where `Atomics.wait` sleeps. Elsewhere (no /proc) the kernel
 * id is 0 and a thread counts as asleep as soon as it is announced: the scenario still runs, it is just
 * not guaranteed to be the interesting interleaving. Worker-safe, no side effects at import.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';

/** The calling thread's kernel thread id, or 0 where the system does not show it (no /proc/thread-self). */
export function osThreadId(): number {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(id) && id > 0 ? id : 0;
  } catch {
    return 0;
  }
}

/** Stores the calling thread's kernel id in `words[index]` (and wakes anyone waiting for it). */
export function publishOsThread(words: Int32Array, index: number): void {
  Atomics.store(words, index, osThreadId() || -1);
  Atomics.notify(words, index);
}

/** The futex system call's number, where /proc/<id>/wchan does not name the kernel function. */
const FUTEX_SYSCALL: Record<string, number> = { x64: 202, arm64: 98, ia32: 240, arm: 240 };

/** Whether this system shows the kernel's view of a thread (Linux's /proc). */
const HAS_PROC = existsSync('/proc/self/task');

/**
 * Whether kernel thread `id` of this process is asleep in a futex wait now. True for an unknown id (0 or
 * -1) and on a system without /proc, so that callers fall back to the announcement alone. (The main
 * thread's kernel id is the process id.)
 */
export function asleepInFutex(id: number): boolean {
  if (id <= 0 || !HAS_PROC) return true;
  const task = `/proc/self/task/${id}`;
  let stat: string;
  try {
    stat = readFileSync(`${task}/stat`, 'utf8');
  } catch {
    return false; // the thread has ended: it is not asleep in anything
  }
  // The state follows the command name, which is in parentheses and may itself contain ") ".
  if (stat[stat.lastIndexOf(')') + 2] !== 'S') return false;
  try {
    if (readFileSync(`${task}/wchan`, 'utf8').includes('futex')) return true;
  } catch {
    // Some kernels hide wchan; the system call number says the same.
  }
  try {
    return Number(readFileSync(`${task}/syscall`, 'utf8').split(' ')[0]) === FUTEX_SYSCALL[process.arch];
  } catch {
    return false;
  }
}

const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks until every kernel thread in `ids` is asleep in a futex wait (polling /proc every 0.2 ms). The
 * caller must know that each one is on its way into the wait it means (it announced itself): this only
 * waits for the rest of the way. No time limit of its own: a thread that never sleeps is a hang, which
 * the test's watchdog reports (test/support/watchdog.ts).
 */
export function untilAsleep(...ids: number[]): void {
  while (!ids.every(asleepInFutex)) Atomics.wait(nap, 0, 0, 0.2);
}

/** As {@link untilAsleep}, letting the calling thread's event loop run between looks. */
export async function untilAsleepAsync(...ids: number[]): Promise<void> {
  while (!ids.every(asleepInFutex)) await new Promise((resolve) => setTimeout(resolve, 0.2));
}

/** Blocks until `words[index]` is not 0 (a thread has published its kernel id there); returns it. */
export function publishedOsThread(words: Int32Array, index: number): number {
  for (let v = Atomics.load(words, index); v === 0; v = Atomics.load(words, index))
    Atomics.wait(words, index, 0);
  return Atomics.load(words, index);
}
