/**
 * The seed scenario, runnable: the main thread holds the global mutex and starts N vCPU threads one at a
 * time with qemu_thread_create(..., QEMU_THREAD_JOINABLE), waiting after each one
 * `while (!cpu.created) qemu_cond_wait(&qemu_cpu_cond, &qemu_global_mutex)`. Then it asks them all to quit
 * and joins them. Usage: node build/examples/seed-vcpu-start.js [--smp N] [--quiet]
 */
import { parseArgs } from 'node:util';
import {
  QEMU_THREAD_JOINABLE,
  QemuCond,
  QemuMutex,
  QemuThread,
  qemu_cond_broadcast,
  qemu_cond_wait,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import { CREATED, type VcpuArg, WORDS_PER_CPU } from './seed-vcpu-thread.js';

const { values } = parseArgs({
  options: { smp: { type: 'string', default: '4' }, quiet: { type: 'boolean', default: false } },
});
const smp = Number(values.smp);
if (!Number.isInteger(smp) || smp < 1 || smp > 64) {
  process.stderr.write(`seed-vcpu-start: --smp must be an integer from 1 to 64, got '${values.smp}'\n`);
  process.exit(2);
}
const quiet = values.quiet;
const t0 = performance.now();
const say = (text: string) =>
  process.stdout.write(`${(performance.now() - t0).toFixed(1).padStart(7)} ms  ${text}\n`);

const globalMutex = QemuMutex.create();
const cpuCond = QemuCond.create();
const haltCond = QemuCond.create();
const state = new Int32Array(new SharedArrayBuffer(4 * (smp * WORDS_PER_CPU + 1)));
const quitIndex = smp * WORDS_PER_CPU;
const order = new Int32Array(new SharedArrayBuffer(4));
const threads: QemuThread[] = [];

say(`main: qemu_mutex_lock(&qemu_global_mutex); starting ${smp} vCPU thread(s) one at a time`);
qemu_mutex_lock(globalMutex);
for (let index = 0; index < smp; index++) {
  const thread = new QemuThread();
  threads.push(thread);
  const arg: VcpuArg = { index, thread, globalMutex, cpuCond, haltCond, state, quitIndex, order, quiet };
  const started = performance.now();
  qemu_thread_create(
    thread,
    `CPU ${index}/TCG`,
    new URL('./seed-vcpu-thread.js#vcpuThreadFn', import.meta.url),
    arg,
    QEMU_THREAD_JOINABLE,
  );
  say(`main: qemu_thread_create(CPU ${index}/TCG); waiting while (!cpu->created)`);
  let waits = 0;
  while (!state[index * WORDS_PER_CPU + CREATED]) {
    qemu_cond_wait(cpuCond, globalMutex);
    waits++;
  }
  say(
    `main: CPU ${index} created after ${(performance.now() - started).toFixed(1)} ms (${waits} cond wait(s))`,
  );
}
say('main: all vCPUs created; asking them to quit (quit = 1, broadcast halt_cond)');
state[quitIndex] = 1;
qemu_cond_broadcast(haltCond);
qemu_mutex_unlock(globalMutex);

for (const [index, thread] of threads.entries()) {
  const result = qemu_thread_join(thread) as { index: number; initOrder: number };
  say(`main: qemu_thread_join(CPU ${index}/TCG) -> ${JSON.stringify(result)}`);
  if (result.initOrder !== index) throw new Error(`CPU ${index} initialized out of order`);
}
say(`done: ${smp} vCPU(s) created strictly in order and joined`);
