/**
 * The checks that run the same from the window and from a worker: an error thrown in a thread reaches
 * the join, and every broken case fails the join with a clear error instead of hanging.
 */
import {
  QEMU_THREAD_JOINABLE,
  QemuThread,
  type QemuThreadFailure,
  qemu_thread_create,
  qemu_thread_join_async,
} from 'qemu-thread';
import { setThreadWorker } from 'qemu-thread/browser';
import type { BrokenCase } from './machine';

/** Longer than any case needs (the boot time-out is lowered to 1.5 s below): past it, a case hung. */
const WATCHDOG_MS = 20_000;

function withWatchdog<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`HANG: ${what} did not settle in ${WATCHDOG_MS} ms`)),
      WATCHDOG_MS,
    );
  });
  return Promise.race([promise, watchdog]).finally(() => clearTimeout(timer));
}

/** How a thread that throws fails its join: a QemuThreadFailure naming it, the exception as its cause. */
export async function threadError(): Promise<
  { name: string; threadName: string | null; cause: { name: string; message: string } } | string
> {
  const t = new QemuThread();
  qemu_thread_create(t, 'thrower', 'vcpu#thrower', 'thrown in a thread', QEMU_THREAD_JOINABLE);
  try {
    return `joined without an error: ${JSON.stringify(await withWatchdog(qemu_thread_join_async(t), 'thrower'))}`;
  } catch (error) {
    const failure = error as QemuThreadFailure;
    const cause = failure.cause as Error;
    return {
      name: failure.name,
      threadName: failure.threadName,
      cause: { name: cause?.name, message: cause?.message },
    };
  }
}

/** Runs `fn` as a thread and reports how its join failed (or that it did not). */
async function attempt(name: string, fn: string | URL): Promise<BrokenCase> {
  const began = Date.now();
  try {
    const t = new QemuThread();
    qemu_thread_create(t, name, fn, null, QEMU_THREAD_JOINABLE);
    await withWatchdog(qemu_thread_join_async(t), name);
    return { name, code: 'ok', message: 'the thread ran', ms: Date.now() - began };
  } catch (error) {
    // A QemuThreadError (the thread function is bad), or a QemuThreadFailure whose cause is the error.
    const e = error as { code?: string; message?: string; cause?: { message?: string } };
    const message = e.cause?.message === undefined ? String(e.message) : `${e.message} | ${e.cause.message}`;
    return { name, code: e.code ?? 'error', message, ms: Date.now() - began };
  }
}

/**
 * Every way a thread can fail to start: a module the thread worker does not have, an export a module
 * does not have, a module URL that is not there, and a thread worker that is not there, is not
 * JavaScript, lacks the isolation header, or never runs qemu-thread. `restore` is the thread worker to
 * go back to afterwards.
 */
export async function brokenCases(restore: string | (() => object)): Promise<BrokenCase[]> {
  const origin = (globalThis as unknown as { location: { origin: string } }).location.origin;
  const g = globalThis as { QEMU_THREAD_ENV?: Record<string, string> };
  const cases: BrokenCase[] = [];
  cases.push(await attempt('unknown-module', 'nosuch#fn'));
  cases.push(await attempt('missing-export', 'vcpu#nosuch'));
  cases.push(await attempt('missing-url', new URL('/missing-module.js#fn', origin)));
  const workers: [string, string][] = [
    ['missing-worker', '/missing-worker.js'],
    ['wrong-mime', '/not-js.txt'],
    ['no-coep', '/no-coep/silent-worker.js'],
    ['silent-worker', '/silent-worker.js'],
  ];
  g.QEMU_THREAD_ENV = { ...g.QEMU_THREAD_ENV, QEMU_THREAD_BOOT_TIMEOUT_MS: '1500' };
  try {
    for (const [name, path] of workers) {
      setThreadWorker(new URL(path, origin));
      cases.push(await attempt(name, 'vcpu#vcpuThreadFn'));
    }
  } finally {
    setThreadWorker(restore);
    delete g.QEMU_THREAD_ENV?.QEMU_THREAD_BOOT_TIMEOUT_MS;
  }
  return cases;
}
