// Writes a CommonJS twin (.d.cts) of every declaration file in dist/, for `require('qemu-thread')`.
// Node >= 20.19 loads the ES module itself through require; TypeScript, for a CommonJS file compiled with
// module node16, only lets it do so if the types it resolves through the "require" condition are
// CommonJS declarations. The twins are the same declarations with relative specifiers ending in .cjs
// (which TypeScript maps to the .d.cts twin). Run after tsc: node tools/cts-types.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
let count = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const path = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(path, 'utf8').replace(
    /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.js(['"])/g,
    '$1$2.cjs$3',
  );
  writeFileSync(path.replace(/\.d\.ts$/, '.d.cts'), text.replace(/\/\/# sourceMappingURL=.*\n?$/, ''));
  count++;
}
if (count === 0) throw new Error(`cts-types: no declaration files in ${dist}`);
