/**
 * Fuzzed misuse, one thread: random sequences of API calls, valid and invalid, on each primitive, through
 * every face (qemu_* functions, methods, structured clones, arguments of the wrong kind). Every call's
 * result, or its error's code and function name, must equal what the reference model (workers/fuzz/
 * model.ts, written from API.md) predicts; after every call the observable state (ownership, depth,
 * counts, set/free) must equal the model's. A call the model says would block forever is not issued.
 *
 * Fixed seed and a bounded number of runs, so a failure reproduces; fast-check shrinks a failing
 * sequence to a minimal one and prints it with its seed and path.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { watched } from './support/watchdog.js';
import { commandArb, FAMILIES } from './workers/fuzz/arbitraries.js';
import {
  type Command,
  describeCommand,
  describeOutcome,
  execute,
  initAll,
  initialState,
  type ModelState,
  PRIMS_BYTES,
  type Prims,
  predict,
  primsIn,
} from './workers/fuzz/model.js';

const SEED = 20261125;
const RUNS = 1000;
const SELF = 0; // the model's index for the only thread

/** The state the library shows without changing it, next to what the model says it should be. */
function observe(p: Prims, st: ModelState): { got: unknown; want: unknown } {
  const got: Record<string, unknown> = {
    mutexHeld: p.m.isHeldBySelf(),
    recDepth: p.r.depthHeldBySelf(),
  };
  const want: Record<string, unknown> = {
    mutexHeld: st.m.owner === SELF,
    recDepth: st.r.owner === SELF ? st.r.depth : 0,
  };
  if (st.s.life === 'ready') [got.spin, want.spin] = [p.s.isLocked(), st.s.owner !== -1];
  if (st.l.life === 'ready') [got.visitors, want.visitors] = [p.l.count(), st.l.count];
  if (st.sem.life === 'ready') [got.units, want.units] = [p.sem.value(), st.sem.count];
  if (st.e.life === 'ready') [got.set, want.set] = [p.e.isSet(), st.e.set];
  if (st.c.life === 'ready') [got.waiters, want.waiters] = [p.c.waiters(), 0];
  return { got, want };
}

/** Runs `commands` on fresh primitives against the model; throws on the first difference. */
function check(startReady: boolean, commands: Command[]): void {
  const p = primsIn(new SharedArrayBuffer(PRIMS_BYTES));
  const st = initialState(startReady);
  if (startReady) initAll(p);
  const trail: string[] = [];
  for (const cmd of commands) {
    const want = predict(st, SELF, cmd);
    if (want === 'blocks') {
      trail.push(`${describeCommand(cmd)}: skipped (would block)`);
      continue;
    }
    const got = execute(p, cmd);
    trail.push(`${describeCommand(cmd)}: ${describeOutcome(got)}`);
    assert.deepEqual(got, want, `after:\n  ${trail.join('\n  ')}\nwanted ${describeOutcome(want)}`);
    const seen = observe(p, st);
    assert.deepEqual(seen.got, seen.want, `state after:\n  ${trail.join('\n  ')}`);
  }
}

for (const [family, ops] of Object.entries(FAMILIES)) {
  watched(`fuzzed misuse, one thread: ${family} calls match the model`, () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(commandArb(ops), { maxLength: 40, size: 'max' }),
        (startReady, commands) => {
          check(startReady, commands);
        },
      ),
      { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
    );
  });
}

watched('fuzzed misuse, one thread: all primitives interleaved', () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(commandArb(Object.values(FAMILIES).flat()), { maxLength: 80, size: 'max' }),
      check,
    ),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
});

// The model must be able to fail: a few hand-written sequences with their known outcomes, so that a model
// that predicted whatever the library did (or skipped everything) could not pass unnoticed.
watched('the model predicts the documented errors of hand-written sequences', () => {
  const st = initialState(true);
  const c = (op: Command['op'], arg = 0): Command => ({ op, arg, face: 'fn' });
  assert.deepEqual(predict(st, 0, c('m_unlock')), { err: 'EPERM', func: 'qemu_mutex_unlock' });
  assert.deepEqual(predict(st, 0, c('m_lock')), { ok: undefined });
  assert.deepEqual(predict(st, 0, c('m_lock')), { err: 'EDEADLK', func: 'qemu_mutex_lock' });
  assert.deepEqual(predict(st, 0, c('m_trylock')), { ok: -16 });
  assert.deepEqual(predict(st, 1, c('m_unlock')), { err: 'EPERM', func: 'qemu_mutex_unlock' });
  assert.equal(predict(st, 1, c('m_lock')), 'blocks');
  assert.deepEqual(predict(st, 0, c('m_destroy')), { err: 'EBUSY', func: 'qemu_mutex_destroy' });
  assert.deepEqual(predict(st, 0, c('sem_init', 4)), { ok: undefined }); // 4294967295
  assert.deepEqual(predict(st, 0, c('sem_post')), { err: 'EINVAL', func: 'qemu_sem_post' });
  assert.deepEqual(predict(st, 0, c('sem_destroy')), { ok: undefined });
  assert.deepEqual(predict(st, 0, c('sem_post')), { err: 'EINVAL', func: 'qemu_sem_post' });
  assert.deepEqual(predict(st, 0, c('l_dec')), { err: 'EINVAL', func: 'qemu_lockcnt_dec' });
  assert.deepEqual(predict(st, 0, { op: 'm_lock', arg: 0, face: 'wrong' }), { typeError: true });
});
