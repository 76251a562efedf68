/**
 * A thread for the soak's workers to join: it works for a few milliseconds (or, in a script, until its
 * gate opens), then returns, throws or exits with a result of its spec's size, which the joiner checks
 * byte for byte (verify.ts). Results larger than a QemuThread's window are streamed to the joiner chunk by
 * chunk, which is the moment the `join-transfer` class terminates it in.
 */
import { qemu_thread_exit } from 'qemu-thread';
import { J, type JoineeArg, joineeWord, resultByte } from './layout.js';

export function joinee(arg: JoineeArg): Uint8Array {
  const { words: w, j } = arg;
  const flag = joineeWord(j, J.FLAG);
  const gate = joineeWord(j, J.GATE);
  Atomics.store(w, flag, 1);
  const until = performance.now() + Atomics.load(w, joineeWord(j, J.WORK_MS));
  while (performance.now() < until || Atomics.load(w, gate) === 1) {
    Atomics.wait(w, gate, Atomics.load(w, gate), 1);
  }
  const bytes = new Uint8Array(arg.size);
  for (let i = 0; i < arg.size; i++) bytes[i] = resultByte(arg.seed, i);
  Atomics.store(w, flag, 2);
  // The fence (see worker.ts), when terminations while it publishes (join-publish) or streams
  // (join-transfer) its outcome are skipped: a termination under way lands here, before either.
  if (Atomics.load(w, joineeWord(j, J.FENCE)) === 1) {
    const pending = joineeWord(j, J.PENDING);
    while (Atomics.load(w, pending) !== 0) Atomics.wait(w, pending, 1, 100);
  }
  if (arg.mode === 1) throw new Error(`joinee ${arg.seed} failed`);
  if (arg.mode === 2) qemu_thread_exit(bytes);
  return bytes;
}
