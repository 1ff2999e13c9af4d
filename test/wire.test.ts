import t from 'tap';
import { PassThrough } from 'node:stream';
import { RecordBatchReader, tableFromIPC, tableToIPC, tableFromArrays, Table, vectorFromArray, Binary, Utf8, Int64 } from 'apache-arrow';
import { concat } from '../runtime/wire/encode.js';
import { stateIdResult, unaryError, unaryResult, unaryVoid, zeroFieldResult } from '../runtime/wire/envelope.js';
import { MessageReader, EOS } from '../runtime/wire/reader.js';
import { NestedRow } from '../runtime/wire/nested.js';
import { ownBuffer, type IpcMessage } from '../runtime/wire/message.js';

function readAll(bytes: Uint8Array) {
  const reader = RecordBatchReader.from(bytes);
  reader.open();
  return [...reader];
}

t.test('unary result wraps an inner state_id stream that apache-arrow reads back', async (t) => {
  const inner = concat(stateIdResult(Uint8Array.of(1, 2, 3)));
  const innerTable = tableFromIPC(inner);
  t.equal(innerTable.schema.fields[0]!.name, 'state_id');
  t.equal(innerTable.schema.fields[0]!.nullable, false);
  t.same([...(innerTable.getChild('state_id')!.get(0) as Uint8Array)], [1, 2, 3]);
  const outer = concat(unaryResult([inner], [{ level: 'INFO', message: 'hello' }]));
  const batches = readAll(outer);
  t.equal(batches.length, 2);
  t.equal(batches[0]!.numRows, 0);
  t.equal(batches[0]!.metadata.get('vgi_rpc.log_level'), 'INFO');
  t.equal(batches[0]!.metadata.get('vgi_rpc.log_message'), 'hello');
  t.same([...(batches[1]!.getChild('result')!.get(0) as Uint8Array)], [...inner]);
});

t.test('error, void and zero-field responses are valid streams', async (t) => {
  const err = readAll(concat(unaryError('boom', { errorKind: 'method_not_implemented' })));
  t.equal(err.length, 1);
  t.equal(err[0]!.metadata.get('vgi_rpc.log_level'), 'EXCEPTION');
  t.equal(err[0]!.metadata.get('vgi_rpc.error_kind'), 'method_not_implemented');
  t.equal(readAll(concat(unaryVoid()))[0]!.numRows, 0);
  const z = readAll(concat(zeroFieldResult()));
  t.equal(z[0]!.numRows, 1);
  t.equal(z[0]!.schema.fields.length, 0);
});

t.test('MessageReader splits concatenated streams delivered in odd chunks', async (t) => {
  const a = tableToIPC(tableFromArrays({ x: Int32Array.of(1, 2, 3) }), 'stream');
  const b = tableToIPC(tableFromArrays({ y: Float64Array.of(1.5) }), 'stream');
  const all = concat([a, b]);
  const input = new PassThrough();
  const r = new MessageReader(input);
  for (let i = 0; i < all.length; i += 7) input.write(Buffer.from(all.subarray(i, i + 7)));
  input.end();
  const s1 = await r.readStream();
  const s2 = await r.readStream();
  t.equal(s1!.length, 2);
  t.equal(s2!.length, 2);
  for (const m of [...s1!, ...s2!]) t.equal(m.bytes.byteOffset, 0, 'a message spanning reads is copied into its own buffer');
  t.equal(await r.readStream(), null, 'clean EOF at a stream boundary');
});

t.test('MessageReader frames messages inside one read as views; ownBuffer copies only those', async (t) => {
  const a = tableToIPC(tableFromArrays({ x: Int32Array.of(1, 2, 3) }), 'stream');
  const input = new PassThrough();
  const r = new MessageReader(input);
  input.end(Buffer.from(concat([a, a])));
  const s1 = (await r.readStream())!;
  const s2 = (await r.readStream())!;
  t.equal(s2[0]!.bytes.buffer, s1[0]!.bytes.buffer, 'both streams are views into the one read');
  const own = ownBuffer(s2[1]!);
  t.not(own, s2[1]!.bytes.buffer, 'a view is copied out');
  t.same(new Uint8Array(own), s2[1]!.bytes, 'with the same bytes at offset 0');
  const single = await new Promise<IpcMessage>((resolve) => {
    const p = new PassThrough();
    const rr = new MessageReader(p);
    const m = a.subarray(0, new DataView(a.buffer, a.byteOffset).getInt32(4, true) + 8); // the schema message alone
    p.end(Buffer.from(m));
    void rr.next().then((x) => resolve(x as IpcMessage));
  });
  t.equal(ownBuffer(single).byteLength, single.bytes.byteLength, 'a message filling its read is moved as is');
});

t.test('MessageReader rejects absurd lengths', async (t) => {
  const input = new PassThrough();
  const r = new MessageReader(input);
  input.end(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
  await t.rejects(r.next(), /invalid IPC metadata length/);
});

t.test('NestedRow reads flat request fields without apache-arrow', async (t) => {
  const tbl = new Table({
    function_name: vectorFromArray(['buffer_input'], new Utf8()),
    execution_id: vectorFromArray([Uint8Array.of(9, 8, 7)], new Binary()),
    input_batch: vectorFromArray([Uint8Array.of(1)], new Binary()),
    attach_opaque_data: vectorFromArray([null], new Binary()),
    batch_index: vectorFromArray([42n], new Int64()),
  });
  const row = NestedRow.parse(tableToIPC(tbl, 'stream'));
  t.equal(row.string('function_name'), 'buffer_input');
  t.same([...row.bytes('execution_id')!], [9, 8, 7]);
  t.equal(row.bytes('attach_opaque_data'), null);
  t.equal(row.int64('batch_index'), 42n);
  t.notOk(row.has('schema_path'));
});
