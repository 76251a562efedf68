// Exports in the shapes that qemu_thread_create's look at a module's text must accept (thread-create.test.ts):
// a renamed export and a default one.
function internalName(arg: unknown): string {
  return `renamed got ${String(arg)}`;
}
export { internalName as renamed };

export default function (arg: unknown): string {
  return `anonymous default got ${String(arg)}`;
}
