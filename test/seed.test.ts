/**
 * The seed scenario: the main thread holds the global mutex and starts the vCPU threads one at a time,
 * waiting `while (!created) qemu_cond_wait(cpu_cond, global_mutex)` after each, so vCPU i has finished
 * initializing before vCPU i + 1's thread is even created. Uses the example's own thread function.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
import { CREATED, INIT_ORDER, type VcpuArg, WORDS_PER_CPU } from '../examples/seed-vcpu-thread.js';
import { TEST_LIMIT_MS, threadTest } from './workers/thread/harness.js';

const vcpuThreadFn = new URL('../examples/seed-vcpu-thread.js#vcpuThreadFn', import.meta.url);

function runSeedScenario(smp: number) {
  const globalMutex = QemuMutex.create();
  const cpuCond = QemuCond.create();
  const haltCond = QemuCond.create();
  const state = new Int32Array(new SharedArrayBuffer(4 * (smp * WORDS_PER_CPU + 1)));
  const quitIndex = smp * WORDS_PER_CPU;
  // One global sequence for both sides: main takes a number just before creating vCPU i, and the vCPU
  // thread takes one (as its initOrder) when it has initialized.
  const sequence = new Int32Array(new SharedArrayBuffer(4));
  const createdAt: number[] = [];
  const condWaits: number[] = [];
  const threads: QemuThread[] = [];

  qemu_mutex_lock(globalMutex);
  for (let index = 0; index < smp; index++) {
    const thread = new QemuThread();
    threads.push(thread);
    const arg: VcpuArg = {
      index,
      thread,
      globalMutex,
      cpuCond,
      haltCond,
      state,
      quitIndex,
      order: sequence,
      quiet: true,
    };
    createdAt.push(Atomics.add(sequence, 0, 1));
    qemu_thread_create(thread, `CPU ${index}/TCG`, vcpuThreadFn, arg, QEMU_THREAD_JOINABLE);
    let waits = 0;
    while (!state[index * WORDS_PER_CPU + CREATED]) {
      qemu_cond_wait(cpuCond, globalMutex);
      waits++;
    }
    condWaits.push(waits);
  }
  state[quitIndex] = 1;
  qemu_cond_broadcast(haltCond);
  qemu_mutex_unlock(globalMutex);

  const results = threads.map(
    (t) => qemu_thread_join(t) as { index: number; initOrder: number; wakeups: number },
  );
  const initializedAt = Array.from({ length: smp }, (_, i) => state[i * WORDS_PER_CPU + INIT_ORDER]);
  return { createdAt, initializedAt, condWaits, results };
}

for (const smp of [1, 2, 8]) {
  threadTest(`smp ${smp}: vCPUs are created strictly one after another and all joined`, () => {
    const { createdAt, initializedAt, condWaits, results } = runSeedScenario(smp);
    // create0 < init0 < create1 < init1 < ...: vCPU i initialized before vCPU i + 1 was created.
    assert.deepEqual(
      createdAt,
      Array.from({ length: smp }, (_, i) => 2 * i),
    );
    assert.deepEqual(
      initializedAt,
      Array.from({ length: smp }, (_, i) => 2 * i + 1),
    );
    // Main holds the mutex when it creates a vCPU, so it always waits at least once for `created`.
    for (const [i, waits] of condWaits.entries()) assert.ok(waits >= 1, `main never waited for CPU ${i}`);
    assert.equal(results.length, smp);
    for (const [i, r] of results.entries()) {
      assert.deepEqual({ index: r.index, initOrder: r.initOrder }, { index: i, initOrder: 2 * i + 1 });
      // Every vCPU parked on halt_cond until the quit broadcast.
      assert.ok(Number.isInteger(r.wakeups) && r.wakeups >= 1, `CPU ${i} woke ${r.wakeups} times`);
    }
  });
}

threadTest('the seed example runs with --smp 3: each CPU created in order, then done', async () => {
  const script = fileURLToPath(new URL('../examples/seed-vcpu-start.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--smp', '3'], {
    timeout: TEST_LIMIT_MS - 5_000,
  });
  const lines = stdout.split('\n');
  const at = (pattern: RegExp) => {
    const i = lines.findIndex((line) => pattern.test(line));
    assert.ok(i >= 0, `no line matches ${pattern} in:\n${stdout}`);
    return i;
  };
  const milestones = [0, 1, 2].flatMap((cpu) => [
    at(new RegExp(`main: qemu_thread_create\\(CPU ${cpu}/TCG\\)`)),
    at(new RegExp(`\\[CPU ${cpu}/TCG\\] created = true`)),
    at(new RegExp(`main: CPU ${cpu} created after`)),
  ]);
  milestones.push(at(/done: 3 vCPU\(s\) created strictly in order and joined/));
  assert.deepEqual(
    milestones,
    [...milestones].sort((a, b) => a - b),
    `events out of order in:\n${stdout}`,
  );
  for (const cpu of [0, 1, 2]) at(new RegExp(`main: qemu_thread_join\\(CPU ${cpu}/TCG\\)`));
});
