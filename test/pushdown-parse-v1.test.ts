// Protocol 1.0.0 filter_spec parser (vgi-protocol-1.0.md §5.6): every filter is required, columns are
// matched by name, constants live in `_val_N`, large IN sets in `join_keys` matched by column name.
import t from 'tap';
import { Data, DataType, Field, Int32, Int64, List, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { encodeFiltersV1, encodeFiltersV2, encodeJoinKeys, type PayloadValue } from '../actors/pushdown/encode.js';
import { evaluateFilters, FilterFormatError, parseFilters, parseFiltersV1, UnsupportedFilterError } from '../actors/pushdown/index.js';

const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array(8);
  valid.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7); });
  return out;
}
const inner = new Struct([new Field('h', new Utf8(), true)]);
const stType = new Struct([new Field('f', new Int64(), true), new Field('g', inner, true)]);
const fields = [new Field('id', new Int32(), true), new Field('b', new Int64(), true), new Field('s', new Utf8(), true), new Field('st', stType, true)];
const schema = new Schema(fields);
const g = makeData({ type: inner, length: 6, nullBitmap: bitmap([true, true, false, true, true, true]), children: [col(['x', 'y', 'x', 'x', null, 'x'], new Utf8())] });
const batch = new RecordBatch(schema, makeData({
  type: new Struct(fields), length: 6, nullCount: 0, children: [
    col([0, 1, 2, 3, 4, 5], new Int32()),
    col([10n, 20n, null, 40n, 50n, 20n], new Int64()),
    col(['apple', 'banana', 'cherry', null, 'apricot', ''], new Utf8()),
    makeData({ type: stType, length: 6, nullBitmap: bitmap([true, true, true, true, true, false]), children: [col([1n, 2n, 1n, null, 1n, 1n], new Int64()), g] }) as Data,
  ],
}));

const run = (filters: object[], values: PayloadValue[] = [], joinKeys: Uint8Array[] | null = null): number[] | null => {
  const sel = evaluateFilters(parseFiltersV1(encodeFiltersV1(filters, values), joinKeys, schema), batch);
  return sel === null ? null : [...sel];
};
const c = (column_name: string, column_index: number, rest: object) => ({ column_name, column_index, ...rest });
const i64 = (v: bigint) => col([v], new Int64());

t.test('constant, null checks, conjunctions', async (t) => {
  t.same(run([c('b', 1, { type: 'constant', op: 'eq', value_ref: 0 })], [i64(20n)]), [1, 5]);
  t.same(run([c('b', 1, { type: 'constant', op: 'ne', value_ref: 0 })], [i64(20n)]), [0, 3, 4], 'ne drops NULL');
  t.same(run([c('b', 1, { type: 'is_null' })]), [2]);
  t.same(run([c('s', 2, { type: 'is_not_null' })]), [0, 1, 2, 4, 5]);
  t.same(run([c('b', 1, { type: 'and', children: [c('b', 1, { type: 'constant', op: 'gt', value_ref: 0 }), c('b', 1, { type: 'constant', op: 'le', value_ref: 1 })] })], [i64(10n), i64(40n)]), [1, 3, 5]);
  t.same(run([c('b', 1, { type: 'or', children: [c('b', 1, { type: 'constant', op: 'lt', value_ref: 0 }), c('b', 1, { type: 'is_null' })] })], [i64(20n)]), [0, 2]);
  t.same(run([
    c('b', 1, { type: 'constant', op: 'ge', value_ref: 0 }),
    c('s', 2, { type: 'constant', op: 'lt', value_ref: 1 }),
  ], [i64(20n), col(['b'], new Utf8())]), [4, 5], 'top-level filters are ANDed');
});

t.test('columns are resolved by column_index; the name is only a fallback', async (t) => {
  // DuckDB 1.5.3 sends the output-schema index with a wrong name once the projection drops or
  // reorders columns (test/e2e-regress-v1-filter-column.test.ts): the index wins.
  t.same(run([c('wrong_name', 1, { type: 'constant', op: 'eq', value_ref: 0 })], [i64(40n)]), [3]);
  t.same(run([c('b', 99, { type: 'constant', op: 'eq', value_ref: 0 })], [i64(40n)]), [3], 'out-of-range index: by name');
  t.throws(() => run([c('nope', 99, { type: 'is_null' })]), FilterFormatError);
});

t.test('constants of another integer width are compared exactly', async (t) => {
  t.same(run([c('id', 0, { type: 'constant', op: 'gt', value_ref: 0 })], [i64(3n)]), [4, 5], 'int64 constant vs int32 column');
  t.same(run([c('b', 1, { type: 'constant', op: 'lt', value_ref: 0 })], [col([15], new Int32())]), [0], 'int32 constant vs int64 column');
});

t.test('struct filters apply their child filter to the field; a NULL parent is NULL', async (t) => {
  const stf = (filter: object) => c('st', 3, { type: 'struct', child_index: 0, child_name: 'f', child_filter: c('st', 3, filter) });
  t.same(run([stf({ type: 'constant', op: 'eq', value_ref: 0 })], [i64(1n)]), [0, 2, 4]);
  t.same(run([stf({ type: 'is_null' })]), [3, 5]);
  const nested = c('st', 3, { type: 'struct', child_index: 1, child_name: 'g', child_filter: c('st', 3, { type: 'struct', child_index: 0, child_name: 'h', child_filter: c('st', 3, { type: 'constant', op: 'eq', value_ref: 0 }) }) });
  t.same(run([nested], [col(['x'], new Utf8())]), [0, 3]);
  t.throws(() => run([c('st', 3, { type: 'struct', child_index: 0, child_name: 'zz', child_filter: c('st', 3, { type: 'is_null' }) })]), FilterFormatError);
});

t.test('IN lists and join_keys (matched by column name)', async (t) => {
  t.same(run([c('s', 2, { type: 'in', value_ref: 0 })], [col([['cherry', 'apple', 'kiwi']], new List(new Field('l', new Utf8(), true)))]), [0, 2]);
  const keys = [encodeJoinKeys('s', col(['banana'], new Utf8())), encodeJoinKeys('b', col([40n, 50n, 99n], new Int64()))];
  t.same(run([c('b', 1, { type: 'join_keys', keys_column: 'b' })], [], keys), [3, 4]);
  t.same(run([c('s', 2, { type: 'join_keys', keys_column: 's' })], [], keys), [1]);
  t.throws(() => run([c('b', 1, { type: 'join_keys', keys_column: 'zz' })], [], keys), /no join_keys stream/);
});

t.test('expression filters', async (t) => {
  const ref = { expr_type: 'column_ref', index: 0 };
  const k = (n: number) => ({ expr_type: 'constant', value_ref: n });
  const expr = (e: object) => c('s', 2, { type: 'expression', expr: e });
  t.same(run([expr({ expr_type: 'function', function_name: 'prefix', children: [ref, k(0)] })], [col(['ap'], new Utf8())]), [0, 4]);
  t.same(run([expr({ expr_type: 'function', function_name: 'suffix', children: [ref, k(0)] })], [col(['na'], new Utf8())]), [1]);
  t.same(run([expr({ expr_type: 'function', function_name: 'contains', children: [ref, k(0)] })], [col(['err'], new Utf8())]), [2]);
  t.same(run([expr({
    expr_type: 'conjunction', conjunction_type: 'or',
    children: [{ expr_type: 'comparison', op: 'eq', left: ref, right: k(0) }, { expr_type: 'comparison', op: 'gt', left: k(1), right: ref }],
  })], [col(['apple'], new Utf8()), col(['b'], new Utf8())]), [0, 4, 5], "s = 'apple' OR 'b' > s");
  t.throws(() => run([expr({ expr_type: 'function', function_name: 'lower', children: [ref] })]), UnsupportedFilterError);
  t.throws(() => run([expr({ expr_type: 'function', function_name: 'regexp_matches', children: [ref, k(0)] })], [col(['a'], new Utf8())]), /required filter v1:0/);
});

t.test('every 1.0 filter is required: unknown filter types fail', async (t) => {
  t.throws(() => run([c('b', 1, { type: 'bloom', data: 'xx' })]), UnsupportedFilterError);
  const p = parseFiltersV1(encodeFiltersV1([c('b', 1, { type: 'is_null' })]), null, schema);
  t.same(p.predicates.map((x) => [x.id, x.mode]), [['v1:0', 'required']]);
  t.equal(p.encoding, 'vgi.filters.v1');
});

t.test('malformed 1.0 blobs', async (t) => {
  t.throws(() => parseFiltersV1(encodeFiltersV1('{"not":"an array"}'), null, schema), /JSON array/);
  t.throws(() => run([c('b', 1, { type: 'constant', op: 'eq', value_ref: 3 })], [i64(1n)]), /_val_3 is missing/);
  t.throws(() => parseFiltersV1(encodeFiltersV2({}), null, schema), FilterFormatError, 'a v2 blob is not a v1 document');
});

t.test('parseFilters dispatches on the protocol version', async (t) => {
  const v1 = encodeFiltersV1([c('b', 1, { type: 'is_null' })]);
  t.equal(parseFilters({ protocolMajor: 1, filters: null, joinKeys: null }, schema), null);
  t.equal(parseFilters({ protocolMajor: 1, filters: v1, joinKeys: null }, schema)!.encoding, 'vgi.filters.v1');
  const v2 = encodeFiltersV2({ encoding: 'vgi.filters.v2', semantics: 'vgi.duckdb.standard.v1', kind: 'snapshot', predicates: [] });
  t.equal(parseFilters({ protocolMajor: 2, filters: v2, joinKeys: null }, schema)!.encoding, 'vgi.filters.v2');
});
