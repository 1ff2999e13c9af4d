// DuckDB comparison and three-valued-logic rules (filters spec §9), exercised on hand-built programs.
import t from 'tap';
import {
  Binary, Bool, Data, DataType, Decimal, Dictionary, Field, FixedSizeBinary, Float32, Float64, Int16, Int32, Int64, Int8,
  LargeUtf8, RecordBatch, Schema, Struct, TimestampNanosecond, Uint64, Uint8, Utf8, Vector, makeData, vectorFromArray,
} from 'apache-arrow';
import { compileProgram, evaluateFilters, UnsupportedFilterError } from '../actors/pushdown/index.js';
import type {
  ColumnRef, CompareOp, FieldRef, FilterProgram, Literal, LiteralValue, Predicate,
} from '../actors/pushdown/index.js';

const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array(((valid.length + 63) & ~63) >> 3);
  valid.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7); });
  return out;
}
function batch(cols: [string, Data][]): RecordBatch {
  const fields = cols.map(([n, d]) => new Field(n, d.type as DataType, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: cols[0][1].length, nullCount: 0, children: cols.map(([, d]) => d) }));
}
const column = (b: RecordBatch, name: string): ColumnRef => {
  const index = b.schema.fields.findIndex((x) => x.name === name);
  return { kind: 'column', index, name, type: b.schema.fields[index].type as DataType };
};
const lit = (type: DataType, value: LiteralValue): Literal => ({ kind: 'literal', type, value });
const cmp = (op: CompareOp, left: ColumnRef | FieldRef, right: Literal): Predicate => ({ kind: 'compare', op, left, right });
const program = (...exprs: Predicate[]): FilterProgram => ({
  encoding: 'vgi.filters.v2', skipped: [], predicates: exprs.map((expr, i) => ({ id: `query:${i}`, mode: 'required', source: 'query', expr })),
});
/** Kept row indices (all rows when the evaluator says "everything passes"). */
const keep = (b: RecordBatch, ...exprs: Predicate[]): number[] => {
  const sel = evaluateFilters(program(...exprs), b);
  return sel === null ? [...Array(b.numRows).keys()] : [...sel];
};

t.test('floats: NaN is largest and equals itself, -0.0 = 0.0, NULL never passes', async (t) => {
  for (const type of [new Float64(), new Float32()]) {
    const b = batch([['d', col([NaN, -0, 0, Infinity, -Infinity, 1.5, null, NaN, 5.5], type)]]);
    const d = column(b, 'd');
    const L = (v: number) => lit(type, v);
    t.same(keep(b, cmp('eq', d, L(0))), [1, 2], `${type} = 0.0`);
    t.same(keep(b, cmp('eq', d, L(-0))), [1, 2], `${type} = -0.0`);
    t.same(keep(b, cmp('eq', d, L(NaN))), [0, 7], `${type} = NaN`);
    t.same(keep(b, cmp('ne', d, L(NaN))), [1, 2, 3, 4, 5, 8], `${type} <> NaN`);
    t.same(keep(b, cmp('gt', d, L(5.5))), [0, 3, 7], `${type} > 5.5 keeps NaN`);
    t.same(keep(b, cmp('lt', d, L(Infinity))), [1, 2, 4, 5, 8], `${type} < inf drops NaN`);
    t.same(keep(b, cmp('gt', d, L(Infinity))), [0, 7], `${type} > inf is only NaN`);
    t.same(keep(b, cmp('ge', d, L(NaN))), [0, 7], `${type} >= NaN`);
    t.same(keep(b, cmp('le', d, L(NaN))), [0, 1, 2, 3, 4, 5, 7, 8], `${type} <= NaN`);
    t.same(keep(b, cmp('lt', d, L(0))), [4], `${type} < 0.0 excludes -0.0`);
  }
});

t.test('utf8 compares UTF-8 bytes, not UTF-16 code units', async (t) => {
  // U+1F600 is D83D DE00 in UTF-16 (below U+FF21) but F0 9F 98 80 in UTF-8 (above EF BC A1).
  const vals = ['😀', '\uFF21', '', 'a', 'ABC', 'abc', 'Ü', 'Ünïcode', null, 'ab'];
  for (const type of [new Utf8(), new LargeUtf8()]) {
    const b = batch([['s', col(vals, type)]]);
    const s = column(b, 's');
    t.same(keep(b, cmp('gt', s, lit(new Utf8(), '\uFF21'))), [0], `${type}: only the astral char sorts after U+FF21`);
    t.same(keep(b, cmp('lt', s, lit(new Utf8(), '😀'))), [1, 2, 3, 4, 5, 6, 7, 9], `${type}: everything else sorts before the emoji`);
    t.same(keep(b, cmp('lt', s, lit(new Utf8(), 'a'))), [2, 4], `${type}: '' and 'ABC' < 'a'`);
    t.same(keep(b, cmp('gt', s, lit(new Utf8(), 'Ü'))), [0, 1, 7], `${type}: 'Ünïcode' > 'Ü' (longer wins on a shared prefix)`);
    t.same(keep(b, cmp('eq', s, lit(new Utf8(), ''))), [2], `${type}: empty string is not NULL`);
    t.same(keep(b, cmp('ne', s, lit(new Utf8(), 'ab'))), [0, 1, 2, 3, 4, 5, 6, 7], `${type}: <> drops NULL`);
  }
});

t.test('binary and fixed_size_binary compare unsigned bytes, shorter prefix first', async (t) => {
  const bytes = (...x: number[]) => Uint8Array.of(...x);
  const b = batch([
    ['bl', col([bytes(0xff), bytes(0x7f), bytes(), bytes(0x61, 0x62), bytes(0x61), null], new Binary())],
    ['fx', col([bytes(0, 0xff), bytes(0, 1), bytes(1, 0), null, bytes(0, 0), bytes(0xff, 0xff)], new FixedSizeBinary(2))],
  ]);
  t.same(keep(b, cmp('gt', column(b, 'bl'), lit(new Binary(), bytes(0x7f)))), [0]);
  t.same(keep(b, cmp('lt', column(b, 'bl'), lit(new Binary(), bytes(0x61, 0x62)))), [2, 4]);
  t.same(keep(b, cmp('ge', column(b, 'fx'), lit(new FixedSizeBinary(2), bytes(0, 0xff)))), [0, 2, 5]);
});

t.test('decimals compare exactly on 128-bit unscaled integers, rescaling constants only when exact', async (t) => {
  const type = new Decimal(3, 18, 128);
  const b = batch([['dec', col([
    new Uint32Array([30500, 0, 0, 0]), // 30.500
    new Uint32Array([0xffff88cc, 0xffffffff, 0xffffffff, 0xffffffff]), // -30.516
    new Uint32Array([0, 1, 0, 0]), // 2^32 / 1000
    null,
    new Uint32Array([30501, 0, 0, 0]),
    new Uint32Array([0, 0, 0, 0x80000000]), // most negative
    new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0x7fffffff]), // most positive
  ], type)]]);
  const dec = column(b, 'dec');
  t.same(keep(b, cmp('gt', dec, lit(type, { unscaled: 30500n, scale: 3 }))), [2, 4, 6]);
  t.same(keep(b, cmp('lt', dec, lit(type, { unscaled: 0n, scale: 3 }))), [1, 5]);
  t.same(keep(b, cmp('lt', dec, lit(type, { unscaled: -30500n, scale: 3 }))), [1, 5], 'negative constant');
  t.same(keep(b, cmp('gt', dec, lit(type, { unscaled: -30516n, scale: 3 }))), [0, 2, 4, 6], 'negative constant, equal row excluded');
  t.same(keep(b, cmp('eq', dec, lit(new Decimal(1, 10, 128), { unscaled: 305n, scale: 1 }))), [0], 'scale 1 → 3');
  t.same(keep(b, cmp('eq', dec, lit(new Decimal(5, 10, 128), { unscaled: 3050000n, scale: 5 }))), [0], 'scale 5 → 3, exact');
  t.same(keep(b, cmp('ge', dec, lit(new Int64(), 30n))), [0, 2, 4, 6], 'integer constant');
  t.throws(() => compileProgram(program(cmp('eq', dec, lit(new Decimal(4, 10, 128), { unscaled: 305001n, scale: 4 })))), UnsupportedFilterError, 'inexact rescale');
});

t.test('64-bit integers, including the extremes and unsigned values above 2^63', async (t) => {
  const b = batch([
    ['i', col([-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, null, 4294967296n, 4294967295n], new Int64())],
    ['u', col([2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 0n, null, 1n, 4294967296n], new Uint64())],
  ]);
  const i = column(b, 'i');
  const u = column(b, 'u');
  t.same(keep(b, cmp('lt', i, lit(new Int64(), 0n))), [0, 2]);
  t.same(keep(b, cmp('gt', i, lit(new Int64(), 4294967295n))), [1, 5]);
  t.same(keep(b, cmp('ge', u, lit(new Uint64(), 2n ** 63n))), [0, 1]);
  t.same(keep(b, cmp('gt', u, lit(new Int64(), -1n))), [0, 1, 2, 3, 5, 6], 'negative constant vs unsigned column');
  t.same(keep(b, cmp('lt', i, lit(new Int32(), -5))), [0], 'int32 constant widened');
});

t.test('narrow integer columns against out-of-range 64-bit constants', async (t) => {
  const b = batch([['x', col([-128, 0, 127, null], new Int8())]]);
  const x = column(b, 'x');
  t.same(keep(b, cmp('lt', x, lit(new Int64(), 2n ** 62n))), [0, 1, 2]);
  t.same(keep(b, cmp('gt', x, lit(new Int64(), -(2n ** 62n)))), [0, 1, 2]);
  t.same(keep(b, cmp('eq', x, lit(new Int64(), 2n ** 62n))), []);
});

t.test('timestamps compare stored integers (ns, negative values)', async (t) => {
  const type = new TimestampNanosecond();
  const data = makeData({ type, data: BigInt64Array.of(-1n, 0n, 1700000000123456789n, 1700000000123456788n, 0n), nullBitmap: bitmap([true, true, true, true, false]) });
  const b = batch([['ts', data as Data]]);
  t.same(keep(b, cmp('ge', column(b, 'ts'), lit(type, 1700000000123456789n))), [2]);
  t.same(keep(b, cmp('lt', column(b, 'ts'), lit(type, 0n))), [0]);
  t.throws(() => compileProgram(program(cmp('gt', column(b, 'ts'), lit(new Int64(), 5n)))), UnsupportedFilterError, 'an INTEGER constant is not a timestamp');
});

t.test('dictionary<utf8> compares the decoded string; NULL indices and NULL entries are NULL', async (t) => {
  const dictionary = makeData({ type: new Utf8(), data: new TextEncoder().encode('happysadzen'), valueOffsets: Int32Array.of(0, 5, 8, 11, 11), nullBitmap: bitmap([true, true, true, false]) });
  for (const indices of [new Int8(), new Int16(), new Int32(), new Uint8()]) {
    const type = new Dictionary(new Utf8(), indices);
    const idx = [0, 1, 2, 3, 1, 0];
    const data = makeData({ type, data: idx as never, dictionary: new Vector([dictionary]), nullBitmap: bitmap([true, true, true, true, false, true]) });
    const b = batch([['e', data as Data]]);
    const e = column(b, 'e');
    t.same(keep(b, cmp('gt', e, lit(new Utf8(), 'sad'))), [2], `${indices}: text order`);
    t.same(keep(b, cmp('ne', e, lit(new Utf8(), 'sad'))), [0, 2, 5], `${indices}: NULL entry (3) and NULL index (4) dropped`);
    t.same(keep(b, { kind: 'is_null', expr: e, negated: false }), [3, 4], `${indices}: IS NULL sees both kinds of NULL`);
    t.same(keep(b, { kind: 'in', expr: e, valueType: new Utf8(), values: ['zen', 'happy'], negated: false }), [0, 2, 5], `${indices}: IN`);
    // A sliced dictionary column keeps its dictionary and shifts its indices.
    const sliced = b.slice(2, 6);
    t.same(keep(sliced, cmp('eq', e, lit(new Utf8(), 'happy'))), [3], `${indices}: sliced`);
  }
});

t.test('struct fields: a NULL parent at any depth makes the field NULL', async (t) => {
  const h = col(['x', 'x', 'x', null, 'y'], new Utf8());
  const gType = new Struct([new Field('h', new Utf8(), true)]);
  const g = makeData({ type: gType, length: 5, nullBitmap: bitmap([true, false, true, true, true]), children: [h] });
  const stType = new Struct([new Field('g', gType, true)]);
  const st = makeData({ type: stType, length: 5, nullBitmap: bitmap([true, true, false, true, true]), children: [g] });
  const b = batch([['st', st as Data]]);
  const gRef: FieldRef = { kind: 'field', parent: column(b, 'st'), index: 0, name: 'g', type: gType };
  const hRef: FieldRef = { kind: 'field', parent: gRef, index: 0, name: 'h', type: new Utf8() };
  t.same(keep(b, cmp('eq', hRef, lit(new Utf8(), 'x'))), [0]);
  t.same(keep(b, cmp('ne', hRef, lit(new Utf8(), 'x'))), [4]);
  t.same(keep(b, { kind: 'is_null', expr: hRef, negated: false }), [1, 2, 3]);
  t.same(keep(b, { kind: 'is_null', expr: gRef, negated: true }), [0, 3, 4]);
  t.same(keep(b.slice(1), cmp('eq', hRef, lit(new Utf8(), 'y'))), [3], 'sliced struct');
});

t.test('Kleene AND / OR / NOT', async (t) => {
  // a: TRUE, FALSE, NULL in every combination with b.
  const a = col([1, 1, 1, 0, 0, 0, null, null, null], new Int32());
  const bb = col([1, 0, null, 1, 0, null, 1, 0, null], new Int32());
  const b = batch([['a', a], ['b', bb]]);
  const isOne = (name: string): Predicate => cmp('eq', column(b, name), lit(new Int32(), 1));
  t.same(keep(b, { kind: 'and', children: [isOne('a'), isOne('b')] }), [0]);
  t.same(keep(b, { kind: 'or', children: [isOne('a'), isOne('b')] }), [0, 1, 2, 3, 6]);
  t.same(keep(b, { kind: 'not', child: { kind: 'and', children: [isOne('a'), isOne('b')] } }), [1, 3, 4, 5, 7], 'NOT(NULL AND …) stays NULL unless FALSE decides');
  t.same(keep(b, { kind: 'not', child: { kind: 'or', children: [isOne('a'), isOne('b')] } }), [4]);
  t.same(keep(b, { kind: 'not', child: isOne('a') }), [3, 4, 5], 'NOT NULL is NULL');
});

t.test('IN: NULL elements, empty sets, NaN/-0 and negation', async (t) => {
  const b = batch([
    ['x', col([1, 2, 3, null], new Int32())],
    ['d', col([NaN, -0, 1, null], new Float64())],
    ['big', col([2n ** 60n + 1n, 5n, -(2n ** 60n), null], new Int64())],
    ['s', col(['😀', 'a', '', null], new Utf8())],
    ['f', col([true, false, true, null], new Bool())],
  ]);
  const x = column(b, 'x');
  const inP = (ref: ColumnRef, valueType: DataType, values: LiteralValue[], negated = false): Predicate => ({ kind: 'in', expr: ref, valueType, values, negated });
  t.same(keep(b, inP(x, new Int32(), [1, 3])), [0, 2]);
  t.same(keep(b, inP(x, new Int32(), [1, null])), [0], 'a NULL element never makes a non-match TRUE');
  t.same(keep(b, inP(x, new Int32(), [1, null], true)), [], 'NOT IN (1, NULL) is never TRUE');
  t.same(keep(b, inP(x, new Int32(), [1], true)), [1, 2], 'NOT IN drops NULL input');
  t.same(keep(b, inP(x, new Int32(), [])), [], 'empty set: FALSE');
  t.same(keep(b, inP(x, new Int32(), [], true)), [0, 1, 2, 3], 'empty NOT IN: TRUE even for NULL');
  t.same(keep(b, inP(column(b, 'd'), new Float64(), [NaN, 0])), [0, 1], 'NaN matches NaN, 0 matches -0');
  t.same(keep(b, inP(column(b, 'big'), new Int64(), [2n ** 60n + 1n, -(2n ** 60n), 7n])), [0, 2], 'beyond 2^53');
  t.same(keep(b, inP(column(b, 's'), new Utf8(), ['😀', ''])), [0, 2]);
  t.same(keep(b, inP(column(b, 'f'), new Bool(), [false])), [1]);
});

t.test('distinct_from / not_distinct_from are NULL-aware', async (t) => {
  const b = batch([['x', col([1, 2, null], new Int32())]]);
  const x = column(b, 'x');
  t.same(keep(b, cmp('distinct_from', x, lit(new Int32(), 1))), [1, 2]);
  t.same(keep(b, cmp('not_distinct_from', x, lit(new Int32(), 1))), [0]);
  t.same(keep(b, cmp('distinct_from', x, lit(new Int32(), null))), [0, 1]);
  t.same(keep(b, cmp('not_distinct_from', x, lit(new Int32(), null))), [2]);
  t.same(keep(b, cmp('eq', x, lit(new Int32(), null))), [], 'x = NULL is NULL for every row');
});

t.test('starts_with / ends_with / contains are byte-exact; an empty needle matches every non-NULL', async (t) => {
  const b = batch([['s', col(['abc', 'xabcx', 'ab', '', null, 'Ünï😀'], new Utf8())]]);
  const s = column(b, 's');
  const m = (fn: 'starts_with' | 'ends_with' | 'contains', needle: string): Predicate => ({ kind: 'string_match', fn, expr: s, needle });
  t.same(keep(b, m('starts_with', 'ab')), [0, 2]);
  t.same(keep(b, m('ends_with', 'bc')), [0]);
  t.same(keep(b, m('contains', 'abc')), [0, 1]);
  t.same(keep(b, m('contains', '')), [0, 1, 2, 3, 5]);
  t.same(keep(b, m('ends_with', '😀')), [5]);
  t.same(keep(b, m('starts_with', 'Ün')), [5]);
});

t.test('a BOOLEAN column as a predicate', async (t) => {
  const b = batch([['flag', col([true, false, null, true], new Bool())]]);
  t.same(keep(b, { kind: 'bool_value', expr: column(b, 'flag') }), [0, 3]);
  t.same(keep(b.slice(1), { kind: 'bool_value', expr: column(b, 'flag') }), [2], 'bit offset respected');
});

t.test('several predicates AND together; a batch without rows is never copied', async (t) => {
  const b = batch([['x', col([1, 2, 3, 4, 5], new Int32())]]);
  const x = column(b, 'x');
  t.same(keep(b, cmp('gt', x, lit(new Int32(), 1)), cmp('lt', x, lit(new Int32(), 5)), cmp('ne', x, lit(new Int32(), 3))), [1, 3]);
  t.equal(evaluateFilters(program(cmp('gt', x, lit(new Int32(), 0))), b), null, 'all rows pass → null');
  t.same([...evaluateFilters(program(cmp('gt', x, lit(new Int32(), 9))), b)!], [], 'no row passes → empty selection');
  t.equal(evaluateFilters(program(cmp('gt', x, lit(new Int32(), 9))), b.slice(0, 0)), null);
  t.equal(evaluateFilters(null, b), null);
});

t.test('a batch that does not match the parsed schema fails loudly', async (t) => {
  const b = batch([['x', col([1, 2], new Int32())]]);
  const wrong: ColumnRef = { kind: 'column', index: 0, name: 'x', type: new Utf8() };
  t.throws(() => evaluateFilters(program(cmp('eq', wrong, lit(new Utf8(), 'a'))), b), /schema mismatch/);
});

t.test('IN on decimal, fixed_size_binary (lossless UUID) and narrow columns with out-of-range members', async (t) => {
  const dec = new Decimal(2, 10, 128);
  const uuid = (i: number) => { const b = new Uint8Array(16); b[15] = i; return b; };
  const b = batch([
    ['dec', col([new Uint32Array([150, 0, 0, 0]), new Uint32Array([0xffffff6a, 0xffffffff, 0xffffffff, 0xffffffff]), null, new Uint32Array([7, 0, 0, 0])], dec)],
    ['u', col([uuid(1), uuid(7), uuid(9), null], new FixedSizeBinary(16))],
    ['x', col([-128, 127, 0, 1], new Int8())],
  ]);
  const inP = (name: string, valueType: DataType, values: LiteralValue[]): Predicate => ({ kind: 'in', expr: column(b, name), valueType, values, negated: false });
  t.same(keep(b, inP('dec', dec, [{ unscaled: 150n, scale: 2 }, { unscaled: -150n, scale: 2 }])), [0, 1]);
  t.same(keep(b, inP('dec', new Int64(), [0n])), [], 'integer members are rescaled');
  t.same(keep(b, inP('u', new FixedSizeBinary(16), [uuid(7), uuid(9), uuid(3)])), [1, 2]);
  t.same(keep(b, inP('x', new Int64(), [1000n, -129n, 127n, 2n ** 63n - 1n])), [1]);
});

t.test('constants are coerced only when the comparison stays exact', async (t) => {
  const b = batch([
    ['i', col([1n, -(2n ** 62n), 2n ** 62n], new Int64())],
    ['f', col([1, 2 ** 60, NaN], new Float64())],
    ['n', col([1, 2, 3], new Int32())],
  ]);
  const ok = (p: Predicate) => keep(b, p);
  const bad = (p: Predicate, msg: string) => t.throws(() => compileProgram(program(p)), UnsupportedFilterError, msg);
  t.same(ok(cmp('lt', column(b, 'i'), lit(new Float64(), Infinity))), [0, 1, 2], 'int64 < +inf');
  t.same(ok(cmp('gt', column(b, 'i'), lit(new Float64(), -Infinity))), [0, 1, 2], 'int64 > -inf');
  t.same(ok(cmp('eq', column(b, 'i'), lit(new Float64(), 1))), [0], 'integral double');
  bad(cmp('gt', column(b, 'i'), lit(new Float64(), 2.5)), 'fractional double vs int64');
  t.same(ok(cmp('eq', column(b, 'f'), lit(new Int64(), 2n ** 60n))), [1], '2^60 is not a safe integer but is an exact double');
  bad(cmp('eq', column(b, 'f'), lit(new Int64(), 2n ** 60n + 1n)), 'not representable as a double');
  t.same(ok(cmp('ge', column(b, 'n'), lit(new Decimal(3, 10, 128), { unscaled: 2000n, scale: 3 }))), [1, 2], 'decimal 2.000 vs int32');
  bad(cmp('ge', column(b, 'n'), lit(new Decimal(1, 10, 128), { unscaled: 25n, scale: 1 })), 'decimal 2.5 vs int32');
  bad(cmp('eq', column(b, 'n'), lit(new Utf8(), '1')), 'text vs int');
  bad(cmp('eq', column(b, 'n'), lit(new Bool(), true)), 'bool vs int');
});

t.test('IN on strings: small sets compare bytes, large sets hash; both exact', async (t) => {
  for (const type of [new Utf8(), new LargeUtf8(), new Binary()]) {
    const enc = (x: string | null) => (x === null || !(type instanceof Binary) ? x : new TextEncoder().encode(x));
    const b = batch([['s', col(['😀', 'ab', '', 'abc', null, 'zz', 'Ａ'].map(enc), type)]]);
    const s = column(b, 's');
    const valueType = type instanceof Binary ? new Binary() : new Utf8();
    const small = ['ab', '', '😀'].map(enc) as LiteralValue[];
    const big = [...Array(30)].map((_, i) => `v${i}`).concat(['abc', 'Ａ', 'a']).map(enc) as LiteralValue[];
    t.same(keep(b, { kind: 'in', expr: s, valueType, values: small, negated: false }), [0, 1, 2], `${type}: small set`);
    t.same(keep(b, { kind: 'in', expr: s, valueType, values: big, negated: false }), [3, 6], `${type}: large set`);
  }
});
