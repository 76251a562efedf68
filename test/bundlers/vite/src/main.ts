import { setThreadWorker } from 'qemu-thread/browser';
import { exposeFixture } from './app/page';

// The application's thread worker, written literally so that Vite builds it (docs/bundlers.md).
const threadWorker = () => new Worker(new URL('./app/threads.ts', import.meta.url), { type: 'module' });
setThreadWorker(threadWorker);
exposeFixture(threadWorker);
