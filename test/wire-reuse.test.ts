// Hot-path reuse on the main thread: headers parsed once per distinct bytes (runtime/wire/recent.ts)
// and a request's own socket-read buffer offered for moving (MessageReader.lastStreamBuffer).
import t from 'tap';
import { PassThrough } from 'node:stream';
import { socketPair } from './helpers/socket-pair.js';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { RecentByBytes } from '../runtime/wire/recent.js';
import { MessageReader } from '../runtime/wire/reader.js';
import { ProtocolError } from '../runtime/wire/message.js';

t.test('RecentByBytes: equal bytes give the same value; the value sees a private copy', async (t) => {
  const cache = new RecentByBytes<{ bytes: Uint8Array }>(2);
  let made = 0;
  const make = (own: Uint8Array): { bytes: Uint8Array } => { made++; return { bytes: own }; };
  const a = Uint8Array.of(1, 2, 3);
  const first = cache.get(a, make);
  a[0] = 9; // the caller reuses its buffer: the cached value must not change with it
  t.same([...first.bytes], [1, 2, 3], 'made from a copy');
  t.equal(cache.get(Uint8Array.of(1, 2, 3), make), first, 'equal bytes elsewhere: the same value');
  t.equal(made, 1);
  t.not(cache.get(Uint8Array.of(1, 2, 4), make), first, 'different bytes: a new value');
  t.equal(made, 2);
});

t.test('RecentByBytes: a key used every time survives keys that change every time', async (t) => {
  const cache = new RecentByBytes<number>(2);
  let made = 0;
  const make = (): number => ++made;
  const schema = Uint8Array.of(7, 7, 7);
  const v = cache.get(schema, make);
  for (let i = 0; i < 50; i++) {
    cache.get(Uint8Array.of(i, i + 1), make); // a varchar chunk's batch header: new every chunk
    t.equal(cache.get(schema, make), v);
  }
  t.equal(made, 51, 'the repeating key was parsed once');
});

t.test('RecentByBytes: failures and huge keys are not kept', async (t) => {
  const cache = new RecentByBytes<number>(4);
  let calls = 0;
  const bad = (): number => { calls++; throw new ProtocolError('corrupt'); };
  t.throws(() => cache.get(Uint8Array.of(1), bad), ProtocolError);
  t.throws(() => cache.get(Uint8Array.of(1), bad), ProtocolError, 'tried again, not remembered');
  t.equal(calls, 2);
  let big = 0;
  const huge = new Uint8Array(5000);
  cache.get(huge, () => ++big);
  cache.get(huge, () => ++big);
  t.equal(big, 2, 'a header over 4 KB is parsed each time, never held');
});

// ---------------------------------------------------------------- lastStreamBuffer

const stream = tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2, 3]) }), 'stream');

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

t.test('a stream that arrives in a socket read of its own offers that read buffer', async (t) => {
  const { client, server } = await socketPair(t);
  const reader = new MessageReader(server, true);
  client.write(stream);
  const msgs = await reader.readStream();
  t.ok(msgs && msgs.length === 2);
  const b = reader.lastStreamBuffer;
  t.ok(b, 'offered');
  t.equal(b!.byteLength, stream.byteLength, 'exactly the stream');
  t.ok(msgs!.every((m) => m.bytes.buffer === b), 'the messages lie in it');
});

t.test('a read shared with the next stream, a split stream, or a reader without ownership offers nothing', async (t) => {
  const { client, server } = await socketPair(t);
  const reader = new MessageReader(server, true);
  const two = new Uint8Array(stream.byteLength * 2);
  two.set(stream, 0);
  two.set(stream, stream.byteLength);
  client.write(two);
  await reader.readStream();
  t.equal(reader.lastStreamBuffer, null, 'the next stream still lies in the same read');
  await reader.readStream();
  t.equal(reader.lastStreamBuffer, null, 'the second stream does not start the read');

  client.write(stream.subarray(0, 100));
  await settle();
  client.write(stream.subarray(100));
  await reader.readStream();
  t.equal(reader.lastStreamBuffer, null, 'split over two reads');

  const pass = new PassThrough();
  const other = new MessageReader(pass);
  pass.write(Buffer.from(stream));
  await other.readStream();
  t.equal(other.lastStreamBuffer, null, 'a reader that does not own its chunks never offers one');
});
