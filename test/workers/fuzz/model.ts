/**
 * The fuzz suite's vocabulary, shared by the test files (main thread) and the fuzz thread functions:
 * the commands (one per API call, valid or not), a reference model of every primitive's state that
 * predicts each call's exact outcome, and the executor that performs a command on the real primitives and
 * describes what happened in the same terms, so that the two can be compared with one deepEqual.
 *
 * The model is written from API.md / README.md, not from the library's code: each rule below is one line
 * of the contract (e.g. "unlock by a non-owner: EPERM", "post at 4294967295: EINVAL"). It knows several
 * threads (index 0..n-1) so that it also predicts cross-thread ownership errors; it is exact only when the
 * calls are made one at a time (the lock-step fuzz), because then nothing else changes state in between.
 *
 * No side effects at import: node --test may load this file.
 */
import {
  QemuCond,
  QemuEvent,
  QemuLockCnt,
  QemuMutex,
  QemuRecMutex,
  QemuSemaphore,
  QemuSpin,
  QemuThreadError,
  qemu_cond_broadcast,
  qemu_cond_destroy,
  qemu_cond_init,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_cond_wait,
  qemu_event_destroy,
  qemu_event_init,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_event_wait,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_destroy,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_init,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_destroy,
  qemu_mutex_init,
  qemu_mutex_lock,
  qemu_mutex_trylock,
  qemu_mutex_unlock,
  qemu_rec_mutex_destroy,
  qemu_rec_mutex_init,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_trylock,
  qemu_rec_mutex_unlock,
  qemu_sem_destroy,
  qemu_sem_init,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_sem_wait,
  qemu_spin_destroy,
  qemu_spin_init,
  qemu_spin_lock,
  qemu_spin_locked,
  qemu_spin_trylock,
  qemu_spin_unlock,
} from 'qemu-thread';

// ---- commands ---------------------------------------------------------------------------------------------

/** Every command, by name. The index in this list is the command's code in shared memory. */
export const OPS = [
  'm_init',
  'm_destroy',
  'm_lock',
  'm_trylock',
  'm_unlock',
  'r_init',
  'r_destroy',
  'r_lock',
  'r_trylock',
  'r_unlock',
  's_init',
  's_destroy',
  's_lock',
  's_trylock',
  's_unlock',
  's_locked',
  'l_init',
  'l_destroy',
  'l_inc',
  'l_dec',
  'l_dec_and_lock',
  'l_dec_if_lock',
  'l_lock',
  'l_unlock',
  'l_inc_and_unlock',
  'l_count',
  'sem_init',
  'sem_destroy',
  'sem_post',
  'sem_wait',
  'sem_timedwait',
  'sem_trywait',
  'e_init',
  'e_destroy',
  'e_set',
  'e_reset',
  'e_wait',
  'e_timedwait',
  'c_init',
  'c_destroy',
  'c_signal',
  'c_broadcast',
  'c_wait',
  'c_timedwait',
] as const;
export type Op = (typeof OPS)[number];

/** The commands that set up or tear down storage (the free-running fuzz leaves these out). */
export const LIFECYCLE_OPS: readonly Op[] = OPS.filter((op) => /_(init|destroy)$/.test(op));

/**
 * Time-outs for the timed waits, by `arg`: small valid ones (0 must never sleep; 1 and 2 ms keep a
 * sequence short), then the invalid ones API.md lists (negative, NaN, infinite).
 */
export const MS_VALUES = [0, 0, 1, 2, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
/** Initial semaphore counts, by `arg`: valid ones including both ends of the range, then invalid ones. */
export const SEM_INIT_VALUES = [0, 1, 2, 4294967294, 4294967295, -1, 4294967296, 0.5, Number.NaN];
export const SEM_MAX = 4294967295;

/**
 * How a command reaches the library: `fn` the qemu_* function, `method` the class's method, `clone` the
 * qemu_* function given a structured clone of the primitive (API.md: every function accepts one), `wrong`
 * the qemu_* function given a value that is not a primitive of the expected kind (TypeError).
 */
export const FACES = ['fn', 'method', 'clone', 'wrong'] as const;
export type Face = (typeof FACES)[number];

export interface Command {
  op: Op;
  /** Index into MS_VALUES / SEM_INIT_VALUES, or the event's initial state (odd = set). */
  arg: number;
  face: Face;
}

export function describeCommand(c: Command): string {
  let param = '';
  if (c.op.endsWith('timedwait')) param = `(${MS_VALUES[c.arg % MS_VALUES.length]} ms)`;
  else if (c.op === 'sem_init') param = `(${SEM_INIT_VALUES[c.arg % SEM_INIT_VALUES.length]})`;
  else if (c.op === 'e_init') param = `(${c.arg % 2 === 1})`;
  return `${c.op}${param}${c.face === 'fn' ? '' : ` [${c.face}]`}`;
}

// ---- outcomes ---------------------------------------------------------------------------------------------

/** What a call did: returned a value, threw a well-formed QemuThreadError, threw a TypeError, or else. */
export type Outcome =
  | { ok: undefined | number | boolean }
  | { err: Code; func: string }
  | { typeError: true }
  | { bad: string };

export const CODES = ['EPERM', 'EBUSY', 'EINVAL', 'EDEADLK'] as const;
export type Code = (typeof CODES)[number];
/** Spelled out here, not read from the library, so a wrong table there fails. */
const ERRNO_OF: Record<Code, number> = { EPERM: 1, EBUSY: 16, EINVAL: 22, EDEADLK: 35 };
const STRERROR_OF: Record<Code, string> = {
  EPERM: 'Operation not permitted',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  EDEADLK: 'Resource deadlock avoided',
};

export const ok = (value?: number | boolean): Outcome => ({ ok: value });
export const err = (code: Code, func: string): Outcome => ({ err: code, func });

/** Describes a thrown value as an Outcome; a QemuThreadError must be well formed (errno, message). */
export function outcomeOfError(e: unknown): Outcome {
  if (e instanceof QemuThreadError) {
    const code = e.code as Code;
    if (!CODES.includes(code)) return { bad: `unexpected code ${e.code}: ${e.message}` };
    if (e.errno !== ERRNO_OF[code]) return { bad: `errno ${e.errno} for ${code}` };
    if (!e.message.startsWith(`${e.func}: ${STRERROR_OF[code]}`)) return { bad: `message: ${e.message}` };
    return { err: code, func: e.func };
  }
  if (e instanceof TypeError) return { typeError: true };
  return { bad: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

export function describeOutcome(o: Outcome | 'blocks'): string {
  if (o === 'blocks') return 'would block';
  if ('ok' in o) return `ok ${String(o.ok)}`;
  if ('err' in o) return `${o.err} from ${o.func}`;
  if ('typeError' in o) return 'TypeError';
  return `unexpected: ${o.bad}`;
}

// ---- the primitives under test ---------------------------------------------------------------------------

export interface Prims {
  m: QemuMutex;
  r: QemuRecMutex;
  s: QemuSpin;
  l: QemuLockCnt;
  sem: QemuSemaphore;
  e: QemuEvent;
  c: QemuCond;
}

/** Byte offsets of each primitive in one shared buffer, as C embeds them in a struct. */
const LAYOUT = (() => {
  let at = 0;
  const place = (bytes: number) => {
    const o = at;
    at += bytes;
    return o;
  };
  return {
    m: place(QemuMutex.BYTES),
    r: place(QemuRecMutex.BYTES),
    s: place(QemuSpin.BYTES),
    l: place(QemuLockCnt.BYTES),
    sem: place(QemuSemaphore.BYTES),
    e: place(QemuEvent.BYTES),
    c: place(QemuCond.BYTES),
    bytes: at,
  };
})();
export const PRIMS_BYTES = LAYOUT.bytes;

/** The primitives placed in `buffer` (zero-filled storage is "never initialized"). */
export function primsIn(buffer: SharedArrayBuffer): Prims {
  return {
    m: new QemuMutex(buffer, LAYOUT.m),
    r: new QemuRecMutex(buffer, LAYOUT.r),
    s: new QemuSpin(buffer, LAYOUT.s),
    l: new QemuLockCnt(buffer, LAYOUT.l),
    sem: new QemuSemaphore(buffer, LAYOUT.sem),
    e: new QemuEvent(buffer, LAYOUT.e),
    c: new QemuCond(buffer, LAYOUT.c),
  };
}

// ---- the model ------------------------------------------------------------------------------------------

type Life = 'uninit' | 'ready' | 'destroyed';
/** No thread: a free lock. */
export const NOBODY = -1;

export interface ModelState {
  m: { life: Life; owner: number };
  r: { life: Life; owner: number; depth: number };
  s: { life: Life; owner: number };
  l: { life: Life; owner: number; count: number };
  sem: { life: Life; count: number };
  e: { life: Life; set: boolean };
  c: { life: Life };
}

export function initialState(ready: boolean, semCount = 0): ModelState {
  const life: Life = ready ? 'ready' : 'uninit';
  return {
    m: { life, owner: NOBODY },
    r: { life, owner: NOBODY, depth: 0 },
    s: { life, owner: NOBODY },
    l: { life, owner: NOBODY, count: 0 },
    sem: { life, count: ready ? semCount : 0 },
    e: { life, set: false },
    c: { life },
  };
}

/** The real primitives in the state `initialState(true, semCount)` describes. */
export function initAll(p: Prims, semCount = 0): void {
  qemu_mutex_init(p.m);
  qemu_rec_mutex_init(p.r);
  qemu_spin_init(p.s);
  qemu_lockcnt_init(p.l);
  qemu_sem_init(p.sem, semCount);
  qemu_event_init(p.e, false);
  qemu_cond_init(p.c);
}

/**
 * A mutex-like lock word's answer to the lifecycle and ownership rules shared by QemuMutex, QemuRecMutex
 * and QemuSpin (README: init EBUSY on a held lock; destroy EBUSY while held, EINVAL unless initialized).
 */
function lockInitDestroy(x: { life: Life; owner: number }, destroy: boolean, func: string): Outcome {
  if (x.owner !== NOBODY) return err('EBUSY', func);
  if (!destroy) {
    x.life = 'ready';
    return ok();
  }
  if (x.life !== 'ready') return err('EINVAL', func);
  x.life = 'destroyed';
  return ok();
}

/**
 * Predicts the outcome of thread `t` running `cmd`, and applies it to `st`. Returns 'blocks' (and changes
 * nothing) for a call that would wait for another thread, or forever: the lock-step fuzz never issues
 * those. Exact when calls run one at a time.
 */
export function predict(st: ModelState, t: number, cmd: Command): Outcome | 'blocks' {
  const { op } = cmd;
  if (cmd.face === 'wrong') return { typeError: true }; // checked before anything else, changes nothing
  const func = FUNC_OF[op];
  const notReady = (life: Life) => life !== 'ready';
  switch (op) {
    // QemuMutex
    case 'm_init':
    case 'm_destroy':
      return lockInitDestroy(st.m, op === 'm_destroy', func);
    case 'm_lock':
    case 'm_trylock': {
      const m = st.m;
      if (notReady(m.life)) return err('EINVAL', func);
      if (m.owner === NOBODY) {
        m.owner = t;
        return ok(op === 'm_trylock' ? 0 : undefined);
      }
      if (op === 'm_trylock') return ok(-16); // held by anyone, the caller included
      return m.owner === t ? err('EDEADLK', func) : 'blocks';
    }
    case 'm_unlock':
      if (notReady(st.m.life)) return err('EINVAL', func);
      if (st.m.owner !== t) return err('EPERM', func);
      st.m.owner = NOBODY;
      return ok();

    // QemuRecMutex
    case 'r_init': {
      const out = lockInitDestroy(st.r, false, func);
      if ('ok' in out) st.r.depth = 0;
      return out;
    }
    case 'r_destroy':
      return lockInitDestroy(st.r, true, func);
    case 'r_lock':
    case 'r_trylock': {
      const r = st.r;
      if (notReady(r.life)) return err('EINVAL', func);
      const result = op === 'r_trylock' ? 0 : undefined;
      if (r.owner === t) {
        r.depth++;
        return ok(result);
      }
      if (r.owner === NOBODY) {
        r.owner = t;
        r.depth = 1;
        return ok(result);
      }
      return op === 'r_trylock' ? ok(-16) : 'blocks';
    }
    case 'r_unlock':
      if (notReady(st.r.life)) return err('EINVAL', func);
      if (st.r.owner !== t) return err('EPERM', func);
      if (--st.r.depth === 0) st.r.owner = NOBODY;
      return ok();

    // QemuSpin (README: relock EDEADLK, foreign unlock EPERM; trylock true when it FAILED)
    case 's_init':
    case 's_destroy':
      return lockInitDestroy(st.s, op === 's_destroy', func);
    case 's_lock':
    case 's_trylock': {
      const s = st.s;
      if (notReady(s.life)) return err('EINVAL', func);
      if (s.owner === NOBODY) {
        s.owner = t;
        return ok(op === 's_trylock' ? false : undefined);
      }
      if (op === 's_trylock') return ok(true);
      return s.owner === t ? err('EDEADLK', func) : 'blocks';
    }
    case 's_unlock':
      if (notReady(st.s.life)) return err('EINVAL', func);
      if (st.s.owner !== t) return err('EPERM', func);
      st.s.owner = NOBODY;
      return ok();
    case 's_locked':
      if (notReady(st.s.life)) return err('EINVAL', func);
      return ok(st.s.owner !== NOBODY);

    // QemuLockCnt (README: dec / dec_and_lock / dec_if_lock at count 0 EINVAL; a call that would wait
    // for a lock the caller holds EDEADLK; unlock by a non-holder EPERM)
    case 'l_init':
      if (st.l.life === 'ready' && st.l.owner !== NOBODY) return err('EBUSY', func);
      st.l = { life: 'ready', owner: NOBODY, count: 0 };
      return ok();
    case 'l_destroy':
      if (notReady(st.l.life)) return err('EINVAL', func);
      if (st.l.owner !== NOBODY) return err('EBUSY', func);
      st.l.life = 'destroyed';
      return ok();
    case 'l_inc': {
      const l = st.l;
      if (notReady(l.life)) return err('EINVAL', func);
      // The count may go from 0 to 1 only while the lock is free.
      if (l.count === 0 && l.owner !== NOBODY) return l.owner === t ? err('EDEADLK', func) : 'blocks';
      l.count++;
      return ok();
    }
    case 'l_dec':
      if (notReady(st.l.life)) return err('EINVAL', func);
      if (st.l.count === 0) return err('EINVAL', func);
      st.l.count--;
      return ok();
    case 'l_dec_and_lock':
    case 'l_dec_if_lock': {
      const l = st.l;
      if (notReady(l.life)) return err('EINVAL', func);
      if (l.count === 0) return err('EINVAL', func);
      if (l.count >= 2) {
        if (op === 'l_dec_and_lock') l.count--;
        return ok(false);
      }
      if (l.owner !== NOBODY) return l.owner === t ? err('EDEADLK', func) : 'blocks';
      l.count = 0;
      l.owner = t;
      return ok(true);
    }
    case 'l_lock':
      if (notReady(st.l.life)) return err('EINVAL', func);
      if (st.l.owner === t) return err('EDEADLK', func);
      if (st.l.owner !== NOBODY) return 'blocks';
      st.l.owner = t;
      return ok();
    case 'l_unlock':
    case 'l_inc_and_unlock':
      if (notReady(st.l.life)) return err('EINVAL', func);
      if (st.l.owner !== t) return err('EPERM', func);
      st.l.owner = NOBODY;
      if (op === 'l_inc_and_unlock') st.l.count++;
      return ok();
    case 'l_count':
      if (notReady(st.l.life)) return err('EINVAL', func);
      return ok(st.l.count);

    // QemuSemaphore
    case 'sem_init': {
      const n = SEM_INIT_VALUES[cmd.arg % SEM_INIT_VALUES.length];
      if (!Number.isInteger(n) || n < 0 || n > SEM_MAX) return err('EINVAL', func);
      st.sem = { life: 'ready', count: n };
      return ok();
    }
    case 'sem_destroy':
      if (notReady(st.sem.life)) return err('EINVAL', func);
      st.sem.life = 'destroyed';
      return ok();
    case 'sem_post':
      if (notReady(st.sem.life)) return err('EINVAL', func);
      if (st.sem.count === SEM_MAX) return err('EINVAL', func);
      st.sem.count++;
      return ok();
    case 'sem_wait':
    case 'sem_timedwait':
    case 'sem_trywait': {
      const s = st.sem;
      if (notReady(s.life)) return err('EINVAL', func);
      if (op === 'sem_timedwait' && !validMs(cmd)) return err('EINVAL', func);
      if (s.count > 0) {
        s.count--;
        return ok(op === 'sem_wait' ? undefined : op === 'sem_trywait' ? true : 0);
      }
      if (op === 'sem_wait') return 'blocks';
      return ok(op === 'sem_trywait' ? false : -1); // timed out; no unit taken
    }

    // QemuEvent
    case 'e_init':
      st.e = { life: 'ready', set: cmd.arg % 2 === 1 };
      return ok();
    case 'e_destroy':
      if (notReady(st.e.life)) return err('EINVAL', func);
      st.e.life = 'destroyed';
      return ok();
    case 'e_set':
    case 'e_reset':
      if (notReady(st.e.life)) return err('EINVAL', func);
      st.e.set = op === 'e_set';
      return ok();
    case 'e_wait':
    case 'e_timedwait':
      if (op === 'e_timedwait' && !validMs(cmd)) return err('EINVAL', func);
      if (notReady(st.e.life)) return err('EINVAL', func);
      if (st.e.set) return ok(op === 'e_wait' ? undefined : true);
      return op === 'e_wait' ? 'blocks' : ok(false);

    // QemuCond, always with the mutex `m`
    case 'c_init':
      st.c.life = 'ready';
      return ok();
    case 'c_destroy':
      if (notReady(st.c.life)) return err('EINVAL', func);
      st.c.life = 'destroyed';
      return ok();
    case 'c_signal':
    case 'c_broadcast':
      return notReady(st.c.life) ? err('EINVAL', func) : ok();
    case 'c_wait':
    case 'c_timedwait':
      if (op === 'c_timedwait' && !validMs(cmd)) return err('EINVAL', func);
      if (notReady(st.c.life)) return err('EINVAL', func);
      if (notReady(st.m.life)) return err('EINVAL', func);
      if (st.m.owner !== t) return err('EPERM', func);
      // With nobody to signal, a wait never returns and a timed wait times out, holding `m` again.
      return op === 'c_wait' ? 'blocks' : ok(false);
  }
}

function validMs(cmd: Command): boolean {
  const ms = MS_VALUES[cmd.arg % MS_VALUES.length];
  return Number.isFinite(ms) && ms >= 0;
}

/** The public function named in a command's errors (methods report the QEMU name too). */
export const FUNC_OF: Record<Op, string> = {
  m_init: 'qemu_mutex_init',
  m_destroy: 'qemu_mutex_destroy',
  m_lock: 'qemu_mutex_lock',
  m_trylock: 'qemu_mutex_trylock',
  m_unlock: 'qemu_mutex_unlock',
  r_init: 'qemu_rec_mutex_init',
  r_destroy: 'qemu_rec_mutex_destroy',
  r_lock: 'qemu_rec_mutex_lock',
  r_trylock: 'qemu_rec_mutex_trylock',
  r_unlock: 'qemu_rec_mutex_unlock',
  s_init: 'qemu_spin_init',
  s_destroy: 'qemu_spin_destroy',
  s_lock: 'qemu_spin_lock',
  s_trylock: 'qemu_spin_trylock',
  s_unlock: 'qemu_spin_unlock',
  s_locked: 'qemu_spin_locked',
  l_init: 'qemu_lockcnt_init',
  l_destroy: 'qemu_lockcnt_destroy',
  l_inc: 'qemu_lockcnt_inc',
  l_dec: 'qemu_lockcnt_dec',
  l_dec_and_lock: 'qemu_lockcnt_dec_and_lock',
  l_dec_if_lock: 'qemu_lockcnt_dec_if_lock',
  l_lock: 'qemu_lockcnt_lock',
  l_unlock: 'qemu_lockcnt_unlock',
  l_inc_and_unlock: 'qemu_lockcnt_inc_and_unlock',
  l_count: 'qemu_lockcnt_count',
  sem_init: 'qemu_sem_init',
  sem_destroy: 'qemu_sem_destroy',
  sem_post: 'qemu_sem_post',
  sem_wait: 'qemu_sem_wait',
  sem_timedwait: 'qemu_sem_timedwait',
  sem_trywait: 'qemu_sem_trywait',
  e_init: 'qemu_event_init',
  e_destroy: 'qemu_event_destroy',
  e_set: 'qemu_event_set',
  e_reset: 'qemu_event_reset',
  e_wait: 'qemu_event_wait',
  e_timedwait: 'qemu_event_timedwait',
  c_init: 'qemu_cond_init',
  c_destroy: 'qemu_cond_destroy',
  c_signal: 'qemu_cond_signal',
  c_broadcast: 'qemu_cond_broadcast',
  c_wait: 'qemu_cond_wait',
  c_timedwait: 'qemu_cond_timedwait',
};

// ---- the executor ------------------------------------------------------------------------------------------

/** Values that are not primitives of the kind a function expects (API.md: TypeError). */
function wrongValue(cmd: Command, p: Prims): unknown {
  const other = cmd.op.startsWith('e_') ? p.m : p.e; // a real primitive of another kind
  const choices = [other, structuredClone(other), null, {}, 42, { __qemuKind: 'QemuMutex' }];
  return choices[cmd.arg % choices.length];
}

/**
 * Performs `cmd` on the real primitives and returns what happened. Method results are translated into
 * the qemu_* conventions (tryLock true -> 0, spin tryLock true -> false, sem timedWait true -> 0) so one
 * prediction serves every face; the translation is spelled out per method below.
 */
export function execute(p: Prims, cmd: Command): Outcome {
  try {
    return { ok: run(p, cmd) as undefined | number | boolean };
  } catch (e) {
    return outcomeOfError(e);
  }
}

function run(p: Prims, cmd: Command): unknown {
  const { op, face } = cmd;
  const method = face === 'method';
  // For the functional faces, the argument handed to qemu_*: the instance, a clone, or a wrong value.
  const arg = <T>(x: T): T =>
    face === 'clone' ? (structuredClone(x) as T) : face === 'wrong' ? (wrongValue(cmd, p) as T) : x;
  const ms = MS_VALUES[cmd.arg % MS_VALUES.length];
  const { m, r, s, l, sem, e, c } = p;
  switch (op) {
    case 'm_init':
      return method ? m.init() : qemu_mutex_init(arg(m));
    case 'm_destroy':
      return method ? m.destroy() : qemu_mutex_destroy(arg(m));
    case 'm_lock':
      return method ? m.lock() : qemu_mutex_lock(arg(m));
    case 'm_trylock':
      return method ? (m.tryLock() ? 0 : -16) : qemu_mutex_trylock(arg(m));
    case 'm_unlock':
      return method ? m.unlock() : qemu_mutex_unlock(arg(m));
    case 'r_init':
      return method ? r.init() : qemu_rec_mutex_init(arg(r));
    case 'r_destroy':
      return method ? r.destroy() : qemu_rec_mutex_destroy(arg(r));
    case 'r_lock':
      return method ? r.lock() : qemu_rec_mutex_lock(arg(r));
    case 'r_trylock':
      return method ? (r.tryLock() ? 0 : -16) : qemu_rec_mutex_trylock(arg(r));
    case 'r_unlock':
      return method ? r.unlock() : qemu_rec_mutex_unlock(arg(r));
    case 's_init':
      return method ? s.init() : qemu_spin_init(arg(s));
    case 's_destroy':
      return method ? s.destroy() : qemu_spin_destroy(arg(s));
    case 's_lock':
      return method ? s.lock() : qemu_spin_lock(arg(s));
    case 's_trylock':
      return method ? !s.tryLock() : qemu_spin_trylock(arg(s));
    case 's_unlock':
      return method ? s.unlock() : qemu_spin_unlock(arg(s));
    case 's_locked':
      return method ? s.isLocked() : qemu_spin_locked(arg(s));
    case 'l_init':
      return method ? l.init() : qemu_lockcnt_init(arg(l));
    case 'l_destroy':
      return method ? l.destroy() : qemu_lockcnt_destroy(arg(l));
    case 'l_inc':
      return method ? l.inc() : qemu_lockcnt_inc(arg(l));
    case 'l_dec':
      return method ? l.dec() : qemu_lockcnt_dec(arg(l));
    case 'l_dec_and_lock':
      return method ? l.decAndLock() : qemu_lockcnt_dec_and_lock(arg(l));
    case 'l_dec_if_lock':
      return method ? l.decIfLock() : qemu_lockcnt_dec_if_lock(arg(l));
    case 'l_lock':
      return method ? l.lock() : qemu_lockcnt_lock(arg(l));
    case 'l_unlock':
      return method ? l.unlock() : qemu_lockcnt_unlock(arg(l));
    case 'l_inc_and_unlock':
      return method ? l.incAndUnlock() : qemu_lockcnt_inc_and_unlock(arg(l));
    case 'l_count':
      return method ? l.count() : qemu_lockcnt_count(arg(l));
    case 'sem_init': {
      const n = SEM_INIT_VALUES[cmd.arg % SEM_INIT_VALUES.length];
      return method ? sem.init(n) : qemu_sem_init(arg(sem), n);
    }
    case 'sem_destroy':
      return method ? sem.destroy() : qemu_sem_destroy(arg(sem));
    case 'sem_post':
      return method ? sem.post() : qemu_sem_post(arg(sem));
    case 'sem_wait':
      return method ? sem.wait() : qemu_sem_wait(arg(sem));
    case 'sem_timedwait':
      return method ? (sem.timedWait(ms) ? 0 : -1) : qemu_sem_timedwait(arg(sem), ms);
    case 'sem_trywait':
      // Method only (QEMU has no qemu_sem_trywait); the wrong face still calls it on a revived clone.
      if (face === 'wrong') return QemuSemaphore.from(arg(sem)).tryWait();
      return (face === 'clone' ? QemuSemaphore.from(structuredClone(sem)) : sem).tryWait();
    case 'e_init':
      return method ? e.init(cmd.arg % 2 === 1) : qemu_event_init(arg(e), cmd.arg % 2 === 1);
    case 'e_destroy':
      return method ? e.destroy() : qemu_event_destroy(arg(e));
    case 'e_set':
      return method ? e.set() : qemu_event_set(arg(e));
    case 'e_reset':
      return method ? e.reset() : qemu_event_reset(arg(e));
    case 'e_wait':
      return method ? e.wait() : qemu_event_wait(arg(e));
    case 'e_timedwait':
      return method ? e.timedWait(ms) : qemu_event_timedwait(arg(e), ms);
    case 'c_init':
      return method ? c.init() : qemu_cond_init(arg(c));
    case 'c_destroy':
      return method ? c.destroy() : qemu_cond_destroy(arg(c));
    case 'c_signal':
      return method ? c.signal() : qemu_cond_signal(arg(c));
    case 'c_broadcast':
      return method ? c.broadcast() : qemu_cond_broadcast(arg(c));
    case 'c_wait':
      return method ? c.wait(m) : qemu_cond_wait(arg(c), m);
    case 'c_timedwait':
      return method ? c.timedWait(m, ms) : qemu_cond_timedwait(arg(c), m, ms);
  }
}

// ---- outcomes through shared memory (lock-step fuzz) ---------------------------------------------------------

/** Words one outcome takes in shared memory. */
export const OUTCOME_WORDS = 4;
const K_UNDEFINED = 1;
const K_NUMBER = 2;
const K_BOOLEAN = 3;
const K_ERR = 4;
const K_TYPE_ERROR = 5;
const K_BAD = 6;
const FUNCS = [...new Set(Object.values(FUNC_OF))];

export function encodeOutcome(o: Outcome, w: Int32Array, at: number): void {
  let kind = K_BAD;
  let a = 0;
  let b = 0;
  if ('ok' in o) {
    if (o.ok === undefined) kind = K_UNDEFINED;
    else if (typeof o.ok === 'boolean') [kind, a] = [K_BOOLEAN, o.ok ? 1 : 0];
    else [kind, a] = [K_NUMBER, o.ok | 0];
  } else if ('err' in o) {
    [kind, a, b] = [K_ERR, CODES.indexOf(o.err), FUNCS.indexOf(o.func)];
  } else if ('typeError' in o) {
    kind = K_TYPE_ERROR;
  }
  w[at] = kind;
  w[at + 1] = a;
  w[at + 2] = b;
}

export function decodeOutcome(w: Int32Array, at: number): Outcome {
  const [kind, a, b] = [w[at], w[at + 1], w[at + 2]];
  switch (kind) {
    case K_UNDEFINED:
      return { ok: undefined };
    case K_NUMBER:
      return { ok: a };
    case K_BOOLEAN:
      return { ok: a === 1 };
    case K_ERR:
      return { err: CODES[a], func: FUNCS[b] ?? `unknown function #${b}` };
    case K_TYPE_ERROR:
      return { typeError: true };
    default:
      return { bad: 'the thread saw an unexpected exception (its join reports it)' };
  }
}
