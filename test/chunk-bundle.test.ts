// The stdio relay's chunk bundles (runtime/wire/chunk-bundle.ts): what the relay writes is what the
// host reads, anything else is refused, and a bundle's read buffer is offered for moving.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { socketPair } from './helpers/socket-pair.js';
import { ChunkBundleWriter, CHUNK_BUNDLE_SCHEMA, readChunkBundle } from '../runtime/wire/chunk-bundle.js';
import { MessageReader } from '../runtime/wire/reader.js';
import { ProtocolError, recordBatchHeader, bodyBuffer, type IpcMessage } from '../runtime/wire/message.js';
import { concat, EOS_BYTES } from '../runtime/wire/encode.js';
import { ONE_WAY_MARKER } from '../runtime/wire/relay-control.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** The parts a writer produced, framed again by the host's reader. */
async function readBack(parts: readonly Uint8Array[]): Promise<IpcMessage[]> {
  const pass = new PassThrough();
  const reader = new MessageReader(pass);
  pass.end(Buffer.from(concat(parts)));
  const stream = await reader.readStream();
  if (!stream) throw new Error('no stream');
  return stream;
}

t.test('rows written by the relay come back byte for byte, batch indexes and odd sizes included', async (t) => {
  const w = new ChunkBundleWriter();
  const rows = [
    { eid: bytes(16, 1), input: bytes(16_401, 2), batchIndex: null },
    { eid: bytes(16, 1), input: bytes(3, 3), batchIndex: 0n },
    { eid: bytes(9, 4), input: bytes(0, 5), batchIndex: -7n },
    { eid: bytes(16, 6), input: bytes(1_000_001, 7), batchIndex: 2n ** 62n },
  ];
  for (const r of rows) w.add(r.eid, r.input, r.batchIndex);
  t.equal(w.rows, 4);
  t.ok(w.bytes >= 1_016_405, 'counts the input bytes');
  const parts = w.take();
  t.equal(w.rows, 0, 'take empties the writer');
  const got = readChunkBundle(await readBack(parts));
  t.equal(got.length, 4);
  for (let i = 0; i < rows.length; i++) {
    t.same([...got[i]!.eid], [...rows[i]!.eid], `row ${i} execution id`);
    t.ok(Buffer.from(got[i]!.input).equals(rows[i]!.input), `row ${i} input bytes`);
    t.equal(got[i]!.batchIndex, rows[i]!.batchIndex, `row ${i} batch index`);
  }
  const empty = await readBack(w.take());
  t.throws(() => readChunkBundle(empty), ProtocolError, 'a bundle of no rows is refused (the relay never sends one)');
});

const offsetsOf = (m: IpcMessage, col: number): DataView => {
  const b = bodyBuffer(m, recordBatchHeader(m), col * 3 + 1);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
};

t.test('anything but a well-formed bundle is a ProtocolError', async (t) => {
  const w = new ChunkBundleWriter();
  w.add(bytes(16, 1), bytes(100, 2), 5n);
  w.add(bytes(16, 1), bytes(100, 3), null);
  const base = await readBack(w.take());
  t.equal(readChunkBundle(base).length, 2, 'the unmutated bundle reads');
  /** A copy of the bundle with its batch message changed by `mutate`. */
  const mutated = (mutate: (m: IpcMessage) => void): IpcMessage[] => {
    const copy = base.map((m) => ({ ...m, bytes: m.bytes.slice() }));
    mutate(copy[1]!);
    return copy;
  };
  const cases: [string, (m: IpcMessage) => void][] = [
    ['an offset past its data', (m) => offsetsOf(m, 1).setInt32(8, 1 << 20, true)],
    ['offsets going backwards', (m) => offsetsOf(m, 1).setInt32(8, 50, true)],
    ['offsets not starting at 0', (m) => offsetsOf(m, 0).setInt32(0, 1, true)],
    ['an empty execution id', (m) => offsetsOf(m, 0).setInt32(4, 0, true)],
    ['a batch index of 4 bytes', (m) => { offsetsOf(m, 2).setInt32(4, 4, true); offsetsOf(m, 2).setInt32(8, 8, true); }],
  ];
  for (const [what, mutate] of cases) t.throws(() => readChunkBundle(mutated(mutate)), ProtocolError, what);
  const [schema, batch] = base;
  t.throws(() => readChunkBundle([batch!]), ProtocolError, 'no schema');
  t.throws(() => readChunkBundle([{ ...schema!, bytes: schema!.bytes.slice(0, -8) }, batch!]), ProtocolError, 'another schema');
  t.throws(() => readChunkBundle([schema!, { ...batch!, metadata: new Map() }]), ProtocolError, 'no method');
  t.throws(() => readChunkBundle([schema!, schema!]), ProtocolError, 'a schema where the batch belongs');
});

t.test('a bundle that arrives with its marker in one read offers that read buffer; other shapes do not', async (t) => {
  const { client, server } = await socketPair(t);
  const reader = new MessageReader(server, true);
  const w = new ChunkBundleWriter();
  w.add(bytes(16, 1), bytes(2_000, 2), null);
  const framed = concat([ONE_WAY_MARKER, ...w.take()]);
  client.write(framed);
  t.same(await reader.readStream(), [], 'the marker is an empty stream');
  const stream = await reader.readStream();
  t.equal(stream?.length, 2);
  t.equal(reader.lastStreamBuffer?.byteLength, framed.byteLength, 'marker + bundle: the whole read');

  // Bytes before the marker (the end of another request) keep the read from being offered.
  const other = concat([CHUNK_BUNDLE_SCHEMA, EOS_BYTES]);
  w.add(bytes(16, 1), bytes(2_000, 3), null);
  client.write(concat([other, ONE_WAY_MARKER, ...w.take()]));
  t.equal((await reader.readStream())?.length, 1);
  t.same(await reader.readStream(), []);
  await reader.readStream();
  t.equal(reader.lastStreamBuffer, null, 'the marker did not start the read');
});
