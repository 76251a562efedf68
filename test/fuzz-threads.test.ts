/**
 * Fuzzed misuse from several threads (qemu_thread_create, thread functions in workers/fuzz/):
 *
 * - Lock-step: 3 threads, each with its own random command list (init/destroy included), run in a random
 *   interleaving one call at a time, the main thread handing each call to its thread and reading back the
 *   outcome. The model then predicts every outcome exactly, ownership across threads included: a thread
 *   unlocking what another holds gets EPERM, destroying it EBUSY, trying it -16, and so on. Between calls
 *   the main thread probes the locks with its own trylock (it is a fourth thread) and checks the counts.
 * - Free-running: 2-3 threads run their lists at the same time on shared primitives; each checks the
 *   outcomes its own model can know (workers/fuzz/freerun.ts), and the main thread checks the totals and
 *   that every primitive ends consistent (locks free, counts exact, destroy succeeds).
 *
 * Nothing here may hang: the lock-step fuzz never issues a call the model says would block, the free run
 * uses timed waits and a lock order, and every wait of the main thread is bounded; if a thread stops
 * answering, the test prints the failing case and ends the process (a stuck thread cannot be joined).
 * Fixed seeds, bounded runs.
 */
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import fc from 'fast-check';
import {
  QEMU_THREAD_JOINABLE,
  QemuThread,
  qemu_cond_destroy,
  qemu_event_destroy,
  qemu_lockcnt_count,
  qemu_lockcnt_destroy,
  qemu_mutex_destroy,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_destroy,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_sem_destroy,
  qemu_spin_destroy,
  qemu_spin_trylock,
  qemu_spin_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';
import { commandArb, FAMILIES } from './workers/fuzz/arbitraries.js';
import {
  DONE,
  FREE_OPS,
  type FreeRunArg,
  type FreeRunReport,
  PLAIN_L,
  PLAIN_M,
  PLAIN_R,
  PLAIN_S,
  PROGRESS,
  SHARED_WORDS,
  START,
} from './workers/fuzz/freerun.js';
import { ACK, ARG, FACE, type LockstepArg, OP, OUT, QUIT, REQ, STRIDE } from './workers/fuzz/lockstep.js';
import {
  type Command,
  decodeOutcome,
  describeCommand,
  describeOutcome,
  FACES,
  initAll,
  initialState,
  type ModelState,
  NOBODY,
  OPS,
  type Outcome,
  PRIMS_BYTES,
  type Prims,
  predict,
  primsIn,
} from './workers/fuzz/model.js';

const SEED = 7_2026;
/** How long the main thread waits for a thread's answer (a call takes at most a few ms): a hang. */
const ANSWER_LIMIT_MS = 10_000;

/** A failure that leaves a thread stuck cannot be cleaned up: report it and end the process. */
function hang(what: string): never {
  writeSync(2, `fuzz-threads: ${what}\n`);
  setTimeout(() => process.exit(1), 500).unref();
  throw new Error(what);
}

function spawn(name: string, fn: URL, arg: unknown): QemuThread {
  const t = new QemuThread();
  qemu_thread_create(t, name, fn, arg, QEMU_THREAD_JOINABLE);
  return t;
}

// ---- lock-step ------------------------------------------------------------------------------------------

const LOCKSTEP_THREADS = 3;
const LOCKSTEP_FN = new URL('./workers/fuzz/lockstep.js#lockstepThread', import.meta.url);

interface Pool {
  buffer: SharedArrayBuffer;
  prims: Prims;
  ctl: Int32Array;
  threads: QemuThread[];
}

function startPool(): Pool {
  const buffer = new SharedArrayBuffer(PRIMS_BYTES);
  const ctl = new Int32Array(new SharedArrayBuffer(4 * STRIDE * LOCKSTEP_THREADS));
  const threads = [];
  for (let index = 0; index < LOCKSTEP_THREADS; index++) {
    const arg: LockstepArg = { prims: buffer, ctl, index };
    threads.push(spawn(`fuzz-${index}`, LOCKSTEP_FN, arg));
  }
  return { buffer, prims: primsIn(buffer), ctl, threads };
}

/** Thread `t` performs `cmd`; returns its outcome (bounded wait). */
function ask(pool: Pool, t: number, op: number, cmd: Command, trail: string[]): Outcome {
  const box = pool.ctl.subarray(t * STRIDE, (t + 1) * STRIDE);
  box[OP] = op;
  box[ARG] = cmd.arg;
  box[FACE] = FACES.indexOf(cmd.face);
  const req = Atomics.add(box, REQ, 1) + 1;
  Atomics.notify(box, REQ);
  if (op < 0) return { ok: undefined };
  const deadline = performance.now() + ANSWER_LIMIT_MS;
  for (let a = Atomics.load(box, ACK); a !== req; a = Atomics.load(box, ACK)) {
    const left = deadline - performance.now();
    if (left <= 0) {
      hang(
        `thread ${t} did not finish ${describeCommand(cmd)} within ${ANSWER_LIMIT_MS} ms after:\n  ${trail.join('\n  ')}`,
      );
    }
    Atomics.wait(box, ACK, a, left);
  }
  return decodeOutcome(box, OUT);
}

/**
 * The main thread's own look at the locks (it is not a model thread, so it never holds them): its trylock
 * succeeds exactly when the model says the lock is free, and it gives the lock back at once.
 */
function probe(p: Prims, st: ModelState): Record<string, unknown> {
  const seen: Record<string, unknown> = {};
  if (st.m.life === 'ready') {
    seen.mutexFree = qemu_mutex_trylock(p.m) === 0;
    if (seen.mutexFree) qemu_mutex_unlock(p.m);
  }
  if (st.r.life === 'ready') {
    seen.recFree = qemu_rec_mutex_trylock(p.r) === 0;
    if (seen.recFree) qemu_rec_mutex_unlock(p.r);
  }
  if (st.s.life === 'ready') {
    seen.spinFree = !qemu_spin_trylock(p.s);
    if (seen.spinFree) qemu_spin_unlock(p.s);
  }
  if (st.l.life === 'ready') seen.visitors = qemu_lockcnt_count(p.l);
  if (st.sem.life === 'ready') seen.units = p.sem.value();
  if (st.e.life === 'ready') seen.set = p.e.isSet();
  return seen;
}

function expectedProbe(st: ModelState): Record<string, unknown> {
  const want: Record<string, unknown> = {};
  if (st.m.life === 'ready') want.mutexFree = st.m.owner === NOBODY;
  if (st.r.life === 'ready') want.recFree = st.r.owner === NOBODY;
  if (st.s.life === 'ready') want.spinFree = st.s.owner === NOBODY;
  if (st.l.life === 'ready') want.visitors = st.l.count;
  if (st.sem.life === 'ready') want.units = st.sem.count;
  if (st.e.life === 'ready') want.set = st.e.set;
  return want;
}

watched(
  'fuzzed misuse, 3 threads in lock-step: every outcome matches the model',
  { ms: 120_000 },
  (_w, t) => {
    const pool = startPool();
    const lists = fc.array(
      fc.array(commandArb(Object.values(FAMILIES).flat(), ['fn', 'method', 'clone']), {
        maxLength: 30,
        size: 'max',
      }),
      { minLength: LOCKSTEP_THREADS, maxLength: LOCKSTEP_THREADS },
    );
    const schedule = fc.array(fc.nat(LOCKSTEP_THREADS - 1), { maxLength: 90, size: 'max' });
    let calls = 0;
    let skipped = 0;
    try {
      fc.assert(
        fc.property(fc.boolean(), lists, schedule, (startReady, perThread, order) => {
          // Fresh state: the threads are idle, so the storage can be zeroed ("never initialized") here.
          new Int32Array(pool.buffer).fill(0);
          if (startReady) initAll(pool.prims);
          const st = initialState(startReady);
          const next = perThread.map(() => 0);
          // The random interleaving, then whatever is left, round-robin.
          const turns = [...order];
          for (let t = 0; t < LOCKSTEP_THREADS; t++) {
            for (let i = 0; i < perThread[t].length; i++) turns.push(t);
          }
          const trail: string[] = [];
          for (const t of turns) {
            const cmd = perThread[t][next[t]++];
            if (cmd === undefined) continue;
            const want = predict(st, t, cmd);
            if (want === 'blocks') {
              skipped++;
              trail.push(`thread ${t}: ${describeCommand(cmd)}: skipped (would block)`);
              continue;
            }
            const got = ask(pool, t, OPS.indexOf(cmd.op), cmd, trail);
            calls++;
            trail.push(`thread ${t}: ${describeCommand(cmd)}: ${describeOutcome(got)}`);
            assert.deepEqual(got, want, `after:\n  ${trail.join('\n  ')}\nwanted ${describeOutcome(want)}`);
            assert.deepEqual(
              probe(pool.prims, st),
              expectedProbe(st),
              `state after:\n  ${trail.join('\n  ')}`,
            );
          }
        }),
        { seed: SEED, numRuns: 500, includeErrorInReport: true },
      );
    } finally {
      for (let t = 0; t < LOCKSTEP_THREADS; t++) ask(pool, t, QUIT, { op: 'm_init', arg: 0, face: 'fn' }, []);
    }
    const performed = pool.threads.map((t) => qemu_thread_join(t) as number);
    assert.equal(
      performed.reduce((a, b) => a + b, 0),
      calls,
      'every call was performed by a thread',
    );
    assert.ok(calls > 1000, `enough calls were made (${calls}, ${skipped} skipped as blocking)`);
    t.diagnostic(`${calls} calls made, ${skipped} skipped as blocking`);
  },
);

// ---- free-running -------------------------------------------------------------------------------------

const FREE_FN = new URL('./workers/fuzz/freerun.js#freeRunThread', import.meta.url);
const SEM_INIT = 2;
/** The main thread fails the run when the threads make no call at all for this long. */
const STALL_MS = 10_000;
/** Limit for the threads to boot (a worker's start can take seconds on a busy 2-core machine). */
const BOOT_MS = 60_000;

const describe = (p: Prims) => Object.values(p).map(String).join(', ');

function freeRun(lists: number[][]): void {
  const buffer = new SharedArrayBuffer(PRIMS_BYTES);
  const p = primsIn(buffer);
  initAll(p, SEM_INIT);
  const shared = new Int32Array(new SharedArrayBuffer(4 * SHARED_WORDS));
  const threads = lists.map((commands, i) => {
    const arg: FreeRunArg = { prims: buffer, shared, threads: lists.length, commands };
    return spawn(`free-${i}`, FREE_FN, arg);
  });
  // Wait for every thread to finish, bounded by progress: a stuck thread is a hang, reported as such.
  let last = -1;
  let lastChange = performance.now();
  let stalled = '';
  for (let d = Atomics.load(shared, DONE); d < threads.length; d = Atomics.load(shared, DONE)) {
    Atomics.wait(shared, DONE, d, 50);
    // The clock starts once every thread has booted (slow on a loaded machine, and not a hang).
    const progress = Atomics.load(shared, START) < threads.length ? -1 : Atomics.load(shared, PROGRESS);
    if (progress !== last) [last, lastChange] = [progress, performance.now()];
    else if (progress === -1 && performance.now() - lastChange > BOOT_MS) {
      hang(`free run: the threads did not all start within ${BOOT_MS} ms`);
    } else if (progress !== -1 && performance.now() - lastChange > STALL_MS) {
      stalled = `no call for ${STALL_MS} ms (a lost wake-up or a deadlock); ${describe(p)}`;
      break;
    }
  }
  if (stalled) {
    // Rescue: a bare notify on every word of every primitive; each waiting loop re-reads its word and
    // goes on, so the threads can finish and be joined. If even that fails, end the process.
    for (let i = 0; i < 1000 && Atomics.load(shared, DONE) < threads.length; i++) {
      for (const x of Object.values(p)) {
        for (let k = 0; k < x.words.length; k++) Atomics.notify(x.words, k);
      }
      Atomics.wait(shared, DONE, Atomics.load(shared, DONE), 10);
    }
    if (Atomics.load(shared, DONE) < threads.length) hang(`free run: ${stalled}; the rescue failed`);
    for (const t of threads) qemu_thread_join(t);
    assert.fail(`free run: ${stalled}`);
  }
  const reports = threads.map((t) => qemu_thread_join(t) as FreeRunReport);
  const mismatches = reports.flatMap((r, i) => r.mismatches.map((m) => `thread ${i}: ${m}`));
  assert.deepEqual(mismatches, [], 'every outcome was one the thread model allows');
  const sum = (f: (r: FreeRunReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  // No lost update: each plain counter was bumped only under its lock.
  assert.deepEqual(
    [shared[PLAIN_M], shared[PLAIN_R], shared[PLAIN_S], shared[PLAIN_L]],
    [sum((r) => r.bumps.m), sum((r) => r.bumps.r), sum((r) => r.bumps.s), sum((r) => r.bumps.l)],
    'plain counters == bumps made under their locks',
  );
  // Units and visitors are conserved exactly.
  assert.equal(p.sem.value(), SEM_INIT + sum((r) => r.semPosts) - sum((r) => r.semTakes), 'semaphore units');
  assert.equal(
    qemu_lockcnt_count(p.l),
    sum((r) => r.lockcntNet),
    'lockcnt visitors',
  );
  // Consistent ends: every lock is free and nobody waits, so every destroy succeeds (EBUSY otherwise).
  qemu_mutex_destroy(p.m);
  qemu_rec_mutex_destroy(p.r);
  qemu_spin_destroy(p.s);
  qemu_lockcnt_destroy(p.l);
  qemu_sem_destroy(p.sem);
  qemu_event_destroy(p.e);
  qemu_cond_destroy(p.c);
}

watched('fuzzed misuse, 2-3 free-running threads: per-thread outcomes, exact totals', { ms: 120_000 }, () => {
  const command = fc.tuple(fc.constantFrom(...FREE_OPS.map((op) => OPS.indexOf(op))), fc.nat(71));
  const list = fc.array(command, { minLength: 20, maxLength: 120, size: 'max' }).map((pairs) => pairs.flat());
  fc.assert(
    fc.property(fc.array(list, { minLength: 2, maxLength: 3 }), (lists) => freeRun(lists)),
    // No shrinking: a free run's interleaving is not reproducible, so a smaller list proves nothing.
    { seed: SEED, numRuns: 30, includeErrorInReport: true, endOnFailure: true },
  );
});
