/**
 * `qemu-thread/browser`: what only a browser page needs, beside the main entry point. {@link setThreadWorker}
 * names the worker that threads run in (a bundled application's own thread worker, docs/bundlers.md);
 * {@link workerInit} hands a Web Worker the page creates itself its thread id and the shared tables.
 *
 * @module qemu-thread/browser
 */
export { setThreadWorker, workerInit } from './platform/browser.js';
