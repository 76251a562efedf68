/**
 * The chaos soak's scripted prologue: each kind of termination once, arranged step by step by the
 * controller while the workers not involved wait at the audit barrier. Each step waits for something
 * observable (a thread in waiters() or parkedThreads(), a waiter count, a worker's acknowledgement of a
 * scripted command, worker.ts: script), never for a fixed time.
 */
import { parkStats, QemuThread } from 'qemu-thread';
import type { Controller } from './controller.js';
import {
  ACK_DONE,
  ACK_RECOVERED,
  BANK,
  G,
  J,
  joineeWord,
  MAIN_SLOT,
  MAIN_TOKEN,
  P,
  S,
  SCRIPT,
  slotWord,
  TICKETS,
} from './layout.js';
import { enterGauge, leaveGauge, violation } from './shared.js';

/** One round of the sem-woken script: `a` and `b` wait; a post wakes `a`, which is terminated. */
async function semWoken(c: Controller, A: number, B: number): Promise<void> {
  const { w, p } = c;
  c.drainSem();
  const base = c.semWaiters();
  c.command(A, SCRIPT.SEM_TAKE);
  await c.until(() => c.semWaiters() >= base + 1, 'slot 0 waiting on the semaphore');
  c.command(B, SCRIPT.SEM_TAKE);
  await c.until(() => c.semWaiters() >= base + 2, 'slot 1 waiting on the semaphore');
  // Post (slot 0, parked first, is woken), and terminate slot 0 before it takes the unit. If it took
  // the unit as it died (then the count is 0, and the unit is counted lost at the audit), post another:
  // slot 1 must get through either way, and sleeps on with a count of 1 only if the wake-up is lost.
  c.postSem(1);
  await c.scriptKill(A, 'sem-woken');
  const stopped = performance.now();
  let again = true;
  await c.until(() => {
    if (Atomics.load(w, slotWord(B, P.SCRIPT_ACK)) !== 0) return true;
    if (again && p.sem.value() === 0 && c.semWaiters() >= base + 1) {
      again = false;
      c.postSem(1);
    }
    return false;
  }, 'the other waiter, after the woken one was terminated');
  if (again) c.noteLatency('sem-woken', performance.now() - stopped);
  c.postSem(Atomics.load(w, slotWord(MAIN_SLOT, P.SEM_HELD)));
}

/**
 * Each kind of termination once, arranged step by step while the other workers wait at the barrier;
 * each step waits for something observable (a parked thread, an acknowledgement), never a fixed time.
 */
export async function prologue(c: Controller): Promise<void> {
  const { w, p } = c;
  // Slots 0 and 1 block; slot 2 is the first async one (isAsyncSlot).
  const [A, B, C] = [0, 1, 2];
  const blocking = Array.from({ length: c.opts.threads }, (_, s) => s).filter((s) => !c.isAsyncSlot(s));
  const expectAck = async (slot: number, want: number, what: string) => {
    const got = await c.ack(slot, what);
    if (got !== want) {
      const kind = want === ACK_RECOVERED ? 'missing-eownerdead' : 'false-eownerdead';
      violation(w, kind, `script: ${what}: acknowledged ${got}, expected ${want}`);
    }
  };

  if (c.opts.fault === 'lost-wakeup') {
    // --inject-fault lost-wakeup: a ticket comes back without a signal; its waiter must be reported.
    await c.holdTickets();
    c.command(A, SCRIPT.TAKE_TICKET);
    await c.until(() => c.parkedOn(p.tc, A), 'slot 0 parked on the ticket cond');
    await c.returnTickets(1, 'none');
    await c.ack(A, 'the waiter of a ticket returned without a signal');
    return;
  }

  await c.scenario('mutex-held', ['mutex-held'], async () => {
    c.command(A, SCRIPT.HOLD_MUTEX);
    await c.ack(A, 'slot 0 holding the mutex');
    await c.scriptKill(A, 'mutex-held');
    c.command(B, SCRIPT.LOCK_MUTEX);
    await expectAck(B, ACK_RECOVERED, 'the mutex held by a terminated thread');
  });

  await c.scenario('mutex-wait', ['mutex-wait'], async () => {
    if (!p.m.tryLock()) c.fail('script mutex-wait: the mutex is held');
    enterGauge(w, G.BANK_M + BANK.HOLDER, MAIN_TOKEN, 'mutex', c.opts.threads, false);
    c.command(A, SCRIPT.LOCK_MUTEX);
    await c.until(() => p.m.waiters().some((x) => x.threadId === c.tid(A)), 'slot 0 parked on the mutex');
    await c.scriptKill(A, 'mutex-wait');
    leaveGauge(w, G.BANK_M + BANK.HOLDER, MAIN_TOKEN, 'mutex');
    p.m.unlock();
    c.command(B, SCRIPT.LOCK_MUTEX);
    await expectAck(B, ACK_DONE, 'the mutex after its terminated waiter');
  });

  await c.scenario('rec-mutex-held', ['rec-mutex-held'], async () => {
    c.command(A, SCRIPT.HOLD_REC);
    await c.ack(A, 'slot 0 holding the rec mutex twice');
    await c.scriptKill(A, 'rec-mutex-held');
    c.command(B, SCRIPT.LOCK_REC);
    await expectAck(B, ACK_RECOVERED, 'the rec mutex held by a terminated thread');
  });

  await c.scenario('cond-wait', ['cond-wait'], async () => {
    await c.holdTickets();
    c.command(A, SCRIPT.TAKE_TICKET);
    await c.until(() => c.parkedOn(p.tc, A), 'slot 0 parked on the ticket cond');
    await c.scriptKill(A, 'cond-wait');
    await c.returnTickets(TICKETS, 'broadcast');
    c.command(B, SCRIPT.TAKE_TICKET);
    await expectAck(B, ACK_DONE, 'a ticket after a terminated waiter');
  });

  await c.scenario('cond-woken', ['cond-woken'], async () => {
    await c.holdTickets();
    c.command(A, SCRIPT.TAKE_TICKET);
    await c.until(() => c.parkedOn(p.tc, A), 'slot 0 parked on the ticket cond');
    c.command(B, SCRIPT.TAKE_TICKET);
    await c.until(() => c.parkedOn(p.tc, B), 'slot 1 parked on the ticket cond');
    // Signal (slot 0, parked first, is woken), and terminate slot 0 before it can re-take the mutex.
    let stopped = 0;
    await c.returnTickets(1, 'signal', async () => {
      await c.scriptKill(A, 'cond-woken');
      stopped = performance.now();
    });
    await expectAck(B, ACK_DONE, 'the other waiter, after the signalled one was terminated');
    c.noteLatency('cond-woken', performance.now() - stopped);
    await c.returnTickets(TICKETS - 1, 'broadcast');
  });

  await c.scenario('gate-woken', ['gate-woken'], async () => {
    // Blocking threads only: a pending async wait turns every single wake-up into a wake-all (park.ts).
    const [first, ...others] = blocking.slice(0, 4);
    for (const slot of [first, ...others]) {
      c.command(slot, SCRIPT.GATE_WAIT);
      await c.until(() => c.parkedOn(p.gc, slot), `slot ${slot} parked at the gate`);
    }
    // Broadcast (slot 0 is woken first), and terminate slot 0 before it passes the broadcast on.
    await c.lockAsync(p.gm, G.GATE_HOLDER, 'gate-mutex', () => {});
    Atomics.add(w, G.GATE_GEN, 1);
    p.gc.broadcast();
    await c.scriptKill(first, 'gate-woken');
    leaveGauge(w, G.GATE_HOLDER, MAIN_TOKEN, 'gate-mutex');
    p.gm.unlock();
    const stopped = performance.now();
    for (const slot of others) await expectAck(slot, ACK_DONE, `slot ${slot} through the gate`);
    c.noteLatency('gate-woken', performance.now() - stopped);
  });

  await c.scenario('sem-wait', ['sem-wait'], async () => {
    c.drainSem();
    // Counted from what is there: a terminated waiter's count may have leaked (waiter-counts).
    const base = c.semWaiters();
    c.command(A, SCRIPT.SEM_TAKE);
    await c.until(() => c.semWaiters() >= base + 1, 'slot 0 waiting on the semaphore');
    await c.scriptKill(A, 'sem-wait');
    c.postSem(Atomics.load(w, slotWord(MAIN_SLOT, P.SEM_HELD)));
    c.command(B, SCRIPT.SEM_TAKE);
    await expectAck(B, ACK_DONE, 'a unit after a terminated waiter');
  });

  await c.scenario('sem-woken', ['sem-woken'], async () => {
    // The woken waiter may take the unit before the termination lands (then nothing is stranded), so
    // the step is done a few times.
    for (let round = 0; round < 4; round++) await semWoken(c, A, B);
  });

  await c.scenario('event-wait', ['event-wait'], async () => {
    c.command(A, SCRIPT.EVENT_WAIT);
    await c.ack(A, 'slot 0 waiting on its event');
    await c.scriptKill(A, 'event-wait');
  });

  await c.scenario('spin-held', ['spin-held'], async () => {
    c.command(A, SCRIPT.HOLD_SPIN);
    await c.ack(A, 'slot 0 holding the spin lock');
    await c.scriptKill(A, 'spin-held');
    c.command(B, SCRIPT.SPIN_ONCE);
    await expectAck(B, ACK_RECOVERED, 'the spin lock held by a terminated thread');
  });

  await c.scenario('lockcnt-held', ['lockcnt-held'], async () => {
    c.command(A, SCRIPT.HOLD_LOCKCNT);
    await c.ack(A, "slot 0 holding the lockcnt's lock");
    await c.scriptKill(A, 'lockcnt-held');
    c.command(B, SCRIPT.LOCKCNT_ONCE);
    await expectAck(B, ACK_RECOVERED, 'the lockcnt held by a terminated thread');
  });

  await c.scenario('lockcnt-visit', ['lockcnt-visit'], async () => {
    c.command(A, SCRIPT.VISIT_LOCKCNT);
    await c.ack(A, 'slot 0 visiting the lockcnt');
    await c.scriptKill(A, 'lockcnt-visit');
    c.command(B, SCRIPT.LOCKCNT_ONCE);
    await c.ack(B, 'the lockcnt after a terminated visitor');
  });

  await c.scenario('join-wait', ['join-wait'], async () => {
    c.startJoinee(0, { size: 100, mode: 0, workMs: 0, gate: true });
    c.command(A, SCRIPT.JOIN, 0);
    await c.until(() => Atomics.load(w, slotWord(A, P.STATE)) === S['join-wait'], 'slot 0 joining');
    await c.scriptKill(A, 'join-wait');
    c.command(B, SCRIPT.JOIN, 0);
    await c.until(() => Atomics.load(w, slotWord(B, P.STATE)) === S['join-wait'], 'slot 1 joining');
    Atomics.store(w, joineeWord(0, J.GATE), 0);
    Atomics.notify(w, joineeWord(0, J.GATE));
    await c.ack(B, 'the join after its first joiner was terminated');
  });

  await c.scenario('joinee-streaming', ['joinee-streaming'], async () => {
    c.startJoinee(1, { size: 65_536, mode: 0, workMs: 0, gate: false });
    await c.until(() => /exited/.test(String(c.handles[1])), 'joinee 1 streaming its result');
    if (!(await c.killJoinee(1))) c.fail('script joinee-streaming: joinee 1 could not be terminated');
    c.command(B, SCRIPT.JOIN, 1);
    await c.ack(B, 'the join of a joinee terminated while it streamed its result');
  });

  await c.scenario('join-large', ['join-large'], async () => {
    // A result of 4 MB takes the joiner thousands of hand-shakes (one per window) to read: it is
    // terminated in the middle of them, and another thread joins in its place.
    c.startJoinee(2, { size: 4 << 20, mode: 0, workMs: 0, gate: false });
    c.command(A, SCRIPT.JOIN, 2);
    // How far the reader is: the hand-shake word of the result pipe (src/thread/result-pipe.ts: CHUNK,
    // word 6 of the QemuThread's storage, 2k + 2 once the reader has copied chunk k). Read only, to
    // terminate the reader once it has copied a chunk or two: then its successor cannot start afresh.
    const pipe = new Int32Array(c.joinees, 2 * QemuThread.BYTES, 8);
    const reading = () =>
      Atomics.load(w, slotWord(A, P.STATE)) === S['join-large'] &&
      /exited/.test(String(c.handles[2])) &&
      Atomics.load(pipe, 6) >= 4;
    await c.until(
      () => reading() || Atomics.load(w, slotWord(A, P.SCRIPT_ACK)) !== 0,
      'slot 0 reading a result',
    );
    if (!reading()) {
      c.scripted.set('join-large', 'missed'); // it read 4 MB before it could be terminated
      return;
    }
    await c.scriptKill(A, 'join-large');
    c.command(B, SCRIPT.JOIN, 2);
    await c.ack(B, 'the join of a thread whose first joiner was terminated in the middle of its result');
  });

  // Async waiters last: a terminated one leaves every later single wake-up a wake-all (park.ts).
  await c.scenario(
    'mutex-wait (async)',
    ['mutex-wait'],
    async () => {
      if (!p.m.tryLock()) c.fail('script mutex-wait (async): the mutex is held');
      enterGauge(w, G.BANK_M + BANK.HOLDER, MAIN_TOKEN, 'mutex', c.opts.threads, false);
      c.command(C, SCRIPT.LOCK_MUTEX);
      await c.until(
        () => Atomics.load(w, slotWord(C, P.STATE)) === S['mutex-wait'] && p.m.holder()?.contended === true,
        'slot 2 waiting (async) for the mutex',
      );
      await c.scriptKill(C, 'mutex-wait');
      leaveGauge(w, G.BANK_M + BANK.HOLDER, MAIN_TOKEN, 'mutex');
      p.m.unlock();
      c.command(B, SCRIPT.LOCK_MUTEX);
      await expectAck(B, ACK_DONE, 'the mutex after its terminated async waiter');
    },
    true,
  );

  await c.scenario(
    'cond-wait (async)',
    ['cond-wait'],
    async () => {
      await c.holdTickets();
      const base = p.tc.waiters();
      c.command(C, SCRIPT.TAKE_TICKET);
      await c.until(
        () => Atomics.load(w, slotWord(C, P.STATE)) === S['cond-wait'] && p.tc.waiters() >= base + 1,
        'slot 2 waiting (async) on the ticket cond',
      );
      await c.scriptKill(C, 'cond-wait');
      await c.returnTickets(TICKETS, 'broadcast');
      c.command(B, SCRIPT.TAKE_TICKET);
      await expectAck(B, ACK_DONE, 'a ticket after a terminated async waiter');
    },
    true,
  );

  // A terminated async waiter must not leave its count in the process-wide tally of pending async waits
  // (park.ts), which turns every later single wake-up into a wake-all: one signal, two parked waiters,
  // exactly one woken.
  await c.scenario(
    'async-wake-probe',
    ['mutex-wait'],
    async () => {
      await c.holdTickets();
      for (const slot of [A, B]) {
        c.command(slot, SCRIPT.TAKE_TICKET);
        await c.until(() => c.parkedOn(p.tc, slot), `slot ${slot} parked on the ticket cond`);
      }
      let woken = 0;
      await c.returnTickets(1, 'none', async () => {
        const before = parkStats().woken;
        p.tc.signal();
        woken = parkStats().woken - before;
      });
      if (woken !== 1) {
        violation(
          w,
          'waiter-count',
          `a single signal with two threads parked woke ${woken}: terminated async waiters are still counted`,
        );
      }
      await c.returnTickets(TICKETS - 1, 'broadcast');
      for (const slot of [A, B]) await expectAck(slot, ACK_DONE, `slot ${slot} with a ticket`);
    },
    true,
    !c.opts.skip.includes('async-wake-all'),
  );
}
