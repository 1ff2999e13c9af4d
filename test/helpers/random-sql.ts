// Random buffering queries for the differential tests (test/e2e-differential.test.ts, npm run soak).
//
// A case is: a random table (column types, value pools, NULL rate, size), an input shape that feeds
// it to a fixture function (TEMP TABLE, range(), VALUES, UNION ALL), a random query over the
// function's result, and the query DuckDB answers natively for the same rows. Everything a case
// does is derived from its own 32-bit seed, so one failing case can be replayed alone.
//
// Data is generated *inside* DuckDB from per-column value pools: row i of column c is
// `pool[1 + hash(i, salt) % len]` (or NULL, by another hash), so 100k-row inputs cost a short SQL
// text and the worker and the native query see exactly the same rows. The pools hold the edge
// values of each type (extremes, NaN/±inf/-0.0, empty/unicode/long strings, infinities, …).
//
// Type mapping through Arrow (DuckDB's default Arrow export, not the worker's choice): HUGEINT comes
// back as DECIMAL(38,0), UUID and ENUM as VARCHAR. The native query therefore reads UUID and ENUM
// columns cast to VARCHAR (so WHERE/ORDER BY have the same meaning on both sides); HUGEINT values
// print identically and are only filtered with small integer constants.
import { sqlIdent, sqlString } from './duckdb.js';

// ------------------------------------------------------------------ PRNG

/** mulberry32: small, fast, good enough for test data; deterministic across platforms. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty');
    return xs[this.int(xs.length)]!;
  }
  /** weighted pick: [[weight, value], …] */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    const total = xs.reduce((a, [w]) => a + w, 0);
    let r = this.next() * total;
    for (const [w, v] of xs) {
      if (r < w) return v;
      r -= w;
    }
    return xs[xs.length - 1]![1];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
  /** uniform bigint in [lo, hi] */
  bigint(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    let r = 0n;
    for (let k = 0; k < 5; k++) r = (r << 32n) | BigInt(this.int(2 ** 32));
    return lo + (r % span);
  }
}

/** Mixes several numbers into one 32-bit seed (case seeds from the run seed, flavour, transport, index). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h >>> 0;
}

// ------------------------------------------------------------------ types

export type IntName = 'TINYINT' | 'SMALLINT' | 'INTEGER' | 'BIGINT' | 'UTINYINT' | 'USMALLINT' | 'UINTEGER' | 'UBIGINT' | 'HUGEINT';
export type TsName = 'TIMESTAMP' | 'TIMESTAMP_S' | 'TIMESTAMP_MS' | 'TIMESTAMP_NS' | 'TIMESTAMPTZ';

export type ColType =
  | { readonly k: 'int'; readonly name: IntName; readonly min: bigint; readonly max: bigint }
  | { readonly k: 'dec'; readonly p: number; readonly s: number }
  | { readonly k: 'float'; readonly name: 'FLOAT' | 'DOUBLE' }
  | { readonly k: 'varchar' }
  | { readonly k: 'blob' }
  | { readonly k: 'bool' }
  | { readonly k: 'date' }
  | { readonly k: 'time' }
  | { readonly k: 'ts'; readonly name: TsName }
  | { readonly k: 'interval' }
  | { readonly k: 'uuid' }
  | { readonly k: 'enum'; readonly labels: readonly string[] }
  | { readonly k: 'list'; readonly elem: ColType }
  | { readonly k: 'struct'; readonly fields: readonly (readonly [string, ColType])[] }
  | { readonly k: 'map'; readonly key: ColType; readonly value: ColType };

const INTS: Record<IntName, [bigint, bigint]> = {
  TINYINT: [-128n, 127n],
  SMALLINT: [-32768n, 32767n],
  INTEGER: [-(2n ** 31n), 2n ** 31n - 1n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
  UTINYINT: [0n, 255n],
  USMALLINT: [0n, 65535n],
  UINTEGER: [0n, 2n ** 32n - 1n],
  UBIGINT: [0n, 2n ** 64n - 1n],
  HUGEINT: [-(2n ** 127n), 2n ** 127n - 1n],
};
const intType = (name: IntName): ColType => ({ k: 'int', name, min: INTS[name][0], max: INTS[name][1] });

export function sqlType(t: ColType): string {
  switch (t.k) {
    case 'int': return t.name;
    case 'dec': return `DECIMAL(${t.p},${t.s})`;
    case 'float': return t.name;
    case 'varchar': return 'VARCHAR';
    case 'blob': return 'BLOB';
    case 'bool': return 'BOOLEAN';
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'ts': return t.name;
    case 'interval': return 'INTERVAL';
    case 'uuid': return 'UUID';
    case 'enum': return `ENUM(${t.labels.map(sqlString).join(', ')})`;
    case 'list': return `${sqlType(t.elem)}[]`;
    case 'struct': return `STRUCT(${t.fields.map(([n, ft]) => `${sqlIdent(n)} ${sqlType(ft)}`).join(', ')})`;
    case 'map': return `MAP(${sqlType(t.key)}, ${sqlType(t.value)})`;
  }
}

/** Scalars with a total order that DuckDB (and the pushdown evaluator) can compare against a constant. */
function orderable(t: ColType): boolean {
  return !(t.k === 'list' || t.k === 'struct' || t.k === 'map');
}

/** 'int' → BIGINT output of sum_all_columns, 'double' → DOUBLE output, null → not summed. */
export function sumKind(t: ColType): 'int' | 'double' | null {
  if (t.k === 'int') return t.name === 'HUGEINT' ? 'double' : 'int';
  if (t.k === 'dec' || t.k === 'float') return 'double';
  return null;
}

// ------------------------------------------------------------------ values

/**
 * A value of a ColType: a scalar is its text (cast from VARCHAR to the type, exactly), a list an
 * array, a struct `{ s: {field: value} }`, a map `{ m: [[key, value], …] }`; null is SQL NULL.
 */
export type Val = null | string | Val[] | { readonly s: Record<string, Val> } | { readonly m: readonly (readonly [Val, Val])[] };

export function render(t: ColType, v: Val): string {
  const ty = sqlType(t);
  if (v === null) return `NULL::${ty}`;
  switch (t.k) {
    case 'list': {
      const xs = v as Val[];
      return `[${xs.map((x) => render(t.elem, x)).join(', ')}]::${ty}`;
    }
    case 'struct': {
      const s = (v as { s: Record<string, Val> }).s;
      return `{${t.fields.map(([n, ft]) => `${sqlString(n)}: ${render(ft, s[n] ?? null)}`).join(', ')}}::${ty}`;
    }
    case 'map': {
      const m = (v as { m: [Val, Val][] }).m;
      return `MAP {${m.map(([k, x]) => `${render(t.key, k)}: ${render(t.value, x)}`).join(', ')}}::${ty}`;
    }
    default:
      return `${sqlString(v as string)}::${ty}`;
  }
}

const pad = (n: number | bigint, w: number): string => String(n).padStart(w, '0');

const UNICODE = ['ü', 'Ü', 'é', 'ß', '✓', '€', '😀', '🦆', '\u00a0', '\ufffd', '\uffff', 'ｚ', '中', '文', 'ا', '\u0301', '𝔘'];
const ASCII = 'abcxyzABXZ019 _%-.,\'"\\';
const STRINGS = [
  '', ' ', 'a', 'A', 'ab', 'abc', 'b', 'k1', 'k10', 'k2', 'ü', 'Ü', '✓', '😀', '\ufffd', '\uffff', 'ｚ', 'zz',
  "it's", '%', '_', 'a%b', 'a_c', '\\', 'line\nbreak', 'tab\there', 'NULL', 'null', ' padded ', 'ünïcödé ✓ 🦆',
];

function randomString(r: Rng): string {
  const len = r.weighted<number>([[6, r.range(0, 6)], [3, r.range(7, 40)], [1, r.range(100, 2000)]]);
  let s = '';
  while (s.length < len) s += r.chance(0.8) ? ASCII[r.int(ASCII.length)] : r.pick(UNICODE);
  return s;
}

function decText(unscaled: bigint, s: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(s + 1, '0');
  const int = digits.slice(0, digits.length - s);
  const frac = digits.slice(digits.length - s);
  return `${neg ? '-' : ''}${int}${s > 0 ? '.' + frac : ''}`;
}

function randomDouble(r: Rng, single: boolean): string {
  const x = (r.next() * 2 - 1) * 10 ** r.range(-40, single ? 38 : 300);
  const v = single ? Math.fround(x) : x;
  return Number.isFinite(v) ? String(v) : '1';
}

function dateText(days: number): string {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function timeText(micros: bigint): string {
  const h = micros / 3_600_000_000n;
  const m = (micros / 60_000_000n) % 60n;
  const s = (micros / 1_000_000n) % 60n;
  const us = micros % 1_000_000n;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(us, 6)}`;
}

/** Years 1..9999 (as days since the epoch). */
const DAY_MIN = -719162;
const DAY_MAX = 2932896;

/** Sum-safe values keep sum_all_columns exact (see the header of this file and functions/fixtures/numeric.ts). */
function randomValue(r: Rng, t: ColType, sumSafe: boolean): Val {
  switch (t.k) {
    case 'int': {
      if (t.name === 'HUGEINT' && sumSafe) {
        // Exact as doubles, per value and summed: small values, or small multiples of 2^80.
        return r.chance(0.5) ? String(r.range(-100000, 100000)) : String(BigInt(r.range(-30000, 30000)) * 2n ** 80n);
      }
      const special = [t.min, t.max, 0n, 1n, t.min + 1n, t.max - 1n, ...(t.min < 0n ? [-1n] : [])];
      return r.weighted<() => bigint>([
        [3, () => r.pick(special)],
        [4, () => r.bigint(t.min, t.max)],
        [3, () => r.bigint(t.min > -1000n ? t.min : -1000n, t.max < 1000n ? t.max : 1000n)],
      ])().toString();
    }
    case 'dec': {
      const max = 10n ** BigInt(t.p) - 1n;
      if (sumSafe) {
        // j / 2^min(s,3): a dyadic rational, exactly a double and exactly a DECIMAL(p,s).
        const den = 2 ** Math.min(t.s, 3);
        const intMax = Math.min(Number(10n ** BigInt(t.p - t.s)) - 1, 4096);
        const j = r.range(-intMax * den, intMax * den);
        const unscaled = (BigInt(j) * 10n ** BigInt(t.s)) / BigInt(den);
        return decText(unscaled, t.s);
      }
      return decText(
        r.weighted<() => bigint>([
          [2, () => r.pick([0n, max, -max, 1n, -1n, 10n ** BigInt(t.s), -(10n ** BigInt(t.s))].filter((x) => x <= max && x >= -max))],
          [5, () => r.bigint(-max, max)],
          [3, () => { const d = BigInt(r.range(1, t.p)); const m = 10n ** d - 1n; return r.bigint(-m, m); }],
        ])(),
        t.s,
      );
    }
    case 'float': {
      const single = t.name === 'FLOAT';
      if (sumSafe) {
        return r.weighted<() => string>([
          [1, () => r.pick(['nan', 'inf', '-inf', '-0.0', '0.0'])],
          [12, () => String(r.range(-(2 ** 20), 2 ** 20) / 4)],
        ])();
      }
      const specials = single
        ? ['nan', 'inf', '-inf', '-0.0', '0.0', '1', '-1', '3.4028235e38', '-3.4028235e38', '1e-45', '1.1754944e-38', '0.1']
        : ['nan', 'inf', '-inf', '-0.0', '0.0', '1', '-1', '1.7976931348623157e308', '-1.7976931348623157e308', '5e-324', '2.2250738585072014e-308', '0.1'];
      return r.weighted<() => string>([
        [3, () => r.pick(specials)],
        [4, () => randomDouble(r, single)],
        [3, () => String(r.range(-1000, 1000) / 4)],
      ])();
    }
    case 'varchar':
      return r.chance(0.5) ? r.pick(STRINGS) : randomString(r);
    case 'blob': {
      if (r.chance(0.3)) return r.pick(['', '\\x00', '\\xFF', 'a', 'ab', '\\x00\\x00', '\\xFF\\xFE\\x00', 'abc\\x00']);
      const n = r.weighted<number>([[8, r.range(0, 12)], [2, r.range(13, 300)]]);
      let s = '';
      for (let k = 0; k < n; k++) s += `\\x${r.int(256).toString(16).toUpperCase().padStart(2, '0')}`;
      return s;
    }
    case 'bool':
      return r.chance(0.5) ? 'true' : 'false';
    case 'date':
      return r.weighted<() => string>([
        [2, () => r.pick(['-infinity', 'infinity', '0001-01-01', '9999-12-31', '1970-01-01', '2000-02-29', '1969-12-31', '0044-03-15 (BC)'])],
        [5, () => dateText(r.range(DAY_MIN, DAY_MAX))],
        [3, () => dateText(19000 + r.range(0, 800))],
      ])();
    case 'time':
      return r.weighted<() => string>([
        [2, () => r.pick(['00:00:00', '23:59:59.999999', '24:00:00', '12:00:00.5', '00:00:00.000001'])],
        [8, () => timeText(r.bigint(0n, 86_400_000_000n - 1n))],
      ])();
    case 'ts': {
      // Each unit's representable range: _NS is int64 nanoseconds (1677-09-22 … 2262-04-11).
      // TIMESTAMP_NS is int64 nanoseconds (1677-09-22 … 2262-04-11): keep its dates to 1700 … 2240.
      const [lo, hi] = t.name === 'TIMESTAMP_NS' ? [-98_000, 98_000] : [DAY_MIN, DAY_MAX];
      const d = dateText(r.chance(0.5) ? r.range(19000, 19800) : r.range(lo, hi));
      const micros = r.bigint(0n, 86_400_000_000n - 1n);
      let frac = '';
      if (t.name === 'TIMESTAMP_NS') frac = '.' + pad(r.bigint(0n, 999_999_999n), 9);
      else if (t.name === 'TIMESTAMP_MS') frac = '.' + pad(r.int(1000), 3);
      else if (t.name !== 'TIMESTAMP_S') frac = '.' + pad(micros % 1_000_000n, 6);
      const hms = timeText(micros).slice(0, 8);
      const tz = t.name === 'TIMESTAMPTZ' ? r.pick(['+00', '+05:30', '-08', '+14', '-12:45']) : '';
      const specials: string[] = ['1970-01-01 00:00:00', '2000-01-01 00:00:00'];
      if (t.name === 'TIMESTAMP' || t.name === 'TIMESTAMPTZ') specials.push('infinity', '-infinity', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999');
      if (r.chance(0.2)) return r.pick(specials);
      return `${d} ${hms}${frac}${tz}`;
    }
    case 'interval': {
      if (r.chance(0.35)) return r.pick(['1 month', '30 days', '720 hours', '1 day', '24 hours', '0 seconds', '-1 day', '1 year', '12 months', '360 days', '-1 microseconds']);
      return `${r.range(-30, 30)} months ${r.range(-100, 100)} days ${r.bigint(-100_000_000_000n, 100_000_000_000n)} microseconds`;
    }
    case 'uuid': {
      if (r.chance(0.3)) {
        return r.pick([
          '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
          '7fffffff-ffff-ffff-ffff-ffffffffffff', '80000000-0000-0000-0000-000000000000',
        ]);
      }
      let h = '';
      for (let k = 0; k < 32; k++) h += r.int(16).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'enum':
      return r.pick(t.labels);
    case 'list': {
      const n = r.weighted<number>([[2, 0], [7, r.range(1, 4)], [1, r.range(5, 60)]]);
      return Array.from({ length: n }, () => (r.chance(0.15) ? null : randomValue(r, t.elem, false)));
    }
    case 'struct': {
      const s: Record<string, Val> = {};
      for (const [n, ft] of t.fields) s[n] = r.chance(0.15) ? null : randomValue(r, ft, false);
      return { s };
    }
    case 'map': {
      const n = r.weighted<number>([[2, 0], [8, r.range(1, 4)]]);
      const seen = new Set<string>();
      const m: [Val, Val][] = [];
      for (let k = 0; k < n; k++) {
        const key = randomValue(r, t.key, false);
        const kk = JSON.stringify(key);
        if (seen.has(kk)) continue;
        seen.add(kk);
        m.push([key, r.chance(0.15) ? null : randomValue(r, t.value, false)]);
      }
      return { m };
    }
  }
}

// ------------------------------------------------------------------ tables

export interface Column {
  readonly name: string;
  readonly type: ColType;
  /** distinct non-NULL values the column draws from */
  readonly pool: readonly Val[];
  /** NULLs per 1000 rows */
  readonly nullPermille: number;
  readonly salt: number;
}

const SMALL_STRUCT: ColType = { k: 'struct', fields: [['a', intType('INTEGER')], ['b', { k: 'varchar' }]] };
const DEEP_STRUCT: ColType = {
  k: 'struct',
  fields: [
    ['x', { k: 'float', name: 'DOUBLE' }],
    ['d', { k: 'date' }],
    ['n', { k: 'struct', fields: [['p', intType('BIGINT')], ['q', { k: 'varchar' }]] }],
    ['l', { k: 'list', elem: intType('INTEGER') }],
  ],
};

function randomType(r: Rng, sumSafe: boolean): ColType {
  const name = r.weighted<string>([
    [10, 'int'], [4, 'dec'], [5, 'float'], [6, 'varchar'], [2, 'blob'], [2, 'bool'], [2, 'date'], [2, 'time'],
    [3, 'ts'], [2, 'interval'], [2, 'uuid'], [2, 'enum'], [3, 'list'], [3, 'struct'], [2, 'map'],
  ]);
  switch (name) {
    case 'int': return intType(r.pick<IntName>(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT']));
    case 'dec': {
      const p = r.weighted<number>([[3, r.range(1, 18)], [3, r.range(19, 38)], [1, 38], [1, 18]]);
      let s = r.weighted<number>([[2, 0], [5, r.range(0, p)], [1, p]]);
      // sum_all_columns: Number(chunk sum of unscaled values) must stay exact, i.e. below 2^53.
      if (sumSafe) s = Math.min(s, 6);
      return { k: 'dec', p, s: Math.min(s, p) };
    }
    case 'float': return { k: 'float', name: r.pick(['FLOAT', 'DOUBLE'] as const) };
    case 'varchar': return { k: 'varchar' };
    case 'blob': return { k: 'blob' };
    case 'bool': return { k: 'bool' };
    case 'date': return { k: 'date' };
    case 'time': return { k: 'time' };
    case 'ts': return { k: 'ts', name: r.pick<TsName>(['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMPTZ']) };
    case 'interval': return { k: 'interval' };
    case 'uuid': return { k: 'uuid' };
    case 'enum': return { k: 'enum', labels: r.shuffle(['a', 'b', 'c', 'ü', 'z z', "it's", '']).slice(0, r.range(1, 7)) };
    case 'list': return { k: 'list', elem: r.pick<ColType>([intType('INTEGER'), { k: 'varchar' }, { k: 'float', name: 'DOUBLE' }, { k: 'date' }, SMALL_STRUCT]) };
    case 'struct': return r.pick([SMALL_STRUCT, DEEP_STRUCT]);
    default: return r.pick<ColType>([
      { k: 'map', key: { k: 'varchar' }, value: intType('INTEGER') },
      { k: 'map', key: intType('INTEGER'), value: { k: 'list', elem: { k: 'varchar' } } },
    ]);
  }
}

function makePool(r: Rng, t: ColType, sumSafe: boolean): Val[] {
  const want = r.weighted<number>([[2, r.range(1, 3)], [6, r.range(4, 24)], [2, r.range(25, 60)]]);
  const seen = new Set<string>();
  const pool: Val[] = [];
  for (let k = 0; k < want * 3 && pool.length < want; k++) {
    const v = randomValue(r, t, sumSafe);
    const key = JSON.stringify(v);
    if (seen.has(key)) continue;
    seen.add(key);
    pool.push(v);
  }
  return pool;
}

export interface TableSpec {
  /** `id BIGINT` = row number, then the random columns */
  readonly columns: readonly Column[];
  readonly rows: number;
}

export const ID: Column = { name: 'id', type: intType('BIGINT'), pool: [], nullPermille: 0, salt: 0 };

export interface TableOptions {
  readonly rows: number;
  readonly sumSafe?: boolean;
  /** force at least one numeric column (sum_all_columns needs one) */
  readonly numeric?: boolean;
}

export function randomTable(r: Rng, o: TableOptions): TableSpec {
  const n = r.weighted<number>([[3, r.range(1, 3)], [5, r.range(4, 8)], [1, r.range(9, 14)]]);
  const cols: Column[] = [ID];
  const weird = r.chance(0.15) ? r.int(n) : -1;
  for (let k = 0; k < n; k++) {
    const type = randomType(r, o.sumSafe ?? false);
    const nullPermille = r.weighted<number>([[5, 0], [4, 100], [1, 1000], [1, r.range(1, 999)]]);
    const name = k === weird ? r.pick(['Wé ird', 'sel"ect', 'ORDER', 'c 1']) : `c${k}`;
    cols.push({ name, type, pool: makePool(r, type, o.sumSafe ?? false), nullPermille, salt: r.int(1 << 30) });
  }
  return { columns: cols, rows: o.rows };
}

// ------------------------------------------------------------------ input shapes

export type Shape = 'table' | 'range' | 'values' | 'union';

/** Row `i` (a BIGINT expression) of column `c`, generated in DuckDB from the pool. */
function cellExpr(c: Column, i: string): string {
  if (c === ID) return i;
  const ty = sqlType(c.type);
  if (c.nullPermille >= 1000 || c.pool.length === 0) return `NULL::${ty}`;
  const pool = `[${c.pool.map((v) => render(c.type, v)).join(', ')}]::${ty}[]`;
  const pickExpr = c.pool.length === 1 ? render(c.type, c.pool[0]!) : `(${pool})[(1 + hash(${i}, ${c.salt}) % ${c.pool.length})::BIGINT]`;
  if (c.nullPermille <= 0) return pickExpr;
  return `CASE WHEN hash(${i}, ${c.salt + 1}) % 1000 < ${c.nullPermille} THEN NULL::${ty} ELSE ${pickExpr} END`;
}

function rangeSelect(t: TableSpec, from: number, to: number): string {
  return `SELECT ${t.columns.map((c) => `${cellExpr(c, 'i')} AS ${sqlIdent(c.name)}`).join(', ')} FROM range(${from}, ${to}) r(i)`;
}

function valuesSelect(r: Rng, t: TableSpec): string {
  const rows: string[] = [];
  for (let i = 0; i < t.rows; i++) {
    const cells = t.columns.map((c) => {
      if (c === ID) return `${i}::BIGINT`;
      if (c.pool.length === 0 || r.int(1000) < c.nullPermille) return `NULL::${sqlType(c.type)}`;
      return render(c.type, r.pick(c.pool));
    });
    rows.push(`(${cells.join(', ')})`);
  }
  return `SELECT * FROM (VALUES ${rows.join(', ')}) v(${t.columns.map((c) => sqlIdent(c.name)).join(', ')})`;
}

export interface Input {
  readonly shape: Shape;
  /** statements to run before the case (CREATE TEMP TABLE …) */
  readonly setup: readonly string[];
  readonly teardown: readonly string[];
  /** the subquery passed to the function: `example.f((<sql>))` */
  readonly sql: string;
  /** the same rows with the Arrow type mapping applied (UUID/ENUM as VARCHAR), for the native query */
  readonly nativeSql: string;
}

/** Native view: same rows, UUID and ENUM columns as VARCHAR (what the worker's result carries). */
function nativeView(t: TableSpec, inner: string): string {
  const needs = t.columns.some((c) => c.type.k === 'uuid' || c.type.k === 'enum');
  if (!needs) return inner;
  const sel = t.columns.map((c) => {
    const q = sqlIdent(c.name);
    return c.type.k === 'uuid' || c.type.k === 'enum' ? `${q}::VARCHAR AS ${q}` : q;
  });
  return `SELECT ${sel.join(', ')} FROM (${inner})`;
}

export function makeInput(r: Rng, t: TableSpec, tableName: string, shape: Shape): Input {
  let sql: string;
  const setup: string[] = [];
  const teardown: string[] = [];
  switch (shape) {
    case 'table':
      setup.push(`CREATE OR REPLACE TEMP TABLE ${tableName} AS ${rangeSelect(t, 0, t.rows)}`);
      teardown.push(`DROP TABLE IF EXISTS ${tableName}`);
      sql = `SELECT * FROM ${tableName}`;
      break;
    case 'range':
      sql = rangeSelect(t, 0, t.rows);
      break;
    case 'values':
      sql = t.rows === 0 ? `${rangeSelect(t, 0, 0)}` : valuesSelect(r, t);
      break;
    case 'union': {
      const parts = r.range(2, 3);
      const cuts = [0, ...Array.from({ length: parts - 1 }, () => r.int(t.rows + 1)).sort((a, b) => a - b), t.rows];
      const sel: string[] = [];
      for (let k = 0; k < parts; k++) sel.push(rangeSelect(t, cuts[k]!, cuts[k + 1]!));
      sql = sel.join(' UNION ALL ');
      break;
    }
  }
  return { shape, setup, teardown, sql, nativeSql: nativeView(t, sql) };
}

// ------------------------------------------------------------------ predicates

/** A constant for `col op constant` with the same meaning on the worker's and the native column. */
function filterLiteral(t: ColType, v: Val): string | null {
  if (v === null) return null;
  switch (t.k) {
    case 'int': {
      if (t.name !== 'HUGEINT') return render(t, v);
      // HUGEINT is DECIMAL(38,0) on the worker side: small plain integers compare alike on both.
      const b = BigInt(v as string);
      return b >= -(2n ** 31n) && b < 2n ** 31n ? b.toString() : null;
    }
    case 'uuid':
    case 'enum':
      return sqlString(v as string); // a VARCHAR column on both sides
    case 'list':
    case 'map':
    case 'struct':
      return null;
    default:
      return render(t, v);
  }
}

/** A constant of type `t`: usually one of the pool's values (so predicates hit), else a fresh one. */
function constantFor(r: Rng, c: { type: ColType; pool: readonly Val[] }): string | null {
  for (let k = 0; k < 6; k++) {
    const v = c.pool.length > 0 && r.chance(0.75) ? r.pick(c.pool) : randomValue(r, c.type, false);
    const lit = filterLiteral(c.type, v);
    if (lit !== null) return lit;
  }
  if (c.type.k === 'int' && c.type.name === 'HUGEINT') return String(r.range(-5, 5));
  return null;
}

/** A scalar leaf reachable from a column: the column itself or a (nested) struct field, with its pool. */
interface Leaf {
  readonly expr: string;
  readonly type: ColType;
  readonly pool: readonly Val[];
}

function leavesOf(c: Column): Leaf[] {
  const out: Leaf[] = [];
  const walk = (expr: string, t: ColType, pool: readonly Val[]): void => {
    if (t.k === 'struct') {
      for (const [n, ft] of t.fields) {
        const sub = pool.map((v) => (v === null ? null : ((v as { s: Record<string, Val> }).s[n] ?? null))).filter((v) => v !== null);
        walk(`${expr}.${sqlIdent(n)}`, ft, sub);
      }
    } else if (orderable(t)) out.push({ expr, type: t, pool });
  };
  walk(sqlIdent(c.name), c.type, c.pool);
  return out;
}

const CMP = ['=', '<>', '<', '<=', '>', '>='];

function leafPredicate(r: Rng, l: Leaf): string {
  const e = l.expr;
  const lit = () => constantFor(r, l) ?? 'NULL';
  const text = l.type.k === 'varchar';
  const kind = r.weighted<string>([
    [6, 'cmp'], [1, 'flipped'], [2, 'between'], [2, 'range'], [2, 'in'], [1, 'bigin'], [1, 'notin'], [2, 'null'], [1, 'distinct'], [1, 'not'],
    [text ? 3 : 0, 'like'], [text ? 2 : 0, 'strfn'],
  ]);
  const piece = (): string => {
    const src = l.pool.length > 0 && r.chance(0.8) ? (r.pick(l.pool) as string) : r.pick(STRINGS);
    const cps = [...src];
    const from = r.chance(0.5) ? 0 : r.int(cps.length + 1);
    return cps.slice(from, from + r.range(0, 3)).join('');
  };
  switch (kind) {
    case 'cmp': return `${e} ${r.pick(CMP)} ${lit()}`;
    case 'flipped': return `${lit()} ${r.pick(CMP)} ${e}`;
    case 'between': return `${e} BETWEEN ${lit()} AND ${lit()}`;
    case 'range': return `${e} ${r.pick(['>', '>='])} ${lit()} AND ${e} ${r.pick(['<', '<='])} ${lit()}`;
    case 'in': return `${e} IN (${Array.from({ length: r.range(1, 6) }, lit).join(', ')})`;
    case 'bigin': return `${e} IN (${Array.from({ length: r.range(7, 120) }, lit).join(', ')})`;
    case 'notin': return `${e} NOT IN (${Array.from({ length: r.range(1, 4) }, lit).join(', ')})`;
    case 'null': return `${e} IS ${r.chance(0.5) ? 'NOT ' : ''}NULL`;
    case 'distinct': return `${e} IS ${r.chance(0.5) ? 'NOT ' : ''}DISTINCT FROM ${lit()}`;
    case 'not': return `NOT (${e} ${r.pick(CMP)} ${lit()})`;
    case 'like': {
      const p = piece();
      return `${e} LIKE ${sqlString(r.weighted<string>([[4, `${p}%`], [1, `%${p}`], [1, `%${p}%`], [1, p]]))}`;
    }
    default:
      return `${r.pick(['prefix', 'starts_with', 'suffix', 'ends_with', 'contains'])}(${e}, ${sqlString(piece())})`;
  }
}

/** One conjunct: a predicate on one column (maybe an OR of two on that column). */
function columnPredicate(r: Rng, c: Column): string {
  const q = sqlIdent(c.name);
  if (c.type.k === 'list' || c.type.k === 'map') {
    return r.pick([`${q} IS NULL`, `${q} IS NOT NULL`, `${c.type.k === 'map' ? 'cardinality' : 'len'}(${q}) > ${r.range(0, 3)}`]);
  }
  if (c.type.k === 'struct' && r.chance(0.2)) return `${q} IS ${r.chance(0.5) ? 'NOT ' : ''}NULL`;
  const leaves = leavesOf(c);
  const leaf = r.pick(leaves);
  if (r.chance(0.2)) return `(${leafPredicate(r, leaf)} OR ${leafPredicate(r, leaf)})`;
  return leafPredicate(r, leaf);
}

/** `JOIN (<keys>) k ON f.col = k.k`: DuckDB pushes the build side's keys into the function (min/max, IN, join_keys). */
function joinClause(r: Rng, cols: readonly Column[]): string | null {
  const keyable = cols.filter((c) => orderable(c.type) && !(c.type.k === 'int' && c.type.name === 'HUGEINT'));
  if (keyable.length === 0) return null;
  const c = r.pick(keyable);
  const n = r.weighted<number>([[3, r.range(1, 5)], [3, r.range(6, 60)], [1, r.range(61, 400)]]);
  const keys: string[] = [];
  for (let k = 0; k < n; k++) {
    const lit = constantFor(r, c);
    if (lit !== null) keys.push(lit);
  }
  if (keys.length === 0) return null;
  return ` JOIN (SELECT unnest([${keys.join(', ')}]) AS k) jk ON f.${sqlIdent(c.name)} = jk.k`;
}

// ------------------------------------------------------------------ queries

export type Fn = 'buffer_input' | 'echo_buffering' | 'sum_all_columns';

export interface DiffCase {
  readonly seed: number;
  readonly fn: Fn;
  readonly threads: number;
  readonly input: Input;
  readonly table: TableSpec;
  /** the query through the worker */
  readonly worker: string;
  /** DuckDB's own query for the same answer (for sum_all_columns: sums + count, see expectSums) */
  readonly native: string;
  /** compare rows in order (ORDER BY … LIMIT) instead of as multisets */
  readonly ordered: boolean;
  /** sum_all_columns: the summed columns in output order */
  readonly sums?: readonly { readonly name: string; readonly kind: 'int' | 'double' }[];
  /** sum_all_columns: the expected result types (other functions: DuckDB's native types, mapped) */
  readonly types: readonly string[] | null;
  /** both queries are wrapped in a (count, hash sum) digest of their rows */
  readonly digest?: boolean;
  /** the same filters with the full projection (`SELECT *`), unordered: tells projection bugs from filter bugs */
  readonly starVariant?: { readonly worker: string; readonly native: string };
}

export interface CaseOptions {
  /** relative weight of 100k-row inputs (default 1, i.e. rare) */
  readonly bigWeight?: number;
  readonly tableName?: string;
}

/** 0, 1, around the 2048-row vector, 10k, 100k (weight `bigWeight`), and random sizes in between. */
function pickSize(r: Rng, bigWeight: number): number {
  return r.weighted<number>([
    [3, 0], [3, 1], [3, 2047], [3, 2048], [3, 2049], [3, 10_000], [bigWeight, 100_000], [5, r.range(2, 300)], [2, r.range(300, 5000)],
  ]);
}

export function makeCase(seed: number, o: CaseOptions = {}): DiffCase {
  const r = new Rng(seed);
  const fn = r.weighted<Fn>([[5, 'echo_buffering'], [3, 'buffer_input'], [2, 'sum_all_columns']]);
  const threads = r.pick([1, 2, 4]);
  const rows = pickSize(r, o.bigWeight ?? 1);
  let shape = r.weighted<Shape>([[4, 'table'], [3, 'range'], [2, 'values'], [2, 'union']]);
  if (shape === 'values' && rows > 2049) shape = 'range';
  const sum = fn === 'sum_all_columns';
  let table = randomTable(r, { rows, sumSafe: sum });
  if (sum && !table.columns.slice(1).some((c) => sumKind(c.type) !== null) && r.chance(0.5)) {
    // usually add a numeric column besides id (id alone is numeric too)
    table = randomTable(r, { rows, sumSafe: true });
  }
  if (shape === 'values' && table.columns.length > 10 && rows > 500) shape = 'range';
  const input = makeInput(r, table, o.tableName ?? `dt_${seed}`, shape);
  const cols = table.columns;
  const q = (c: Column) => sqlIdent(c.name);

  if (sum) {
    const summed = cols.filter((c) => sumKind(c.type) !== null);
    const exprs = summed.map((c) =>
      sumKind(c.type) === 'int' ? `coalesce(sum(${q(c)}::HUGEINT), 0)` : `coalesce(sum(${q(c)}::DOUBLE), 0)`,
    );
    return {
      seed, fn, threads, input, table,
      worker: `SELECT * FROM example.sum_all_columns((${input.sql}))`,
      native: `SELECT ${[...exprs, 'count(*)'].join(', ')} FROM (${input.nativeSql})`,
      ordered: false,
      sums: summed.map((c) => ({ name: c.name, kind: sumKind(c.type)! })),
      types: summed.map((c) => (sumKind(c.type) === 'int' ? 'BIGINT' : 'DOUBLE')),
    };
  }

  // Projection
  let select: string;
  const proj = r.weighted<string>([[3, 'star'], [6, 'subset'], [1, 'count'], [1, 'expr']]);
  if (proj === 'star') {
    select = '*';
  } else if (proj === 'count') {
    select = 'count(*)';
  } else if (proj === 'subset') {
    const chosen = r.shuffle(cols).slice(0, r.range(1, cols.length));
    if (r.chance(0.1)) chosen.push(r.pick(chosen));
    select = chosen.map(q).join(', ');
  } else {
    const c = r.pick(cols);
    select = `${q(c)} IS NULL AS e0, id`;
  }

  // Filters
  const conj: string[] = [];
  const nWhere = fn === 'echo_buffering' ? r.weighted<number>([[2, 0], [5, 1], [3, 2], [1, 3]]) : r.weighted<number>([[3, 0], [1, 1]]);
  for (let k = 0; k < nWhere; k++) conj.push(columnPredicate(r, r.pick(cols)));
  const where = conj.length ? ` WHERE ${conj.join(' AND ')}` : '';
  const join = fn === 'echo_buffering' && r.chance(0.12) ? joinClause(r, cols) : null;
  if (join !== null && select !== 'count(*)') select = select === '*' ? 'f.*' : select.split(', ').map((x) => (x.startsWith('"') ? `f.${x}` : x)).join(', ');

  // ORDER BY … LIMIT (a unique id tie-breaker keeps it deterministic); not with count(*)
  let tail = '';
  let ordered = false;
  if (proj !== 'count' && join === null && r.chance(fn === 'echo_buffering' ? 0.3 : 0.1)) {
    const keys = cols.filter((c) => orderable(c.type) || c.type.k === 'struct' || c.type.k === 'list');
    const k = r.pick(keys);
    const dir = r.pick(['', ' ASC', ' DESC']);
    const nulls = r.pick(['', ' NULLS FIRST', ' NULLS LAST']);
    const limit = r.pick([0, 1, 5, 100, 2048, 3000]);
    const offset = r.chance(0.2) ? ` OFFSET ${r.pick([1, 10, 2047])}` : '';
    tail = ` ORDER BY ${q(k)}${dir}${nulls}, id${r.chance(0.5) ? ' DESC' : ''} LIMIT ${limit}${offset}`;
    ordered = true;
  }

  const from = (inner: string, viaWorker: boolean, f: Fn = fn): string =>
    `${viaWorker ? `example.${f}((${inner}))` : `(${inner})`}${join !== null ? ` f${join}` : ''}`;
  let worker = `SELECT ${select} FROM ${from(input.sql, true)}${where}${tail}`;
  let native = `SELECT ${select} FROM ${from(input.nativeSql, false)}${where}${tail}`;
  const outer = tail === '' ? r.weighted<string>([[20, 'plain'], [2, 'limit'], [1, 'twice']]) : 'plain';
  if (outer === 'limit') {
    // LIMIT without ORDER BY: DuckDB stops reading the finalize stream early; only the count is deterministic.
    const k = r.pick([1, 10, 2048, 5000]);
    worker = `SELECT count(*) FROM (${worker} LIMIT ${k}) lim`;
    native = `SELECT count(*) FROM (${native} LIMIT ${k}) lim`;
  } else if (outer === 'twice') {
    // Two executions in one query (one per function), consumed side by side.
    const other: Fn = fn === 'echo_buffering' ? 'buffer_input' : 'echo_buffering';
    worker = `(${worker}) UNION ALL (SELECT ${select} FROM ${from(input.sql, true, other)}${where})`;
    native = `(${native}) UNION ALL (${native})`;
  }
  const digested = !ordered && rows >= 50_000 && proj !== 'count' && outer !== 'limit';
  if (digested) {
    // Big results: compare an order-insensitive digest computed in DuckDB instead of shipping 100k+ rows
    // as JSON. VARCHAR renders every value exactly (-0.0, nan, full float precision), and the sum of
    // per-row hashes keeps duplicates apart. Exception: HUGEINT comes back as DECIMAL(38,0), which
    // cannot be rendered when the value has 39 digits ("Negation of HUGEINT is out of range"); then
    // the row is hashed as is (hash(HUGEINT) = hash(DECIMAL(38,0)), but -0.0 and 0.0 hash alike).
    const huge = cols.some((c) => c.type.k === 'int' && c.type.name === 'HUGEINT');
    const digest = (q: string) => `SELECT count(*) AS n, sum(hash(${huge ? 'dq' : 'dq::VARCHAR'})::HUGEINT) AS h FROM (${q}) dq`;
    worker = digest(worker);
    native = digest(native);
  }
  return {
    seed, fn, threads, input, table,
    worker,
    native,
    ordered,
    types: null,
    digest: digested,
    starVariant: {
      worker: `SELECT ${join ? 'f.*' : '*'} FROM ${from(input.sql, true)}${where}`,
      native: `SELECT ${join ? 'f.*' : '*'} FROM ${from(input.nativeSql, false)}${where}`,
    },
  };
}
