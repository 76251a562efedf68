/**
 * Two copies of qemu-thread in one process act as one (as when an application's bundle and the package's
 * own files meet in a thread): a thread function that uses a second copy (a copy of dist/ made here)
 * hands its qemu_thread_exit value and its QemuThreadError to the first copy's join, locks the first
 * copy's mutex as the same thread, and the first copy sees its end (EOWNERDEAD); in the main thread, each
 * copy accepts the other's primitives, and `instanceof QemuThreadError` holds across them.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  QemuMutex,
  QemuThread,
  QemuThreadError,
  QemuThreadFailure,
  qemu_mutex_consistent,
  qemu_mutex_lock,
  qemu_mutex_unlock,
  qemu_thread_create,
  qemu_thread_join,
} from 'qemu-thread';

type Library = typeof import('qemu-thread');

let dir: string;
let copy: Library;
let threadModule: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qemu-thread-copy-'));
  cpSync(fileURLToPath(new URL('../../dist/', import.meta.url)), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'thread.js'),
    [
      "import * as copy from './dist/index.js';",
      'export function exitWith({ n }) { copy.qemu_thread_exit({ got: n }); }',
      'export function throwQemuError() { copy.qemu_mutex_unlock(copy.QemuMutex.create()); }',
      'export function lockAndEnd({ m }) { copy.qemu_mutex_lock(m); return String(m); }',
      '',
    ].join('\n'),
  );
  threadModule = pathToFileURL(join(dir, 'thread.js')).href;
  copy = (await import(pathToFileURL(join(dir, 'dist/index.js')).href)) as Library;
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, arg: unknown): { tid: number; value: unknown } {
  const t = new QemuThread();
  qemu_thread_create(t, null, `${threadModule}#${name}`, arg);
  return { tid: t.threadId(), value: qemu_thread_join(t) };
}

test('the copy is another copy', () => {
  assert.notEqual(copy.QemuMutex, QemuMutex);
});

test('qemu_thread_exit through the other copy: the join gets the value, as it is', () => {
  assert.deepEqual(run('exitWith', { n: 7 }).value, { got: 7 });
});

test('a QemuThreadError of the other copy reaches the join with its code, and instanceof holds', () => {
  assert.throws(
    () => run('throwQemuError', null),
    (error: unknown) =>
      error instanceof QemuThreadFailure &&
      error.cause instanceof QemuThreadError &&
      error.cause.code === 'EPERM',
  );
  assert.throws(
    () => copy.qemu_mutex_unlock(copy.QemuMutex.create()),
    (error: unknown) =>
      error instanceof QemuThreadError && (error as QemuThreadError).func === 'qemu_mutex_unlock',
  );
});

test("the other copy's join failure is a QemuThreadFailure here too, with the thread's error as cause", () => {
  const t = new copy.QemuThread();
  copy.qemu_thread_create(t, 'copied', `${threadModule}#throwQemuError`, null);
  assert.throws(
    () => copy.qemu_thread_join(t),
    (error: unknown) =>
      error instanceof QemuThreadFailure &&
      error.threadName === 'copied' &&
      error.cause instanceof QemuThreadError &&
      error.cause.func === 'qemu_mutex_unlock',
  );
  assert.ok(!(new Error('plain') instanceof QemuThreadFailure));
});

test('a mutex locked through the other copy is held by the same thread, and its end is seen', () => {
  const m = QemuMutex.create();
  const { tid, value } = run('lockAndEnd', { m });
  assert.match(String(value), new RegExp(`locked by thread ${tid}\\b`));
  assert.throws(
    () => qemu_mutex_lock(m),
    (error: unknown) => error instanceof QemuThreadError && error.code === 'EOWNERDEAD',
  );
  qemu_mutex_consistent(m);
  qemu_mutex_unlock(m);
});

test("each copy accepts the other's primitives", () => {
  const theirs = copy.QemuMutex.create();
  qemu_mutex_lock(theirs);
  assert.equal(copy.qemu_mutex_trylock(theirs), -16);
  assert.throws(
    () => copy.qemu_mutex_lock(theirs),
    (e: unknown) => e instanceof QemuThreadError && e.code === 'EDEADLK',
  );
  copy.qemu_mutex_unlock(theirs);
});
