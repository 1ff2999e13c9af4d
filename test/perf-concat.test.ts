// The finalize concat kernel (actors/concat.ts) on every Arrow type DuckDB exports: values,
// NULLs, sliced inputs at non-byte-aligned offsets, exact-size output buffers, IPC round trip;
// and the types it refuses (unions, differing dictionaries).
import t from 'tap';
import { Data, Dictionary, Int32, Null, RecordBatch, Utf8, makeData, tableFromIPC, tableToIPC, Table, vectorFromArray } from 'apache-arrow';
import { type Asserts, unions, allColumns, batchOf, render, checkBuffers, countNulls } from './helpers/arrow-columns.js';
import { canConcat, canConcatBatches, concatBatches, copyBits } from '../actors/concat.js';
import { canEncodeConcat, encodeConcat } from '../actors/ipc-concat.js';
import { MessageEncoder } from '../actors/codec.js';

function checkConcat(t: Asserts, parts: RecordBatch[], label: string): void {
  t.equal(canConcatBatches(parts), true, `${label}: concatenable`);
  const out = concatBatches(parts[0]!.schema, parts);
  const total = parts.reduce((a, b) => a + b.numRows, 0);
  t.equal(out.numRows, total, `${label}: row count`);
  const back = tableFromIPC(tableToIPC(new Table([out]), 'stream'));
  parts[0]!.schema.fields.forEach((field, c) => {
    const want: string[] = [];
    const valid: boolean[] = [];
    for (const p of parts) for (let i = 0; i < p.numRows; i++) { want.push(render(p.getChildAt(c)!.get(i))); valid.push(p.getChildAt(c)!.isValid(i)); }
    const dst = out.getChildAt(c)!;
    t.same([...Array(total).keys()].map((j) => render(dst.get(j))), want, `${label}: ${field.name} values`);
    t.same([...Array(total).keys()].map((j) => dst.isValid(j)), valid, `${label}: ${field.name} validity`);
    if (field.type.typeId !== 1 /* Null */) t.equal(dst.data[0]!.nullCount, countNulls(dst), `${label}: ${field.name} nullCount`);
    if (field.name !== 'dictionary') checkBuffers(t, dst.data[0]!, `${label}: ${field.name}`);
    t.same([...Array(total).keys()].map((j) => render(back.getChildAt(c)!.get(j))), want, `${label}: ${field.name} IPC round trip`);
  });
}

t.test('concatenates every type, whole and sliced at odd offsets', async (t) => {
  const b = batchOf(allColumns());
  checkConcat(t, [b, b], 'two whole batches (second lands at bit 12)');
  checkConcat(t, [b.slice(0, 5), b.slice(5, 12)], 'split at 5');
  checkConcat(t, [b.slice(3, 12), b.slice(1, 10).slice(2, 9), b, b.slice(11, 12)], 'slices of slices');
  checkConcat(t, [b.slice(4, 4), b.slice(0, 3)], 'an empty part');
});

t.test('refuses unions and dictionaries that differ', async (t) => {
  const [, sparse] = unions()[0]!;
  t.equal(canConcat([sparse, sparse]), false, 'sparse union');
  const d1 = makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.of(0), dictionary: vectorFromArray(['a'], new Utf8()) }) as Data;
  const d2 = makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.of(0), dictionary: vectorFromArray(['b'], new Utf8()) }) as Data;
  t.equal(canConcat([d1, d2]), false, 'different dictionaries');
  t.equal(canConcat([d1, d1]), true, 'the same dictionary');
  t.equal(canConcatBatches([batchOf(allColumns())]), false, 'a single batch needs no concat');
});

t.test('copyBits handles every alignment', async (t) => {
  const src = Uint8Array.from([0b10110101, 0b01101100, 0b11110000, 0b00001111]);
  for (const srcPos of [0, 1, 3, 8, 9]) {
    for (const dstPos of [0, 2, 8, 13]) {
      for (const n of [0, 1, 7, 8, 13, 20]) {
        const dst = new Uint8Array(8);
        copyBits(dst, dstPos, src, srcPos, n);
        const bit = (a: Uint8Array, i: number): number => (a[i >> 3]! >> (i & 7)) & 1;
        const got = [...Array(64).keys()].map((i) => bit(dst, i));
        const want = [...Array(64).keys()].map((i) => (i >= dstPos && i < dstPos + n ? bit(src, srcPos + i - dstPos) : 0));
        t.same(got, want, `src ${srcPos} dst ${dstPos} n ${n}`);
      }
    }
  }
});

t.test('encodeConcat writes the same rows as one IPC message, into fresh or recycled buffers', async (t) => {
  const cols = allColumns().filter(([n]) => n !== 'dictionary');
  const b = batchOf(cols);
  const parts = [b.slice(3, 12), b, b.slice(1, 10).slice(2, 9), b.slice(0, 0)];
  t.equal(canEncodeConcat(parts), true);
  t.equal(canEncodeConcat([batchOf(allColumns())]), false, 'dictionaries go through the writer');
  const want = concatBatches(b.schema, parts);
  const schemaMsg = new MessageEncoder(b.schema).schemaBytes();
  const eos = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
  for (const [label, alloc] of [
    ['fresh', (n: number) => new Uint8Array(n)],
    ['recycled', (n: number) => new Uint8Array(new ArrayBuffer(n + 4096)).fill(0xab).subarray(0, n)],
  ] as const) {
    const msg = encodeConcat(parts, alloc);
    const stream = new Uint8Array(schemaMsg.byteLength + msg.byteLength + 8);
    stream.set(schemaMsg, 0);
    stream.set(msg, schemaMsg.byteLength);
    stream.set(eos, schemaMsg.byteLength + msg.byteLength);
    const back = tableFromIPC(stream);
    t.equal(back.numRows, want.numRows, `${label}: rows`);
    b.schema.fields.forEach((f, c) => {
      const got = [...Array(want.numRows).keys()].map((j) => render(back.getChildAt(c)!.get(j)));
      const exp = [...Array(want.numRows).keys()].map((j) => render(want.getChildAt(c)!.get(j)));
      t.same(got, exp, `${label}: ${f.name}`);
    });
  }
});
