// docs/errors.md lists every error the library can throw. This test reads the library's sources
// (support/error-sites.ts: every fail() call and every Error constructed in src/) and checks the page
// against them both ways: each message the sources can produce has its row, with the right code, errno and
// function, and each message the page shows still exists. Error messages quoted anywhere in the README and
// docs/ must also be ones the library can produce.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRNO, type QemuErrorCode, strerror } from 'qemu-thread';
import { errorSites, patternRegExp } from './support/error-sites.js';
import { filesUnder, readRoot } from './support/snippets.js';

const { fails, throws } = errorSites();
const page = readRoot('docs/errors.md');

/**
 * What the analysis finds but cannot happen, so the page need not list it. Each entry must still be found
 * (checked below), so that none outlives its reason.
 */
const UNREACHABLE: { code: string; detail: string; why: string }[] = [
  {
    code: 'ENOTRECOVERABLE',
    detail: 'it was destroyed',
    why: "mutex.ts's unusable() reports only a not-recoverable word as ENOTRECOVERABLE",
  },
  { code: 'ENOTRECOVERABLE', detail: 'it was never initialized', why: 'as above' },
  {
    code: 'ENOTRECOVERABLE',
    detail: 'its memory holds …: the primitive was placed over another one',
    why: 'as above',
  },
  {
    code: 'EPERM',
    detail: 'the calling thread holds its lock',
    why: "lockcnt's release fails only when the caller does not hold the lock",
  },
];

/** A pattern that is nothing but values (`…`) says nothing to list: its text comes from elsewhere. */
const informative = (pattern: string) => pattern.replace(/[…\s'"]/g, '') !== '';

interface Row {
  cells: string[];
  line: number;
}

/** The rows of the Markdown tables whose header row starts with `header` (one table or more). */
function table(header: string): Row[] {
  const lines = page.split('\n');
  const starts = [...lines.keys()].filter((i) => lines[i].startsWith(header));
  assert.ok(starts.length > 0, `docs/errors.md has no table starting '${header}'`);
  const rows: Row[] = [];
  for (const start of starts) {
    for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
      rows.push({
        cells: lines[i].split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim()),
        line: i + 1,
      });
    }
  }
  return rows;
}

/** The `code spans` of a table cell. */
const spans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

test('the codes table matches ERRNO and strerror', () => {
  const rows = table('| code | errno | strerror text |').map((r) => [
    spans(r.cells[0])[0],
    r.cells[1],
    r.cells[2],
  ]);
  const expected = Object.entries(ERRNO).map(([code, errno]) => [
    code,
    String(errno),
    strerror(code as QemuErrorCode),
  ]);
  assert.deepEqual(rows, expected);
});

test('every QemuThreadError the sources can produce has its row, and every row still exists', () => {
  const rows = table('| code | errno | when').map((r) => ({
    code: spans(r.cells[0])[0],
    errno: r.cells[1],
    details: spans(r.cells[2]),
    funcs: spans(r.cells[3]),
    line: r.line,
  }));
  for (const row of rows) {
    assert.ok(row.code in ERRNO, `docs/errors.md:${row.line}: unknown code ${row.code}`);
    assert.equal(row.errno, String(ERRNO[row.code as QemuErrorCode]), `docs/errors.md:${row.line}: errno`);
  }
  const unreachable = (code: string, detail: string) =>
    UNREACHABLE.some((u) => u.code === code && u.detail === detail);
  for (const site of fails) {
    for (const detail of site.details.filter(informative)) {
      if (unreachable(site.code, detail)) continue;
      const row = rows.find((r) => r.code === site.code && r.details.includes(detail));
      assert.ok(row, `${site.where}: ${site.code} '${detail}' is not in docs/errors.md`);
      if (site.func !== null) {
        assert.ok(
          row.funcs.includes(site.func),
          `docs/errors.md:${row.line}: '${detail}' is raised by ${site.func} too (${site.where})`,
        );
      }
    }
  }
  for (const row of rows) {
    for (const detail of row.details) {
      const found = fails.some((s) => s.code === row.code && s.details.includes(detail));
      assert.ok(found, `docs/errors.md:${row.line}: no ${row.code} with the detail '${detail}' in src/`);
    }
  }
  for (const u of UNREACHABLE) {
    assert.ok(
      fails.some((s) => s.code === u.code && s.details.includes(u.detail)),
      `the exception for ${u.code} '${u.detail}' is no longer needed: remove it`,
    );
  }
});

test('every other error the sources can produce has its row, and every row still exists', () => {
  const rows = table('| error | message |').map((r) => ({
    kind: spans(r.cells[0])[0],
    messages: spans(r.cells[1]),
    line: r.line,
  }));
  for (const site of throws) {
    for (const message of site.messages.filter(informative)) {
      const row = rows.find((r) => r.kind === site.kind && r.messages.includes(message));
      assert.ok(row, `${site.where}: ${site.kind} '${message}' is not in docs/errors.md`);
    }
  }
  for (const row of rows) {
    for (const message of row.messages) {
      const found = throws.some((s) => s.kind === row.kind && s.messages.includes(message));
      assert.ok(found, `docs/errors.md:${row.line}: no ${row.kind} '${message}' in src/`);
    }
  }
});

/** `func: strerror (detail)` messages quoted in a Markdown file, with balanced parentheses. */
function quotedMessages(text: string): { func: string; code: QemuErrorCode; detail: string }[] {
  const flat = text.replace(/\s*\n\s*(?:\/\/\s*)?/g, ' ');
  const byText = new Map(Object.keys(ERRNO).map((c) => [strerror(c as QemuErrorCode), c as QemuErrorCode]));
  const found: { func: string; code: QemuErrorCode; detail: string }[] = [];
  const re = new RegExp(`([\\w.]+): (${[...byText.keys()].join('|')}) \\(`, 'g');
  for (const m of flat.matchAll(re)) {
    let depth = 1;
    let end = (m.index ?? 0) + m[0].length;
    const begin = end;
    for (; end < flat.length && depth > 0; end++) {
      if (flat[end] === '(') depth++;
      if (flat[end] === ')') depth--;
    }
    found.push({ func: m[1], code: byText.get(m[2]) as QemuErrorCode, detail: flat.slice(begin, end - 1) });
  }
  return found;
}

test('the error messages quoted in the README and docs/ are ones the library produces', () => {
  const files = ['README.md', ...filesUnder('docs', (name) => name.endsWith('.md'))];
  let checked = 0;
  for (const file of files) {
    for (const quote of quotedMessages(readRoot(file))) {
      const matches = fails.some(
        (s) => s.code === quote.code && s.details.some((d) => patternRegExp(d).test(quote.detail)),
      );
      assert.ok(
        matches,
        `${file} quotes '${quote.func}: ${quote.code} (${quote.detail})', which no fail() in src/ makes`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} quoted messages found: is the scan broken?`);
});
