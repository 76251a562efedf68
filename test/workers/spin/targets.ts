// Thread functions for test/spin-gate.test.ts.
import type { QemuMutex, QemuSemaphore } from 'qemu-thread';

/** Takes `m`, says so (flags[0]), then waits on `s` holding it; releases `m` and returns once posted. */
export function holdAndWait(arg: { m: QemuMutex; s: QemuSemaphore; flags: Int32Array }): string {
  arg.m.lock();
  Atomics.store(arg.flags, 0, 1);
  arg.s.wait();
  arg.m.unlock();
  return 'posted';
}

/** `rounds` hand-offs with a partner thread: waits on `mine`, posts `theirs` (the first one posts first). */
export function handOff(arg: {
  mine: QemuSemaphore;
  theirs: QemuSemaphore;
  first: boolean;
  rounds: number;
}): number {
  for (let i = 0; i < arg.rounds; i++) {
    if (arg.first) arg.theirs.post();
    arg.mine.wait();
    if (!arg.first) arg.theirs.post();
  }
  return arg.rounds;
}
