// Executions DuckDB abandons (no destructor: DuckDB killed, connection dropped) are ended by the
// TTL sweep: their actor and buffered data are freed.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema } from 'apache-arrow';
import { createRuntime } from '../runtime/runtime.js';
import { protocolFor } from '../runtime/protocol/versions.js';
import { encodeRow, encodeSchemaMessage } from '../runtime/protocol/encode.js';
import { Client, requestStream } from './helpers/client.js';

const v2 = protocolFor('2.0.0');
const dir = mkdtempSync(join(tmpdir(), 'vgi-ttl-'));
const sock = join(dir, 'w.sock');
const rt = await createRuntime({ functions: new URL('../functions/fixtures/index.ts', import.meta.url), threads: 1, executionTtlMs: 400, log: () => undefined });
await rt.listen(sock);
t.teardown(() => rt.close());

function primaryInit(): Uint8Array {
  const schema = encodeSchemaMessage(new Schema([new Field('v', new Int64(), true)]));
  const bindCall = encodeRow(v2.schemas.bindRequest, {
    function_name: 'buffer_input', arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: schema, settings: null, secrets: null,
    attach_opaque_data: null, transaction_opaque_data: null, resolved_secrets_provided: false, at_unit: null, at_value: null,
    copy_from: null, copy_to: null, schema_path: ['main'], argument_names: null,
  });
  const row: Record<string, unknown> = { bind_call: bindCall, output_schema: schema, phase: 'TABLE_BUFFERING' };
  for (const f of v2.schemas.initRequest.fields) if (!(f.name in row)) row[f.name] = null;
  return encodeRow(v2.schemas.initRequest, row);
}

t.test('an abandoned execution is swept after its TTL', async (t) => {
  const c = await Client.connect(sock);
  c.send(requestStream('init', primaryInit()));
  const header = await c.read();
  t.equal(header?.error, null, 'sink init answered with a header');
  c.socket.destroy(); // DuckDB "dies": no input stream, no destructor
  t.equal((await rt.metrics()).liveExecutions, 1, 'the execution is live');
  await new Promise((r) => setTimeout(r, 1500));
  const m = await rt.metrics();
  t.equal(m.liveExecutions, 0, 'swept');
  t.equal(m.executionsSwept, 1);
  t.equal(m.bufferedBytes, 0);
});
