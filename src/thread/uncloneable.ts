/**
 * Where a value that cannot cross to another thread goes wrong, so that the error can say what to change:
 * the path of the first part that a structured clone refuses (`arg.onDone`) and what it is (the function
 * onDone). The engine's own message names the part but not where it sits (`() => {} could not be cloned`).
 */
import { describeValue } from '../layout.js';

/** How many parts are looked at before giving up (the search runs only on the error path). */
const BUDGET = 10_000;

/**
 * The first part of `value` that `canClone` refuses, as `path (what it is)`, e.g. `arg.jobs[2].done (the
 * function done)`; null if none is found within the budget. Arrays, plain objects, Maps and Sets are
 * searched part by part; any other object is tried whole.
 */
export function findUncloneable(
  value: unknown,
  path: string,
  canClone: (value: unknown) => boolean,
): string | null {
  let budget = BUDGET;
  const seen = new Set<object>();
  const search = (v: unknown, at: string): string | null => {
    if (--budget < 0) return null;
    if (typeof v === 'function' || typeof v === 'symbol') return `${at} (${describeValue(v)})`;
    if (typeof v !== 'object' || v === null || seen.has(v)) return null;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = search(v[i], `${at}[${i}]`);
        if (found !== null) return found;
      }
      return null;
    }
    if (v instanceof Map) {
      for (const [key, item] of v) {
        const found = search(key, `a key of ${at}`) ?? search(item, `${at}.get(${keyText(key)})`);
        if (found !== null) return found;
      }
      return null;
    }
    if (v instanceof Set) {
      for (const item of v) {
        const found = search(item, `an element of ${at}`);
        if (found !== null) return found;
      }
      return null;
    }
    if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      for (const key of Object.keys(v)) {
        const found = search((v as Record<string, unknown>)[key], propertyPath(at, key));
        if (found !== null) return found;
      }
      return null;
    }
    // Another kind of object: the engine knows whether it can be cloned. One that cannot (a class
    // instance holding a function, say) is searched further, to name the part at fault if it is one.
    if (canClone(v)) return null;
    for (const key of Object.keys(v)) {
      const found = search((v as Record<string, unknown>)[key], propertyPath(at, key));
      if (found !== null) return found;
    }
    return `${at} (${describeValue(v)})`;
  };
  return search(value, path);
}

function propertyPath(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

function keyText(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'object' ? '…' : String(key);
}
