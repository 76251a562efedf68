/**
 * Watchdogs for async tests: a wait that does not happen fails the test with what was awaited, instead
 * of hanging it. Never a timing: the budget only bounds a wait for something observable.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export async function settles<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: ${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `check()` is true, looking every millisecond; fails (settles) after 20 s. */
export async function until(check: () => boolean, what: string): Promise<void> {
  await settles(
    (async () => {
      while (!check()) await delay(1);
    })(),
    what,
  );
}
