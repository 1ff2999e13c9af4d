// The acknowledging stdio relay (runtime/transports/relay-ack.ts) against an in-process host
// (relay-link.ts): the relay answers process calls of announced executions itself, combine on
// another connection waits for chunks still in flight, errors still reach DuckDB, backpressure
// stops the relay reading DuckDB, and a relay that vanishes with answered chunks fails combine.
// A gate between a relay's data socket and the host stands for "bytes still in the socket".
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { Field, Int64, Schema, tableFromArrays, tableToIPC } from 'apache-arrow';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { protocolFor } from '../runtime/protocol/versions.js';
import { encodeRow, encodeSchemaMessage } from '../runtime/protocol/encode.js';
import { startAckingRelay, type AckingRelay } from '../runtime/transports/relay-ack.js';
import { MessageReader } from '../runtime/wire/reader.js';
import { binarySchemaMessage, concat, EOS_BYTES } from '../runtime/wire/encode.js';
import { readResponse, requestStream, type Response } from './helpers/client.js';

const v2 = protocolFor('2.0.0');
const fixtures = new URL('../functions/fixtures/index.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'vgi-relay-'));
let socks = 0;

const INPUT_SCHEMA = new Schema([new Field('v', new Int64(), true)]);
/** One 2,048-row chunk of BIGINTs as DuckDB sends it (an IPC stream). */
const CHUNK = tableToIPC(tableFromArrays({ v: BigInt64Array.from({ length: 2048 }, (_, i) => BigInt(i)) }), 'stream');

function initRequest(fn: string): Uint8Array {
  const schema = encodeSchemaMessage(INPUT_SCHEMA);
  const bindCall = encodeRow(v2.schemas.bindRequest, {
    function_name: fn, arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: schema, settings: null, secrets: null,
    attach_opaque_data: null, transaction_opaque_data: null, resolved_secrets_provided: false, at_unit: null, at_value: null,
    copy_from: null, copy_to: null, schema_path: ['main'], argument_names: null,
  });
  const row: Record<string, unknown> = { bind_call: bindCall, output_schema: schema, phase: 'TABLE_BUFFERING' };
  for (const f of v2.schemas.initRequest.fields) if (!(f.name in row)) row[f.name] = null;
  return encodeRow(v2.schemas.initRequest, row);
}

const processCall = (fn: string, id: Uint8Array): Uint8Array => requestStream('table_buffering_process', encodeRow(v2.schemas.processRequest, {
  function_name: fn, execution_id: id, input_batch: CHUNK, attach_opaque_data: null, transaction_id: null, batch_index: null, schema_path: ['main'],
}));
const combineCall = (fn: string, id: Uint8Array): Uint8Array => requestStream('table_buffering_combine', encodeRow(v2.schemas.combineRequest, {
  function_name: fn, execution_id: id, state_ids: [id], attach_opaque_data: null, transaction_id: null, schema_path: ['main'],
}));

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/**
 * A socket proxy in front of the host whose client → host direction can be held back. `hold()`
 * also stops reading the client, so the relay's socket congests; `hold(false)` keeps reading and
 * keeps the bytes, so a closing client is noticed (and what it sent but was held is lost).
 */
async function gate(hostPath: string): Promise<{ path: string; hold(pause?: boolean): void; release(): void; server: Server }> {
  const path = join(dir, `gate-${socks++}.sock`);
  let held: 'no' | 'pause' | 'keep' = 'no';
  const waiting: (() => void)[] = [];
  const server = createServer((client) => {
    const host = createConnection(hostPath);
    host.pipe(client);
    host.on('error', () => client.destroy());
    client.on('error', () => host.destroy());
    client.on('close', () => { waiting.length = 0; host.end(); });
    client.on('data', (c: Buffer) => {
      if (held === 'no') { host.write(c); return; }
      if (held === 'pause') client.pause(); // the kernel buffers fill up behind us
      waiting.push(() => { host.write(c); client.resume(); });
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path, server,
    hold: (pause = true) => { held = pause ? 'pause' : 'keep'; },
    release: () => { held = 'no'; for (const w of waiting.splice(0)) w(); },
  };
}

/** What DuckDB sees of one stdio worker process: its stdin and stdout, with a relay behind them. */
class FakeWorker {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly reader = new MessageReader(this.stdout);
  relay!: AckingRelay;
  data!: Socket;
  control!: Socket;
  answered = 0;

  static async start(dataPath: string, hostPath: string): Promise<FakeWorker> {
    const w = new FakeWorker();
    w.data = await connect(dataPath);
    w.control = await connect(hostPath);
    w.relay = startAckingRelay(w.data, w.control, w.stdin, w.stdout);
    return w;
  }

  async read(): Promise<Response> {
    const msgs = await this.reader.readStream();
    if (msgs === null) throw new Error('worker closed its stdout');
    this.answered++;
    return readResponse(concat([...msgs.map((m) => m.bytes), EOS_BYTES]));
  }

  async call(bytes: Uint8Array): Promise<Response> {
    this.stdin.write(bytes);
    return this.read();
  }

  /** Primary sink init: the execution id, after the (empty) input exchange. */
  async init(fn: string): Promise<Uint8Array> {
    const header = await this.call(requestStream('init', initRequest(fn)));
    if (header.error) throw new Error(header.error);
    const id = header.batches[0]!.getChild('execution_id')!.get(0) as Uint8Array;
    await this.call(concat([binarySchemaMessage([], false), EOS_BYTES])); // DuckDB's empty input stream
    return id.slice();
  }

  /** Resolves once the host's announcement of `id` reached the relay. */
  async announced(id: Uint8Array): Promise<void> {
    const key = Buffer.from(id).toString('hex');
    while (!this.relay.answers(key)) await new Promise((r) => setImmediate(r));
  }

  end(): void { this.stdin.end(); }
}

async function host(t: Test): Promise<{ rt: Runtime; path: string }> {
  const rt = await createRuntime({ functions: fixtures, threads: 1, log: () => undefined });
  const path = join(dir, `host-${socks++}.sock`);
  await rt.listen(path);
  t.teardown(() => rt.close());
  return { rt, path };
}

t.test('answered by the relay, delivered before combine on another connection', async (t) => {
  const { rt, path } = await host(t);
  const g = await gate(path);
  t.teardown(() => g.server.close());
  const a = await FakeWorker.start(g.path, path);
  const b = await FakeWorker.start(path, path);
  const id = await a.init('buffer_input');

  t.equal((await a.call(processCall('buffer_input', id))).error, null, 'first call: answered by the host, which announces the execution');
  await a.announced(id);
  g.hold();
  t.equal((await a.call(processCall('buffer_input', id))).error, null, 'the next one is answered while the host cannot see it');
  t.equal((await rt.metrics()).chunks, 1);
  // A few more (not many: held bytes soon congest the socket, and then the relay stops reading).
  for (let i = 0; i < 3; i++) t.equal((await a.call(processCall('buffer_input', id))).error, null);
  const sent = a.answered - 2; // every process call
  t.ok((await rt.metrics()).chunks < sent, 'answered chunks are still held in front of the host');

  b.stdin.write(combineCall('buffer_input', id));
  const combined = b.read();
  let done = false;
  void combined.then(() => { done = true; });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  t.notOk(done, 'combine waits for the chunks still in flight');
  g.release();
  t.equal((await combined).error, null, 'combine answered once they arrived');
  t.equal((await rt.metrics()).chunks, sent, 'the host queued every chunk before combining');
  t.equal((await rt.metrics()).bufferedBytes > sent * 2048 * 8 - 1, true, 'and the actor holds all of their rows');
  a.end(); b.end();
});

t.test('a failing process call reaches DuckDB, and so does combine', async (t) => {
  const { path } = await host(t);
  const a = await FakeWorker.start(path, path);
  const fn = 'batch_index_buffer_input'; // fails every chunk: it was given no batch_index
  const id = await a.init(fn);
  let error: string | null = null;
  for (let i = 0; i < 1000 && error === null; i++) error = (await a.call(processCall(fn, id))).error;
  t.match(error, /process received no batch_index/, 'a later process call fails with the function\'s message');
  t.match((await a.call(combineCall(fn, id))).error, /process received no batch_index/, 'combine fails too');
  a.end();
});

t.test('a congested host socket stops the relay reading DuckDB', async (t) => {
  const { rt, path } = await host(t);
  const g = await gate(path);
  t.teardown(() => g.server.close());
  const a = await FakeWorker.start(g.path, path);
  const id = await a.init('buffer_input');
  await a.call(processCall('buffer_input', id));
  await a.announced(id);
  g.hold();
  // DuckDB calls one at a time; the relay answers each at once until the socket to the host is
  // congested, and then stops reading DuckDB's pipe (nothing else pauses it here: the reader
  // pauses by itself only with 8 MiB unread).
  const paused = once(a.stdin, 'pause').then(() => 'paused' as const);
  let pending: Promise<Response> | null = null;
  let calls = 0;
  while (calls < 10_000) {
    pending ??= a.call(processCall('buffer_input', id));
    if ((await Promise.race([pending.then(() => 'answered' as const), paused])) === 'paused') break;
    pending = null;
    calls++;
  }
  t.ok(a.stdin.isPaused(), `the relay paused DuckDB's pipe after answering ${calls} calls`);
  t.ok(calls < 10_000);
  g.release();
  if (pending) t.equal((await pending).error, null, 'the call it had not read yet is answered once the host reads again');
  t.equal((await a.call(combineCall('buffer_input', id))).error, null);
  t.equal((await rt.metrics()).chunks, a.answered - 3, 'and every chunk was delivered');
  a.end();
});

t.test('a relay that vanishes with answered chunks fails combine instead of losing them', async (t) => {
  const { path } = await host(t);
  const g = await gate(path);
  t.teardown(() => g.server.close());
  const a = await FakeWorker.start(g.path, path);
  const b = await FakeWorker.start(path, path);
  const id = await a.init('buffer_input');
  await a.call(processCall('buffer_input', id));
  await a.announced(id);
  g.hold(false);
  for (let i = 0; i < 5; i++) await a.call(processCall('buffer_input', id));
  // The process is killed: its socket buffers and the held bytes never reach the host.
  a.data.destroy();
  a.control.destroy();
  const r = await b.call(combineCall('buffer_input', id));
  t.match(r.error, /ended before delivering process calls it had already answered/);
  b.end();
});

t.test('a relay that ends normally hands everything over first', async (t) => {
  const { rt, path } = await host(t);
  const a = await FakeWorker.start(path, path);
  const b = await FakeWorker.start(path, path);
  const id = await a.init('buffer_input');
  for (let i = 0; i < 300; i++) await a.call(processCall('buffer_input', id));
  a.end(); // DuckDB closes the sink worker's stdin
  await a.relay.done;
  t.equal((await b.call(combineCall('buffer_input', id))).error, null);
  t.equal((await rt.metrics()).chunks, 300);
  b.end();
});

t.test('one bundle holding chunks of executions on two threads reaches both, exactly', async (t) => {
  // The relay bundles whatever it answered within 5 ms; were the bundle's buffer moved to the first
  // thread, the second thread's chunks would lie in a detached buffer.
  const rt = await createRuntime({ functions: fixtures, threads: 2, log: () => undefined });
  const path = join(dir, `host-${socks++}.sock`);
  await rt.listen(path);
  t.teardown(() => rt.close());
  const a = await FakeWorker.start(path, path);
  const b = await FakeWorker.start(path, path);
  const x = await a.init('buffer_input');
  const y = await a.init('buffer_input'); // placed on the other, idle thread
  for (const id of [x, y]) {
    await a.call(processCall('buffer_input', id));
    await a.announced(id);
  }
  const before = (await rt.metrics()).chunks;
  for (const id of [x, y, x, y, x, y]) t.equal((await a.call(processCall('buffer_input', id))).error, null);
  for (const id of [x, y]) t.equal((await b.call(combineCall('buffer_input', id))).error, null);
  const m = await rt.metrics();
  t.equal(m.chunks - before, 6, 'every answered chunk was queued');
  t.equal(m.bufferedBytes >= 8 * 2048 * 8, true, 'both actors hold all their rows (4 chunks each)');
  a.end(); b.end();
});
