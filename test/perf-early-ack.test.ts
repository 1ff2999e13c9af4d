// Early acknowledgement of process calls (functions declaring `stateId: 'execution'`): the actor
// side (queued chunks, 'done' reports, deferred errors, skipped chunks) driven in-process, and the
// main-thread mailbox (bound, wake-up, cached response).
import t from 'tap';
import { Field, Int64, Schema, Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import type { TableBufferingFunction } from '../functions/api.js';
import { ActorThread } from '../actors/thread.js';
import type { FromActor, InitContext, QueuedChunk } from '../actors/messages.js';
import { Mailbox, MAX_CHUNKS } from '../runtime/actors/mailbox.js';
import { decodeRow } from '../runtime/protocol/encode.js';

const schema = new Schema([new Field('range', new Int64(), true)]);
const schemaBytes = tableToIPC(new Table(schema), 'stream');
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A 'chunks' message: each chunk's input IPC at an 8-aligned offset of one buffer, like the runtime sends. */
function chunks(...specs: [eid: string, from: number][]): { t: 'chunks'; buffer: ArrayBuffer; items: QueuedChunk[] } {
  const ipcs = specs.map(([, from]) => tableToIPC(tableFromArrays({ range: BigInt64Array.from([0, 1, 2], (x) => BigInt(from + x)) }), 'stream'));
  const size = ipcs.reduce((a, b) => a + ((b.byteLength + 7) & ~7), 64);
  const buffer = new ArrayBuffer(size);
  const items: QueuedChunk[] = [];
  let at = 64;
  specs.forEach(([eid], i) => {
    new Uint8Array(buffer).set(ipcs[i]!, at);
    items.push({ eid, offset: at, length: ipcs[i]!.byteLength, batchIndex: null });
    at += (ipcs[i]!.byteLength + 7) & ~7;
  });
  return { t: 'chunks', buffer, items };
}

function fn(name: string, process: TableBufferingFunction['process']): TableBufferingFunction {
  return {
    name,
    metadata: { description: name, stateId: 'execution' },
    argumentSpecs: [{ kind: 'table', name: 'data' }],
    onBind: (p) => p.inputSchema,
    process,
    combine: (p) => [p.executionId],
    finalizeProducer: () => [],
  };
}

function setup(f: TableBufferingFunction) {
  const posted: FromActor[] = [];
  const thread = new ActorThread(new Map([[f.name, f]]), (m) => posted.push(m));
  const init: InitContext = { functionName: f.name, inputSchema: schemaBytes, outputSchema: schemaBytes, arguments: null, settings: null, attachOpaqueData: null };
  thread.handle({ t: 'create', id: 1, eid: 'e1', executionId: Uint8Array.of(0xe1), init });
  return { posted, thread };
}

const dones = (posted: FromActor[]) => posted.flatMap((m) => (m.t === 'done' ? m.items : []));

t.test('queued chunks run in order and are reported in one done message per turn', async (t) => {
  const seen: bigint[] = [];
  const { posted, thread } = setup(fn('ok', (p, b) => { seen.push(b.getChild('range')!.get(0) as bigint); p.log('INFO', `rows ${b.numRows}`); return p.executionId; }));
  const m = chunks(['e1', 0], ['e1', 10], ['e1', 20]);
  const bytes = m.items.reduce((a, c) => a + c.length, 0);
  thread.handle(m);
  await turn();
  await turn();
  t.same(seen, [0n, 10n, 20n]);
  const d = dones(posted);
  t.equal(d.length, 1, 'one report');
  t.same({ chunks: d[0]!.chunks, bytes: d[0]!.bytes, error: d[0]!.error, logs: d[0]!.logs.length }, { chunks: 3, bytes, error: null, logs: 3 });
});

t.test('a failed chunk skips the rest and fails combine with its message', async (t) => {
  let calls = 0;
  const { posted, thread } = setup(fn('fails', (p) => { if (++calls === 2) throw new Error('boom on chunk 2'); return p.executionId; }));
  thread.handle(chunks(['e1', 0], ['e1', 1], ['e1', 2]));
  thread.handle({ t: 'combine', id: 7, eid: 'e1', stateIds: [] });
  await turn();
  await turn();
  t.equal(calls, 2, 'the third chunk was skipped');
  const d = dones(posted);
  t.equal(d.reduce((a, x) => a + x.chunks, 0), 3, 'all three chunks reported');
  t.equal(d.find((x) => x.error)?.error?.message, 'boom on chunk 2');
  const reply = posted.find((m) => m.t === 'reply' && m.id === 7);
  t.ok(reply && reply.t === 'reply' && !reply.ok && reply.error.message === 'boom on chunk 2', 'combine fails with the process error');
  t.ok(posted.findIndex((m) => m.t === 'done') < posted.indexOf(reply!), 'done is posted before the reply');
});

t.test('a process returning another id breaks the declaration', async (t) => {
  const { posted, thread } = setup(fn('wrong', () => Uint8Array.of(1, 2, 3)));
  thread.handle(chunks(['e1', 0]));
  await turn();
  await turn();
  t.match(dones(posted)[0]?.error?.message, /declares stateId 'execution'/);
});

t.test('async process and unknown executions', async (t) => {
  const { posted, thread } = setup(fn('async', async (p) => { await turn(); return p.executionId; }));
  thread.handle(chunks(['e1', 0], ['nope', 0]));
  for (let i = 0; i < 5; i++) await turn();
  const d = dones(posted);
  t.equal(d.find((x) => x.eid === 'e1')?.error, null);
  t.match(d.find((x) => x.eid === 'nope')?.error?.message, /unknown execution_id/);
});

t.test('mailbox: bounded, woken by done, released by close, one cached response', async (t) => {
  const mb = new Mailbox(Uint8Array.of(9, 9));
  for (let i = 0; i <= MAX_CHUNKS; i++) mb.queued(100);
  t.equal(mb.full, true);
  let woke = false;
  const room = mb.room().then(() => { woke = true; });
  await turn();
  t.equal(woke, false, 'waits while full');
  mb.done({ eid: 'x', chunks: 10, bytes: 1000, logs: [{ level: 'INFO', message: 'hello' }], error: null });
  await room;
  t.equal(woke, true, 'room after done');
  const withLog = mb.response();
  t.ok(withLog.length > 1, 'a response carrying a log is built fresh');
  const a = mb.response();
  const b = mb.response();
  t.equal(a.length, 1);
  t.equal(a[0], b[0], 'the plain ack is encoded once');
  for (let i = 0; i < MAX_CHUNKS; i++) mb.queued(100);
  const blocked = mb.room();
  mb.close();
  await blocked;
  t.pass('close releases waiters');
  // The ack is a unary result stream whose inner batch holds the execution id as state_id.
  const ipc = a[0]!;
  const outer = decodeRow(ipc).row;
  t.same([...decodeRow(outer.result as Uint8Array).row.state_id as Uint8Array], [9, 9]);
});
