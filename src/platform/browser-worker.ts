/**
 * qemu-thread's own worker, for threads whose function is named by URL (`new URL('./vcpu.js#fn',
 * import.meta.url)`): unbundled pages, or modules a bundled application serves as they are. A bundled
 * application whose thread modules are part of its build gives its own thread worker instead
 * (setThreadWorker, docs/bundlers.md).
 */
import { threadWorker } from './browser-boot.js';

threadWorker();
