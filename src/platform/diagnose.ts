/**
 * Why a worker script or a module failed to load in a browser, found out by fetching it again. The
 * browser's own report says little: a worker that fails to load fires an `error` event with no message,
 * and a failed `import()` says "Failed to fetch dynamically imported module" whether the file is missing,
 * has the wrong MIME type or failed to evaluate. A second fetch tells these apart.
 */

/** What a fetch shows about `url`, as the end of a sentence ("... failed to load: <this>"). */
export async function diagnoseUrl(url: string, kind: 'worker' | 'module'): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(3000) } as RequestInit);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `it cannot be fetched (${why}): a URL of another origin needs CORS, a blob: URL may be revoked`;
  }
  void response.body?.cancel();
  if (!response.ok) {
    return (
      `HTTP ${response.status} ${response.statusText}: the file is not there ` +
      '(did the bundler emit it under this name? see docs/bundlers.md)'
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (!/javascript|ecmascript/i.test(type)) {
    return (
      `it is served as '${type || 'no type'}', not JavaScript, so the browser refuses it ` +
      '(a server that answers unknown paths with index.html does this)'
    );
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (kind === 'worker' && isolated && !response.headers.has('cross-origin-embedder-policy')) {
    return (
      "it is served without 'Cross-Origin-Embedder-Policy: require-corp', which the worker of a " +
      'cross-origin isolated page needs'
    );
  }
  return (
    'it is served as JavaScript, so it failed while loading or running: a syntax error, an import ' +
    'that failed, or an error at its top level (see the console)'
  );
}

/** The first URL quoted in an error message (browsers name the module that failed), or undefined. */
export function urlInMessage(message: string): string | undefined {
  return /\b(?:https?:|blob:)[^\s'"]+/.exec(message)?.[0];
}
