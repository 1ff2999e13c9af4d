// Finalize output coalescing, driven in-process through ActorThread: stored 2,048-row-style
// chunks come out as few wide IPC batches (written straight into recycled buffers), exactly equal
// to the input; dictionary columns (one dictionary per DuckDB chunk) are sent chunk by chunk.
import t, { type Test } from 'tap';
import { MessageChannel } from 'node:worker_threads';
import {
  Dictionary, Field, Int32, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableFromIPC, tableToIPC, vectorFromArray, type Data,
} from 'apache-arrow';
import type { TableBufferingFunction } from '../functions/api.js';
import { ActorThread } from '../actors/thread.js';
import type { FinalizeOut, FromActor, InitContext, QueuedChunk } from '../actors/messages.js';
import { TICK_ROWS } from '../actors/finalize.js';

const EOS = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

const keep: TableBufferingFunction = {
  name: 'keep',
  metadata: { description: 'keep', stateId: 'execution' },
  argumentSpecs: [{ kind: 'table', name: 'data' }],
  onBind: (p) => p.inputSchema,
  process: (p, b) => { p.storage.append('buf', b); return p.executionId; },
  combine: (p) => [p.executionId],
  finalizeProducer: (p) => p.storage.batches('buf').slice(),
};

function chunk(schema: Schema, from: number, rows: number, dict: boolean): Uint8Array {
  const n = vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : BigInt(from + i))), new Int64());
  const s = dict
    ? vectorFromArray(Array.from({ length: rows }, (_, i) => ['a', 'b', null][(from + i) % 3]!), new Dictionary(new Utf8(), new Int32()))
    : vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? null : `s${from + i}`)), new Utf8());
  const data = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [n.data[0] as Data, s.data[0] as Data] });
  return tableToIPC(new Table([new RecordBatch(schema, data)]), 'stream');
}

async function run(t: Test, dict: boolean, chunks: number, rows: number): Promise<{ ticks: number; recycled: number }> {
  const schema = new Schema([new Field('n', new Int64(), true), new Field('s', dict ? new Dictionary(new Utf8(), new Int32()) : new Utf8(), true)]);
  const schemaBytes = tableToIPC(new Table(schema), 'stream');
  const posted: FromActor[] = [];
  const thread = new ActorThread(new Map([['keep', keep]]), (m) => posted.push(m));
  const init: InitContext = { functionName: 'keep', inputSchema: schemaBytes, outputSchema: schemaBytes, arguments: null, settings: null, attachOpaqueData: null };
  thread.handle({ t: 'create', id: 1, eid: 'e', executionId: Uint8Array.of(7), init });
  const ipcs = Array.from({ length: chunks }, (_, k) => chunk(schema, k * rows, rows, dict));
  const size = ipcs.reduce((a, b) => a + ((b.byteLength + 7) & ~7), 0);
  const buffer = new ArrayBuffer(size);
  const items: QueuedChunk[] = [];
  let at = 0;
  for (const ipc of ipcs) { new Uint8Array(buffer).set(ipc, at); items.push({ eid: 'e', offset: at, length: ipc.byteLength, batchIndex: null }); at += (ipc.byteLength + 7) & ~7; }
  thread.handle({ t: 'chunks', buffer, items });
  thread.handle({ t: 'combine', id: 2, eid: 'e', stateIds: [] });
  const { port1, port2 } = new MessageChannel();
  thread.handle({ t: 'finalize', id: 3, eid: 'e', finalizeStateId: Uint8Array.of(7), port: port2, pushdown: { protocolMajor: 2, projectionIds: null, filters: null, joinKeys: null } });
  const parts: Uint8Array[] = [];
  let ticks = 0;
  let recycled = 0;
  await new Promise<void>((resolve) => {
    port1.on('message', (m: FinalizeOut) => {
      if (m.t === 'schema') { parts.push(m.bytes); port1.postMessage({ t: 'credit', n: 2 }); return; }
      if (m.t === 'tick') {
        ticks++;
        if (m.logs) parts.push(m.logs);
        parts.push(m.bytes.slice());
        // A fresh buffer's slack is zero; a recycled one still holds the 0xee scribbled below.
        const slack = new Uint8Array(m.bytes.buffer, m.bytes.byteOffset + m.bytes.byteLength);
        if (slack.some((x) => x === 0xee)) recycled++;
        // What the main thread does once DuckDB has read the batch: hand the buffer back, scribbled on.
        new Uint8Array(m.bytes.buffer).fill(0xee);
        port1.postMessage({ t: 'recycle', buffer: m.bytes.buffer }, [m.bytes.buffer as ArrayBuffer]);
        port1.postMessage({ t: 'credit', n: 1 });
        return;
      }
      if (m.t === 'end') { if (m.bytes) parts.push(m.bytes); port1.close(); resolve(); return; }
      t.fail(`finalize failed: ${m.message}`);
      resolve();
    });
  });
  parts.push(EOS);
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const stream = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { stream.set(p, o); o += p.byteLength; }
  const got = tableFromIPC(stream);
  const want = new Table(ipcs.map((x) => tableFromIPC(x).batches[0]!));
  t.equal(got.numRows, chunks * rows, 'every row');
  const render = (tb: Table) => JSON.stringify(tb.toArray().map((r) => r.toJSON()), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  t.equal(render(got), render(want), 'same rows, same order');
  t.ok(posted.some((m) => m.t === 'reply' && m.id === 3 && m.ok), 'finalize started');
  return { ticks, recycled };
}

t.test('plain columns are coalesced into wide batches written into recycled buffers', async (t) => {
  const rows = 50_000;
  const { ticks, recycled } = await run(t, false, 9, rows);
  t.equal(ticks, Math.ceil((9 * rows) / (Math.ceil(TICK_ROWS / rows) * rows)), `${ticks} ticks for 9 chunks`);
  t.ok(recycled >= 1, 'a recycled buffer was reused');
});

t.test('dictionary columns (one dictionary per chunk) go out chunk by chunk, unchanged', async (t) => {
  const { ticks } = await run(t, true, 4, 3000);
  t.equal(ticks, 4);
});
