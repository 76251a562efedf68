/**
 * `qemu-thread/browser`: what only a browser page needs, beside the main entry point. `setThreadWorker`
 * names the worker that threads run in (a bundled application's own thread worker, docs/bundlers.md);
 * `workerInit` hands a Web Worker the page creates itself its thread id and the shared tables.
 */
export { setThreadWorker, workerInit } from './platform/browser.js';
