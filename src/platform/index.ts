/**
 * Selects the platform this thread runs on: Node.js (worker_threads), or a browser (the window's thread
 * and Web Workers). Both platform modules are imported statically and the choice is made when this module
 * runs: no top-level await (so that `require('qemu-thread')` works), no `node:` import anywhere (node.ts
 * gets Node's modules through `process.getBuiltinModule`, so a bundler building for the browser never
 * meets one), and only relative imports (so the `dist/` files run in a browser as they are). Without
 * SharedArrayBuffer (a page that is not cross-origin isolated) it throws a message saying how to get it.
 */
import { createBrowserPlatform } from './browser.js';
import { nodePlatform } from './node.js';
import { hasBuiltins } from './node-builtins.js';
import type { Platform } from './types.js';

export type { Platform, SpawnedThread, SpawnOptions } from './types.js';

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

function selectPlatform(): Platform {
  if (!isNode()) return createBrowserPlatform();
  if (!hasBuiltins) {
    throw new Error(
      'qemu-thread: this Node.js is too old: it needs process.getBuiltinModule (Node.js >= 20.16)',
    );
  }
  return nodePlatform;
}

export const platform: Platform = selectPlatform();
