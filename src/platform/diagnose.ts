/**
 * Why a worker script or a module failed to load in a browser, found out by fetching it again. The
 * browser's own report says little: a worker that fails to load fires an `error` event with no message,
 * and a failed `import()` says "Failed to fetch dynamically imported module" whether the file is missing,
 * has the wrong MIME type or failed to evaluate. A second fetch tells these apart.
 */

export interface Diagnosis {
  /** False when the fetch found nothing wrong (the script is there, as JavaScript). */
  found: boolean;
  /** The cause, short: it comes first in an error message that may be cut to fit a QemuThread. */
  cause: string;
  /** What to do about it, for the end of the message. */
  hint: string;
}

export async function diagnoseUrl(url: string, kind: 'worker' | 'module'): Promise<Diagnosis> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(3000) } as RequestInit);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { found: true, cause: `cannot be fetched (${why})`, hint: 'another origin needs CORS' };
  }
  void response.body?.cancel();
  if (!response.ok) {
    return {
      found: true,
      cause: `HTTP ${response.status} ${response.statusText}`,
      hint: 'is the file emitted under this name? (docs/bundlers.md)',
    };
  }
  const type = response.headers.get('content-type') ?? '';
  if (!/javascript|ecmascript/i.test(type)) {
    return {
      found: true,
      cause: `served as '${type || 'no type'}', not JavaScript`,
      hint: 'a server that answers unknown paths with index.html does this',
    };
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (kind === 'worker' && isolated && !response.headers.has('cross-origin-embedder-policy')) {
    return {
      found: true,
      cause: 'served without Cross-Origin-Embedder-Policy',
      hint: "a cross-origin isolated page's workers need 'Cross-Origin-Embedder-Policy: require-corp'",
    };
  }
  return {
    found: false,
    cause: 'fetched as JavaScript, failed while loading or running',
    hint: 'a syntax error, an import that failed, or an error at its top level (see the console)',
  };
}

/** The first URL quoted in an error message (browsers name the module that failed), or undefined. */
export function urlInMessage(message: string): string | undefined {
  return /\b(?:https?:|blob:)[^\s'"]+/.exec(message)?.[0];
}
