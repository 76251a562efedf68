/**
 * `npm run serve`: serves the repository with cross-origin isolation, for the browser example page
 * (web/index.html at `/`) which imports the library from /dist/index.js.
 *
 * Usage: node build/tools/serve.js [--port N] (default 8080; 0 picks a free port) [--host H]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startStaticServer } from './static-server.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`serve: --port must be an integer from 0 to 65535, got '${values.port}'\n`);
  process.exit(2);
}
// build/tools/serve.js -> the repository's root.
const root = fileURLToPath(new URL('../../', import.meta.url));
const { url } = await startStaticServer(root, port, values.host);
process.stdout.write(`qemu-thread example (cross-origin isolated): ${url}\n`);
