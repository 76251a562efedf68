// Typed threads that must compile (strict), with the types the compiler must infer, checked with Equal;
// types.test.ts compiles this file with typed-errors.ts, then runs it.
import {
  QEMU_THREAD_DETACHED,
  QEMU_THREAD_JOINABLE,
  QemuMutex,
  QemuThread,
  type QemuThreadMode,
  qemu_thread_create,
  qemu_thread_join,
  qemu_thread_join_async,
  type ThreadFunction,
  threadFunction,
} from 'qemu-thread';
import type * as Producer from './producer.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its type argument is `true`. */
const same = <T extends true>(): T | undefined => undefined;

const mod = new URL('./producer.js', import.meta.url);
const fromProducer = threadFunction<typeof Producer>();
const produce = fromProducer(mod, 'produce');
const squares = fromProducer(mod, 'squares');
const ping = fromProducer(mod, 'ping');
const greet = fromProducer(mod, 'greet');
const double = fromProducer(mod, 'default');
same<Equal<typeof produce, ThreadFunction<typeof Producer.produce>>>();

// A typed thread function is a URL: everything that takes a URL takes it.
const url: URL = produce;
console.log(url.hash); // #produce

const job: Producer.Job = {
  lock: QemuMutex.create(),
  counter: new Int32Array(new SharedArrayBuffer(4)),
  rounds: 1000,
};

// The class face infers the handle's result type.
const p = QemuThread.create('produce', produce, job);
same<Equal<typeof p, QemuThread<number>>>();
const rounds = p.join();
same<Equal<typeof rounds, number>>();
console.log(rounds, job.counter[0]); // 1000 1000

// An async function: the join's result is the awaited value.
const s = QemuThread.create('squares', squares, 4);
same<Equal<typeof s, QemuThread<number[]>>>();
console.log(s.join().join(' ')); // 0 1 4 9

// No parameter: no argument; an optional one: optional; the default export; a mode.
const noArg: 'pong' = QemuThread.create('ping', ping).join();
const optional: string = QemuThread.create('greet', greet).join();
const given: string = QemuThread.create('greet', greet, 'ada', QEMU_THREAD_JOINABLE).join();
console.log(noArg, optional, given); // pong hello nobody hello ada
const doubled: number = QemuThread.create('double', double, 21).join();
console.log(doubled); // 42

// The functional face: the handle declares its result, the create checks the function against it.
const t = new QemuThread<number>();
qemu_thread_create(t, 'produce', produce, job, QEMU_THREAD_JOINABLE);
const joined = qemu_thread_join(t);
same<Equal<typeof joined, number>>();
console.log(joined, job.counter[0]); // 1000 2000

// A handle of unknown result takes any function; its join says unknown.
const anyResult = new QemuThread();
qemu_thread_create(anyResult, 'double', double, 4);
const unknownResult = qemu_thread_join(anyResult);
same<Equal<typeof unknownResult, unknown>>();
console.log(unknownResult); // 8

// Async joins, both faces.
const a = QemuThread.create('squares', squares, 3);
const viaMethod = await a.joinAsync();
same<Equal<typeof viaMethod, number[]>>();
const b = new QemuThread<number[]>();
b.start('squares', squares, 2);
const viaFunction = await qemu_thread_join_async(b);
same<Equal<typeof viaFunction, number[]>>();
console.log(viaMethod.length, viaFunction.length); // 3 2

// Untyped names keep working, with unknown results and any argument.
const untyped = QemuThread.create('untyped', new URL('./producer.js#default', import.meta.url), 5);
same<Equal<typeof untyped, QemuThread<unknown>>>();
console.log(untyped.join()); // 10
const declared = new QemuThread<number>();
qemu_thread_create(declared, 'string', `${mod.href}#default`, 6);
console.log(qemu_thread_join(declared)); // 12

// A module name (a browser thread worker's) gives a string.
const named = threadFunction<typeof Producer>()('vcpu', 'produce');
same<Equal<typeof named, ThreadFunction<typeof Producer.produce, string>>>();
console.log(named); // vcpu#produce

// Modes are the two constants; handles of a known result are handles.
const mode: QemuThreadMode = QEMU_THREAD_DETACHED;
QemuThread.create('detached', ping, null, mode);
const handles: QemuThread[] = [p, s, t];
console.log(handles.length); // 3
