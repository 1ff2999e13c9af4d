// ChunkDecoder (actors/chunk-decoder.ts): decodes DuckDB's per-chunk IPC streams with the schema cached
// per execution, and must give exactly what apache-arrow's RecordBatchReader gives.
import t from 'tap';
import { Field, Int32, List, Schema, Struct, Utf8, Int64, RecordBatch, makeData, tableToIPC, Table, vectorFromArray, Dictionary } from 'apache-arrow';
import { decodeBatches } from '../actors/codec.js';
import { ChunkDecoder } from '../actors/chunk-decoder.js';

const render = (b: RecordBatch): string => JSON.stringify(b.toArray().map((r) => r.toJSON()), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

function batch(from: number): RecordBatch {
  const n = 5;
  const a = vectorFromArray(Array.from({ length: n }, (_, i) => (i === 2 ? null : BigInt(from + i))), new Int64());
  const s = vectorFromArray(Array.from({ length: n }, (_, i) => (i === 3 ? null : `s${from + i}`)), new Utf8());
  const l = vectorFromArray(Array.from({ length: n }, (_, i) => [i, i + 1]), new List(new Field('item', new Int32(), true)));
  const st = vectorFromArray(Array.from({ length: n }, (_, i) => ({ x: i })), new Struct([new Field('x', new Int32(), true)]));
  const fields = [new Field('a', a.type, true), new Field('s', s.type, true), new Field('l', l.type, true), new Field('st', st.type, true)];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [a.data[0]!, s.data[0]!, l.data[0]!, st.data[0]!] }));
}

t.test('same batches as RecordBatchReader', async (t) => {
  const d = new ChunkDecoder();
  const first = d.decode(tableToIPC(new Table([batch(0)]), 'stream'));
  const second = d.decode(tableToIPC(new Table([batch(100)]), 'stream'));
  t.equal(render(first[0]!), render(decodeBatches(tableToIPC(new Table([batch(0)]), 'stream'))[0]!));
  t.equal(render(second[0]!), render(batch(100)));
});

t.test('a different schema is decoded again; dictionaries fall back to the reader', async (t) => {
  const d = new ChunkDecoder();
  d.decode(tableToIPC(new Table([batch(0)]), 'stream'));
  const other = new Table({ y: vectorFromArray([1, 2, 3], new Int32()) });
  t.same(d.decode(tableToIPC(other, 'stream'))[0]!.toArray().map((r) => r.y), [1, 2, 3]);
  const dict = new Table({ e: vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())) });
  t.same(d.decode(tableToIPC(dict, 'stream'))[0]!.toArray().map((r) => r.e), ['a', 'b', 'a']);
});

t.test('unaligned input is copied, not misread', async (t) => {
  const ipc = tableToIPC(new Table([batch(7)]), 'stream');
  const buf = new Uint8Array(ipc.byteLength + 3);
  buf.set(ipc, 3);
  t.equal(render(new ChunkDecoder().decode(buf.subarray(3))[0]!), render(batch(7)));
});

t.test('column vectors are built on first read only, and are the same as decoded eagerly', async (t) => {
  const d = new ChunkDecoder();
  const bytes = tableToIPC(new Table([batch(3)]), 'stream');
  const [b] = d.decode(bytes);
  t.notOk(Object.getOwnPropertyNames(b!).includes('data'), 'no vectors before anything reads the batch');
  t.equal(b!.numRows, 5, 'numRows needs no vectors');
  t.equal(b!.numCols, 4);
  t.notOk(Object.getOwnPropertyNames(b!).includes('data'), 'still none after numRows / numCols');
  t.ok(b instanceof RecordBatch);
  t.equal(render(b!), render(batch(3)), 'reading it gives the same rows');
  t.ok(Object.getOwnPropertyNames(b!).includes('data'), 'the vectors are kept once built');
  t.equal(b!.data, b!.data, 'built once');
  t.equal(b!.numRows, 5);
  // Same header bytes on the next chunk: the cached header must not leak one chunk's body into another.
  const [c] = d.decode(tableToIPC(new Table([batch(50)]), 'stream'));
  t.equal(render(c!), render(batch(50)));
  t.equal(render(b!), render(batch(3)), 'the earlier chunk is unchanged');
});
