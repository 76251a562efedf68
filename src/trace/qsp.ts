/**
 * QSP, QEMU's synchronization profiler (util/qsp.c): for every call site that locks a mutex or recursive
 * mutex (nested locks of a recursive one included, as QEMU counts them), tries one, or waits on a cond
 * (async calls included, timed from the call to the lock), the number of acquisitions and the total time
 * spent in the call, summed over every thread of the process; a report in QEMU's table format, sorted by
 * total or average wait, with call sites coalesced across objects; a reset that makes later reports show
 * deltas.
 *
 * State: a process-wide table in shared memory (platform.processShared), so that a report made in any
 * thread covers all of them. Entries are keyed by call site: (type, object number, file, line). Each
 * entry holds its key, the counts and the snapshot taken by the last reset; file names live once in a
 * string area. A lock word in the header (park.ts: the library's one internal lock) guards inserts and
 * updates: the profiler's own cost is paid only while it is enabled, and the time it records is measured
 * around the real call, outside that lock. Each thread caches where its call sites live in the table, so
 * an update is a lookup in a local Map. The records come from the park layer's call hooks (instrument.ts).
 *
 * Enabling sets a bit in the trace control word (trace.ts), so the fast paths still pay one branch for both.
 */
import { lockInternal, unlockInternal } from '../park.js';
import { platform } from '../platform/index.js';
import { QSP_BIT, traceControl } from './trace.js';

/** The Type column of QEMU's profiler report: which kind of call a row counts. */
export type QspType = 'mutex' | 'BQL mutex' | 'rec_mutex' | 'condvar';
const TYPES: readonly QspType[] = ['mutex', 'BQL mutex', 'rec_mutex', 'condvar'];

/** Sorts QEMU's profiler report by the total time spent in each call site (the default). */
export const QSP_SORT_BY_TOTAL_WAIT_TIME = 0;
/** Sorts QEMU's profiler report by the average time per call. */
export const QSP_SORT_BY_AVG_WAIT_TIME = 1;

const MAX_ENTRIES = 4096;
const STRING_BYTES = 256 * 1024;
// Header words.
const H_LOCK = 0;
const H_COUNT = 1;
const H_STRINGS = 2;
const H_BQL = 3;
const HEADER_WORDS = 4;
// Per entry Int32 fields.
const E_TYPE = 0;
const E_OBJ = 1;
const E_LINE = 2;
const E_FILE_AT = 3;
const E_FILE_LEN = 4;
const E_N = 5;
const E_SNAP_N = 6;
const E_WORDS = 8;
// Per entry Float64 fields.
const F_NS = 0;
const F_SNAP_NS = 1;
const F_WORDS = 2;

const I32_BYTES = 4 * (HEADER_WORDS + MAX_ENTRIES * E_WORDS);
const F64_BYTES = 8 * MAX_ENTRIES * F_WORDS;
const buffer = platform.processShared('qemu-thread.qsp', I32_BYTES + F64_BYTES + STRING_BYTES);
const ints = new Int32Array(buffer, 0, I32_BYTES / 4);
const floats = new Float64Array(buffer, I32_BYTES, F64_BYTES / 8);
const strings = new Uint8Array(buffer, I32_BYTES + F64_BYTES, STRING_BYTES);

/** The table's lock: the library's internal word lock (park.ts), which the profiler's hooks may take. */
function lockTable(): void {
  lockInternal(ints, H_LOCK);
}

function unlockTable(): void {
  unlockInternal(ints, H_LOCK);
}

/** Turns profiling on in every thread of the process (QEMU's qsp_enable). */
export function qspEnable(): void {
  Atomics.or(traceControl, 0, QSP_BIT);
}

/** Turns profiling off; the data is kept (qsp_disable). */
export function qspDisable(): void {
  Atomics.and(traceControl, 0, ~QSP_BIT);
}

export function qspIsEnabled(): boolean {
  return (Atomics.load(traceControl, 0) & QSP_BIT) !== 0;
}

/** Reports the mutex numbered `id` (QemuMutex.objectId()) as 'BQL mutex', as QEMU reports its big lock. */
export function qspSetBql(id: number): void {
  Atomics.store(ints, H_BQL, id);
}

/** Where each of this thread's call sites lives in the table. */
const slots = new Map<string, number>();

function slotFor(type: number, obj: number, file: string, line: number): number {
  const key = `${type}|${obj}|${line}|${file}`;
  const known = slots.get(key);
  if (known !== undefined) return known;
  const fileBytes = new TextEncoder().encode(file);
  lockTable();
  try {
    const count = ints[H_COUNT];
    for (let i = 0; i < count; i++) {
      const e = HEADER_WORDS + i * E_WORDS;
      if (ints[e + E_TYPE] === type && ints[e + E_OBJ] === obj && ints[e + E_LINE] === line) {
        if (readString(ints[e + E_FILE_AT], ints[e + E_FILE_LEN]) === file) {
          slots.set(key, i);
          return i;
        }
      }
    }
    if (count >= MAX_ENTRIES) return -1;
    const at = ints[H_STRINGS];
    if (at + fileBytes.length > STRING_BYTES) return -1;
    strings.set(fileBytes, at);
    ints[H_STRINGS] = at + fileBytes.length;
    const e = HEADER_WORDS + count * E_WORDS;
    ints[e + E_TYPE] = type;
    ints[e + E_OBJ] = obj;
    ints[e + E_LINE] = line;
    ints[e + E_FILE_AT] = at;
    ints[e + E_FILE_LEN] = fileBytes.length;
    ints[e + E_N] = 0;
    ints[e + E_SNAP_N] = 0;
    floats[count * F_WORDS + F_NS] = 0;
    floats[count * F_WORDS + F_SNAP_NS] = 0;
    Atomics.store(ints, H_COUNT, count + 1);
    slots.set(key, count);
    return count;
  } finally {
    unlockTable();
  }
}

function readString(at: number, length: number): string {
  return new TextDecoder().decode(strings.slice(at, at + length));
}

/**
 * Adds one call's time (nanoseconds) at `site` ("file:line"), and one acquisition unless `acquired` is
 * false (a failed trylock: its time counts, as in QEMU).
 */
export function qspRecord(type: QspType, obj: number, site: string, ns: number, acquired: boolean): void {
  const colon = site.lastIndexOf(':');
  const file = site.slice(0, colon);
  const line = Number(site.slice(colon + 1));
  let typeIndex = TYPES.indexOf(type);
  if (type === 'mutex' && obj === Atomics.load(ints, H_BQL)) typeIndex = TYPES.indexOf('BQL mutex');
  const slot = slotFor(typeIndex, obj, file, line);
  if (slot < 0) return;
  lockTable();
  if (acquired) ints[HEADER_WORDS + slot * E_WORDS + E_N]++;
  floats[slot * F_WORDS + F_NS] += ns;
  unlockTable();
}

/** Stores a snapshot of the current counts: later reports show what happened since (qsp_reset). */
export function qspReset(): void {
  lockTable();
  const count = ints[H_COUNT];
  for (let i = 0; i < count; i++) {
    const e = HEADER_WORDS + i * E_WORDS;
    ints[e + E_SNAP_N] = ints[e + E_N];
    floats[i * F_WORDS + F_SNAP_NS] = floats[i * F_WORDS + F_NS];
  }
  unlockTable();
}

/** One row of a report. */
export interface QspRow {
  /** The kind of call. */
  type: QspType;
  /** The object's number, or 0 when rows of several objects were coalesced. */
  obj: number;
  /** How many objects were coalesced into this row (1 when not coalesced). */
  objects: number;
  /** The call site's file. */
  file: string;
  /** The call site's line. */
  line: number;
  /** Acquisitions (failed trylocks excluded). */
  count: number;
  /** Total time spent in the calls, in nanoseconds. */
  ns: number;
}

/** The report's rows, sorted and limited as QEMU's qsp_report does. */
export function qspRows(max: number, sortBy = QSP_SORT_BY_TOTAL_WAIT_TIME, coalesce = true): QspRow[] {
  lockTable();
  const raw: QspRow[] = [];
  const count = ints[H_COUNT];
  for (let i = 0; i < count; i++) {
    const e = HEADER_WORDS + i * E_WORDS;
    const n = ints[e + E_N] - ints[e + E_SNAP_N];
    const ns = floats[i * F_WORDS + F_NS] - floats[i * F_WORDS + F_SNAP_NS];
    if (n === 0 && ns === 0) continue;
    raw.push({
      type: TYPES[ints[e + E_TYPE]],
      obj: ints[e + E_OBJ],
      objects: 1,
      file: readString(ints[e + E_FILE_AT], ints[e + E_FILE_LEN]),
      line: ints[e + E_LINE],
      count: n,
      ns,
    });
  }
  unlockTable();
  let rows = raw;
  if (coalesce) {
    const merged = new Map<string, QspRow & { ids: Set<number> }>();
    for (const r of raw) {
      const key = `${r.type}|${r.file}|${r.line}`;
      const m = merged.get(key);
      if (m === undefined) merged.set(key, { ...r, ids: new Set([r.obj]) });
      else {
        m.count += r.count;
        m.ns += r.ns;
        m.ids.add(r.obj);
      }
    }
    rows = [...merged.values()].map(({ ids, ...r }) => ({
      ...r,
      objects: ids.size,
      obj: ids.size > 1 ? 0 : r.obj,
    }));
  }
  const avg = (r: QspRow) => (r.count === 0 ? 0 : Math.floor(r.ns / r.count));
  const key = sortBy === QSP_SORT_BY_AVG_WAIT_TIME ? avg : (r: QspRow) => r.ns;
  rows.sort(
    (a, b) =>
      key(b) - key(a) ||
      a.obj - b.obj ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      TYPES.indexOf(b.type) - TYPES.indexOf(a.type),
  );
  return rows.slice(0, max);
}

/** QEMU's report table, as `info sync-profile` prints it. */
export function qspReportText(max: number, sortBy = QSP_SORT_BY_TOTAL_WAIT_TIME, coalesce = true): string {
  const rows = qspRows(max, sortBy, coalesce);
  const sites = rows.map((r) => `${r.file}:${r.line}`);
  const width = Math.max(9, ...sites.map((s) => s.length));
  const rule = '-'.repeat(79 + (width - 9));
  const out = [
    `Type               Object  ${'Call site'.padEnd(width)}  Wait Time (s)         Count  Average (us)`,
    rule,
  ];
  rows.forEach((r, i) => {
    const object =
      r.objects > 1 ? `[${String(r.objects).padStart(12)}]` : `0x${r.obj.toString(16)}`.padStart(14);
    const avgUs = r.count === 0 ? 0 : r.ns / r.count / 1000;
    out.push(
      `${r.type.padEnd(9)}  ${object}  ${sites[i].padEnd(width)}  ${(r.ns / 1e9).toFixed(5).padStart(13)}  ` +
        `${String(r.count).padStart(12)}  ${avgUs.toFixed(2).padStart(12)}`,
    );
  });
  out.push(rule);
  return `${out.join('\n')}\n`;
}
