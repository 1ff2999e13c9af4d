// Fuzz: ≥ 10,000 random and mutated request frames (stdio relay bundles among them), each on its
// own connection (a frame we can no longer parse ends its connection, never the worker).
// Afterwards the worker must still answer real requests, and its memory must not have grown with
// the garbage.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { createRuntime } from '../runtime/runtime.js';
import { protocolFor } from '../runtime/protocol/versions.js';
import { encodeRow } from '../runtime/protocol/encode.js';
import { Client, requestStream } from './helpers/client.js';
import { encodeControl, ONE_WAY_MARKER } from '../runtime/wire/relay-control.js';
import { ChunkBundleWriter } from '../runtime/wire/chunk-bundle.js';
import { concat } from '../runtime/wire/encode.js';

const COUNT = Number(process.env.VGI_FUZZ_COUNT ?? 10_000);
const PARALLEL = 16;
const dir = mkdtempSync(join(tmpdir(), 'vgi-fz-'));
const sock = join(dir, 'w.sock');
const rt = await createRuntime({ functions: new URL('../functions/fixtures/index.ts', import.meta.url), threads: 2, log: () => undefined });
await rt.listen(sock);
t.teardown(() => rt.close());

// A deterministic PRNG so a failure can be replayed with the printed seed.
const seed = Number(process.env.VGI_FUZZ_SEED ?? Date.now() % 1_000_000);
let state = seed >>> 0 || 1;
const rand = (n: number): number => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; return (state >>> 0) % n; };

const v2 = protocolFor('2.0.0');
const attachBlob = encodeRow(v2.schemas.catalogAttachRequest, { name: 'example', options: null, data_version_spec: null, implementation_version: null, client_capabilities: null });
const valid: Uint8Array[] = [
  requestStream('catalog_attach', attachBlob),
  requestStream('catalog_schemas', null),
  requestStream('table_buffering_process', encodeRow(v2.schemas.processRequest, {
    function_name: 'buffer_input', execution_id: Uint8Array.of(1, 2, 3, 4), input_batch: new Uint8Array(64), attach_opaque_data: null,
    transaction_id: null, batch_index: null, schema_path: ['main'],
  })),
  requestStream('bind', encodeRow(v2.schemas.bindRequest, {
    function_name: 'buffer_input', arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: null, settings: null, secrets: null,
    attach_opaque_data: null, transaction_opaque_data: null, resolved_secrets_provided: false, at_unit: null, at_value: null,
    copy_from: null, copy_to: null, schema_path: ['main'], argument_names: null,
  })),
  // What a stdio relay sends on its data connection: hello, then a one-way marker and a bundle.
  relayBundle(),
];

function relayBundle(): Uint8Array {
  const w = new ChunkBundleWriter();
  w.add(Uint8Array.of(1, 2, 3, 4), new Uint8Array(64), null);
  w.add(Uint8Array.of(5, 6, 7, 8), new Uint8Array(32), 7n);
  return concat([encodeControl({ op: 'hello', role: 'data', token: 'fuzz' }), ONE_WAY_MARKER, ...w.take()]);
}

function mutate(): Uint8Array {
  const kind = rand(5);
  if (kind === 0) { // pure noise, sometimes behind a valid continuation marker
    const n = 1 + rand(256);
    const b = new Uint8Array(n).map(() => rand(256));
    if (rand(2) === 0 && n >= 4) b.set([0xff, 0xff, 0xff, 0xff]);
    return b;
  }
  const base = valid[rand(valid.length)]!.slice();
  if (kind === 1) return base.subarray(0, rand(base.length)); // truncated
  if (kind === 2) { for (let i = 0, n = 1 + rand(8); i < n; i++) base[rand(base.length)] = rand(256); return base; } // byte flips
  if (kind === 3) { // absurd length fields
    const dv = new DataView(base.buffer);
    dv.setInt32(4, [0x7fffffff, -5, 1 << 30, 3][rand(4)]!, true);
    return base;
  }
  const cut = rand(base.length); // spliced with another frame
  const other = valid[rand(valid.length)]!;
  return new Uint8Array([...base.subarray(0, cut), ...other.subarray(rand(other.length))]);
}

function fire(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (): void => { s.destroy(); resolve(); };
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => undefined);
    s.setTimeout(10_000, done); // a hang would show up as a slow test, never a stuck one
    s.connect(sock, () => s.end(bytes));
  });
}

t.test(`${COUNT} fuzzed frames (seed ${seed})`, async (t) => {
  const c0 = await Client.connect(sock);
  await c0.call('catalog_attach', attachBlob); // warm every code path before measuring memory
  c0.close();
  global.gc?.();
  const before = process.memoryUsage();
  let sent = 0;
  while (sent < COUNT) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < PARALLEL && sent < COUNT; i++, sent++) batch.push(fire(mutate()));
    await Promise.all(batch);
  }
  t.equal(sent, COUNT);
  // The bundle path itself, unmutated: its chunks are counted, then skipped (no such executions).
  const chunks0 = (await rt.metrics()).chunks;
  await fire(relayBundle());
  t.equal((await rt.metrics()).chunks - chunks0, 2, 'an intact relay bundle reaches the one-way path');
  global.gc?.();
  const after = process.memoryUsage();
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  t.comment(`heap used ${mib(before.heapUsed)} → ${mib(after.heapUsed)}, rss ${mib(before.rss)} → ${mib(after.rss)}`);
  // Retained memory is what matters (the heap after a full GC); RSS is reported, not asserted,
  // because V8 keeps freed pages. Needs --expose-gc (tap's node-arg in package.json).
  t.ok(typeof global.gc === 'function', 'gc is exposed');
  t.ok(after.heapUsed - before.heapUsed < 64 * 2 ** 20, 'no garbage was retained');
  t.ok(after.rss - before.rss < 512 * 2 ** 20, 'no frame made the worker balloon');

  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  t.equal((await c.call('catalog_attach', attachBlob)).error, null, 'the worker still answers catalog_attach');
  t.equal((await c.call('catalog_schemas', null)).error, null, 'and catalog_schemas');
  const m = await rt.metrics();
  t.equal(m.connections, 1, 'only the live client connection remains open');
});
