// Thread functions for the qemu_thread_* rows of the API tests.
import {
  currentThreadName,
  QemuMutex,
  type QemuSemaphore,
  QemuThread,
  qemu_mutex_unlock,
  qemu_thread_exit,
  qemu_thread_get_self,
} from 'qemu-thread';

export default function echo(arg: unknown): unknown {
  return { echoed: arg };
}

export function add(arg: { a: number; b: number }): number {
  return arg.a + arg.b;
}

export function exitEarly(arg: number): number {
  qemu_thread_exit({ exited: arg });
  return -1;
}

export function throwRange(message: string): never {
  throw new RangeError(message);
}

/** What the thread knows about itself: its name, and whether a get_self handle says "self". */
export function selfReport(): { name: string | null; isSelf: boolean } {
  const t = new QemuThread();
  qemu_thread_get_self(t);
  return { name: currentThreadName(), isSelf: t.isSelf() };
}

/** A misuse inside a created thread: in abort mode it must take the whole process down. */
export function unlockUnlocked(): void {
  qemu_mutex_unlock(QemuMutex.create());
}

/** Names the class of every primitive found in the argument, and posts the nested semaphore. */
export function inspectArg(arg: {
  list: unknown[];
  nested: { deep: QemuSemaphore };
  map: Map<string, unknown>;
}): string[] {
  arg.nested.deep.post();
  return [...arg.list, arg.nested.deep, ...arg.map.values()].map((v) => (v as object).constructor.name);
}

export const notAFunction = 3;
