/**
 * Thread names that every thread can read: error messages and inspection name a thread ("thread 3 'CPU
 * 0/TCG'") although the name was given in another thread.
 *
 * State: a shared string table (shared-strings.ts) keyed by thread id. A thread writes its own entry once,
 * when it starts.
 */
import { platform } from '../platform/index.js';
import { SharedStringTable } from '../shared-strings.js';

/** Up to 60 bytes of name per thread, for the first 4096 thread ids (then modulo). */
const names = new SharedStringTable('qemu-thread.names', 1 << 12, 64);

/** Publishes the calling thread's name. */
export function publishThreadName(name: string): void {
  names.write(platform.threadId, name);
}

/** `thread 3 'CPU 0/TCG'`, `thread 0 'main'`, or `thread 7` when the name is unknown. */
export function describeThread(tid: number): string {
  if (tid === 0) return "thread 0 'main'";
  const name = names.read(tid);
  return name === null ? `thread ${tid}` : `thread ${tid} '${name}'`;
}
