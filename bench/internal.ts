/**
 * The one place where the bench reaches into the library's internals (the package's internal entry
 * points): the lock word's entry points with and without the instrumentation branch (workload 1), the
 * per-thread spin switch (the no-spin control column) and the per-thread futex counts (broadcast). Every
 * other bench file imports these from here, so a move of the internal entries changes this file only.
 */

export {
  lockWord,
  lockWordPlain as lockWordUntraced,
  unlockWord,
  unlockWordPlain as unlockWordUntraced,
} from '#internal/mutex';
export { parkStats, setSpinning } from '#internal/park';
