/**
 * A module that throws while loading, when a thread imports it (qemu_thread_join must then report EINVAL).
 * Loaded on a main thread (as the test runner does with every file under test/), it loads normally.
 */
import { isMainThread } from 'node:worker_threads';

if (!isMainThread) throw new Error('throws-on-load: this module refuses to load in a thread');

export function unreachable(): string {
  return 'the module loaded';
}
