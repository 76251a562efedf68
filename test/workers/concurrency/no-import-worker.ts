/**
 * A thread function in a module that imports nothing from qemu-thread: the API says primitives inside a
 * thread's `arg` arrive as full instances, whatever the module imports. It uses them through their
 * methods only. (No imports at all here, on purpose.)
 */
interface Lockish {
  lock?: () => void;
  unlock?: () => void;
  constructor: { name: string };
}

export function usesMethodsOnly(arg: { m: Lockish; nested: { list: Lockish[] }; done: Int32Array }): {
  mutex: string;
  nested: string;
  lockedAndUnlocked: boolean;
} {
  try {
    let lockedAndUnlocked = false;
    if (typeof arg.m.lock === 'function' && typeof arg.m.unlock === 'function') {
      arg.m.lock();
      arg.m.unlock();
      lockedAndUnlocked = true;
    }
    return {
      mutex: arg.m.constructor.name,
      nested: arg.nested.list[0].constructor.name,
      lockedAndUnlocked,
    };
  } finally {
    Atomics.add(arg.done, 0, 1);
    Atomics.notify(arg.done, 0);
  }
}
