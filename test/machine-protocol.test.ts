// QEMU's vCPU protocol, driven in-process: this thread is the main loop (it takes the BQL like QEMU's
// iothread) and the vCPUs are real worker threads. Every check is exact; the only waits are liveness
// bounds (see until()).
import assert from 'node:assert/strict';
import { QemuCond, QemuMutex, QemuThreadError, qemu_thread_join } from 'qemu-thread';
import {
  BqlAssertionError,
  bql_attach,
  bql_lock,
  bql_unlock,
  qemu_cond_wait_bql,
  withBql,
} from '../machine/bql.js';
import { C, G, K } from '../machine/state.js';
import type { VcpuResult } from '../machine/vcpu-thread.js';
import { async_run_on_cpu, async_safe_run_on_cpu, run_on_cpu, WorkKind } from '../machine/work.js';
import { locked, mainLoopChores, makeMachine, program, sleep, until } from './machine-support.js';
import { watched } from './support/watchdog.js';

const T = { ms: 60_000 };

watched('the BQL asserts: a double lock and a foreign unlock are errors, not hangs', T, () => {
  bql_attach(QemuMutex.create());
  bql_lock();
  assert.throws(() => bql_lock(), BqlAssertionError);
  bql_unlock();
  assert.throws(() => bql_unlock(), /bql_unlock: assertion failed: bql_locked\(\)/);
  assert.throws(() => qemu_cond_wait_bql(QemuCond.create()), BqlAssertionError);
  // BQL_LOCK_GUARD takes it only when not held, and nests.
  assert.equal(
    withBql(() => withBql(() => 7)),
    7,
  );
});

for (const smp of [1, 2, 8]) {
  watched(`creation is strictly sequential with smp ${smp}`, T, () => {
    const m = makeMachine(program('hello.s'), smp);
    locked(() => m.boot());
    try {
      assert.equal(m.creation.length, smp);
      for (const [i, r] of m.creation.entries()) {
        assert.equal(r.name, `CPU ${i}/TCG`);
        assert.equal(r.initOrder, i, 'vCPUs initialize in creation order');
        // When vCPU i initialized, exactly i vCPUs were created and only i+1 threads had even started:
        // the creator waited for `created` before it created the next thread.
        assert.equal(r.seenCreated, i);
        assert.equal(r.seenStarted, i + 1);
        assert.ok(r.condWaits >= 1, 'the creator waited on qemu_cpu_cond');
        assert.equal(m.cpus[i].get(C.THREAD_ID), r.threadId, "the vCPU recorded its own thread's id");
      }
      assert.equal(new Set(m.creation.map((r) => r.threadId)).size, smp, 'one thread per vCPU');
      // They start stopped: nothing ran yet.
      assert.deepEqual(m.insns(), new Array(smp).fill(0));
      assert.ok(m.cpus.every((c) => c.get(C.STOPPED) === 1));
    } finally {
      locked(() => m.shutdown());
    }
    assert.equal(m.results.size, smp, 'every thread joined');
  });
}

watched('pause_all_vcpus really stops every vCPU, resume_all_vcpus restarts them', T, async () => {
  const m = makeMachine(program('spin.s'), 4);
  const chores = mainLoopChores(m);
  try {
    locked(() => {
      m.boot();
      m.start();
    });
    await until(() => m.insns().every((n) => n > 0), 'every vCPU executes');
    locked(() => m.stop());
    const paused = locked(() => m.insns());
    assert.ok(
      m.cpus.every((c) => c.get(C.STOPPED) === 1 && c.get(C.EXECUTING) === 0),
      'all stopped, none executing',
    );
    // Stopped vCPUs sleep on their halt_cond. Then time is let pass on purpose, the BQL free meanwhile:
    // they have every chance to run, and the counts must not move (that nothing happens is not observable).
    await until(() => m.s.haltConds.every((c) => c.parkedThreads().length === 1), 'every vCPU asleep');
    await sleep(300);
    assert.deepEqual(
      locked(() => m.insns()),
      paused,
    );
    assert.ok(m.cpus.every((c) => c.get(C.STOPPED) === 1));
    locked(() => m.start());
    await until(() => m.insns().every((n, i) => n > paused[i]), 'every vCPU runs again after resume');
    assert.equal(m.pauses, 1);
    assert.equal(m.resumes, 2);
  } finally {
    chores.stop();
    locked(() => m.shutdown());
  }
  assert.equal(m.results.size, 4);
});

watched("run_on_cpu runs on the named vCPU's own thread and returns its result", T, async () => {
  const m = makeMachine(program('spin.s'), 3);
  const chores = mainLoopChores(m);
  try {
    locked(() => {
      m.boot();
      m.start();
    });
    for (const running of [true, false]) {
      if (!running) locked(() => m.stop());
      for (const cpu of m.cpus) {
        const r = locked(() => run_on_cpu(cpu, WorkKind.WhoAmI));
        assert.equal(r[0], cpu.thread.threadId(), `ran on ${cpu.name}'s thread (running=${running})`);
        assert.notEqual(r[0], 0, 'not on the main thread');
        assert.equal(r[1], cpu.index);
        assert.equal(r[2], 1, 'qemu_thread_is_self(cpu->thread) on that thread');
        assert.equal(r[3], 1, 'a plain work item runs with the BQL held');
        assert.equal(r[4], cpu.index, 'current_cpu is that vCPU');
      }
    }
    // Registers come back through shared memory: set one, read it back, both on the vCPU's thread.
    locked(() => {
      async_run_on_cpu(m.cpus[2], WorkKind.SetReg, 7, 0x1234567);
      const regs = run_on_cpu(m.cpus[2], WorkKind.GetRegs);
      assert.equal(regs[7], 0x1234567);
    });
  } finally {
    chores.stop();
    locked(() => m.shutdown());
  }
  assert.ok(m.stats().workSync >= 7);
});

watched('async_run_on_cpu items run in order, before a later run_on_cpu returns', T, () => {
  const m = makeMachine(program('spin.s'), 2);
  try {
    locked(() => {
      m.boot();
      m.start();
      for (let seq = 1; seq <= 25; seq++) async_run_on_cpu(m.cpus[1], WorkKind.Count, seq);
      run_on_cpu(m.cpus[1], WorkKind.WhoAmI);
    });
    assert.equal(m.cpus[1].get(C.WORK_LAST_SEQ), 25);
    assert.equal(m.cpus[1].get(C.WORK_MISORDERED), 0);
    assert.equal(m.cpus[0].get(C.WORK_LAST_SEQ), 0, 'nothing ran on the other vCPU');
    assert.equal(m.stats().workAsync, 25);
  } finally {
    locked(() => m.shutdown());
  }
});

const ATOMIC = `
; Each vCPU adds 1 to a shared counter 100 times with xadd (an exclusive section each time), doing plain
; work in between so that the other vCPUs are executing when the next section starts.
start:
    li    r1, 0
    li    r5, 100
loop:
    li    r2, 1
    xadd  r3, [counter], r2
    li    r4, 3000
busy:
    sub   r4, r4, 1
    bnez  r4, busy
    add   r1, r1, 1
    blt   r1, r5, loop
    end
counter: .word 0
`;

watched('exclusive sections see no vCPU executing, and guest atomics are atomic', T, async () => {
  // Each section lingers 1 ms and checks that no other vCPU is executing or advancing meanwhile.
  const m = makeMachine(ATOMIC, 3, { exclusiveDwellMs: 1 });
  const counter = m.program.symbols.get('counter')!;
  try {
    locked(() => {
      m.boot();
      m.start();
      // Sections started from the main loop too: async_safe_run_on_cpu.
      for (let i = 0; i < 6; i++) async_safe_run_on_cpu(m.cpus[i % 3], WorkKind.SafeCheck);
    });
    await until(() => m.guestDone(), 'the guest ends');
    const st = m.stats();
    assert.equal(m.s.ram[counter], 300, 'no lost update: 3 vCPUs x 100 xadd');
    assert.ok(st.exclusiveSections >= 300, `at least one section per xadd (got ${st.exclusiveSections})`);
    assert.equal(st.workSafe, 6);
    assert.equal(st.exclusiveViolations, 0);
    assert.equal(Atomics.load(m.s.globals, G.PENDING_CPUS), 0);
    assert.deepEqual(
      m.cpus.map((c) => c.count(K.ATOMIC_STEPS)),
      [100, 100, 100],
    );
  } finally {
    locked(() => m.shutdown());
  }
});

watched('unplug joins the thread; the other vCPUs go on', T, async () => {
  const m = makeMachine(program('spin.s'), 3);
  const chores = mainLoopChores(m);
  try {
    locked(() => {
      m.boot();
      m.start();
    });
    await until(() => m.insns().every((n) => n > 0), 'every vCPU executes');
    const r = locked(() => m.unplug(1)) as VcpuResult;
    assert.equal(r.index, 1);
    assert.equal(r.name, 'CPU 1/TCG');
    assert.equal(r.threadId, m.creation[1].threadId, "the join returned that thread's own result");
    assert.equal(r.insns, m.cpus[1].count(K.INSNS));
    assert.equal(m.cpus[1].get(C.CREATED), 0, 'cpu_thread_signal_destroyed ran');
    // The handle was really joined: a second join is EINVAL.
    assert.throws(
      () => qemu_thread_join(m.cpus[1].thread),
      (e: unknown) => e instanceof QemuThreadError && e.code === 'EINVAL',
    );
    assert.deepEqual(
      m.present().map((c) => c.index),
      [0, 2],
    );
    assert.ok(locked(() => m.infoCpus(0)).every((l) => !l.includes('CPU #1')));
    const after = locked(() => m.insns());
    await until(() => m.insns()[0] > after[0] && m.insns()[2] > after[2], 'the others keep running');
    assert.equal(m.insns()[1], after[1], 'the unplugged vCPU never runs again');
    assert.throws(() => locked(() => m.unplug(1)), /already unplugged/);
  } finally {
    chores.stop();
    locked(() => m.shutdown());
  }
  assert.equal(m.results.size, 3);
});

watched('a faulting vCPU stops with a clear message; the others finish', T, async () => {
  const src = `
start:
    cpuid r1
    li    r2, 1
    beq   r1, r2, bad
    li    r3, 50000
spin:
    sub   r3, r3, 1
    bnez  r3, spin
    end
bad:
    li    r4, -5
    st    r4, [r4]
    end
`;
  const m = makeMachine(src, 3);
  try {
    locked(() => {
      m.boot();
      m.start();
    });
    await until(() => m.guestDone(), 'the guest ends');
    const events = locked(() => m.takeEvents());
    assert.equal(events.length, 1);
    assert.match(
      events[0],
      /^CPU 1\/TCG: guest fault: bad address -5 .* at pc 0x0010 \(test\.s:13: st {4}r4, \[r4\]\)/,
    );
    assert.deepEqual(
      m.cpus.map((c) => m.stateOf(c)),
      ['ended', 'faulted', 'ended'],
    );
    assert.equal(m.cpus[0].count(K.INSNS), m.cpus[2].count(K.INSNS));
  } finally {
    locked(() => m.shutdown());
  }
  assert.equal(m.results.size, 3);
});
