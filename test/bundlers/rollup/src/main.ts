import { setThreadWorker } from 'qemu-thread/browser';
import { exposeFixture } from './app/page';

// The application's thread worker: Rollup does not build workers, so threads.ts is a second entry point
// of the build (rollup.config.js), emitted as threads.js beside this module (docs/bundlers.md).
const threadWorker = () => new Worker(new URL('./threads.js', import.meta.url), { type: 'module' });
setThreadWorker(threadWorker);
exposeFixture(threadWorker);
