// The Errors section of the contract: QemuThreadError's fields and message, the errno and strerror tables,
// TypeError for a value of the wrong kind in every qemu_* function, and QEMU's print-and-abort mode.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as lib from 'qemu-thread';
import {
  ERRNO,
  getErrorMode,
  QemuCond,
  QemuMutex,
  QemuThreadError,
  setErrorMode,
  strerror,
} from 'qemu-thread';
import { watched } from './support/watchdog.js';

// Linux errno numbers and glibc strerror texts, written out so that a wrong table in the library fails.
const EXPECTED = {
  EPERM: [1, 'Operation not permitted'],
  ESRCH: [3, 'No such process'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
  EBUSY: [16, 'Device or resource busy'],
  EINVAL: [22, 'Invalid argument'],
  EDEADLK: [35, 'Resource deadlock avoided'],
  EOWNERDEAD: [130, 'Owner died'],
  ENOTRECOVERABLE: [131, 'State not recoverable'],
} as const;
type Code = keyof typeof EXPECTED;
const CODES = Object.keys(EXPECTED) as Code[];

watched('ERRNO and strerror give the Linux number and glibc text of every code', () => {
  assert.deepEqual({ ...ERRNO }, Object.fromEntries(CODES.map((code) => [code, EXPECTED[code][0]])));
  for (const code of CODES) assert.equal(strerror(code), EXPECTED[code][1]);
});

for (const code of CODES) {
  watched(`new QemuThreadError('${code}', func) has code, errno, func, name and a QEMU-style message`, () => {
    const e = new QemuThreadError(code, 'qemu_sem_post');
    assert.ok(e instanceof QemuThreadError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'QemuThreadError');
    assert.equal(e.code, code);
    assert.equal(e.errno, EXPECTED[code][0]);
    assert.equal(e.func, 'qemu_sem_post');
    assert.equal(e.message, `qemu_sem_post: ${EXPECTED[code][1]}`);
    assert.equal(typeof e.stack, 'string');
    assert.ok(String(e).startsWith(`QemuThreadError: qemu_sem_post: ${EXPECTED[code][1]}`));
  });
}

watched('a QemuThreadError with detail keeps the QEMU prefix and adds the detail after it', () => {
  const e = new QemuThreadError('EPERM', 'qemu_mutex_unlock', 'it is not locked');
  assert.ok(e.message.startsWith('qemu_mutex_unlock: Operation not permitted'));
  assert.ok(e.message.includes('it is not locked'));
});

watched('errors thrown by the library carry the fields and a stack that points at the caller', () => {
  const m = QemuMutex.create();
  const e = (() => {
    try {
      lib.qemu_mutex_unlock(m);
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.ok(e instanceof QemuThreadError);
  assert.ok(e instanceof Error);
  assert.equal(Object.getPrototypeOf(e), QemuThreadError.prototype);
  assert.equal(e.name, 'QemuThreadError');
  assert.equal(e.code, 'EPERM');
  assert.equal(e.errno, 1);
  assert.equal(e.func, 'qemu_mutex_unlock');
  assert.ok(e.message.startsWith('qemu_mutex_unlock: Operation not permitted'), e.message);
  assert.match(e.stack ?? '', /api-errors\.test\.js/);
});

// Every qemu_* function with a primitive argument, called with `bad` in that argument's place. The other
// arguments are valid and chosen so that a call that wrongly accepted `bad` could not block.
const m = QemuMutex.create();
const c = QemuCond.create();
const row = (f: (bad: never) => unknown, expected: string): [(bad: never) => unknown, string] => [
  f,
  expected,
];
const CALLS: Record<string, [call: (bad: never) => unknown, expected: string]> = {
  qemu_mutex_init: row((x) => lib.qemu_mutex_init(x), 'QemuMutex'),
  qemu_mutex_destroy: row((x) => lib.qemu_mutex_destroy(x), 'QemuMutex'),
  qemu_mutex_lock: row((x) => lib.qemu_mutex_lock(x), 'QemuMutex'),
  qemu_mutex_trylock: row((x) => lib.qemu_mutex_trylock(x), 'QemuMutex'),
  qemu_mutex_unlock: row((x) => lib.qemu_mutex_unlock(x), 'QemuMutex'),
  qemu_mutex_consistent: row((x) => lib.qemu_mutex_consistent(x), 'QemuMutex'),
  qemu_rec_mutex_init: row((x) => lib.qemu_rec_mutex_init(x), 'QemuRecMutex'),
  qemu_rec_mutex_destroy: row((x) => lib.qemu_rec_mutex_destroy(x), 'QemuRecMutex'),
  qemu_rec_mutex_lock: row((x) => lib.qemu_rec_mutex_lock(x), 'QemuRecMutex'),
  qemu_rec_mutex_trylock: row((x) => lib.qemu_rec_mutex_trylock(x), 'QemuRecMutex'),
  qemu_rec_mutex_unlock: row((x) => lib.qemu_rec_mutex_unlock(x), 'QemuRecMutex'),
  qemu_rec_mutex_consistent: row((x) => lib.qemu_rec_mutex_consistent(x), 'QemuRecMutex'),
  qemu_cond_init: row((x) => lib.qemu_cond_init(x), 'QemuCond'),
  qemu_cond_destroy: row((x) => lib.qemu_cond_destroy(x), 'QemuCond'),
  qemu_cond_signal: row((x) => lib.qemu_cond_signal(x), 'QemuCond'),
  qemu_cond_broadcast: row((x) => lib.qemu_cond_broadcast(x), 'QemuCond'),
  'qemu_cond_wait (cond)': row((x) => lib.qemu_cond_wait(x, m), 'QemuCond'),
  'qemu_cond_wait (mutex)': row((x) => lib.qemu_cond_wait(c, x), 'QemuMutex'),
  'qemu_cond_timedwait (cond)': row((x) => lib.qemu_cond_timedwait(x, m, 0), 'QemuCond'),
  'qemu_cond_timedwait (mutex)': row((x) => lib.qemu_cond_timedwait(c, x, 0), 'QemuMutex'),
  qemu_sem_init: row((x) => lib.qemu_sem_init(x, 0), 'QemuSemaphore'),
  qemu_sem_destroy: row((x) => lib.qemu_sem_destroy(x), 'QemuSemaphore'),
  qemu_sem_post: row((x) => lib.qemu_sem_post(x), 'QemuSemaphore'),
  qemu_sem_wait: row((x) => lib.qemu_sem_wait(x), 'QemuSemaphore'),
  qemu_sem_timedwait: row((x) => lib.qemu_sem_timedwait(x, 0), 'QemuSemaphore'),
  qemu_event_init: row((x) => lib.qemu_event_init(x, true), 'QemuEvent'),
  qemu_event_destroy: row((x) => lib.qemu_event_destroy(x), 'QemuEvent'),
  qemu_event_set: row((x) => lib.qemu_event_set(x), 'QemuEvent'),
  qemu_event_reset: row((x) => lib.qemu_event_reset(x), 'QemuEvent'),
  qemu_event_wait: row((x) => lib.qemu_event_wait(x), 'QemuEvent'),
  qemu_event_timedwait: row((x) => lib.qemu_event_timedwait(x, 0), 'QemuEvent'),
  qemu_spin_init: row((x) => lib.qemu_spin_init(x), 'QemuSpin'),
  qemu_spin_destroy: row((x) => lib.qemu_spin_destroy(x), 'QemuSpin'),
  qemu_spin_lock: row((x) => lib.qemu_spin_lock(x), 'QemuSpin'),
  qemu_spin_trylock: row((x) => lib.qemu_spin_trylock(x), 'QemuSpin'),
  qemu_spin_locked: row((x) => lib.qemu_spin_locked(x), 'QemuSpin'),
  qemu_spin_unlock: row((x) => lib.qemu_spin_unlock(x), 'QemuSpin'),
  qemu_lockcnt_init: row((x) => lib.qemu_lockcnt_init(x), 'QemuLockCnt'),
  qemu_lockcnt_destroy: row((x) => lib.qemu_lockcnt_destroy(x), 'QemuLockCnt'),
  qemu_lockcnt_inc: row((x) => lib.qemu_lockcnt_inc(x), 'QemuLockCnt'),
  qemu_lockcnt_dec: row((x) => lib.qemu_lockcnt_dec(x), 'QemuLockCnt'),
  qemu_lockcnt_dec_and_lock: row((x) => lib.qemu_lockcnt_dec_and_lock(x), 'QemuLockCnt'),
  qemu_lockcnt_dec_if_lock: row((x) => lib.qemu_lockcnt_dec_if_lock(x), 'QemuLockCnt'),
  qemu_lockcnt_lock: row((x) => lib.qemu_lockcnt_lock(x), 'QemuLockCnt'),
  qemu_lockcnt_unlock: row((x) => lib.qemu_lockcnt_unlock(x), 'QemuLockCnt'),
  qemu_lockcnt_inc_and_unlock: row((x) => lib.qemu_lockcnt_inc_and_unlock(x), 'QemuLockCnt'),
  qemu_lockcnt_count: row((x) => lib.qemu_lockcnt_count(x), 'QemuLockCnt'),
  qemu_thread_create: row(
    (x) => lib.qemu_thread_create(x, null, 'file:///nonexistent.js', null, 0),
    'QemuThread',
  ),
  qemu_thread_join: row((x) => lib.qemu_thread_join(x), 'QemuThread'),
  qemu_thread_get_self: row((x) => lib.qemu_thread_get_self(x), 'QemuThread'),
  qemu_thread_is_self: row((x) => lib.qemu_thread_is_self(x), 'QemuThread'),
  qemu_thread_set_affinity: row((x) => lib.qemu_thread_set_affinity(x, [1], 1), 'QemuThread'),
  qemu_thread_get_affinity: row((x) => lib.qemu_thread_get_affinity(x), 'QemuThread'),
};

watched('the wrong-kind table covers every qemu_* export that takes a primitive', () => {
  const covered = new Set(Object.keys(CALLS).map((name) => name.split(' ')[0]));
  const noPrimitive = new Set([
    'qemu_thread_exit',
    'qemu_thread_atexit_add',
    'qemu_thread_atexit_remove',
    'qemu_thread_naming',
  ]);
  const exported = Object.keys(lib).filter(
    (name) => name.startsWith('qemu_') && !name.endsWith('_async') && !noPrimitive.has(name),
  );
  assert.deepEqual(exported.filter((name) => !covered.has(name)).sort(), []);
});

/** A different kind from `expected`, as an instance and as a structured clone. */
function otherKinds(expected: string): unknown[] {
  const other = expected === 'QemuMutex' ? QemuCond.create() : QemuMutex.create();
  // Storage-shaped, but of no kind the library knows.
  const forged = { ...structuredClone(QemuMutex.create()), __qemuKind: 'QemuNothing' };
  return [other, structuredClone(other), forged];
}

for (const [name, [call, expected]] of Object.entries(CALLS)) {
  watched(`${name} with a value that is not a ${expected} is a TypeError`, () => {
    const values: unknown[] = [...otherKinds(expected), {}, [], null, undefined, 0, 42, 'x', true, () => {}];
    for (const bad of values) {
      assert.throws(
        () => call(bad as never),
        (e: unknown) =>
          e instanceof TypeError && !(e instanceof QemuThreadError) && e.message.includes(expected),
        `${name}(${String(bad)})`,
      );
    }
  });
}

watched('the class methods reject a wrong kind as a TypeError too', () => {
  const cond = QemuCond.create();
  const mutex = QemuMutex.create();
  mutex.lock();
  for (const bad of [lib.QemuRecMutex.create(), QemuCond.create(), {}, null, 3]) {
    assert.throws(() => cond.wait(bad as never), TypeError);
    assert.throws(() => cond.timedWait(bad as never, 0), TypeError);
  }
  mutex.unlock();
});

watched('the error mode is "throw" by default, and setErrorMode refuses anything but throw/abort', () => {
  assert.equal(getErrorMode(), 'throw');
  for (const bad of ['Abort', 'exit', '', null, undefined, 1]) {
    assert.throws(() => setErrorMode(bad as never), TypeError);
  }
  assert.equal(getErrorMode(), 'throw');
  setErrorMode('throw');
  assert.throws(() => lib.qemu_mutex_unlock(QemuMutex.create()), QemuThreadError);
});

// The package root, so that the child's `import 'qemu-thread'` resolves through the package's own name.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runChild(script: string, env: Record<string, string | undefined> = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, QEMU_THREAD_ERRORS: undefined, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

function stderrLines(stderr: string): string[] {
  return stderr.split(/\r?\n/);
}

watched(
  "setErrorMode('abort'): unlocking an unlocked mutex prints QEMU's line and aborts, despite a catch",
  () => {
    const run = runChild(`
    import { QemuMutex, qemu_mutex_unlock, setErrorMode } from 'qemu-thread';
    setErrorMode('abort');
    const m = QemuMutex.create();
    try { qemu_mutex_unlock(m); } catch { console.log('caught'); }
    console.log('survived');
  `);
    assert.equal(run.error, undefined);
    assert.ok(
      stderrLines(run.stderr).includes('qemu: qemu_mutex_unlock: Operation not permitted'),
      run.stderr,
    );
    assert.equal(run.signal, 'SIGABRT', `status ${run.status}, stderr: ${run.stderr}`);
    assert.equal(run.stdout, '');
  },
);

watched(
  'QEMU_THREAD_ERRORS=abort: the method face aborts with the same line, naming qemu_mutex_unlock',
  () => {
    const run = runChild(
      `
    import { QemuMutex, getErrorMode } from 'qemu-thread';
    console.log(getErrorMode());
    QemuMutex.create().unlock();
    console.log('survived');
  `,
      { QEMU_THREAD_ERRORS: 'abort' },
    );
    assert.ok(
      stderrLines(run.stderr).includes('qemu: qemu_mutex_unlock: Operation not permitted'),
      run.stderr,
    );
    assert.equal(run.signal, 'SIGABRT', `status ${run.status}, stderr: ${run.stderr}`);
    assert.equal(run.stdout, 'abort\n');
  },
);

watched('QEMU_THREAD_ERRORS=abort: a relock prints the EDEADLK line of qemu_mutex_lock and aborts', () => {
  const run = runChild(
    `
    import { QemuMutex, qemu_mutex_lock } from 'qemu-thread';
    const m = QemuMutex.create();
    qemu_mutex_lock(m);
    qemu_mutex_lock(m);
    console.log('survived');
  `,
    { QEMU_THREAD_ERRORS: 'abort' },
  );
  assert.ok(stderrLines(run.stderr).includes('qemu: qemu_mutex_lock: Resource deadlock avoided'), run.stderr);
  assert.equal(run.signal, 'SIGABRT');
  assert.equal(run.stdout, '');
});

watched(
  "setErrorMode('abort') is inherited by threads created afterwards: a misuse there aborts the process",
  () => {
    const fns = new URL('./workers/api/thread-fns.js#unlockUnlocked', import.meta.url).href;
    // A CommonJS -e script: Node cannot start workers from a parent run with --input-type (see api-thread).
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `import('qemu-thread').then(({ QemuThread, setErrorMode }) => {
        setErrorMode('abort');
        const t = QemuThread.create('misuser', ${JSON.stringify(fns)});
        try { t.join(); } catch { console.log('caught'); }
        console.log('survived');
      });`,
      ],
      {
        cwd: PACKAGE_ROOT,
        env: { ...process.env, QEMU_THREAD_ERRORS: undefined },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.ok(
      stderrLines(run.stderr).includes('qemu: qemu_mutex_unlock: Operation not permitted'),
      run.stderr,
    );
    assert.equal(run.signal, 'SIGABRT', `status ${run.status}, stdout: ${run.stdout}, stderr: ${run.stderr}`);
    assert.equal(run.stdout, '');
  },
);

watched('without the switch a child throws a QemuThreadError it can catch, and exits normally', () => {
  const run = runChild(`
    import { QemuMutex, QemuThreadError, getErrorMode } from 'qemu-thread';
    try { QemuMutex.create().unlock(); } catch (e) { console.log(getErrorMode(), e instanceof QemuThreadError, e.code); }
  `);
  assert.equal(run.signal, null);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'throw true EPERM\n');
  assert.ok(!run.stderr.includes('qemu: '), run.stderr);
});
