// vgi.filters.v2 parser: SDK-only nodes, unsupported nodes (required → error, advisory → skipped) and
// malformed documents. The captured DuckDB examples are in pushdown-corpus.test.ts.
import t from 'tap';
import { Data, DataType, Date_, DateUnit, Field, Int32, Int64, List, RecordBatch, Schema, Struct, TimestampMicrosecond, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { encodeFiltersV2, encodeJoinKeys, type PayloadValue } from '../actors/pushdown/encode.js';
import { evaluateFilters, FilterFormatError, parseFiltersV2, UnsupportedFilterError } from '../actors/pushdown/index.js';

const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
const fields = [
  new Field('id', new Int64(), true), new Field('b', new Int64(), true), new Field('s', new Utf8(), true),
  new Field('l', new List(new Field('item', new Int64(), true)), true), new Field('ts', new TimestampMicrosecond(), true),
  new Field('Wé"ird\\col', new Int32(), true),
  new Field('st', new Struct([new Field('f', new Int64(), true)]), true),
];
const schema = new Schema(fields);
const batch = new RecordBatch(schema, makeData({
  type: new Struct(fields), length: 5, nullCount: 0, children: [
    col([0n, 1n, 2n, 3n, 4n], new Int64()),
    col([37n, null, 74n, 5n, 37n], new Int64()),
    col(['abc', 'xabc', null, 'ab', 'Abc'], new Utf8()),
    col([[1n], [], null, [2n, 3n], [4n]], fields[3].type),
    makeData({ type: new TimestampMicrosecond(), data: BigInt64Array.of(0n, 1n, 2n, 3n, 4n) }) as Data,
    col([1, 2, 3, 4, 5], new Int32()),
    makeData({ type: fields[6].type as Struct, length: 5, children: [col([1n, 2n, 3n, 4n, 5n], new Int64())] }) as Data,
  ],
}));

const B = '{"node":"column_ref","column_index":1,"column_name":"b"}';
const S = '{"node":"column_ref","column_index":2,"column_name":"s"}';
const V = (n: number) => `{"node":"literal","value_ref":${n}}`;
const doc = (...preds: [id: string, expr: string][]) => ({
  encoding: 'vgi.filters.v2', semantics: 'vgi.duckdb.standard.v1', kind: 'snapshot',
  predicates: preds.map(([id, expr]) => ({ id, revision: 0, mode: id.startsWith('advisory') ? 'advisory' : 'required', source: id.startsWith('advisory') ? 'other' : 'query', expression: JSON.parse(expr) as unknown })),
});
const i64 = (v: bigint): PayloadValue => col([v], new Int64());
const run = (d: object, values: PayloadValue[] = [], joinKeys: Uint8Array[] | null = null): number[] | null => {
  const sel = evaluateFilters(parseFiltersV2(encodeFiltersV2(d, values), joinKeys, schema), batch);
  return sel === null ? null : [...sel];
};

t.test('SDK-only nodes that can be evaluated exactly', async (t) => {
  t.same(run(doc(['query:0', `{"node":"not","expression":{"node":"comparison","op":"eq","left":${B},"right":${V(0)}}}`]), [i64(37n)]), [2, 3], 'not');
  t.same(run(doc(['query:0', `{"node":"is_null","expression":${B},"negated":false}`])), [1], 'is_null');
  t.same(run(doc(['query:0', `{"node":"is_null","expression":${B},"negated":true}`])), [0, 2, 3, 4], 'is not null');
  t.same(run(doc(['query:0', `{"node":"comparison","op":"distinct_from","left":${B},"right":${V(0)}}`]), [i64(37n)]), [1, 2, 3], 'distinct_from');
  t.same(run(doc(['query:0', `{"node":"comparison","op":"not_distinct_from","left":${B},"right":${V(0)}}`]), [i64(37n)]), [0, 4]);
  t.same(run(doc(['query:0', `{"node":"in","expression":${B},"set":{"kind":"literal","value_ref":0},"negated":true}`]), [col([[37n, 5n]], new List(new Field('l', new Int64(), true)))]), [2], 'negated in');
  t.same(run(doc(['query:0', `{"node":"call","function":"starts_with","arguments":[${S},${V(0)}]}`]), [col(['ab'], new Utf8())]), [0, 3], 'starts_with');
  t.same(run(doc(['query:0', `{"node":"call","function":"contains","arguments":[${S},${V(0)}],"options":{}}`]), [col(['bc'], new Utf8())]), [0, 1, 4], 'contains');
  t.same(run(doc(['query:0', `{"node":"comparison","op":"lt","left":${V(0)},"right":${B}}`]), [i64(37n)]), [2], 'literal on the left is flipped');
  const weird = '{"node":"comparison","op":"gt","left":{"node":"column_ref","column_index":5,"column_name":"Wé\\"ird\\\\col"},"right":{"node":"literal","value_ref":0}}';
  t.same(run(doc(['query:0', weird]), [col([3], new Int32())]), [3, 4], 'escaped non-ASCII column name');
});

t.test('unsupported nodes: a required predicate fails, an advisory one is skipped', async (t) => {
  const unknown = `{"node":"regex_match","expression":${S}}`;
  const cast = `{"node":"comparison","op":"eq","left":{"node":"cast","expression":${B},"type_ref":0},"right":${V(0)}}`;
  const arith = `{"node":"comparison","op":"gt","left":{"node":"arithmetic","op":"add","left":${B},"right":${V(0)}},"right":${V(1)}}`;
  const rf = `{"node":"runtime_filter","algorithm":{"namespace":"duckdb.runtime_filter","name":"bloom","version":1},"input":${B},"artifact_ref":0,"null_handling":"pass"}`;
  const gt = `{"node":"comparison","op":"gt","left":${B},"right":${V(0)}}`;
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', unknown])), null, schema), UnsupportedFilterError);
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', unknown])), null, schema), /required filter query:0 .*"regex_match"/);
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', cast]), [i64(1n)]), null, schema), UnsupportedFilterError);
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', `{"node":"call","function":"lower","arguments":[${S},${V(0)}]}`]), [i64(1n)]), null, schema), UnsupportedFilterError);

  const p = parseFiltersV2(encodeFiltersV2(doc(['advisory:0', unknown], ['advisory:1', arith], ['advisory:2', rf], ['query:3', gt]), [i64(1n), i64(10n)]), null, schema);
  t.same(p.skipped.map((s) => s.id), ['advisory:0', 'advisory:1', 'advisory:2']);
  t.same(p.predicates.map((x) => x.id), ['query:3']);
  t.same([...evaluateFilters(p, batch)!], [0, 2, 3, 4], 'the supported predicate still applies');
});

t.test('types that cannot be compared exactly', async (t) => {
  const onList = `{"node":"comparison","op":"eq","left":{"node":"column_ref","column_index":3,"column_name":"l"},"right":${V(0)}}`;
  const listValue = col([[1n]], fields[3].type);
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', onList]), [listValue]), null, schema), UnsupportedFilterError, 'list comparison');
  t.same(parseFiltersV2(encodeFiltersV2(doc(['advisory:0', onList]), [listValue]), null, schema).skipped.length, 1);
  const dateVsTs = `{"node":"comparison","op":"gt","left":{"node":"column_ref","column_index":4,"column_name":"ts"},"right":${V(0)}}`;
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', dateVsTs]), [col([new Date(0)], new Date_(DateUnit.DAY))]), null, schema), /cannot compare/);
  const startsOnInt = `{"node":"call","function":"starts_with","arguments":[${B},${V(0)}]}`;
  t.throws(() => parseFiltersV2(encodeFiltersV2(doc(['query:0', startsOnInt]), [col(['a'], new Utf8())]), null, schema), UnsupportedFilterError);
});

t.test('external IN sets resolve join_keys by position and check the column name', async (t) => {
  const ext = (b: number, name: string) => `{"node":"in","expression":${B},"set":{"kind":"external","batch_index":${b},"column_index":0,"column_name":"${name}"},"negated":false}`;
  const keys = [encodeJoinKeys('s', col(['zz'], new Utf8())), encodeJoinKeys('b', col([74n, 5n, 5n], new Int64()))];
  t.same(run(doc(['advisory:0', ext(1, 'b')]), [], keys), [2, 3]);
  t.throws(() => run(doc(['advisory:0', ext(0, 'b')]), [], keys), FilterFormatError, 'name mismatch is a format error even when advisory');
  t.throws(() => run(doc(['advisory:0', ext(2, 'b')]), [], keys), /join_keys\[2\] is missing/);
  t.throws(() => run(doc(['advisory:0', ext(0, 'b')]), [], null), FilterFormatError);
});

t.test('malformed documents and references are FilterFormatError', async (t) => {
  const gt = (idx: number, name: string) => `{"node":"comparison","op":"gt","left":{"node":"column_ref","column_index":${idx},"column_name":"${name}"},"right":${V(0)}}`;
  const parse = (d: object | string, values: PayloadValue[] = [i64(1n)]) => () => parseFiltersV2(encodeFiltersV2(d, values), null, schema);
  t.throws(parse(doc(['query:0', gt(1, 'x')])), /column 1 is "b", filter says "x"/);
  t.throws(parse(doc(['query:0', gt(99, 'b')])), /outside the output schema/);
  t.throws(parse(doc(['query:0', gt(1, 'b')]), []), /value_0 is missing/);
  t.throws(parse({ ...doc(), encoding: 'vgi.filters.v3' }), FilterFormatError);
  t.throws(parse({ ...doc(), kind: 'delta', updates: [] }), /only snapshots/);
  t.throws(parse({ ...doc(), semantics: 'postgres' }), UnsupportedFilterError);
  t.throws(parse('{"encoding":'), /not valid JSON/);
  t.throws(parse({ ...doc(['query:0', gt(1, 'b')]), predicates: [{ id: 'q', mode: 'maybe', expression: {} }] }), /unknown mode/);
  t.throws(parse(doc(['query:0', `{"node":"and","children":[]}`])), /needs children/);
  t.throws(parse(doc(['query:0', `{"node":"comparison","op":"eq","left":{"node":"field_ref","expression":{"node":"column_ref","column_index":6,"column_name":"st"},"field_index":0,"field_name":"g"},"right":${V(0)}}`])), /no field 0 named "g"/);
  t.throws(parse(doc(['query:0', `{"node":"in","expression":${B},"set":{"kind":"literal","value_ref":0},"negated":false}`]), [col([null], new List(new Field('l', new Int64(), true)))]), /must not be NULL/);
  t.throws(() => parseFiltersV2(Uint8Array.of(1, 2, 3), null, schema), FilterFormatError, 'not an IPC stream');
  let deep = `{"node":"comparison","op":"gt","left":${B},"right":${V(0)}}`;
  for (let i = 0; i < 70; i++) deep = `{"node":"not","expression":${deep}}`;
  t.throws(parse(doc(['query:0', deep])), /nested deeper/);
});

t.test('the parsed program evaluates identically on repeated batches (compiled once)', async (t) => {
  const p = parseFiltersV2(encodeFiltersV2(doc(['query:0', `{"node":"comparison","op":"eq","left":${B},"right":${V(0)}}`]), [i64(37n)]), null, schema);
  for (let k = 0; k < 3; k++) t.same([...evaluateFilters(p, batch)!], [0, 4]);
});

t.test('call and IN edge cases', async (t) => {
  const call = (args: string, extra = '') => `{"node":"call","function":"ends_with","arguments":[${args}]${extra}}`;
  t.same(run(doc(['query:0', call(`${S},${V(0)}`)]), [col([null], new Utf8())]), [], 'NULL needle: NULL for every row');
  t.throws(() => run(doc(['query:0', call(`${S},${V(0)}`, ',"options":{"collation":"nocase"}')]), [col(['a'], new Utf8())]), UnsupportedFilterError);
  t.throws(() => run(doc(['query:0', call(S)])), /takes 2 arguments/);
  t.throws(() => run(doc(['query:0', call(`${S},${S}`)])), /constant second argument/);
  t.throws(() => run(doc(['query:0', call(`${S},${V(0)}`)]), [i64(1n)]), /needs a utf8 constant/);
  t.throws(() => run(doc(['query:0', `{"node":"in","expression":${B},"set":{"kind":"bloom"},"negated":false}`])), /IN set kind "bloom"/);
  t.throws(() => run(doc(['query:0', `{"node":"literal","value_ref":0}`]), [i64(1n)]), /node "literal" is not supported/);
});
