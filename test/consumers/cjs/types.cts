// What the CommonJS consumer's thread receives.
import type { QemuMutex } from 'qemu-thread';

export interface Work {
  lock: QemuMutex;
  counter: Int32Array;
  n: number;
}
