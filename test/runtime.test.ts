// The embedded runtime over a real AF_UNIX socket, in process: the API a Node service uses
// (createRuntime / listen / metrics / close) and the bad-input rules (clear error, keep serving).
import t from 'tap';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema, Utf8, tableFromIPC, vectorFromArray, RecordBatch, makeData, Struct } from 'apache-arrow';
import { createRuntime } from '../runtime/runtime.js';
import { protocolFor } from '../runtime/protocol/versions.js';
import { encodeRow } from '../runtime/protocol/encode.js';
import { Client, requestStream } from './helpers/client.js';
import { MessageEncoder } from '../actors/codec.js';
import { EOS_BYTES } from '../runtime/wire/encode.js';
import { combineRequest, destructorRequest, initRequest, processRequest as chunkRequest } from './helpers/requests.js';

const fixtures = new URL('../functions/fixtures/index.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'vgi-rt-'));
const sock = join(dir, 'w.sock');
const logs: string[] = [];
const rt = await createRuntime({ functions: fixtures, threads: 2, log: (l) => logs.push(l) });
const listener = await rt.listen(sock);

function attachRequest(version: string): Uint8Array {
  const p = protocolFor(version);
  const row: Record<string, unknown> = { name: 'example', options: null, data_version_spec: null, implementation_version: null };
  if (version.startsWith('2')) row.client_capabilities = null;
  return encodeRow(p.schemas.catalogAttachRequest, row);
}

function processRequest(executionId: Uint8Array): Uint8Array {
  return encodeRow(protocolFor('2.0.0').schemas.processRequest, {
    function_name: 'buffer_input', execution_id: executionId, input_batch: new Uint8Array(8), attach_opaque_data: null,
    transaction_id: null, batch_index: null, schema_path: ['main'],
  });
}

t.teardown(async () => { await rt.close(); });

t.test('catalog_attach answers in the version the request speaks', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  for (const [version, fields] of [['2.0.0', 17], ['1.0.0', 14]] as const) {
    const r = await c.call('catalog_attach', attachRequest(version), version);
    t.equal(r.error, null, `${version}: no error`);
    t.equal(tableFromIPC(r.result!).schema.fields.length, fields, `${version}: CatalogAttachResult has ${fields} fields`);
  }
});

t.test('an unknown method gets a clear error and the connection keeps serving', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const r = await c.call('no_such_method', null);
  t.match(r.error, /unknown method 'no_such_method'/);
  t.equal(r.errorKind, 'method_not_implemented');
  t.equal((await c.call('catalog_attach', attachRequest('2.0.0'))).error, null, 'next request is served');
});

t.test('unsupported protocol versions are named', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const r = await c.call('catalog_attach', attachRequest('2.0.0'), '9.1.0');
  t.match(r.error, /1\.0\.0/);
  t.match(r.error, /2\.0\.0/);
  t.equal((await c.call('catalog_attach', attachRequest('2.0.0'))).error, null);
});

t.test('a process call for an unknown execution fails clearly', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const r = await c.call('table_buffering_process', processRequest(Uint8Array.of(1, 2, 3)));
  t.match(r.error, /unknown execution_id 010203/);
  const d = await c.call('table_buffering_destructor', encodeRow(protocolFor('2.0.0').schemas.destructorRequest, {
    function_name: 'buffer_input', execution_id: Uint8Array.of(1, 2, 3), attach_opaque_data: null, transaction_id: null, schema_path: null,
  }));
  t.equal(d.error, null, 'the destructor tolerates unknown executions');
});

t.test('a chunk whose schema is not the bound input schema fails the execution clearly', async (t) => {
  const bound = new Schema([new Field('v', new Int64(), true)]);
  const wrongSchema = new Schema([new Field('v', new Utf8(), true)]);
  const wrong = new RecordBatch(wrongSchema, makeData({ type: new Struct(wrongSchema.fields), length: 2, nullCount: 0, children: [vectorFromArray(['a', 'b'], new Utf8()).data[0]!] }));
  for (const fn of ['buffer_input', 'sum_all_columns']) { // early-acknowledged, and answered by the actor
    const c = await Client.connect(sock);
    t.teardown(() => c.close());
    c.send(requestStream('init', initRequest(fn, bound, bound, 'TABLE_BUFFERING')));
    const header = await c.read();
    t.equal(header?.error, null, `${fn}: sink init`);
    const eid = header!.batches.find((b) => b.numRows === 1)!.getChild('execution_id')!.get(0) as Uint8Array;
    c.send(new MessageEncoder(bound).take()); // the (empty) input exchange of sink init
    c.send(EOS_BYTES);
    await c.read();
    const p = await c.call('table_buffering_process', chunkRequest(fn, eid, wrong));
    const combined = p.error ? null : await c.call('table_buffering_combine', combineRequest(fn, eid, [eid]));
    const error = p.error ?? combined?.error ?? null;
    t.match(error, /input chunk does not match the bound input schema: column 1 \(v\) is Utf8, expected Int64/, `${fn}: ${p.error ? 'process' : 'combine'} fails clearly`);
    t.equal((await c.call('table_buffering_destructor', destructorRequest(fn, eid))).error, null, `${fn}: destructor`);
    t.equal((await c.call('catalog_attach', attachRequest('2.0.0'))).error, null, `${fn}: the connection keeps serving`);
  }
});

t.test('bind of an unknown function and a throwing onBind both answer with errors', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const p = protocolFor('2.0.0');
  const bind = (fn: string, inputSchema: Uint8Array | null) => encodeRow(p.schemas.bindRequest, {
    function_name: fn, arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: inputSchema, settings: null, secrets: null,
    attach_opaque_data: null, transaction_opaque_data: null, resolved_secrets_provided: false, at_unit: null, at_value: null,
    copy_from: null, copy_to: null, schema_path: ['main'], argument_names: null,
  });
  t.match((await c.call('bind', bind('nope', null))).error, /unknown function 'nope'/);
  t.match((await c.call('bind', bind('sum_all_columns', null))).error, /requires at least one numeric/);
  t.equal((await c.call('catalog_attach', attachRequest('2.0.0'))).error, null);
});

t.test('garbage bytes end that connection only', async (t) => {
  const bad = await Client.connect(sock);
  bad.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
  const r = await bad.read();
  t.match(r?.error, /malformed request stream/);
  t.equal(await bad.read(), null, 'then the worker closes it');
  const good = await Client.connect(sock);
  t.teardown(() => good.close());
  t.equal((await good.call('catalog_attach', attachRequest('1.0.0'), '1.0.0')).error, null, 'other connections keep working');
});

t.test('a stream without a request batch is answered, then the next request is served', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const schemaOnly = requestStream('catalog_attach', attachRequest('2.0.0'));
  // Keep the schema message, drop the batch: schema + EOS.
  const schemaLen = 8 + new DataView(schemaOnly.buffer, schemaOnly.byteOffset + 4, 4).getInt32(0, true);
  c.send(new Uint8Array([...schemaOnly.subarray(0, schemaLen), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  t.match((await c.read())?.error, /no record batch carrying vgi_rpc.method/);
  t.equal((await c.call('catalog_attach', attachRequest('2.0.0'))).error, null);
});

t.test('__transport_options__ keeps shared memory off', async (t) => {
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const r = await c.call('__transport_options__', null);
  t.equal(r.batches[0]?.metadata.get('vgi_rpc.transport.shm'), 'false');
});

t.test('metrics report threads and traffic', async (t) => {
  const m = await rt.metrics();
  t.equal(m.threads, 2);
  t.ok(m.requests >= 10);
  t.equal(m.liveExecutions, 0);
  t.equal(m.bufferedBytes, 0);
});

t.test('close removes the socket', async (t) => {
  await listener.close();
  t.notOk(existsSync(sock));
});
