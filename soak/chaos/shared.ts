/**
 * What the chaos soak's threads (workers, controller, watchdog) do alike: tell a dead token from a live
 * one, report a violation, check and repair the shared state after EOWNERDEAD, and describe everything
 * for a hang report.
 */
import { writeSync } from 'node:fs';
import { QemuThread, QemuThreadError } from 'qemu-thread';
import {
  ACCOUNTS,
  ACTIVITIES,
  BANK,
  type ChaosPrims,
  G,
  generationOf,
  INITIAL,
  J,
  JOINEES,
  joineeWord,
  LOCKS,
  type LockName,
  MAIN_SLOT,
  MAIN_TOKEN,
  P,
  S,
  STATES,
  slotOfToken,
  slotWord,
  TICKETS,
  VIOLATION_KINDS,
  type ViolationKind,
} from './layout.js';

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
  ms: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

/** `Atomics.waitAsync` (ES2024, typed here since the project compiles against an older lib). */
export async function waitAsync(words: Int32Array, index: number, value: number, ms: number): Promise<void> {
  const pending = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(words, index, value, ms);
  if (pending.async) await pending.value;
}

/** A token's thread has ended: its slot has a later generation, or the controller is terminating it. */
export function isDeadToken(w: Int32Array, token: number): boolean {
  if (token === MAIN_TOKEN) return false;
  const slot = slotOfToken(token);
  const current = Atomics.load(w, slotWord(slot, P.TOKEN));
  return generationOf(token) < generationOf(current) || Atomics.load(w, slotWord(slot, P.KILLING)) === token;
}

export function describeToken(token: number): string {
  if (token === 0) return 'nobody';
  if (token === MAIN_TOKEN) return 'the controller';
  return `slot ${slotOfToken(token)} generation ${generationOf(token)}`;
}

/** Counts a violation and describes it on stderr at once (a worker's console would wait for main). */
export function violation(w: Int32Array, kind: ViolationKind, text: string): void {
  Atomics.add(w, G.VIOLATIONS + VIOLATION_KINDS.indexOf(kind), 1);
  writeSync(2, `chaos: VIOLATION (${kind}): ${text}\n`);
}

export function totalViolations(w: Int32Array): number {
  let n = 0;
  for (let i = 0; i < VIOLATION_KINDS.length; i++) n += Atomics.load(w, G.VIOLATIONS + i);
  return n;
}

export function isOwnerDead(error: unknown): boolean {
  return error instanceof QemuThreadError && error.code === 'EOWNERDEAD';
}

/**
 * For a lock call's catch: rethrows anything but EOWNERDEAD, and counts the recovery at once (before the
 * caller can be terminated, which would leave a second EOWNERDEAD for the next locker).
 */
export function ownerDead(w: Int32Array, error: unknown, lock: LockName): void {
  if (!isOwnerDead(error)) throw error;
  countRecovery(w, lock);
}

/** The thread id that an EOWNERDEAD error says ended while holding the lock. */
export function deadThreadOf(error: unknown): number {
  const m = /thread (\d+) ended while holding it/.exec(error instanceof Error ? error.message : '');
  return m ? Number(m[1]) : -1;
}

/** The slot whose live thread has this thread id, or -1. */
export function liveSlotOfThread(w: Int32Array, tid: number, threads: number): number {
  for (let s = 0; s < threads; s++) {
    const token = Atomics.load(w, slotWord(s, P.TOKEN));
    if (Atomics.load(w, slotWord(s, P.TID)) === tid && token !== 0 && !isDeadToken(w, token)) return s;
  }
  return -1;
}

export function countRecovery(w: Int32Array, lock: LockName): void {
  Atomics.add(w, G.RECOVERIES + LOCKS.indexOf(lock), 1);
}

/**
 * The holder gauge of a lock, right after the caller `me` took it (`recovered`: with EOWNERDEAD, whose
 * error is `error`). Every holder writes its token into the gauge after it takes the lock and clears it
 * before it lets go, so a taker must find the gauge empty, or, only when it got EOWNERDEAD, holding a dead
 * token (a thread can die between taking the lock and writing the gauge, or between clearing it and
 * letting go: then the gauge is empty). Finding a dead token without EOWNERDEAD means a dead thread's lock
 * came back unreported; finding a live one, two holders at once.
 */
export function enterGauge(
  w: Int32Array,
  gauge: number,
  me: number,
  lock: LockName,
  threads: number,
  recovered: boolean,
  error?: unknown,
): void {
  const seen = Atomics.exchange(w, gauge, me);
  if (recovered) {
    if (seen !== 0 && !isDeadToken(w, seen)) {
      violation(w, 'false-eownerdead', `${lock}: EOWNERDEAD, but its holder ${describeToken(seen)} is alive`);
    }
    const tid = deadThreadOf(error);
    const live = tid >= 0 ? liveSlotOfThread(w, tid, threads) : -1;
    if (live >= 0) {
      violation(w, 'false-eownerdead', `${lock}: EOWNERDEAD names thread ${tid}, alive in slot ${live}`);
    }
  } else if (seen !== 0) {
    if (isDeadToken(w, seen)) {
      violation(
        w,
        'missing-eownerdead',
        `${lock}: taken without EOWNERDEAD from dead ${describeToken(seen)}`,
      );
    } else if (seen !== me) {
      violation(w, 'mutual-exclusion', `${lock}: taken while ${describeToken(seen)} holds it`);
    }
  }
}

/** Clears the holder gauge before the caller lets the lock go; it must still be the caller's. */
export function leaveGauge(w: Int32Array, gauge: number, me: number, lock: LockName): void {
  const seen = Atomics.compareExchange(w, gauge, me, 0);
  if (seen !== me) violation(w, 'mutual-exclusion', `${lock}: ${describeToken(seen)} entered while held`);
}

export function bankSum(w: Int32Array, bank: number): number {
  let sum = 0;
  for (let i = 0; i < ACCOUNTS; i++) sum += Atomics.load(w, bank + BANK.ACC + i);
  return sum;
}

/**
 * After EOWNERDEAD on a bank's lock: the dead holder may have stopped half-way through a transfer. Its log
 * holds the transfer's final values, written before the first account changed and marked valid last, so
 * redoing a valid log completes the transfer, and an invalid one means no account was touched.
 */
export function repairBank(w: Int32Array, bank: number, what: string): void {
  if (Atomics.load(w, bank + BANK.LOG_VALID) === 1) {
    Atomics.store(
      w,
      bank + BANK.ACC + Atomics.load(w, bank + BANK.LOG_FROM),
      Atomics.load(w, bank + BANK.LOG_FROM_V),
    );
    Atomics.store(
      w,
      bank + BANK.ACC + Atomics.load(w, bank + BANK.LOG_TO),
      Atomics.load(w, bank + BANK.LOG_TO_V),
    );
    Atomics.store(w, bank + BANK.LOG_VALID, 0);
  }
  checkBank(w, bank, what);
}

export function checkBank(w: Int32Array, bank: number, what: string): void {
  const sum = bankSum(w, bank);
  if (sum !== ACCOUNTS * INITIAL)
    violation(w, 'conservation', `${what}: accounts sum to ${sum}, not ${ACCOUNTS * INITIAL}`);
}

/**
 * One transfer under the bank's lock, logged first (see repairBank). `midway` runs between the two
 * account writes (where the holder may be terminated: the log must then be redone).
 */
export function transfer(
  w: Int32Array,
  bank: number,
  random: () => number,
  what: string,
  midway?: () => void,
): void {
  checkBank(w, bank, what);
  const from = Math.floor(random() * ACCOUNTS);
  const to = (from + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS;
  const fromV = Atomics.load(w, bank + BANK.ACC + from);
  const toV = Atomics.load(w, bank + BANK.ACC + to);
  const amount = Math.floor(random() * 50) - 25;
  Atomics.store(w, bank + BANK.LOG_FROM, from);
  Atomics.store(w, bank + BANK.LOG_FROM_V, fromV - amount);
  Atomics.store(w, bank + BANK.LOG_TO, to);
  Atomics.store(w, bank + BANK.LOG_TO_V, toV + amount);
  Atomics.store(w, bank + BANK.LOG_VALID, 1);
  Atomics.store(w, bank + BANK.ACC + from, fromV - amount);
  // A second holder in here would have read the same values: its transfer would undo part of this one.
  for (let k = 0; k < 8; k++) Atomics.load(w, bank + BANK.ACC + to);
  midway?.();
  Atomics.store(w, bank + BANK.ACC + to, toV + amount);
  Atomics.store(w, bank + BANK.LOG_VALID, 0);
  checkBank(w, bank, what);
}

/**
 * After EOWNERDEAD on the lockcnt's lock: a dead writer may have freed the list and not yet published the
 * new one (worker.ts: replaceList, which frees, then publishes the new pointer, then marks it alive).
 */
export function repairList(w: Int32Array): void {
  Atomics.store(w, G.L_ALIVE, Atomics.load(w, G.L_PTR));
}

/** Tickets held by every slot (the controller's included). */
export function ticketsHeld(w: Int32Array): number {
  let held = 0;
  for (let s = 0; s <= MAIN_SLOT; s++) held += Atomics.load(w, slotWord(s, P.HOLD_T));
  return held;
}

/**
 * Under the ticket mutex: free + held must be TICKETS, except right after EOWNERDEAD when the dead holder
 * was in the middle of an update (T_PENDING holds its token): then the count is rebuilt from the holdings,
 * which each thread writes before it changes the free count.
 */
export function checkTickets(w: Int32Array, recovered: boolean): void {
  const pending = Atomics.load(w, G.T_PENDING);
  if (recovered && pending !== 0) {
    if (!isDeadToken(w, pending))
      violation(w, 'conservation', `tickets: update of live ${describeToken(pending)} pending`);
    Atomics.store(w, G.T_FREE, TICKETS - ticketsHeld(w));
    Atomics.store(w, G.T_PENDING, 0);
  } else if (pending !== 0) {
    violation(w, 'conservation', `tickets: update of ${describeToken(pending)} still pending`);
  }
  const free = Atomics.load(w, G.T_FREE);
  const held = ticketsHeld(w);
  if (free + held !== TICKETS || free < 0) {
    violation(w, 'conservation', `tickets: ${free} free + ${held} held, not ${TICKETS}`);
  }
}

/**
 * Moves `n` tickets between the pool and slot `slot` (n > 0: taken), logged as pending while it does;
 * `midway` runs half-way through (where the mover may be terminated).
 */
export function moveTickets(
  w: Int32Array,
  slot: number,
  token: number,
  n: number,
  midway?: () => void,
): void {
  Atomics.store(w, G.T_PENDING, token);
  Atomics.add(w, slotWord(slot, P.HOLD_T), n);
  midway?.();
  w[G.T_FREE] -= n; // a plain read-modify-write: a second holder would lose an update
  Atomics.store(w, G.T_PENDING, 0);
}

export function stateName(state: number): string {
  return STATES[state] ?? `state ${state}`;
}

export function joineeHandles(buffer: SharedArrayBuffer): QemuThread[] {
  return Array.from({ length: JOINEES }, (_, j) => new QemuThread(buffer, j * QemuThread.BYTES));
}

/**
 * Why a thread may be parked for good although it should have been woken: its predicate holds while it
 * sleeps. Empty when nothing says so (then the report is a plain hang: deadlock, or a lock never freed).
 */
export function lostWakeups(w: Int32Array, p: ChaosPrims, threads: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < threads; s++) {
    const state = Atomics.load(w, slotWord(s, P.STATE));
    const who = `slot ${s} (thread ${Atomics.load(w, slotWord(s, P.TID))})`;
    if (state === S['cond-wait'] && Atomics.load(w, G.T_FREE) > 0) {
      out.push(`${who} sleeps in the ticket cond wait while ${Atomics.load(w, G.T_FREE)} ticket(s) are free`);
    }
    const seen = Atomics.load(w, slotWord(s, P.GATE_SEEN));
    if (state === S['gate-wait'] && seen >= 0 && Atomics.load(w, G.GATE_GEN) !== seen) {
      out.push(
        `${who} sleeps at the gate (generation ${seen}) although it opened (now ${Atomics.load(w, G.GATE_GEN)})`,
      );
    }
    if (state === S['sem-wait'] && p.sem.value() > 0) {
      out.push(`${who} sleeps in a semaphore wait while the count is ${p.sem.value()}`);
    }
    const want = Atomics.load(w, slotWord(s, P.WANT));
    if (state === S['event-wait'] && want > 0 && Atomics.load(w, G.TICK) >= want && p.events[s].isSet()) {
      out.push(
        `${who} sleeps in an event wait while its event is set (tick ${Atomics.load(w, G.TICK)} >= ${want})`,
      );
    }
  }
  return out;
}

/** Everything a hang report shows: each thread's state, each primitive's holder and waiters. */
export function describeAll(
  w: Int32Array,
  p: ChaosPrims,
  threads: number,
  joinees: SharedArrayBuffer,
): string {
  const now = Atomics.load(w, G.NOW_MS);
  const lines: string[] = ['threads:'];
  for (let s = 0; s < threads; s++) {
    const at = (i: number) => Atomics.load(w, slotWord(s, i));
    const since = now - at(P.STATE_SINCE);
    lines.push(
      `  slot ${s}: thread ${at(P.TID)}, ${describeToken(at(P.TOKEN))}${at(P.ASYNC) ? ' (async)' : ''}, ` +
        `${stateName(at(P.STATE))} for ${since} ms${at(P.ACTIVITY) ? ` in ${ACTIVITIES[at(P.ACTIVITY) - 1]}` : ''}, ` +
        `${at(P.PROGRESS)} ops, tickets ${at(P.HOLD_T)}, ` +
        `sem ${at(P.SEM_HELD)}/${at(P.SEM_INTENT)}, visit ${at(P.L_VISIT)}, want ${at(P.WANT)}, ` +
        `gate ${at(P.GATE_SEEN)}, joining ${at(P.JOINING) - 1}${at(P.PENDING) ? ', termination pending' : ''}`,
    );
  }
  const mutex = (name: string, m: ChaosPrims['m']) => {
    const holder = m.holder();
    const waiters = m.waiters().map((x) => x.threadId);
    return `  ${name}: ${String(m)}, holder ${holder ? holder.threadId : 'none'}, parked [${waiters.join(', ')}]`;
  };
  lines.push('primitives:');
  lines.push(mutex('mutex (bank)', p.m));
  lines.push(`  rec mutex: ${String(p.r)}`);
  lines.push(mutex('ticket mutex', p.tm));
  lines.push(
    `  ticket cond: ${String(p.tc)}, parked [${p.tc
      .parkedThreads()
      .map((x) => x.threadId)
      .join(', ')}], ` +
      `free tickets ${Atomics.load(w, G.T_FREE)}, held by the controller ${Atomics.load(w, slotWord(MAIN_SLOT, P.HOLD_T))}`,
  );
  lines.push(mutex('gate mutex', p.gm));
  lines.push(
    `  gate cond: ${String(p.gc)}, parked [${p.gc
      .parkedThreads()
      .map((x) => x.threadId)
      .join(', ')}], ` + `generation ${Atomics.load(w, G.GATE_GEN)}`,
  );
  lines.push(
    `  semaphore: ${String(p.sem)}, held by the controller ${Atomics.load(w, slotWord(MAIN_SLOT, P.SEM_HELD))}`,
  );
  lines.push(`  spin: ${String(p.s)}`);
  lines.push(`  lockcnt: ${String(p.l)}`);
  p.events.slice(0, threads).forEach((e, i) => {
    lines.push(`  event ${i}: ${String(e)}`);
  });
  lines.push(`  tick ${Atomics.load(w, G.TICK)}`);
  const handles = joineeHandles(joinees);
  for (let j = 0; j < JOINEES; j++) {
    const at = (i: number) => Atomics.load(w, joineeWord(j, i));
    lines.push(
      `  joinee ${j}: ${String(handles[j])}, state ${['free', 'ready', 'claimed'][at(J.STATE)]}, ` +
        `joiner ${describeToken(at(J.CLAIM))}, ${at(J.SIZE)} bytes, mode ${at(J.MODE)}, flag ${at(J.FLAG)}` +
        `${at(J.KILLED) ? ', terminated' : ''}`,
    );
  }
  const lost = lostWakeups(w, p, threads);
  if (lost.length > 0) lines.push('lost wake-ups:', ...lost.map((l) => `  ${l}`));
  return lines.join('\n');
}
