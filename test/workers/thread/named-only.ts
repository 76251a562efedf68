// A module with one named function and nothing else, not even a word for anything else in its text: a
// thread URL without a fragment names what it lacks (thread-create.test.ts).
export function only(arg: unknown): unknown {
  return arg;
}
