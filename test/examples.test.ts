// The handshake example of docs/machine.md must keep working exactly as printed: run it as a user would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the docs/machine.md handshake creates, then joins, 4 vCPUs in order', { timeout: 60_000 }, () => {
  const script = fileURLToPath(new URL('../examples/handshake-main.js', import.meta.url));
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'joined 0\njoined 1\njoined 2\njoined 3\n');
});
