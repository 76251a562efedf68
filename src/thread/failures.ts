/**
 * Failures nobody joined. A joinable thread that dies of an exception keeps it for its joiner; if no
 * joiner ever comes, the exception would vanish with the process (exit code 0, nothing printed). So the
 * thread also leaves a one-line summary of how it ended, and the thread that created it, as it ends, prints
 * one line for each of its joinable threads that ended that way and was never joined:
 * `qemu-thread: thread 3 'producer' failed and was never joined: RangeError: bad index`.
 *
 * State: a shared string table (shared-strings.ts) keyed by thread id, which the failing thread (or its
 * creator, for a thread that died without a word) writes once, before it publishes its outcome; so a
 * creator that sees the outcome published finds the summary. A summary starts with a letter saying what it
 * is: `F` the exception the thread died of (`RangeError: bad index`), `R` the library's account of an end
 * without an exception (`exited before its function returned (exit code 0)`). A summary whose slot was
 * taken since by a thread with the same id modulo the table's size reads as null: the line is then printed
 * without it.
 */
import { threadLabel } from '../errors.js';
import { SharedStringTable } from '../shared-strings.js';

/** Up to 124 bytes of summary per thread, for the last 1024 thread ids (then modulo). */
const summaries = new SharedStringTable('qemu-thread.failures', 1 << 10, 128);

/** Records how thread `tid` failed: an exception's summary, or (`report`) the library's account of its end. */
export function recordFailure(tid: number, text: string, report: boolean): void {
  summaries.write(tid, `${report ? 'R' : 'F'}${text.split('\n', 1)[0]}`);
}

/** The stderr line for joinable thread `tid`, which ended without returning and was never joined. */
export function unjoinedFailureLine(tid: number, name: string | null): string {
  const summary = summaries.read(tid);
  const who = threadLabel(tid, name);
  if (summary?.startsWith('R')) return `qemu-thread: ${who} was never joined; it ${summary.slice(1)}\n`;
  const what = summary === null ? '' : `: ${summary.slice(1)}`;
  return `qemu-thread: ${who} failed and was never joined${what}\n`;
}
