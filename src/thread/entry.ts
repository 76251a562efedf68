/**
 * The module every QemuThread's worker runs first (QEMU's qemu_thread_start): see trampoline.ts. A file of
 * its own so that a worker can be started on it; the Node build (tools/bundle-node.mjs) has its own.
 */
import { runThread } from './trampoline.js';

await runThread();
