// Cancellation of a finalize stream (issue 5 §3): the producer stops and the function's onCancel
// hook runs, whether DuckDB stops reading (LIMIT) or a client sends a `vgi_rpc.cancel` tick
// (vgi-protocol-1.0 §2.5). The probe function's stream never ends by itself, so a query that
// finishes proves the stream was stopped.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Field, Int64, Schema } from 'apache-arrow';
import { createRuntime } from '../runtime/runtime.js';
import { decodeRow } from '../runtime/protocol/encode.js';
import { EOS } from '../runtime/wire/reader.js';
import { EOS_BYTES } from '../runtime/wire/encode.js';
import { MessageHeader } from '../runtime/wire/message.js';
import { MessageEncoder } from '../actors/codec.js';
import { Client, requestStream } from './helpers/client.js';
import { openDuck } from './helpers/duckdb.js';
import { unixAttach } from './helpers/locations.js';
import { combineRequest, destructorRequest, initRequest } from './helpers/requests.js';
import { CANCEL_CHANNEL, type CancelReport } from './fixtures/cancel-probe.js';

const IN = new Schema([new Field('x', new Int64(), true)]);
const OUT = new Schema([new Field('n', new Int64(), true)]);
const dir = mkdtempSync(join(tmpdir(), 'vgi-cancel-'));
const sock = join(dir, 'w.sock');
const rt = await createRuntime({ functions: new URL('./fixtures/cancel-probe.ts', import.meta.url), threads: 2, log: () => undefined });
await rt.listen(sock);
t.teardown(() => rt.close({ drainMs: 0 }));

const reports: CancelReport[] = [];
const channel = new BroadcastChannel(CANCEL_CHANNEL);
channel.onmessage = (e) => { reports.push((e as MessageEvent<CancelReport>).data); };
t.teardown(() => channel.close());

async function nextReport(ms = 20_000): Promise<CancelReport> {
  const end = Date.now() + ms;
  while (reports.length === 0) {
    if (Date.now() > end) throw new Error('onCancel was not called');
    await new Promise((r) => setTimeout(r, 20));
  }
  return reports.shift()!;
}

t.test('DuckDB stopping early (LIMIT) cancels the stream and calls onCancel', async (t) => {
  const duck = await openDuck('v2');
  t.teardown(() => duck.close());
  await duck.run(unixAttach('example', sock));
  t.equal(await duck.queryValue(`SELECT count(*) FROM (SELECT * FROM example.endless((SELECT 1 AS x)) LIMIT 5000)`), '5000');
  const r = await nextReport();
  t.ok(r.aborted, 'params.signal is aborted when onCancel runs');
  t.ok(r.batches >= 3, `the producer had run (${r.batches} batches) and stopped`);
  await t.resolveMatch(duck.queryValue(`SELECT max(n) FROM (SELECT * FROM example.endless((SELECT 1 AS x)) LIMIT 10)`), /^\d+$/, 'the worker keeps serving');
  await nextReport();
  await new Promise((r) => setTimeout(r, 200));
  t.equal((await rt.metrics()).liveExecutions, 0, 'DuckDB ended both executions');
});

/** Drives `endless` by hand up to an open finalize stream whose output schema has been read. */
async function openFinalize(t: Test, c: Client): Promise<{ eid: Uint8Array; ids: Uint8Array[]; ticks: MessageEncoder }> {
  // Sink init: the header names the execution; the (empty) input exchange follows.
  c.send(requestStream('init', initRequest('endless', IN, OUT, 'TABLE_BUFFERING')));
  const header = await c.read();
  t.equal(header?.error, null, 'sink init');
  const eid = header!.batches.find((b) => b.numRows === 1)!.getChild('execution_id')!.get(0) as Uint8Array;
  const input = new MessageEncoder(IN);
  c.send(input.take());
  c.send(EOS_BYTES);
  t.ok(await c.read(), 'input exchange closed');
  const combined = await c.call('table_buffering_combine', combineRequest('endless', eid, [eid]));
  const ids = decodeRow(combined.result!).row.finalize_state_ids as Uint8Array[];
  t.equal(ids.length, 1, 'one finalize stream');

  // Finalize: header stream, then ticks in lockstep.
  c.send(requestStream('init', initRequest('endless', IN, OUT, 'TABLE_BUFFERING_FINALIZE', eid, ids[0]!)));
  t.equal((await c.read())?.error, null, 'finalize init');
  const ticks = new MessageEncoder(new Schema([]));
  c.send(ticks.take());
  const schemaMsg = await c.message();
  t.ok(schemaMsg && schemaMsg !== EOS && schemaMsg.headerType === MessageHeader.Schema, 'output schema first');
  return { eid, ids, ticks };
}

t.test('a vgi_rpc.cancel tick stops the producer, calls onCancel and ends the stream with EOS', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.socket.destroy());
  const { eid, ids, ticks } = await openFinalize(t, c);
  for (let i = 0; i < 3; i++) {
    ticks.metadataBatch(new Map());
    c.send(ticks.take());
    const m = await c.message();
    t.ok(m && m !== EOS && m.headerType === MessageHeader.RecordBatch, `tick ${i + 1} answered with a batch`);
  }
  ticks.metadataBatch(new Map([['vgi_rpc.cancel', '1']]));
  c.send(ticks.take());
  t.equal(await c.message(), EOS, 'the cancel tick is answered with EOS');
  c.send(EOS_BYTES); // the client closes its tick stream; the worker drains it
  const r = await nextReport();
  t.ok(r.aborted, 'onCancel ran with params.signal aborted');
  t.same(r.finalizeStateId, [...ids[0]!], 'onCancel got the stream\'s finalize state id');

  // The connection serves the next request: the destructor ends the execution.
  t.equal((await c.call('table_buffering_destructor', destructorRequest('endless', eid))).error, null, 'destructor answered');
  t.equal((await rt.metrics()).liveExecutions, 0, 'the execution is gone');
});

t.test('a destructor that overtakes the cancel: onCancel still sees the state, the open stream ends in an error', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.socket.destroy());
  const { eid, ticks } = await openFinalize(t, c);
  const tick = async () => { ticks.metadataBatch(new Map()); c.send(ticks.take()); return c.message(); };
  for (let i = 0; i < 3; i++) {
    const m = await tick();
    t.ok(m && m !== EOS && m.headerType === MessageHeader.RecordBatch && !m.metadata.has('vgi_rpc.log_level'), `tick ${i + 1} answered with data`);
  }
  // DuckDB stopped reading this stream (LIMIT) and sent the destructor on another connection,
  // before the stream's cancel: the runtime must cancel the stream before dropping the state.
  const d = await Client.connect(sock);
  t.teardown(() => d.socket.destroy());
  t.equal((await d.call('table_buffering_destructor', destructorRequest('endless', eid))).error, null, 'destructor answered');
  const r = await nextReport();
  t.ok(r.aborted, 'onCancel ran with params.signal aborted');
  t.ok(r.batches >= 3, `onCancel saw the state the producer left (${r.batches} batches)`);
  t.equal((await rt.metrics()).liveExecutions, 0, 'the execution is gone');

  // A reader still ticking gets the batches produced ahead of the destructor (the credit window),
  // then an error: the stream was cut short, which a clean end would hide.
  let error: string | undefined;
  for (let i = 0; i < 4 && error === undefined; i++) {
    const m = await tick();
    if (m === null || m === EOS) break;
    if (m.metadata.get('vgi_rpc.log_level') === 'EXCEPTION') error = m.metadata.get('vgi_rpc.log_message');
  }
  t.match(error, /execution was destroyed \(destructor\) before its finalize stream ended/, 'the stream ends in an error');
  if (error !== undefined) t.equal(await c.message(), EOS, 'then EOS');
});
