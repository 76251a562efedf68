/**
 * Selects the platform this process runs on: Node.js (worker_threads), or a browser (the window's thread
 * and Web Workers). Each is loaded by a dynamic import, so a browser never sees a `node:` import. Without
 * SharedArrayBuffer (a page that is not cross-origin isolated) the import fails with a message saying how
 * to get it, rather than half-working.
 */
import type { Platform } from './types.js';

export type { Platform, SpawnedThread, SpawnOptions } from './types.js';

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

function isBrowser(): boolean {
  const g = globalThis as { Worker?: unknown; WorkerGlobalScope?: unknown; window?: unknown };
  return typeof g.window === 'object' || typeof g.WorkerGlobalScope === 'function';
}

if (!isNode() && !isBrowser()) {
  throw new Error(
    'qemu-thread: unsupported runtime: it runs on Node.js >= 20 and in browsers (window, Web Workers)',
  );
}
if (typeof SharedArrayBuffer !== 'function') {
  throw new Error(
    isNode()
      ? 'qemu-thread: SharedArrayBuffer is not available in this runtime'
      : 'qemu-thread: SharedArrayBuffer is not available: the page must be cross-origin isolated. Serve it ' +
          "with the headers 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: " +
          "require-corp' (check globalThis.crossOriginIsolated === true)",
  );
}

export const platform: Platform = isNode()
  ? (await import('./node.js')).nodePlatform
  : (await import('./browser.js')).browserPlatform;
