/**
 * The engine's own error classes by name, to rebuild an error of the right class after it crossed threads
 * as plain data (errors.ts for join's rethrow, platform/clone-codec.ts for the browser's clone).
 */
export const BUILTIN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
