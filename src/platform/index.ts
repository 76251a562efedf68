/**
 * Selects the platform this process runs on. Node.js is supported today; in any other runtime the import
 * fails with a message saying so, rather than half-working.
 */
import type { Platform } from './types.js';

export type { Platform, SpawnedThread, SpawnOptions } from './types.js';

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

if (!isNode()) {
  throw new Error('qemu-thread: this build runs on Node.js >= 20 only; a browser platform is not built yet');
}
if (typeof SharedArrayBuffer !== 'function') {
  throw new Error('qemu-thread: SharedArrayBuffer is not available in this runtime');
}

export const platform: Platform = (await import('./node.js')).nodePlatform;
