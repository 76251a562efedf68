/**
 * Where locks were taken and where threads wait for them, so that a deadlock message can point at the code:
 * "thread 3 't0' waits for mutex #2 at app.js:41; mutex #2 is held by thread 4 't1' (taken at app.js:57)".
 *
 * State: two shared string tables (shared-strings.ts): by thread id, the call site where the thread is
 * blocked in a lock; by mutex number, the call site where its current holder took it.
 *
 * Cost: finding a call site means capturing a stack (tens of microseconds), so it is never done on a fast
 * path. A blocked locker records where it waits once, after its first OWNER_CHECK_MS slice asleep (it is
 * stuck anyway); where a mutex was taken is recorded only while tracing or the profiler is on, whose lock
 * path computes the call site already (the demo machine's `--trace`, or `traceEnable`).
 */
import { platform } from '../platform/index.js';
import { SharedStringTable } from '../shared-strings.js';

const waitSites = new SharedStringTable('qemu-thread.wait-sites', 1 << 10, 128);
const takenSites = new SharedStringTable('qemu-thread.taken-sites', 1 << 10, 128);

/** Records where the calling thread is blocked in a lock. */
export function noteWaitSite(site: string): void {
  waitSites.write(platform.threadId, site);
}

/** Forgets where the calling thread was blocked (its lock call is over). */
export function forgetWaitSite(): void {
  waitSites.forget(platform.threadId);
}

/** Where thread `tid` is blocked in a lock, if it recorded it. */
export function waitSiteOf(tid: number): string | null {
  return waitSites.read(tid);
}

/** Records where mutex `id` was just taken (while tracing). */
export function noteTakenSite(id: number, site: string): void {
  takenSites.write(id, site);
}

/** Where the holder of mutex `id` took it, if that was recorded. */
export function takenSiteOf(id: number): string | null {
  return takenSites.read(id);
}
