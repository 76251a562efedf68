/**
 * `qemu-thread/worker` (also reachable as `qemu-thread/browser-boot`): the entry of a thread worker
 * ({@link threadWorker}, docs/bundlers.md), and the other half of `workerInit` for a Web Worker the page
 * creates itself ({@link receiveWorkerInit}). It loads nothing of the library until the worker knows which
 * thread it is.
 *
 * @module qemu-thread/worker
 */
export { type ModuleLoader, receiveWorkerInit, threadWorker } from './platform/browser-boot.js';
