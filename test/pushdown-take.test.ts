// takeRows on every Arrow type DuckDB exports (and a few more): values, NULLs, sliced inputs, exact-size
// output buffers, and an IPC round trip of the result.
import t from 'tap';
import { Field, Float64, Null, RecordBatch, Schema, Struct, Type, makeData, tableFromIPC, tableToIPC, Table } from 'apache-arrow';
import { type Asserts, N, bitmap, valid, allColumns, unions, batchOf, render, checkBuffers, countNulls } from './helpers/arrow-columns.js';
import { takeRows } from '../actors/pushdown/index.js';

function checkTake(t: Asserts, input: RecordBatch, idx: number[], label: string): void {
  const out = takeRows(input, Uint32Array.from(idx));
  t.equal(out.numRows, idx.length, `${label}: row count`);
  t.same(out.schema.fields.map((f) => String(f.type)), input.schema.fields.map((f) => String(f.type)), `${label}: schema`);
  input.schema.fields.forEach((field, c) => {
    const src = input.getChildAt(c)!;
    const dst = out.getChildAt(c)!;
    const want = idx.map((i) => render(src.get(i)));
    const got = idx.map((_, j) => render(dst.get(j)));
    t.same(got, want, `${label}: ${field.name} values`);
    t.same(idx.map((_, j) => dst.isValid(j)), idx.map((i) => src.isValid(i)), `${label}: ${field.name} validity`);
    const d = dst.data[0];
    // arrow-js reports Null-type rows as valid (no bitmap), but Arrow defines them all as NULL.
    const nulls = field.type.typeId === Type.Null ? idx.length : countNulls(dst);
    if (field.type.typeId !== Type.Union) t.equal(d.nullCount, nulls, `${label}: ${field.name} nullCount`);
    checkBuffers(t, d, `${label}: ${field.name}`);
  });
  // The taken batch must serialize and read back identically (what the finalize stream does next).
  const back = tableFromIPC(tableToIPC(new Table([out]), 'stream'));
  input.schema.fields.forEach((field, c) => {
    t.same(idx.map((_, j) => render(back.getChildAt(c)!.get(j))), idx.map((_, j) => render(out.getChildAt(c)!.get(j))), `${label}: ${field.name} IPC round trip`);
  });
}

t.test('takeRows gathers every type, with repeats and out-of-order indices', async (t) => {
  const b = batchOf([...allColumns(), ...unions()]);
  checkTake(t, b, [5, 0, 0, 11, 2, 7, 3, 6, 10, 1], 'full');
  checkTake(t, b, [], 'empty');
  checkTake(t, b, [...Array(N).keys()], 'identity');
});

t.test('takeRows respects sliced inputs (non-byte-aligned offsets)', async (t) => {
  const b = batchOf([...allColumns(), ...unions()]);
  const s = b.slice(3, 12); // offset 3 into bitmaps, bool bits, struct children, fixed lists
  checkTake(t, s, [0, 8, 3, 4, 1, 1, 6], 'slice(3)');
  const s2 = b.slice(1, 10).slice(2, 9); // slice of a slice
  checkTake(t, s2, [6, 0, 2, 5], 'slice(1).slice(2)');
});

t.test('dictionary columns keep their dictionary; no-NULL outputs carry no bitmap bytes', async (t) => {
  const b = batchOf([...allColumns(), ...unions()]);
  const out = takeRows(b, Uint32Array.of(0, 1));
  const dict = out.getChild('dictionary')!.data[0];
  t.equal(dict.dictionary, b.getChild('dictionary')!.data[0].dictionary, 'same dictionary vector');
  const int8 = out.getChild('int8')!.data[0];
  t.equal(int8.nullCount, 0);
  t.equal((int8.nullBitmap as Uint8Array).byteLength, 0, 'rows 0 and 1 are valid: empty bitmap');
  const withNull = takeRows(b, Uint32Array.of(2)).getChild('int8')!.data[0];
  t.equal(withNull.nullCount, 1);
});

t.test('NaN bit patterns survive the copy', async (t) => {
  const raw = new Float64Array(2);
  new Uint32Array(raw.buffer).set([0x12345678, 0x7ff80001, 0, 0x7ff00000]); // a payload NaN, then +inf
  const fields = [new Field('d', new Float64(), true)];
  const b = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, children: [makeData({ type: new Float64(), data: raw })] }));
  const out = takeRows(b, Uint32Array.of(0, 1, 0));
  t.same([...new Uint32Array((out.getChild('d')!.data[0].values as Float64Array).buffer)], [0x12345678, 0x7ff80001, 0, 0x7ff00000, 0x12345678, 0x7ff80001]);
});
