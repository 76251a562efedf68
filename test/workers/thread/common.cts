// A CommonJS module (compiled to common.cjs): Node's ES interop gives it the named exports its text
// assigns, and its module.exports as the default (thread-create.test.ts).
export function triple(n: number): number {
  return 3 * n;
}
