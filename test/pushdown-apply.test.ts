// projectSchema / projectBatch / applyPushdown: filter on full-width rows, emit exactly the projected columns.
import t from 'tap';
import { Data, DataType, Field, Float64, Int64, RecordBatch, RecordBatchStreamWriter, Schema, Struct, Utf8, makeData, tableFromIPC, vectorFromArray } from 'apache-arrow';
import { encodeFiltersV2 } from '../actors/pushdown/encode.js';
import { applyPushdown, parseFiltersV2, projectBatch, projectSchema } from '../actors/pushdown/index.js';

const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
const fields = [new Field('id', new Int64(), false), new Field('b', new Int64(), true), new Field('s', new Utf8(), true), new Field('d', new Float64(), true)];
const schema = new Schema(fields, new Map([['origin', 'bind']]));
const batch = new RecordBatch(schema, makeData({
  type: new Struct(fields), length: 6, nullCount: 0, children: [
    col([0n, 1n, 2n, 3n, 4n, 5n], new Int64()),
    col([37n, 74n, null, 90n, 5n, 37n], new Int64()),
    col(['a', 'bb', 'ccc', null, '', 'f'], new Utf8()),
    col([0.5, NaN, 2, null, -0, 1], new Float64()),
  ],
}));
const program = parseFiltersV2(encodeFiltersV2({
  encoding: 'vgi.filters.v2', semantics: 'vgi.duckdb.standard.v1', kind: 'snapshot',
  predicates: [{ id: 'query:0', revision: 0, mode: 'required', source: 'query', expression: { node: 'comparison', op: 'gt', left: { node: 'column_ref', column_index: 1, column_name: 'b' }, right: { node: 'literal', value_ref: 0 } } }],
}, [col([10n], new Int64())]), null, schema);
const rows = (b: RecordBatch) => b.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))) as Record<string, unknown>);

t.test('projectSchema keeps the given order and the schema metadata; rejects bad ids', async (t) => {
  const p = projectSchema(schema, [2, 0]);
  t.same(p.fields.map((f) => f.name), ['s', 'id']);
  t.equal(p.fields[1], schema.fields[0], 'fields are reused (same nullability and metadata)');
  t.equal(p.metadata.get('origin'), 'bind');
  t.equal(projectSchema(schema, null), schema);
  t.throws(() => projectSchema(schema, [-1]), RangeError);
  t.throws(() => projectSchema(schema, [4]), RangeError);
  t.same(projectSchema(schema, []).fields, [], 'count(*) style: no columns');
});

t.test('projectBatch is zero-copy and handles sliced batches', async (t) => {
  const out = projectBatch(batch, [3, 1], projectSchema(schema, [3, 1]));
  t.equal(out.getChildAt(0)!.data[0], batch.getChildAt(3)!.data[0], 'column Data reused');
  t.equal(out.getChildAt(1)!.data[0], batch.getChildAt(1)!.data[0]);
  const sliced = projectBatch(batch.slice(2, 5), [2, 0], projectSchema(schema, [2, 0]));
  t.same(rows(sliced), [{ s: 'ccc', id: 2 }, { s: null, id: 3 }, { s: '', id: 4 }]);
  t.equal(projectBatch(batch, null, schema), batch);
  t.throws(() => projectBatch(batch, [0, 1], projectSchema(schema, [0])), RangeError, 'schema/ids disagree');
  const none = projectBatch(batch, [], projectSchema(schema, []));
  t.equal(none.numRows, 6, 'zero columns keep the row count');
});

t.test('applyPushdown filters on an unprojected column, then emits only the projection', async (t) => {
  const ids = [2, 0];
  const outSchema = projectSchema(schema, ids);
  const out = applyPushdown(batch, program, ids, outSchema);
  t.same(out.schema.fields.map((f) => f.name), ['s', 'id']);
  t.same(rows(out), [{ s: 'a', id: 0 }, { s: 'bb', id: 1 }, { s: null, id: 3 }, { s: 'f', id: 5 }]);
  for (const c of out.data.children) {
    const v = c.values as Uint8Array;
    t.equal(v.byteLength, v.buffer.byteLength, 'gathered columns own exact-size buffers');
  }
  // The batch can go straight into an IPC writer opened with the projected schema.
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, outSchema);
  writer.write(out);
  writer.finish();
  const back = tableFromIPC(writer.toUint8Array(true));
  t.equal(back.numRows, 4);
  t.same(back.schema.fields.map((f) => [f.name, String(f.type), f.nullable]), [['s', 'Utf8', true], ['id', 'Int64', false]]);
});

t.test('applyPushdown without filters or projection, and when nothing or everything passes', async (t) => {
  t.equal(applyPushdown(batch, null, null, schema), batch, 'no pushdown: the batch itself');
  const head = batch.slice(0, 2);
  const all = applyPushdown(head, program, [0], projectSchema(schema, [0]));
  t.equal(all.getChildAt(0)!.data[0], head.getChildAt(0)!.data[0], 'all rows pass: projected without copying');
  t.same(rows(all), [{ id: 0 }, { id: 1 }]);
  const none = applyPushdown(batch.slice(4, 5), program, [0, 3], projectSchema(schema, [0, 3]));
  t.equal(none.numRows, 0);
  t.same(none.schema.fields.map((f) => f.name), ['id', 'd']);
  const unprojected = applyPushdown(batch, program, null, schema);
  t.same(rows(unprojected).map((r) => r.id), [0, 1, 3, 5]);
  t.equal(unprojected.schema.fields.length, 4);
});
