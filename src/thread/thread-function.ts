/**
 * Thread functions: how a thread's code is named, typed and checked. C passes a function pointer; a
 * function cannot be sent to another thread, so a thread function is named by its module's URL and the
 * export's name, `new URL('./mod.js#fn', import.meta.url)`, which the new thread imports.
 *
 * Types: {@link threadFunction} gives such a URL the type of the export it names (read from the module's
 * own type, `import type * as Mod from './mod.js'`), so that `qemu_thread_create` checks `arg` against the
 * function's parameter and `join` returns its result type; plain URLs and strings stay accepted, untyped.
 * Checks at create ({@link parseThreadFunction}): the URL's form, the trust policy, that the module
 * exists and, where its source can be read, that it exports the name (a conservative scan: it reports a
 * missing export only when no reading of the source could export it).
 */
import { fail } from '../errors.js';
import { describeValue } from '../layout.js';
import { platform } from '../platform/index.js';
import { self } from './self.js';
import type { QEMU_THREAD_DETACHED, QEMU_THREAD_JOINABLE } from './thread.js';

declare const THREAD_FUNCTION: unique symbol;

/** What a thread can run: a function of at most one argument (the thread's `arg`), sync or async. */
export type AnyThreadFunction = (arg: never) => unknown;

/** {@link QEMU_THREAD_JOINABLE} or {@link QEMU_THREAD_DETACHED}. */
export type QemuThreadMode = typeof QEMU_THREAD_JOINABLE | typeof QEMU_THREAD_DETACHED;

/**
 * A thread function's URL (or, with `Base = string`, a module name of a browser thread worker) that
 * carries the type `F` of the function it names, made by {@link threadFunction}. At run time it is the
 * plain URL `module#export`; the type exists for the compiler alone.
 */
export type ThreadFunction<F extends AnyThreadFunction, Base extends URL | string = URL> = Base & {
  /** The type of the function named, for the compiler alone: no such property exists at run time. */
  readonly [THREAD_FUNCTION]: F;
};

/** The names of the exports of module type `M` that a thread can run (functions of at most one argument). */
export type ThreadFunctionNames<M> = {
  [K in keyof M]: M[K] extends AnyThreadFunction ? K : never;
}[keyof M] &
  string;

/**
 * What `qemu_thread_create` and `QemuThread.start` accept as `fn` for a `QemuThread<R>`: any URL or
 * string, and a typed {@link ThreadFunction} only if its result is an `R`.
 */
export type ThreadFunctionFor<R> = (URL | string) & {
  /** A typed function's type, which must return an `R` (or a promise of one); absent on a plain URL. */
  readonly [THREAD_FUNCTION]?: (arg: never) => R | PromiseLike<R>;
};

/** The `arg` a thread function takes: its parameter's type, `undefined` for one without a parameter. */
export type ThreadArg<Fn> =
  Fn extends ThreadFunction<infer F, URL | string>
    ? Parameters<F> extends []
      ? undefined | null
      : Parameters<F>[0]
    : unknown;

/**
 * The arguments after `fn` of `QemuThread.create` and `t.start`: `arg` (optional when the function's
 * parameter is), then `mode`.
 */
export type ThreadStartArgs<Fn> =
  Fn extends ThreadFunction<infer F, URL | string>
    ? Parameters<F> extends []
      ? [arg?: null, mode?: QemuThreadMode]
      : undefined extends Parameters<F>[0]
        ? [arg?: Parameters<F>[0], mode?: QemuThreadMode]
        : [arg: Parameters<F>[0], mode?: QemuThreadMode]
    : [arg?: unknown, mode?: QemuThreadMode];

/**
 * What joining a thread running `Fn` returns: the function's result, awaited (an async function's
 * resolved value); `Otherwise` for an untyped URL.
 */
export type ThreadResult<Fn, Otherwise = unknown> =
  Fn extends ThreadFunction<infer F, URL | string> ? Awaited<ReturnType<F>> : Otherwise;

/**
 * Names a thread function so that the compiler knows its type: `threadFunction<typeof Mod>()(url, name)`,
 * where `Mod` is the module's type (`import type * as Mod from './mod.js'`, which imports nothing at run
 * time) and `url` the module's URL, without a fragment. The compiler then checks that `name` is an export of
 * the module that is a function of at most one argument, and `qemu_thread_create` / `QemuThread.create`
 * check the thread's `arg` against its parameter and type the join's result. (Two calls, because
 * TypeScript cannot infer `name` while it is told `Mod`.)
 *
 * Returns the URL `module#name` (a string `module#name` for a string module), which everything that takes
 * a thread function accepts.
 *
 * @example
 * ```ts
 * // stats.ts: the thread's module
 * export function sum(values: number[]): number {
 *   return values.reduce((a, b) => a + b, 0);
 * }
 * ```
 * ```ts
 * import { QemuThread, threadFunction } from 'qemu-thread';
 * import type * as Stats from './stats.js';
 *
 * const sum = threadFunction<typeof Stats>()(new URL('./stats.js', import.meta.url), 'sum');
 * const t = QemuThread.create('sum', sum, [1, 2, 3]); // QemuThread<number>; [1, 'x'] would not compile
 * const total: number = t.join();
 * console.log(total); // 6
 * ```
 */
export function threadFunction<M>(): {
  <K extends ThreadFunctionNames<M>>(module: URL, name: K): ThreadFunction<Extract<M[K], AnyThreadFunction>>;
  <K extends ThreadFunctionNames<M>>(
    module: string,
    name: K,
  ): ThreadFunction<Extract<M[K], AnyThreadFunction>, string>;
} {
  return ((module: URL | string, name: string) => {
    const func = 'threadFunction';
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`${func}: expected the export's name as a string, got ${describeValue(name)}`);
    }
    const fragment = `#${encodeURIComponent(name)}`;
    if (module instanceof URL) {
      if (module.hash !== '') {
        throw new TypeError(
          `${func}: the module URL ${module.href} has a fragment already; pass the module alone and the export as the name`,
        );
      }
      return new URL(module.href + fragment);
    }
    if (typeof module === 'string') {
      if (module.includes('#')) {
        throw new TypeError(
          `${func}: the module '${module}' has a fragment already; pass the module alone and the export as the name`,
        );
      }
      return module + fragment;
    }
    throw new TypeError(`${func}: expected the module as a URL or a string, got ${describeValue(module)}`);
  }) as never;
}

/**
 * A module name of a thread worker (browser-boot.ts): letters, digits, `_ $ . - /`, not starting with `.`
 * or `/` (those are relative paths, which stay an error), with the export after `#`.
 */
const MODULE_NAME = /^[A-Za-z_$@][\w$@.\-/]*(#.*)?$/;

/**
 * Splits `URL#export` (or `name#export`) into the module and the export's name, or fails with EINVAL: a
 * relative or malformed URL, a module from an untrusted place, a module that does not exist, or one whose
 * source shows that it has no such export.
 */
export function parseThreadFunction(fn: unknown, func: string): { moduleUrl: string; exportName: string } {
  if (typeof fn === 'string' && MODULE_NAME.test(fn) && !URL.canParse(fn)) {
    if (!platform.namedModules) {
      fail(
        'EINVAL',
        func,
        `'${fn}' names a module of a thread worker, and this thread has none (in a browser: setThreadWorker ` +
          "from 'qemu-thread/browser'); else name the function by URL: new URL('./mod.js#fn', import.meta.url)",
      );
    }
    const hash = fn.indexOf('#');
    return hash < 0
      ? { moduleUrl: fn, exportName: 'default' }
      : { moduleUrl: fn.slice(0, hash), exportName: decodeURIComponent(fn.slice(hash + 1)) || 'default' };
  }
  let url: URL;
  if (fn instanceof URL) {
    url = new URL(fn.href);
  } else if (typeof fn === 'string') {
    try {
      url = new URL(fn);
    } catch {
      fail(
        'EINVAL',
        func,
        `the thread function must be an absolute URL like new URL('./mod.js#fn', import.meta.url), got '${fn}'`,
      );
    }
  } else {
    fail(
      'EINVAL',
      func,
      `the thread function must be a URL or an absolute URL string, got ${describeValue(fn)}`,
    );
  }
  const exportName = url.hash ? decodeURIComponent(url.hash.slice(1)) : 'default';
  url.hash = '';
  const href = url.href;
  if (!platform.moduleUrlTrusted(url) && !self.moduleUrls.some((prefix) => href.startsWith(prefix))) {
    fail(
      'EINVAL',
      func,
      `the thread function must come from ${platform.trustedModules}, got '${href.slice(0, 80)}'; ` +
        'to run code from other URLs, allow them first with QemuThread.allowModuleUrls(prefix)',
    );
  }
  if (platform.moduleMissing(url)) fail('EINVAL', func, `the module ${url.href} does not exist`);
  const source = platform.moduleSource(url);
  if (source !== null && lacksExport(source, exportName)) {
    fail('EINVAL', func, `the module ${url.href} has no export '${exportName}'`);
  }
  return { moduleUrl: url.href, exportName };
}

/**
 * Whether a module's source shows that it cannot export `name`. Conservative: true only when no reading
 * of the text could export it, so a module that does export it is never refused (a missing export that
 * this misses is still reported, by the join).
 *
 * An ES module names each export in its text (`export function name`, `export { x as name }`,
 * `export { "name" }`), so a name that appears nowhere in the source as a word of its own (comments
 * included) is not exported, unless it comes
 * through `export *` from another module, which is not read. A CommonJS module imported as ES (Node's
 * interop) exports the names its text assigns (`exports.name = ...`), or those of a module it re-exports
 * with `require`, which is not read either; its default export (its `module.exports`) always exists.
 * Escapes (`\u0061`) could spell a name without its letters: a source with a backslash before `u` is
 * left alone.
 */
export function lacksExport(source: string, name: string): boolean {
  if (/\brequire\s*\(|\\u/.test(source)) return false;
  if (name === 'default') {
    return !/\bdefault\b/.test(source) && !/\bexports\b/.test(source);
  }
  if (/\bexport\s*\*/.test(source)) return false;
  // The name as a whole word (not inside a longer identifier); anywhere at all, comments included.
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return !new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`).test(source);
}
