/**
 * Failures nobody joined. A joinable thread that dies of an exception keeps it for its joiner; if no
 * joiner ever comes, the exception would vanish with the process (exit code 0, nothing printed). So the
 * thread also leaves a one-line summary of how it ended, which its join erases; whatever is left when the
 * thread that created it ends, or when the process ends, is printed on stderr, one line per thread:
 * `qemu-thread: thread 3 'producer' failed and was never joined: RangeError: bad index`.
 *
 * State: a shared string table (shared-strings.ts) keyed by thread id, which the failing thread (or its
 * creator, for a thread that died without a word) writes once, before it publishes its outcome; so a
 * creator that sees the outcome published finds the summary. A summary starts with a letter saying what it
 * is: `F` the exception the thread died of (`RangeError: bad index`), `R` the library's account of an end
 * without an exception (`exited before its function returned (exit code 0)`). Whoever reports a summary
 * erases it first (a compareExchange on its slot's tag), so a thread is reported once: by its creator as
 * it ends (thread.ts), or else by the main thread as the process ends, for the threads whose creator
 * never ended (a worker is held open by a joinable thread's pending outcome). A summary whose slot was
 * taken since by a thread with the same id modulo the table's size is lost (1024 thread ids later).
 */
import { threadLabel } from '../errors.js';
import { platform } from '../platform/index.js';
import { SharedStringTable } from '../shared-strings.js';
import { threadName } from './names.js';

/** Up to 124 bytes of summary per thread, for the last 1024 thread ids (then modulo). */
const summaries = new SharedStringTable('qemu-thread.failures', 1 << 10, 128);

/** Records how thread `tid` failed: an exception's summary, or (`report`) the library's account of its end. */
export function recordFailure(tid: number, text: string, report: boolean): void {
  summaries.write(tid, `${report ? 'R' : 'F'}${text.split('\n', 1)[0]}`);
}

/** Thread `tid` was joined: its failure is its joiner's now. */
export function forgetFailure(tid: number): void {
  summaries.forget(tid);
}

/** Prints the line for thread `tid` if it failed and nobody joined it or reported it yet. */
export function reportUnjoinedFailure(tid: number, name: string | null): void {
  const summary = summaries.read(tid);
  if (summary === null || !summaries.forget(tid)) return;
  const who = threadLabel(tid, name);
  platform.writeStderr(
    summary.startsWith('R')
      ? `qemu-thread: ${who} was never joined; it ${summary.slice(1)}\n`
      : `qemu-thread: ${who} failed and was never joined: ${summary.slice(1)}\n`,
  );
}

// The process ends with its main thread: every failure still unreported is reported then.
if (platform.isMainThread) {
  platform.beforeThisThreadEnds(() => {
    for (const tid of summaries.keys()) reportUnjoinedFailure(tid, threadName(tid));
  });
}
