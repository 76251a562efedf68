// Typed threads that must NOT compile: each `@ts-expect-error: text` marks a line that must fail, with an
// error whose message contains `text` (types.test.ts removes the directives and checks exactly that).
import { QemuMutex, QemuThread, qemu_thread_create, threadFunction } from 'qemu-thread';
import type * as Producer from './producer.js';

const mod = new URL('./producer.js', import.meta.url);
const fromProducer = threadFunction<typeof Producer>();
const produce = fromProducer(mod, 'produce');
const squares = fromProducer(mod, 'squares');
const ping = fromProducer(mod, 'ping');
const job: Producer.Job = {
  lock: QemuMutex.create(),
  counter: new Int32Array(new SharedArrayBuffer(4)),
  rounds: 1,
};

// The export's name is checked against the module: a typo, a value, a class, a function of two parameters.
// @ts-expect-error: Argument of type '"prodcuer"' is not assignable
fromProducer(mod, 'prodcuer');
// @ts-expect-error: Argument of type '"notAFunction"' is not assignable
fromProducer(mod, 'notAFunction');
// @ts-expect-error: Argument of type '"NotCallable"' is not assignable
fromProducer(mod, 'NotCallable');
// @ts-expect-error: Argument of type '"twoParameters"' is not assignable
fromProducer(mod, 'twoParameters');

// The argument is checked against the function's parameter, in both faces.
// @ts-expect-error: Property 'lock' is missing
QemuThread.create('produce', produce, { counter: job.counter, rounds: 1 });
// @ts-expect-error: Argument of type 'string' is not assignable to parameter of type 'Job'
qemu_thread_create(new QemuThread(), 'produce', produce, 'job');
// @ts-expect-error: Expected 3-4 arguments, but got 2
QemuThread.create('produce', produce);
// @ts-expect-error: Argument of type '5' is not assignable to parameter of type 'null | undefined'
QemuThread.create('ping', ping, 5);
// @ts-expect-error: Argument of type 'string' is not assignable to parameter of type 'number'
new QemuThread<number[]>().start('squares', squares, 'four');

// The result: what a join returns, and the handle a function may run on.
// @ts-expect-error: Type 'number' is not assignable to type 'string'
const text: string = QemuThread.create('produce', produce, job).join();
// @ts-expect-error: Type 'number[]' is missing the following properties from type 'Promise<number[]>'
const notAPromise: Promise<number[]> = QemuThread.create('squares', squares, 2).join();
// @ts-expect-error: Type 'number' is not assignable to type 'string | PromiseLike<string>'
qemu_thread_create(new QemuThread<string>(), 'produce', produce, job);
// @ts-expect-error: Type 'number' is not assignable to type 'string | PromiseLike<string>'
new QemuThread<string>().start('produce', produce, job);
// @ts-expect-error: Type 'QemuThread<number>' is not assignable to type 'QemuThread<string>'
const wrongHandle: QemuThread<string> = QemuThread.create('produce', produce, job);

// The mode is one of the two constants.
// @ts-expect-error: Argument of type '2' is not assignable to parameter of type 'QemuThreadMode | undefined'
QemuThread.create('produce', produce, job, 2);
// @ts-expect-error: Argument of type '2' is not assignable to parameter of type 'QemuThreadMode | undefined'
qemu_thread_create(new QemuThread(), 'produce', produce, job, 2);

export { notAPromise, text, wrongHandle };
