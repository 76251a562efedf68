/**
 * `qemu-thread/worker`: the entry of a thread worker (`threadWorker`, docs/bundlers.md), and the other
 * half of workerInit for a Web Worker the page creates itself (`receiveWorkerInit`). It loads nothing of
 * the library until the worker knows which thread it is.
 */
export { type ModuleLoader, receiveWorkerInit, threadWorker } from './platform/browser-boot.js';
