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

/** The name thread `tid` published, `'main'` for thread 0, or null when it is unknown. */
export function threadName(tid: number): string | null {
  return tid === 0 ? 'main' : names.read(tid);
}

/** `thread 3 'CPU 0/TCG'`, `thread 0 'main'`, or `thread 7` when the name is unknown. */
export function describeThread(tid: number): string {
  if (tid === 0) return "thread 0 'main'";
  const name = names.read(tid);
  return name === null ? `thread ${tid}` : `thread ${tid} '${printableName(name)}'`;
}

/**
 * A thread's name as it may appear inside another thread's message: control characters (a newline, an
 * escape sequence that would recolour a terminal) and quotes are escaped, so a name cannot forge lines or
 * text in someone else's error.
 */
export function printableName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must be escaped.
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029'\\]/g, (c) =>
    c === "'" || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
