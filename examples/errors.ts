// The README's error example: a misuse throws a QemuThreadError instead of hanging.
import { QemuMutex, QemuThreadError } from 'qemu-thread';

const m = QemuMutex.create();
m.lock();
try {
  m.lock(); // the holder locks it again: in C a hang, here an error
} catch (e) {
  if (!(e instanceof QemuThreadError)) throw e;
  console.log(e.code, e.errno, e.func); // EDEADLK 35 qemu_mutex_lock
  console.log(e.message); // qemu_mutex_lock: Resource deadlock avoided (the calling thread already holds this mutex)
}
m.unlock();
