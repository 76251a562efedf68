/**
 * A tiny static HTTP server for the browser example and tests: serves a folder (the repository) with the
 * two headers that make a page cross-origin isolated, which SharedArrayBuffer needs:
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (plus
 * `Cross-Origin-Resource-Policy: same-origin`, so that its own files load under require-corp).
 * `/` redirects to /web/ (the example page); a folder's URL serves its index.html. No dependency: node:http only.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The headers of cross-origin isolation, sent with every response. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface StaticServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** Where `/` redirects (default `/web/`, the example page); null serves the root's index.html. */
  home?: string | null;
  /** Paths served without the isolation headers (the bundler tests' broken cases); none by default. */
  plain?: (path: string) => boolean;
}

/** Starts serving `root` on `port` (0: any free port) on the loopback interface. */
export function startStaticServer(
  root: string,
  port: number,
  host = '127.0.0.1',
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const base = normalize(root);
  const home = options.home === undefined ? '/web/' : options.home;
  const server = createServer((request, response) => {
    const send = (status: number, text: string) => {
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION_HEADERS });
      response.end(text);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed\n');
    let path: string;
    let search = '';
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      search = url.search;
      path = decodeURIComponent(url.pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    // The page's relative URLs (./main.js) need it to be served from /web/, so / redirects there.
    if (path === '/' && home !== null) {
      response.writeHead(302, { Location: `${home}${search}`, ...ISOLATION_HEADERS });
      return response.end();
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    // normalize() resolved every '..': anything that left the root is refused.
    if (file !== base && !file.startsWith(base.endsWith(sep) ? base : base + sep))
      return send(403, 'forbidden\n');
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return send(404, 'not found\n');
      size = stat.size;
    } catch {
      return send(404, 'not found\n');
    }
    response.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-store',
      ...(options.plain?.(path) ? {} : ISOLATION_HEADERS),
    });
    if (request.method === 'HEAD') return response.end();
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://${host}:${address.port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
