/**
 * A chaos soak worker: until STOP, runs the activities of layout.ts in a random order, checking each one's
 * invariant as it goes, while the controller terminates threads (this one included) at random moments.
 * Threads in async mode use the async variant of every wait that has one (lockAsync, waitAsync, joinAsync).
 *
 * What a thread publishes for the others and for the controller, so that its death is accounted for
 * exactly: its STATE (what it is doing, which is how a termination is classified), and before each change
 * to shared state, the intent (tickets held, semaphore units held or about to be, lockcnt visits, the
 * joinee it joins). The controller reads these after it has terminated the thread, returns what the dead
 * thread held (tickets, units, visits), and hands its join claims to others; a lock it held comes back to
 * its next locker with EOWNERDEAD, who repairs what it protects from the intent log (shared.ts).
 *
 * The fence: for a state in a skipped defect class, the thread stores its STATE and then loads PENDING;
 * the controller stores PENDING and then loads STATE. With sequentially consistent atomics one of them sees
 * the other: either the controller sees the skipped state and gives the termination up, or this thread sees
 * PENDING and waits, outside the skipped region, to be terminated.
 *
 * Liveness: a thread waits without a time-out only for something that is sure to come: a ticket or a
 * semaphore unit (every holder gives it back within its activity; the controller returns a dead holder's),
 * the gate (opened by the next arrivals, and by the controller at every audit), its event (set by the
 * controller's next ticks), a joinee's end (joinees run a few milliseconds), a lock (held briefly, or by a
 * dead thread: EOWNERDEAD). So a thread that stops making progress is a lost wake-up or a hang, which the
 * watchdog reports.
 */
import { threadId } from 'node:worker_threads';
import { type QemuMutex, type QemuThread, QemuThreadError } from 'qemu-thread';
import {
  ACK_DONE,
  ACK_IN_POSITION,
  ACK_RECOVERED,
  ACTIVITIES,
  type Activity,
  BANK,
  type ChaosArg,
  encodeRequest,
  G,
  isStreamed,
  J,
  JOINEE_TARGET,
  JOINEES,
  JS_CLAIMED,
  JS_FREE,
  JS_READY,
  joineeWord,
  LOCKS,
  type LockName,
  MAIN_SLOT,
  P,
  REQ_CLAIMED,
  S,
  SCRIPT,
  SEM_UNITS,
  STATES,
  type StateName,
  slotWord,
} from './layout.js';
import {
  checkBank,
  checkTickets,
  enterGauge,
  joineeHandles,
  leaveGauge,
  moveTickets,
  ownerDead,
  prng,
  repairBank,
  repairList,
  transfer,
  violation,
} from './shared.js';
import { checkJoinOutcome, type Outcome } from './verify.js';

const nap = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps `ms` on a private word (nobody notifies it). */
const sleep = (ms: number) => Atomics.wait(nap, 0, 0, ms);

export async function chaosWorker(arg: ChaosArg): Promise<number> {
  const worker = new Worker(arg);
  try {
    return await worker.run();
  } catch (error) {
    // A broken invariant is counted where it is seen; an exception here is one the soak does not expect
    // (EDEADLK, EPERM, ENOTRECOVERABLE, a time-out...). Stop the run with this thread's state intact.
    violation(
      arg.words,
      'unexpected-error',
      `slot ${arg.slot} (thread ${threadId}): ${error instanceof Error ? error.stack : String(error)}`,
    );
    Atomics.store(arg.words, G.FATAL, 1);
    Atomics.notify(arg.words, G.FATAL);
    for (;;) sleep(60_000);
  }
}

/** A robust mutex with its holder gauge, its states, and the repair of what it protects (shared.ts). */
interface RobustLock {
  m: QemuMutex;
  gauge: number;
  name: LockName;
  wait: StateName;
  held: StateName;
  repair: () => void;
}

class Worker {
  readonly w: Int32Array;
  readonly me: number;
  readonly slot: number;
  readonly random: () => number;
  readonly handles: QemuThread[];
  readonly bankLock: RobustLock;
  readonly ticketLock: RobustLock;
  readonly gateLock: RobustLock;

  constructor(readonly arg: ChaosArg) {
    const w = arg.words;
    const { p } = arg;
    this.w = w;
    this.me = arg.token;
    this.slot = arg.slot;
    this.random = prng(arg.seed);
    this.handles = joineeHandles(arg.joinees);
    const held = { wait: 'cond-mutex-wait', held: 'cond-mutex-held' } as const;
    this.bankLock = {
      m: p.m,
      gauge: G.BANK_M + BANK.HOLDER,
      name: 'mutex',
      wait: 'mutex-wait',
      held: 'mutex-held',
      repair: () => repairBank(w, G.BANK_M, 'mutex bank'),
    };
    this.ticketLock = {
      m: p.tm,
      gauge: G.T_HOLDER,
      name: 'ticket-mutex',
      ...held,
      repair: () => checkTickets(w, true),
    };
    this.gateLock = { m: p.gm, gauge: G.GATE_HOLDER, name: 'gate-mutex', ...held, repair: () => {} };
  }

  my(which: number): number {
    return slotWord(this.slot, which);
  }

  get stopping(): boolean {
    return Atomics.load(this.w, G.STOP) !== 0;
  }

  get quiescing(): boolean {
    return Atomics.load(this.w, G.QUIESCE) !== 0;
  }

  /** Publishes what this thread does now; fences first if the state is one that must not be terminated. */
  state(name: StateName): void {
    const w = this.w;
    const state = S[name];
    for (;;) {
      Atomics.store(w, this.my(P.STATE), state);
      Atomics.store(w, this.my(P.STATE_SINCE), Atomics.load(w, G.NOW_MS));
      if (((this.arg.skipMask >>> state) & 1) === 0) {
        this.armPoint();
        return;
      }
      if (Atomics.load(w, this.my(P.PENDING)) === 0) return;
      Atomics.store(w, this.my(P.STATE), S.fenced);
      while (Atomics.load(w, this.my(P.PENDING)) !== 0) Atomics.wait(w, this.my(P.PENDING), 1, 100);
    }
  }

  /**
   * If the controller has armed the state this thread is in (G.ARM), takes the arming and asks to be
   * terminated here, waiting until it is (or the request is declined).
   */
  armPoint(): void {
    const w = this.w;
    const armed = Atomics.load(w, G.ARM);
    if (armed === 0 || armed !== Atomics.load(w, this.my(P.STATE)) + 1) return;
    if (Atomics.compareExchange(w, G.ARM, armed, 0) !== armed) return;
    this.requestKill(this.me, STATES[armed - 1], true);
  }

  /** EOWNERDEAD recoveries of `lock` so far, by every thread. */
  recoveries(lock: LockName): number {
    return Atomics.load(this.w, G.RECOVERIES + LOCKS.indexOf(lock));
  }

  progress(): void {
    Atomics.add(this.w, this.my(P.PROGRESS), 1);
  }

  async run(): Promise<number> {
    const w = this.w;
    Atomics.store(w, this.my(P.TID), threadId);
    Atomics.store(w, this.my(P.ASYNC), this.arg.async ? 1 : 0);
    this.state('running');
    if (this.arg.fault === 'stall' && this.slot === 0) {
      // --inject-fault stall: this thread stops making progress, which the watchdog must catch.
      for (;;) sleep(60_000);
    }
    let cycles = 0;
    while (!this.stopping) {
      if (this.quiescing) await this.barrier();
      const order = [...ACTIVITIES];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const activity of order) {
        if (this.stopping || this.quiescing) break;
        Atomics.store(w, this.my(P.ACTIVITY), ACTIVITIES.indexOf(activity) + 1);
        await this.activity(activity);
        Atomics.store(w, this.my(P.ACTIVITY), 0);
        Atomics.add(w, G.OPS + ACTIVITIES.indexOf(activity), 1);
        this.state('running');
      }
      cycles++;
    }
    return cycles;
  }

  async activity(kind: Activity): Promise<void> {
    switch (kind) {
      case 'bank':
        return this.bank();
      case 'rec-bank':
        await this.recBank();
        return;
      case 'tickets':
        return this.tickets();
      case 'gate':
        return this.gate();
      case 'sem':
        return this.sem();
      case 'event':
        return this.event();
      case 'spin':
        return this.spin();
      case 'lockcnt':
        return this.lockcnt();
      case 'join':
        return this.join();
    }
  }

  /** Waits at the audit barrier until the controller releases it, carrying out scripted commands. */
  async barrier(): Promise<void> {
    const w = this.w;
    const gen = Atomics.load(w, G.BARRIER_GEN);
    this.state('barrier');
    while (Atomics.load(w, G.BARRIER_GEN) === gen) {
      const command = Atomics.exchange(w, this.my(P.SCRIPT), 0);
      if (command !== 0) {
        await this.script(command & 0xff, command >>> 8);
        this.state('barrier');
        continue;
      }
      Atomics.wait(w, G.BARRIER_GEN, gen, 100);
    }
  }

  // --- Locks with a holder gauge and EOWNERDEAD recovery --------------------------------------------

  /**
   * Takes a robust lock, and handles EOWNERDEAD: checks that the previous holder is dead, repairs what the
   * lock protects, marks it consistent. Returns whether it recovered.
   */
  async lockRobust(lock: RobustLock): Promise<boolean> {
    const { m } = lock;
    this.state(lock.wait);
    let error: unknown;
    try {
      if (!(this.random() < 0.2 && m.tryLock())) await (this.arg.async ? m.lockAsync() : m.lock());
    } catch (e) {
      ownerDead(this.w, e, lock.name);
      error = e;
    }
    this.state(lock.held);
    enterGauge(this.w, lock.gauge, this.me, lock.name, this.arg.threads, error !== undefined, error);
    if (error !== undefined) {
      lock.repair();
      m.consistent();
    }
    this.progress();
    return error !== undefined;
  }

  unlockRobust(lock: RobustLock): void {
    leaveGauge(this.w, lock.gauge, this.me, lock.name);
    lock.m.unlock();
    // A termination is counted as '...-held' only while the lock is held.
    this.state('running');
  }

  // --- Activities ---------------------------------------------------------------------------------

  async bank(): Promise<void> {
    for (let i = 0; i < 8; i++) {
      await this.lockRobust(this.bankLock);
      transfer(this.w, G.BANK_M, this.random, 'mutex bank', () => this.armPoint());
      this.unlockRobust(this.bankLock);
    }
  }

  /** Nested twice: the section stays exclusive after the inner unlock; EOWNERDEAD comes at depth 1. */
  async recBank(): Promise<boolean> {
    const { w } = this;
    const { r } = this.arg.p;
    const gauge = G.BANK_R + BANK.HOLDER;
    let recovered = false;
    for (let i = 0; i < 4; i++) {
      this.state('rec-mutex-wait');
      let error: unknown;
      try {
        if (this.arg.async) await r.lockAsync();
        else if (!(this.random() < 0.2 && r.tryLock())) r.lock();
      } catch (e) {
        ownerDead(w, e, 'rec-mutex');
        error = e;
      }
      this.state('rec-mutex-held');
      enterGauge(w, gauge, this.me, 'rec-mutex', this.arg.threads, error !== undefined, error);
      if (error !== undefined) {
        recovered = true;
        if (r.depthHeldBySelf() !== 1)
          violation(w, 'unexpected-error', `rec mutex: depth ${r.depthHeldBySelf()} after EOWNERDEAD`);
        repairBank(w, G.BANK_R, 'rec-mutex bank');
        r.consistent();
      }
      r.lock();
      if (r.depthHeldBySelf() !== 2)
        violation(w, 'mutual-exclusion', `rec mutex: depth ${r.depthHeldBySelf()}, not 2`);
      transfer(w, G.BANK_R, this.random, 'rec-mutex bank', () => this.armPoint());
      r.unlock();
      if (Atomics.load(w, gauge) !== this.me)
        violation(w, 'mutual-exclusion', 'rec mutex: entered after the inner unlock');
      checkBank(w, G.BANK_R, 'rec-mutex bank');
      leaveGauge(w, gauge, this.me, 'rec-mutex');
      r.unlock();
      this.state('running');
      this.progress();
    }
    return recovered;
  }

  /** Takes a ticket (waiting on the cond while none is free), holds it briefly, returns it with a signal. */
  async tickets(): Promise<void> {
    await this.takeTicket();
    this.state('running');
    if (this.random() < 0.5) sleep(this.random() * 2);
    await this.returnTicket();
  }

  async takeTicket(): Promise<void> {
    const w = this.w;
    const { tm, tc } = this.arg.p;
    const gauge = G.T_HOLDER;
    const recovered = await this.lockRobust(this.ticketLock);
    if (!recovered) checkTickets(w, false);
    while (Atomics.load(w, G.T_FREE) === 0) {
      leaveGauge(w, gauge, this.me, 'ticket-mutex');
      this.state('cond-wait');
      let error: unknown;
      try {
        if (this.arg.async) await tc.waitAsync(tm);
        else tc.wait(tm);
      } catch (e) {
        ownerDead(w, e, 'ticket-mutex');
        error = e;
      }
      this.state('cond-mutex-held');
      enterGauge(w, gauge, this.me, 'ticket-mutex', this.arg.threads, error !== undefined, error);
      if (error !== undefined) {
        checkTickets(w, true);
        tm.consistent();
      }
      this.progress();
    }
    moveTickets(w, this.slot, this.me, 1, () => this.armPoint());
    checkTickets(w, false);
    this.unlockRobust(this.ticketLock);
  }

  async returnTicket(): Promise<void> {
    const w = this.w;
    const { tc } = this.arg.p;
    const recovered = await this.lockRobust(this.ticketLock);
    if (!recovered) checkTickets(w, false);
    moveTickets(w, this.slot, this.me, -1, () => this.armPoint());
    checkTickets(w, false);
    if (this.enabled('cond-woken') && this.random() < 0.1) {
      // Signal, then have the waiter it most likely woke (the one parked longest: Atomics.notify is FIFO)
      // terminated before it can re-take the mutex, which this thread holds until that is done.
      const target = this.oldestParked(tc.parkedThreads(), 'cond-wait');
      tc.signal();
      if (target !== 0) this.requestKill(target, 'cond-woken', true);
    } else if (this.random() < 0.8) {
      tc.signal();
    } else {
      tc.broadcast();
    }
    this.unlockRobust(this.ticketLock);
    this.progress();
  }

  /**
   * Waits until the gate opens (its generation changes), or opens it: when two others already wait, and
   * sometimes at random. Every waiter must get through every opening.
   */
  async gate(): Promise<void> {
    const w = this.w;
    const { gc } = this.arg.p;
    await this.lockRobust(this.gateLock);
    const gen = Atomics.load(w, G.GATE_GEN);
    let waiting = 0;
    for (let s = 0; s < this.arg.threads; s++) if (Atomics.load(w, slotWord(s, P.GATE_SEEN)) >= 0) waiting++;
    if (waiting >= 2 || this.random() < 0.25) {
      Atomics.store(w, G.GATE_GEN, gen + 1);
      if (this.enabled('gate-woken') && waiting >= 3 && this.random() < 0.3) {
        const target = this.oldestParked(gc.parkedThreads(), 'gate-wait');
        gc.broadcast();
        if (target !== 0) this.requestKill(target, 'gate-woken', true);
      } else {
        gc.broadcast();
      }
    } else if (!this.quiescing) {
      // The controller opens the gate after it sets QUIESCE, under this mutex: a thread that saw QUIESCE
      // clear here is waiting before that opening, so it is woken by it.
      await this.waitAtGate(gen);
    }
    this.unlockRobust(this.gateLock);
  }

  async waitAtGate(gen: number): Promise<void> {
    const w = this.w;
    const { gm, gc } = this.arg.p;
    const gauge = G.GATE_HOLDER;
    Atomics.store(w, this.my(P.GATE_SEEN), gen);
    while (Atomics.load(w, G.GATE_GEN) === gen) {
      leaveGauge(w, gauge, this.me, 'gate-mutex');
      this.state('gate-wait');
      let error: unknown;
      try {
        if (this.arg.async) await gc.waitAsync(gm);
        else gc.wait(gm);
      } catch (e) {
        ownerDead(w, e, 'gate-mutex');
        error = e;
      }
      this.state('cond-mutex-held');
      enterGauge(w, gauge, this.me, 'gate-mutex', this.arg.threads, error !== undefined, error);
      if (error !== undefined) gm.consistent();
    }
    Atomics.store(w, this.my(P.GATE_SEEN), -1);
    this.progress();
  }

  /** Takes a unit, holds it briefly (never more than SEM_UNITS held at once), gives it back. */
  async sem(): Promise<void> {
    await this.semTake();
    if (this.random() < 0.5) sleep(this.random() * 2);
    this.semRelease();
  }

  /** Takes a unit: with the untimed wait if `untimed` (scripts), else sometimes with a timed one. */
  async semTake(untimed = false): Promise<void> {
    const w = this.w;
    const { sem } = this.arg.p;
    Atomics.store(w, this.my(P.SEM_INTENT), 1);
    this.state('sem-wait');
    if (this.arg.async) {
      await sem.waitAsync();
    } else if (!untimed && this.random() < 0.2) {
      while (!sem.timedWait(1 + this.random() * 20)) this.progress();
    } else {
      sem.wait();
    }
    Atomics.store(w, this.my(P.SEM_HELD), 1);
    Atomics.store(w, this.my(P.SEM_INTENT), 0);
    this.state('sem-held');
    let held = Atomics.load(w, slotWord(MAIN_SLOT, P.SEM_HELD));
    for (let s = 0; s < this.arg.threads; s++) if (Atomics.load(w, slotWord(s, P.SEM_HELD)) === 1) held++;
    if (held > SEM_UNITS)
      violation(w, 'conservation', `semaphore: ${held} units held, only ${SEM_UNITS} exist`);
    this.progress();
  }

  semRelease(): void {
    const w = this.w;
    const { sem } = this.arg.p;
    Atomics.store(w, this.my(P.SEM_HELD), 2);
    if (this.enabled('sem-woken') && this.random() < 0.1) {
      const target = this.oldestInState('sem-wait');
      sem.post();
      if (target !== 0) this.requestKill(target, 'sem-woken', false);
    } else {
      sem.post();
    }
    Atomics.store(w, this.my(P.SEM_HELD), 0);
    this.state('running');
  }

  /**
   * Waits for a tick of the controller's clock, QEMU's way: reset, check the flag, wait. The controller sets
   * this slot's event once for each tick it waits for, after advancing the clock, so a missed set would
   * leave it asleep for good. It also sets the event of a peer whose tick has come (extra sets are fine).
   */
  async event(): Promise<void> {
    const w = this.w;
    const e = this.arg.p.events[this.slot];
    const want = Atomics.load(w, G.TICK) + 1 + Math.floor(this.random() * 3);
    Atomics.store(w, this.my(P.WANT), want);
    this.state('event-wait');
    for (;;) {
      e.reset();
      if (Atomics.load(w, G.TICK) >= want) break;
      if (this.arg.async) await e.waitAsync();
      else e.wait();
    }
    Atomics.store(w, this.my(P.WANT), 0);
    this.state('running');
    const peer = Math.floor(this.random() * this.arg.threads);
    const peerWant = Atomics.load(w, slotWord(peer, P.WANT));
    if (peer !== this.slot && peerWant > 0 && Atomics.load(w, G.TICK) >= peerWant)
      this.arg.p.events[peer].set();
    this.progress();
  }

  async spin(): Promise<void> {
    const w = this.w;
    const { s } = this.arg.p;
    const gauge = G.BANK_S + BANK.HOLDER;
    for (let i = 0; i < 8; i++) {
      this.state('spin-wait');
      let error: unknown;
      try {
        if (!s.tryLock()) s.lock();
      } catch (e) {
        ownerDead(w, e, 'spin');
        error = e;
      }
      this.state('spin-held');
      enterGauge(w, gauge, this.me, 'spin', this.arg.threads, error !== undefined, error);
      // A spinlock has no consistent(): taken over with EOWNERDEAD, it is repaired, then unlocked.
      if (error !== undefined) repairBank(w, G.BANK_S, 'spin bank');
      transfer(w, G.BANK_S, this.random, 'spin bank', () => this.armPoint());
      leaveGauge(w, gauge, this.me, 'spin');
      s.unlock();
      this.state('running');
      this.progress();
    }
  }

  /**
   * QEMU's lockcnt pattern: visitors (count > 0) read the "list" without the lock; a writer, under the lock
   * with no visitor, frees it and publishes a new one. A visitor that sees the list it reads freed means the
   * count went 0 -> 1 while the lock was held. L_VISIT records this slot's visit for the controller: 1
   * entering, 2 inside, 3 leaving (1 and 3 are the moments a death leaves unknowable: counted as such).
   */
  async lockcnt(): Promise<void> {
    const w = this.w;
    const { l } = this.arg.p;
    const visit = this.my(P.L_VISIT);
    for (let i = 0; i < 8; i++) {
      Atomics.store(w, visit, 1);
      this.state('lockcnt-wait');
      this.lockcntCall(() => l.inc());
      Atomics.store(w, visit, 2);
      this.state('lockcnt-visit');
      const ptr = Atomics.load(w, G.L_PTR);
      for (let k = 0; k < 8; k++) {
        if (Atomics.load(w, G.L_ALIVE) !== ptr) {
          violation(w, 'mutual-exclusion', `lockcnt: a visitor saw list ${ptr} freed`);
          break;
        }
      }
      const how = this.random();
      Atomics.store(w, visit, 3);
      if (how < 0.4) {
        l.dec();
        Atomics.store(w, visit, 0);
      } else {
        this.state('lockcnt-wait');
        const last = this.lockcntCall(() => (how < 0.7 ? l.decAndLock() : l.decIfLock()));
        if (last) {
          Atomics.store(w, visit, 0);
          this.lockcntHeld(() => this.replaceList());
          l.unlock();
        } else if (how >= 0.7) {
          Atomics.store(w, visit, 2); // dec_if_lock did nothing: still a visitor
          this.state('lockcnt-visit');
          Atomics.store(w, visit, 3);
          l.dec();
          Atomics.store(w, visit, 0);
        } else {
          Atomics.store(w, visit, 0);
        }
      }
      this.state('running');
      if (this.random() < 0.3) {
        // A writer: free the list only if nobody visits, then become a visitor atomically.
        this.state('lockcnt-wait');
        this.lockcntCall(() => l.lock());
        this.lockcntHeld(() => {
          if (l.count() === 0) this.replaceList();
        });
        Atomics.store(w, visit, 1);
        l.incAndUnlock();
        Atomics.store(w, visit, 2);
        this.state('lockcnt-visit');
        if (Atomics.load(w, G.L_ALIVE) !== Atomics.load(w, G.L_PTR)) {
          violation(w, 'mutual-exclusion', 'lockcnt: list freed right after inc_and_unlock');
        }
        Atomics.store(w, visit, 3);
        l.dec();
        Atomics.store(w, visit, 0);
      }
      this.state('running');
      this.progress();
    }
  }

  /**
   * A lockcnt call that may take the lock (inc at count 0, dec_and_lock, dec_if_lock, lock). If its holder
   * has ended, the call fails with EOWNERDEAD holding the lock, having done nothing else: the list is
   * repaired (a dead writer may have freed it half-way through replacing it), the lock let go, the call made
   * again.
   */
  lockcntCall<T>(call: () => T): T {
    const w = this.w;
    const { l } = this.arg.p;
    for (;;) {
      try {
        return call();
      } catch (error) {
        ownerDead(w, error, 'lockcnt');
        this.state('lockcnt-held');
        enterGauge(w, G.L_HOLDER, this.me, 'lockcnt', this.arg.threads, true, error);
        repairList(w);
        leaveGauge(w, G.L_HOLDER, this.me, 'lockcnt');
        l.unlock();
        this.state('lockcnt-wait');
      }
    }
  }

  lockcntHeld(body: () => void): void {
    this.state('lockcnt-held');
    enterGauge(this.w, G.L_HOLDER, this.me, 'lockcnt', this.arg.threads, false);
    body();
    leaveGauge(this.w, G.L_HOLDER, this.me, 'lockcnt');
  }

  replaceList(): void {
    const w = this.w;
    const old = Atomics.load(w, G.L_PTR);
    Atomics.store(w, G.L_ALIVE, 0); // freed: a visitor inside now would see it
    for (let k = 0; k < 16; k++) Atomics.load(w, G.L_PTR);
    Atomics.store(w, G.L_PTR, old + 1);
    Atomics.store(w, G.L_ALIVE, old + 1);
  }

  /** Joins one ready joinee, if there is one, and checks what it returned or threw, exactly. */
  async join(): Promise<void> {
    const start = Math.floor(this.random() * JOINEES);
    for (let k = 0; k < JOINEES; k++) {
      const j = (start + k) % JOINEES;
      if (this.claimJoinee(j)) {
        await this.joinClaimed(j);
        return;
      }
    }
  }

  claimJoinee(j: number): boolean {
    const w = this.w;
    if (Atomics.load(w, joineeWord(j, J.STATE)) !== JS_READY) return false;
    if (Atomics.compareExchange(w, joineeWord(j, J.CLAIM), 0, this.me) !== 0) return false;
    if (Atomics.compareExchange(w, joineeWord(j, J.STATE), JS_READY, JS_CLAIMED) !== JS_READY) {
      Atomics.store(w, joineeWord(j, J.CLAIM), 0);
      return false;
    }
    return true;
  }

  async joinClaimed(j: number): Promise<void> {
    const w = this.w;
    Atomics.store(w, this.my(P.JOINING), j + 1);
    const large = isStreamed(Atomics.load(w, joineeWord(j, J.SIZE)), Atomics.load(w, joineeWord(j, J.MODE)));
    this.state(large ? 'join-large' : 'join-wait');
    if (large && this.enabled('joinee-streaming') && this.random() < 0.3) {
      this.requestKill(JOINEE_TARGET | j, 'joinee-streaming', false);
    }
    const handle = this.handles[j];
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: this.arg.async ? await handle.joinAsync() : handle.join() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.state('running');
    checkJoinOutcome(w, j, outcome, `slot ${this.slot}`);
    Atomics.store(w, this.my(P.JOINING), 0);
    Atomics.store(w, joineeWord(j, J.CLAIM), 0);
    Atomics.store(w, joineeWord(j, J.STATE), JS_FREE);
    this.progress();
  }

  // --- Directed terminations --------------------------------------------------------------------------

  enabled(kind: StateName): boolean {
    return ((this.arg.skipMask >>> S[kind]) & 1) === 0;
  }

  /** The token of the live thread among `parked` that has waited longest in state `state`, or 0. */
  oldestParked(parked: { threadId: number; since: number }[], state: StateName): number {
    const w = this.w;
    let best = 0;
    let bestSince = Number.POSITIVE_INFINITY;
    for (const { threadId: tid, since } of parked) {
      for (let s = 0; s < this.arg.threads; s++) {
        if (s === this.slot || Atomics.load(w, slotWord(s, P.TID)) !== tid) continue;
        if (Atomics.load(w, slotWord(s, P.STATE)) !== S[state] || since >= bestSince) continue;
        best = Atomics.load(w, slotWord(s, P.TOKEN));
        bestSince = since;
      }
    }
    return best;
  }

  /** The token of the thread that has been in `state` longest, or 0. */
  oldestInState(state: StateName): number {
    const w = this.w;
    let best = 0;
    let bestSince = Number.POSITIVE_INFINITY;
    for (let s = 0; s < this.arg.threads; s++) {
      if (s === this.slot || Atomics.load(w, slotWord(s, P.STATE)) !== S[state]) continue;
      const since = Atomics.load(w, slotWord(s, P.STATE_SINCE));
      if (since < bestSince) [best, bestSince] = [Atomics.load(w, slotWord(s, P.TOKEN)), since];
    }
    return best;
  }

  /**
   * Asks the controller to terminate `target` (a worker's token, or JOINEE_TARGET | joinee) and, if `wait`, waits
   * until it has. Gives the request up if the controller does not take it soon (it may be busy returning a
   * dead thread's ticket, for which it needs the mutex this thread may hold).
   */
  requestKill(target: number, kind: StateName, wait: boolean): void {
    const w = this.w;
    const mine = this.my(P.REQ);
    const request = encodeRequest(target, S[kind]);
    if (Atomics.load(w, mine) !== 0) return; // the previous one is not served yet
    Atomics.store(w, mine, request);
    Atomics.add(w, G.REQ_BELL, 1);
    Atomics.notify(w, G.REQ_BELL);
    if (!wait) return;
    const until = performance.now() + 300;
    while (Atomics.load(w, mine) === request && performance.now() < until) Atomics.wait(w, mine, request, 20);
    if (Atomics.compareExchange(w, mine, request, 0) === request) return; // not taken: withdrawn
    // The controller took it: it terminates the target without needing anything this thread holds.
    while (Atomics.load(w, mine) !== 0) Atomics.wait(w, mine, REQ_CLAIMED, 100);
  }

  // --- Scripted commands (controller.ts: the scripted prologue) -----------------------------------------

  async script(command: number, param: number): Promise<void> {
    const w = this.w;
    const { p } = this.arg;
    const ack = (value: number) => {
      Atomics.store(w, this.my(P.SCRIPT_ACK), value);
      Atomics.notify(w, this.my(P.SCRIPT_ACK));
    };
    /** Stays here, in the state it is in, until the controller terminates this thread. */
    const hold = (): never => {
      for (;;) sleep(60_000);
    };
    switch (command) {
      case SCRIPT.HOLD_MUTEX: {
        const recovered = await this.lockRobust(this.bankLock);
        ack(recovered ? ACK_RECOVERED : ACK_IN_POSITION);
        return hold();
      }
      case SCRIPT.LOCK_MUTEX: {
        const recovered = await this.lockRobust(this.bankLock);
        transfer(w, G.BANK_M, this.random, 'mutex bank');
        this.unlockRobust(this.bankLock);
        return ack(recovered ? ACK_RECOVERED : ACK_DONE);
      }
      case SCRIPT.HOLD_REC: {
        p.r.lock();
        p.r.lock();
        this.state('rec-mutex-held');
        enterGauge(w, G.BANK_R + BANK.HOLDER, this.me, 'rec-mutex', this.arg.threads, false);
        ack(ACK_IN_POSITION);
        return hold();
      }
      case SCRIPT.LOCK_REC:
        return ack((await this.recBank()) ? ACK_RECOVERED : ACK_DONE);
      case SCRIPT.TAKE_TICKET:
        await this.takeTicket();
        await this.returnTicket();
        return ack(ACK_DONE);
      case SCRIPT.GATE_WAIT: {
        await this.lockRobust(this.gateLock);
        await this.waitAtGate(Atomics.load(w, G.GATE_GEN));
        this.unlockRobust(this.gateLock);
        return ack(ACK_DONE);
      }
      case SCRIPT.HOLD_SPIN: {
        this.state('spin-wait');
        let error: unknown;
        try {
          p.s.lock();
        } catch (e) {
          ownerDead(w, e, 'spin');
          error = e;
        }
        this.state('spin-held');
        enterGauge(w, G.BANK_S + BANK.HOLDER, this.me, 'spin', this.arg.threads, error !== undefined, error);
        if (error !== undefined) repairBank(w, G.BANK_S, 'spin bank');
        ack(ACK_IN_POSITION);
        return hold();
      }
      case SCRIPT.SPIN_ONCE: {
        const before = this.recoveries('spin');
        await this.spin();
        return ack(this.recoveries('spin') > before ? ACK_RECOVERED : ACK_DONE);
      }
      case SCRIPT.HOLD_LOCKCNT:
        this.state('lockcnt-wait');
        this.lockcntCall(() => p.l.lock());
        this.state('lockcnt-held');
        enterGauge(w, G.L_HOLDER, this.me, 'lockcnt', this.arg.threads, false);
        ack(ACK_IN_POSITION);
        return hold();
      case SCRIPT.VISIT_LOCKCNT:
        Atomics.store(w, this.my(P.L_VISIT), 1);
        this.lockcntCall(() => p.l.inc());
        Atomics.store(w, this.my(P.L_VISIT), 2);
        this.state('lockcnt-visit');
        ack(ACK_IN_POSITION);
        return hold();
      case SCRIPT.LOCKCNT_ONCE: {
        const before = this.recoveries('lockcnt');
        await this.lockcnt();
        return ack(this.recoveries('lockcnt') > before ? ACK_RECOVERED : ACK_DONE);
      }
      case SCRIPT.SEM_TAKE:
        await this.semTake(true);
        this.semRelease();
        return ack(ACK_DONE);
      case SCRIPT.EVENT_WAIT: {
        // A tick that never comes: this thread waits on its event until it is terminated.
        Atomics.store(w, this.my(P.WANT), 0x7fffffff);
        this.state('event-wait');
        ack(ACK_IN_POSITION);
        const e = p.events[this.slot];
        for (;;) {
          e.reset();
          if (this.arg.async) await e.waitAsync();
          else e.wait();
        }
      }
      case SCRIPT.JOIN:
        if (!this.claimJoinee(param)) {
          violation(w, 'unexpected-error', `script: joinee ${param} could not be claimed`);
          return ack(ACK_DONE);
        }
        await this.joinClaimed(param);
        return ack(ACK_DONE);
      default:
        throw new QemuThreadError('EINVAL', 'chaos script', `unknown command ${command}`);
    }
  }
}
