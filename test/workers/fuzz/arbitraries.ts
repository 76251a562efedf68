/**
 * fast-check generators for the fuzz tests (main thread only). Commands are drawn per family of
 * primitives, so that a sequence goes deep into one state machine; init/destroy are rarer than the other
 * calls so that a sequence spends most of its time on initialized storage, but still reaches "use after
 * destroy", "destroy while held" and re-init.
 */
import fc from 'fast-check';
import { type Command, FACES, type Face, LIFECYCLE_OPS, OPS, type Op } from './model.js';

/** The command families; a cond sequence also drives its mutex. */
export const FAMILIES: Record<string, readonly Op[]> = {
  mutex: OPS.filter((op) => op.startsWith('m_')),
  rec: OPS.filter((op) => op.startsWith('r_')),
  spin: OPS.filter((op) => op.startsWith('s_')),
  lockcnt: OPS.filter((op) => op.startsWith('l_')),
  sem: OPS.filter((op) => op.startsWith('sem_')),
  event: OPS.filter((op) => op.startsWith('e_')),
  cond: OPS.filter((op) => op.startsWith('c_') || op.startsWith('m_')),
};

/** One command among `ops`, lifecycle commands at 1/4 of the weight of the others. */
export function commandArb(ops: readonly Op[], faces: readonly Face[] = FACES): fc.Arbitrary<Command> {
  const common = ops.filter((op) => !LIFECYCLE_OPS.includes(op));
  const rare = ops.filter((op) => LIFECYCLE_OPS.includes(op));
  const op = fc.oneof(
    { arbitrary: fc.constantFrom(...common), weight: 4 },
    ...(rare.length ? [{ arbitrary: fc.constantFrom(...rare), weight: 1 }] : []),
  );
  // Faces: mostly the qemu_* functions, then methods, clones, and now and then a wrong argument.
  const weights: Record<Face, number> = { fn: 5, method: 3, clone: 2, wrong: 1 };
  const face = fc.oneof(...faces.map((f) => ({ arbitrary: fc.constant(f), weight: weights[f] })));
  return fc.record({ op, arg: fc.nat(71), face });
}
