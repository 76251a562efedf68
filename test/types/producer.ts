// A thread module for the type tests (types.test.ts): exports of every shape a thread function name can
// meet. Compiled and run by typed.ts; its types are what threadFunction reads.
import { type QemuMutex, qemu_mutex_lock, qemu_mutex_unlock } from 'qemu-thread';

export interface Job {
  lock: QemuMutex;
  counter: Int32Array;
  rounds: number;
}

export function produce(job: Job): number {
  for (let i = 0; i < job.rounds; i++) {
    qemu_mutex_lock(job.lock);
    job.counter[0]++;
    qemu_mutex_unlock(job.lock);
  }
  return job.rounds;
}

export async function squares(n: number): Promise<number[]> {
  await Promise.resolve();
  return Array.from({ length: n }, (_, i) => i * i);
}

export function ping(): 'pong' {
  return 'pong';
}

export function greet(name?: string): string {
  return `hello ${name ?? 'nobody'}`;
}

export default function double(n: number): number {
  return 2 * n;
}

export const notAFunction = 42;

export function twoParameters(a: number, b: number): number {
  return a + b;
}

export class NotCallable {}
