/**
 * Thread names that every thread can read: error messages and inspection name a thread ("thread 3 'CPU
 * 0/TCG'") although the name was given in another thread.
 *
 * State: a process-wide table in shared memory (platform.processShared), one slot per thread id modulo
 * SLOTS: the id the slot belongs to (so a collision is never misread as a name) and up to NAME_BYTES bytes of
 * UTF-8. A thread writes its own slot once, when it starts; readers check the id after reading the bytes.
 */
import { platform } from '../platform/index.js';

const SLOTS = 1 << 12;
const NAME_BYTES = 60;
const STRIDE = 64;
const buffer = platform.processShared('qemu-thread.names', SLOTS * STRIDE);
const ids = new Int32Array(buffer);
const bytes = new Uint8Array(buffer);
const slotOf = (tid: number) => tid & (SLOTS - 1);

/** Publishes the calling thread's name. */
export function publishThreadName(name: string): void {
  const slot = slotOf(platform.threadId);
  const encoded = new TextEncoder().encode(name).slice(0, NAME_BYTES);
  Atomics.store(ids, slot * (STRIDE / 4), -1);
  bytes.fill(0, slot * STRIDE + 4, slot * STRIDE + 4 + NAME_BYTES);
  bytes.set(encoded, slot * STRIDE + 4);
  Atomics.store(ids, slot * (STRIDE / 4), platform.threadId + 1);
}

/** `thread 3 'CPU 0/TCG'`, `thread 0 'main'`, or `thread 7` when the name is unknown. */
export function describeThread(tid: number): string {
  if (tid === 0) return "thread 0 'main'";
  const slot = slotOf(tid);
  if (Atomics.load(ids, slot * (STRIDE / 4)) !== tid + 1) return `thread ${tid}`;
  const raw = bytes.slice(slot * STRIDE + 4, slot * STRIDE + 4 + NAME_BYTES);
  const end = raw.indexOf(0);
  const name = new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  if (Atomics.load(ids, slot * (STRIDE / 4)) !== tid + 1) return `thread ${tid}`;
  return `thread ${tid} '${name}'`;
}
