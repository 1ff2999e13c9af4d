// The spilling storage (actors/storage.ts + actors/spill.ts) in process: exact round trips under a
// tiny budget, order, lazy read-back, cleanup, stale directories, permissions, and that nothing
// of a bind's settings/arguments ever reaches a spill file.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Dictionary, Field, Int32, Int64, RecordBatch, Schema, Table, Utf8, makeData, tableFromArrays, tableToIPC, vectorFromArray,
  type Data,
} from 'apache-arrow';
import { MemoryStorage } from '../actors/storage.js';
import { SpillManager, configureSpill, currentSpillManager, parseBytes, prepareSpillRoot, removeProcessSpillDirs, spillRoot } from '../actors/spill.js';
import { ActorThread, schemaBytes } from '../actors/thread.js';
import type { FromActor } from '../actors/messages.js';
import { bufferInput } from '../functions/fixtures/buffer_input.js';

const base = mkdtempSync(join(tmpdir(), 'vgi-spill-test-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p)); else out.push(p);
  }
  return out;
}

const schema = new Schema([
  new Field('id', new Int64(), false),
  new Field('s', new Utf8(), true),
  new Field('d', new Dictionary(new Utf8(), new Int32()), true),
]);

/** Batch `i`: 100 rows with strings, nulls and a dictionary of its own (replacement dictionaries). */
function batch(i: number): RecordBatch {
  const n = 100;
  const ids = BigInt64Array.from({ length: n }, (_, r) => BigInt(i * n + r));
  const s = Array.from({ length: n }, (_, r) => ((i + r) % 7 === 0 ? null : `row ${i}/${r} ✓`));
  const d = Array.from({ length: n }, (_, r) => ((i + r) % 5 === 0 ? null : `dict-${i % 3}-${r % 4}`));
  const tbl = new Table({ id: vectorFromArray(ids), s: vectorFromArray(s, new Utf8()), d: vectorFromArray(d, new Dictionary(new Utf8(), new Int32())) });
  return new RecordBatch(schema, tbl.batches[0]!.data as Data<never>);
}

function rows(bs: Iterable<RecordBatch>): unknown[] {
  const out: unknown[] = [];
  for (const b of bs) for (const r of b) out.push(JSON.stringify(r!.toJSON(), (_, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  return out;
}

t.test('parseBytes', async (t) => {
  t.equal(parseBytes('1234'), 1234);
  t.equal(parseBytes('4MB'), 4 * 2 ** 20);
  t.equal(parseBytes('512kb'), 512 * 1024);
  t.equal(parseBytes('1.5GB'), 1.5 * 2 ** 30);
  t.equal(parseBytes('2GiB'), 2 * 2 ** 30);
  t.ok(Number.isNaN(parseBytes('lots')));
});

t.test('exact round trip of many batches, in order, under a tiny budget', async (t) => {
  const root = spillRoot(join(base, 'rt'));
  mkdirSync(join(base, 'rt'));
  const m = new SpillManager({ budgetBytes: 64 * 1024, dir: join(root, `${process.pid}-900`) });
  const st = new MemoryStorage(m);
  const want: RecordBatch[] = [];
  let maxInMemory = 0;
  for (let i = 0; i < 300; i++) {
    // Each batch in its own IPC buffer, as a process request delivers it.
    const b = new Table(batch(i));
    const [decoded] = [...(await import('apache-arrow')).RecordBatchReader.from(tableToIPC(b, 'stream'))];
    want.push(decoded!);
    st.append('rows', decoded!);
    maxInMemory = Math.max(maxInMemory, m.bufferedBytes);
  }
  t.ok(maxInMemory <= 64 * 1024, `in-memory bytes never above the budget (max ${maxInMemory})`);
  st.append('other', batch(1000));
  t.ok(m.spills > 0, `spilled (${m.spills} times)`);
  t.ok(st.spilledBytes > 0 && m.spilledBytes === st.spilledBytes, `spilledBytes ${st.spilledBytes}`);
  t.equal(st.bufferedBytes, m.bufferedBytes, 'bufferedBytes = in-memory bytes');
  const expected = rows(want);
  t.equal(expected.length, 30_000);
  t.strictSame(rows(st.batches('rows')), expected, 'rows identical, same order');
  t.strictSame(rows(st.batches('rows')), expected, 'iterable twice');
  t.strictSame(rows(st.batches('other')), rows([batch(1000)]), 'second log intact');
  t.strictSame([...st.batches('missing')], []);
  const got = [...st.batches('rows')];
  t.ok(got.every((b) => b.schema.fields[2]!.type instanceof Dictionary), 'dictionary type kept');
  t.equal(got.reduce((a, b) => a + b.nullCount, 0), want.reduce((a, b) => a + b.nullCount, 0), 'null counts');

  // Lazy: a read-back iteration opens one segment at a time (a segment removed late is only hit late).
  const it = st.batches('rows')[Symbol.iterator]();
  t.ok(!it.next().done, 'first batch read');

  // replace (a permutation, as batch_index_buffer_input does) keeps the new order exactly.
  const order = got.map((_, i) => i).reverse();
  st.replace('rows', order.map((i) => got[i]!));
  t.strictSame(rows(st.batches('rows')), rows(order.map((i) => want[i]!)), 'replaced order kept');

  const dir = join(root, `${process.pid}-900`);
  t.ok(files(dir).length > 0, 'spill files exist before clear');
  st.clear();
  t.strictSame(files(dir), [], 'clear removes every spill file');
  t.equal(m.spilledBytes, 0);
  t.equal(m.bufferedBytes, 0);
});

t.test('private directories and files', async (t) => {
  mkdirSync(join(base, 'perm'));
  const root = spillRoot(join(base, 'perm'));
  prepareSpillRoot(root);
  const m = new SpillManager({ budgetBytes: 1, dir: join(root, `${process.pid}-901`) });
  const st = new MemoryStorage(m);
  for (let i = 0; i < 5; i++) st.append('x', batch(i));
  const mode = (p: string): number => statSync(p).mode & 0o777;
  t.equal(mode(root), 0o700, 'root 0700');
  t.equal(mode(join(root, `${process.pid}-901`)), 0o700, 'thread dir 0700');
  const fs = files(root);
  t.ok(fs.length >= 5, `${fs.length} spill files`);
  for (const f of fs) t.equal(mode(f), 0o600, `${f} is 0600`);
  for (const d of readdirSync(join(root, `${process.pid}-901`))) t.equal(mode(join(root, `${process.pid}-901`, d)), 0o700, 'execution dir 0700');
  st.clear();
  removeProcessSpillDirs(root);
  t.notOk(existsSync(join(root, `${process.pid}-901`)), 'process dirs removed');
});

t.test('stale spill directories of dead pids are removed at start-up', async (t) => {
  mkdirSync(join(base, 'stale'));
  const root = spillRoot(join(base, 'stale'));
  mkdirSync(root, { mode: 0o755 });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(join(root, `${dead}-3`, 'e1'), { recursive: true });
  writeFileSync(join(root, `${dead}-3`, 'e1', '1.arrows'), 'x');
  mkdirSync(join(root, `${process.ppid}-1`));
  mkdirSync(join(root, 'unrelated'));
  const removed = prepareSpillRoot(root);
  t.strictSame(removed, [`${dead}-3`]);
  t.notOk(existsSync(join(root, `${dead}-3`)), 'dead pid dir removed');
  t.ok(existsSync(join(root, `${process.ppid}-1`)), 'live pid dir kept');
  t.ok(existsSync(join(root, 'unrelated')), 'other names kept');
  t.equal(statSync(root).mode & 0o777, 0o700, 'root forced to 0700');
});

t.test('bind settings and arguments never reach a spill file', async (t) => {
  const SECRET = 'sk-live-SECRET-4f9d2c7a1b8e';
  mkdirSync(join(base, 'secret'));
  const root = spillRoot(join(base, 'secret'));
  const before = currentSpillManager();
  const m = configureSpill({ budgetBytes: 16 * 1024, root })!;
  t.equal(before, null, "no spill manager by default");
  t.teardown(() => { configureSpill(null); });
  const replies: FromActor[] = [];
  const thread = new ActorThread(new Map([['buffer_input', bufferInput]]), (msg) => replies.push(msg));
  const dataSchema = new Schema([new Field('x', new Int64(), false), new Field('s', new Utf8(), true)]);
  const settings = tableToIPC(tableFromArrays({ api_key: [SECRET], token: [`Bearer ${SECRET}`] }), 'stream');
  const argsStruct = tableToIPC(new Table({ args: vectorFromArray([{ named_password: SECRET }]) }), 'stream');
  const eid = 'e-secret';
  const call = async (msg: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<unknown> => {
    const id = replies.length + 1000 + Math.floor(Math.random() * 1e9);
    thread.handle({ ...msg, id } as never);
    void transfer;
    for (let i = 0; i < 1000; i++) {
      const r = replies.find((x) => x.t === 'reply' && x.id === id);
      if (r && r.t === 'reply') { if (!r.ok) throw new Error(r.error.message); return r.value; }
      await new Promise((res) => setImmediate(res));
    }
    throw new Error('no reply');
  };
  await call({ t: 'bind', functionName: 'buffer_input', inputSchema: schemaBytes(dataSchema), arguments: argsStruct, settings });
  await call({
    t: 'create', eid, executionId: new Uint8Array([1, 2, 3]),
    init: { functionName: 'buffer_input', inputSchema: schemaBytes(dataSchema), outputSchema: schemaBytes(dataSchema), arguments: argsStruct, settings, attachOpaqueData: new TextEncoder().encode(SECRET) },
  });
  const actor = thread.actors.get(eid)!;
  t.equal(actor.settings.api_key, SECRET, 'the execution does see the secret');
  const scan = (): string[] => files(root).filter((f) => readFileSync(f).includes(SECRET));
  const want: bigint[] = [];
  for (let i = 0; i < 200; i++) {
    const xs = BigInt64Array.from({ length: 512 }, (_, r) => BigInt(i * 512 + r));
    want.push(...xs);
    const bytes = tableToIPC(new Table({ x: vectorFromArray(xs), s: vectorFromArray(Array.from({ length: 512 }, (_, r) => (r % 3 ? `v${r}` : null)), new Utf8()) }), 'stream');
    await call({ t: 'process', eid, buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength, batchIndex: null });
    if (i % 50 === 49) t.strictSame(scan(), [], `no spill file holds the secret after ${i + 1} chunks`);
  }
  t.ok(m.spills > 0 && files(root).length > 0, `spilled (${files(root).length} files, ${m.spilledBytes} bytes)`);
  const stats = await call({ t: 'stats' }) as { spilledBytes: number; bufferedBytes: number };
  t.ok(stats.spilledBytes > 0, `thread stats report spilledBytes ${stats.spilledBytes}`);
  const got: bigint[] = [];
  for (const b of actor.storage.batches('buf')) got.push(...(b.getChild('x')!.toArray() as BigInt64Array));
  t.equal(got.length, want.length);
  t.ok(got.every((v, i) => v === want[i]), 'exact values, in order');
  t.strictSame(scan(), [], 'no spill file holds the secret');
  await call({ t: 'destroy', eid, reason: 'test' });
  t.strictSame(files(root), [], 'destroy removes the spill files');
});
