/**
 * The soak's thread function: until the stop word is set, runs the activities of layout.ts in a random
 * order (seeded per thread), each a few operations long, checking its invariant as it goes. A broken
 * invariant is a violation: counted in shared memory and described on stderr at once (a worker's
 * console output would wait for the main thread's event loop).
 *
 * Liveness: the only untimed waits are the event rounds (whose setter always comes, see eventRound) and
 * the lock acquisitions, which never nest across activities; cond and buffer waits are timed and give up
 * after a while (counted, not a violation), so one slow activity never stalls the others. A lost wake-up
 * therefore shows as a thread that stops making progress, which the main thread's watchdog reports.
 */
import { writeSync } from 'node:fs';
import {
  qemu_cond_broadcast,
  qemu_cond_signal,
  qemu_cond_timedwait,
  qemu_event_reset,
  qemu_event_set,
  qemu_event_timedwait,
  qemu_event_wait,
  qemu_lockcnt_count,
  qemu_lockcnt_dec,
  qemu_lockcnt_dec_and_lock,
  qemu_lockcnt_dec_if_lock,
  qemu_lockcnt_inc,
  qemu_lockcnt_inc_and_unlock,
  qemu_lockcnt_lock,
  qemu_lockcnt_unlock,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_rec_mutex_lock,
  qemu_rec_mutex_unlock,
  qemu_sem_post,
  qemu_sem_timedwait,
  qemu_spin_lock,
  qemu_spin_unlock,
} from 'qemu-thread';
import {
  CAPACITY,
  ITEM_SHIFT,
  KINDS,
  type Kind,
  SEM_UNITS,
  type SoakArg,
  T_CONSUMED,
  T_EXPECT,
  T_FLAG,
  T_PRODUCED,
  T_PROGRESS,
  T_SET_DONE,
  threadWord,
  W,
} from './layout.js';

const SEQ_MASK = (1 << (31 - ITEM_SHIFT)) - 1;

/** A small deterministic PRNG (mulberry32), so a thread's order of activities is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function soakThread(arg: SoakArg): number {
  try {
    return run(arg);
  } finally {
    Atomics.add(arg.words, W.DONE, 1);
    Atomics.notify(arg.words, W.DONE);
  }
}

function run(arg: SoakArg): number {
  const { words: w, p, index: me, threads: n } = arg;
  const random = prng(arg.seed);
  const stopped = () => Atomics.load(w, W.STOP) !== 0;
  const count = (kind: Kind) => {
    Atomics.add(w, W.OPS + KINDS.indexOf(kind), 1);
    Atomics.add(w, threadWord(me, T_PROGRESS), 1);
  };
  const violation = (text: string) => {
    Atomics.add(w, W.VIOLATIONS, 1);
    writeSync(2, `soak: VIOLATION in thread ${me}: ${text}\n`);
  };
  /** Enter / leave a critical section's occupancy gauge: two threads inside at once is a violation. */
  const enter = (gauge: number, what: string) => {
    if (Atomics.add(w, gauge, 1) !== 0) violation(`two threads inside the ${what} critical section`);
  };
  const leave = (gauge: number) => Atomics.sub(w, gauge, 1);
  /** A non-atomic increment: a second thread inside the same lock would lose an update. */
  const plainBump = (plain: number, atomic: number) => {
    const v = w[plain];
    Atomics.add(w, atomic, 1);
    w[plain] = (v + 1) | 0;
  };

  let eventRounds = 0;
  let produced = 0;
  const parity = me % 2;

  const activities: Record<Kind, () => void> = {
    mutex() {
      for (let i = 0; i < 64; i++) {
        qemu_mutex_lock(p.m);
        enter(W.M_INSIDE, 'mutex');
        plainBump(W.M_PLAIN, W.M_ATOMIC);
        leave(W.M_INSIDE);
        qemu_mutex_unlock(p.m);
        // --inject-fault mutex: an update outside the lock, which the final check must catch.
        if (arg.fault === 'mutex' && me === 0 && i === 0) w[W.M_PLAIN]++;
        count('mutex');
      }
    },

    'rec-mutex'() {
      for (let i = 0; i < 32; i++) {
        qemu_rec_mutex_lock(p.r);
        qemu_rec_mutex_lock(p.r);
        enter(W.R_INSIDE, 'rec mutex');
        if (p.r.depthHeldBySelf() !== 2) violation(`rec mutex depth ${p.r.depthHeldBySelf()}, wanted 2`);
        plainBump(W.R_PLAIN, W.R_ATOMIC);
        leave(W.R_INSIDE);
        qemu_rec_mutex_unlock(p.r);
        // Still held once: the section must stay exclusive.
        enter(W.R_INSIDE, 'rec mutex (after the inner unlock)');
        if (p.r.depthHeldBySelf() !== 1) violation(`rec mutex depth ${p.r.depthHeldBySelf()}, wanted 1`);
        leave(W.R_INSIDE);
        qemu_rec_mutex_unlock(p.r);
        count('rec-mutex');
      }
    },

    spin() {
      for (let i = 0; i < 64; i++) {
        qemu_spin_lock(p.s);
        enter(W.S_INSIDE, 'spin');
        plainBump(W.S_PLAIN, W.S_ATOMIC);
        leave(W.S_INSIDE);
        qemu_spin_unlock(p.s);
        count('spin');
      }
    },

    /**
     * QEMU's lockcnt pattern: visitors (count > 0) read a "list" without the lock; a writer takes the lock,
     * and only if the count is 0 frees the list and publishes a new one. A visitor that ever sees the list
     * it reads freed means the count went 0 -> 1 while the lock was held (or a visitor was not counted).
     */
    lockcnt() {
      for (let i = 0; i < 16; i++) {
        qemu_lockcnt_inc(p.l);
        const ptr = Atomics.load(w, W.L_PTR);
        for (let k = 0; k < 8; k++) {
          if (Atomics.load(w, W.L_ALIVE) !== ptr) {
            violation(`lockcnt visitor saw list ${ptr} freed (alive = ${Atomics.load(w, W.L_ALIVE)})`);
            break;
          }
        }
        // Leave in one of QEMU's three ways; the locking ones free and replace the list when last out.
        const how = random();
        if (how < 0.4) {
          qemu_lockcnt_dec(p.l);
        } else if (how < 0.7 ? qemu_lockcnt_dec_and_lock(p.l) : qemu_lockcnt_dec_if_lock(p.l)) {
          replaceList();
          qemu_lockcnt_unlock(p.l);
        } else if (how >= 0.7) {
          qemu_lockcnt_dec(p.l); // dec_if_lock did nothing: still a visitor
        }
        // A writer: under the lock, free the list only if nobody visits; then become a visitor atomically.
        if (random() < 0.3) {
          qemu_lockcnt_lock(p.l);
          if (qemu_lockcnt_count(p.l) === 0) replaceList();
          qemu_lockcnt_inc_and_unlock(p.l);
          if (Atomics.load(w, W.L_ALIVE) !== Atomics.load(w, W.L_PTR)) {
            violation('lockcnt: list freed right after inc_and_unlock');
          }
          qemu_lockcnt_dec(p.l);
        }
        count('lockcnt');
      }
    },

    semaphore() {
      for (let i = 0; i < 16; i++) {
        if (qemu_sem_timedwait(p.sem, 20) !== 0) continue; // all units busy for a while: try later
        const inUse = Atomics.add(w, W.SEM_IN_USE, 1) + 1;
        if (inUse > SEM_UNITS) violation(`${inUse} semaphore units in use, only ${SEM_UNITS} exist`);
        Atomics.sub(w, W.SEM_IN_USE, 1);
        qemu_sem_post(p.sem);
        count('semaphore');
      }
    },

    event: () => eventRound(),

    /** Odd and even threads take turns moving the ball; the predicate is read and written under cm. */
    cond() {
      for (let i = 0; i < 4; i++) {
        qemu_mutex_lock(p.cm);
        let mine = (w[W.C_BALL] & 1) === parity;
        // Wait (briefly) for the other side's move; give the activity up if it does not come.
        for (let tries = 0; !mine && tries < 2 && !stopped(); tries++) {
          qemu_cond_timedwait(p.cc, p.cm, 2);
          if (!p.cm.isHeldBySelf()) violation('qemu_cond_timedwait returned without the mutex');
          mine = (w[W.C_BALL] & 1) === parity;
        }
        if (mine) {
          if (w[W.C_BALL] !== Atomics.load(w, W.C_SHADOW)) {
            violation(`cond ball ${w[W.C_BALL]} != shadow ${Atomics.load(w, W.C_SHADOW)}`);
          }
          w[W.C_BALL] = (w[W.C_BALL] + 1) | 0;
          Atomics.add(w, W.C_SHADOW, 1);
          if (random() < 0.5) qemu_cond_broadcast(p.cc);
          else qemu_cond_signal(p.cc);
          count('cond');
        }
        qemu_mutex_unlock(p.cm);
        if (!mine) break;
      }
    },

    /** Put two items, take two: each take must be the next item of its producer (none lost, none twice). */
    buffer() {
      for (let i = 0; i < 2; i++) {
        qemu_mutex_lock(p.bm);
        let room = w[W.B_FILL] < CAPACITY;
        for (let tries = 0; !room && tries < 2 && !stopped(); tries++) {
          qemu_cond_timedwait(p.notFull, p.bm, 5);
          room = w[W.B_FILL] < CAPACITY;
        }
        if (room) {
          const slot = (w[W.B_HEAD] + w[W.B_FILL]) % CAPACITY;
          w[W.B_SLOTS + slot] = ((produced & SEQ_MASK) << ITEM_SHIFT) | me;
          w[W.B_FILL]++;
          produced++;
          Atomics.add(w, threadWord(me, T_PRODUCED), 1);
          qemu_cond_signal(p.notEmpty);
        }
        qemu_mutex_unlock(p.bm);
      }
      for (let i = 0; i < 2; i++) {
        qemu_mutex_lock(p.bm);
        let any = w[W.B_FILL] > 0;
        for (let tries = 0; !any && tries < 2 && !stopped(); tries++) {
          qemu_cond_timedwait(p.notEmpty, p.bm, 5);
          any = w[W.B_FILL] > 0;
        }
        if (any) {
          const item = w[W.B_SLOTS + w[W.B_HEAD]];
          w[W.B_HEAD] = (w[W.B_HEAD] + 1) % CAPACITY;
          w[W.B_FILL]--;
          const from = item & ((1 << ITEM_SHIFT) - 1);
          const seq = item >>> ITEM_SHIFT;
          const expect = threadWord(from, T_EXPECT);
          if (from >= n || seq !== (w[expect] & SEQ_MASK)) {
            violation(`buffer: got item ${seq} of producer ${from}, expected item ${w[expect] & SEQ_MASK}`);
          }
          w[expect] = (w[expect] + 1) | 0;
          Atomics.add(w, threadWord(from, T_CONSUMED), 1);
          qemu_cond_signal(p.notFull);
          count('buffer');
        }
        qemu_mutex_unlock(p.bm);
      }
    },
  };

  /** The writer's step, under the lockcnt lock with no visitor: free the list, publish a new one. */
  function replaceList(): void {
    const old = Atomics.load(w, W.L_PTR);
    Atomics.store(w, W.L_ALIVE, 0); // freed: a visitor inside now would see it
    for (let k = 0; k < 16; k++) Atomics.load(w, W.L_PTR);
    Atomics.store(w, W.L_PTR, old + 1);
    Atomics.store(w, W.L_ALIVE, old + 1);
  }

  /**
   * Round k of the event ring: set the previous thread's event (its flag first, as QEMU's idiom wants),
   * then wait, on this thread's own event, until the next thread has done the same in its round k. Only
   * the owner resets an event, so a set that completed after the reset must be seen: checked exactly.
   * The thread with the lowest round can always go on (its neighbour is at least as far), so the ring
   * never deadlocks; at the end the main thread sets every event to release the waiters.
   */
  function eventRound(): void {
    const k = ++eventRounds;
    const prev = (me + n - 1) % n;
    Atomics.add(w, threadWord(prev, T_FLAG), 1);
    qemu_event_set(p.events[prev]);
    Atomics.add(w, threadWord(prev, T_SET_DONE), 1);
    const flag = threadWord(me, T_FLAG);
    while (Atomics.load(w, flag) < k && !stopped()) {
      qemu_event_reset(p.events[me]);
      if (Atomics.load(w, flag) >= k || stopped()) break;
      if (Atomics.load(w, threadWord(me, T_SET_DONE)) >= k && !qemu_event_timedwait(p.events[me], 0)) {
        violation(`event: set (round ${k}) completed after the reset, but the event is not set`);
      }
      qemu_event_wait(p.events[me]);
    }
    if (!stopped()) count('event');
  }

  // --inject-fault stall: this thread stops making progress, which the watchdog must catch.
  if (arg.fault === 'stall' && me === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);

  let cycles = 0;
  while (!stopped()) {
    // Every activity once per cycle, in a random order.
    const order = [...KINDS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const kind of order) {
      if (stopped()) break;
      activities[kind]();
    }
    cycles++;
  }
  return cycles;
}
