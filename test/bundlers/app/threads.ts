/**
 * The fixture's thread worker: the entry of every worker that runs one of its threads. It names the
 * modules whose functions run as threads, each with a dynamic import, so that the bundler emits each as
 * a chunk of the worker's build (compiled from TypeScript, exports kept).
 */
import { threadWorker } from 'qemu-thread/worker';

threadWorker({ vcpu: () => import('./vcpu') });
