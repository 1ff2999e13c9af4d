// In-process tests of the fixture functions (functions/fixtures/): each fixture is driven the way
// one actor drives it — bind, process calls with real Arrow batches, combine, every finalize
// stream — with a Map-backed ExecutionStorage, and its exact output is checked.
import t, { type Test } from 'tap';
import { Worker } from 'node:worker_threads';
import {
  Bool,
  DataType,
  Decimal,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Uint64,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import type {
  ArgumentSpec,
  BufferingParams,
  ExecutionStorage,
  LogLevel,
  ScalarValue,
  StateId,
  TableBufferingFunction,
} from '../functions/api.js';
import { validateFunctions } from '../functions/load.js';
import { runKernel } from '../actors/kernels.js';
import fixtures, {
  batchIndexBufferInput,
  bufferEmitWide,
  bufferInput,
  crashOnCombine,
  crashOnFinalize,
  crashOnProcess,
  echoBuffering,
  exceptionFinalize,
  exceptionProcess,
  groupQuantiles,
  largeState,
  noopBuffer,
  orderedBufferInput,
  orderedSource,
  sumAllColumns,
} from '../functions/fixtures/index.js';
import { mulberry32, groupOf } from './helpers/grouped.js';

class MapStorage implements ExecutionStorage {
  readonly logs = new Map<string, RecordBatch[]>();
  readonly kv = new Map<string, unknown>();
  append(log: string, batch: RecordBatch): void {
    const l = this.logs.get(log) ?? [];
    l.push(batch);
    this.logs.set(log, l);
  }
  batches(log: string): readonly RecordBatch[] { return this.logs.get(log) ?? []; }
  replace(log: string, batches: RecordBatch[]): void { this.logs.set(log, batches); }
  get<T>(key: string): T | undefined { return this.kv.get(key) as T | undefined; }
  set<T>(key: string, value: T): void { this.kv.set(key, value); }
  get bufferedBytes(): number { return 0; }
}

let nextExecution = 1;

interface Execution {
  readonly fn: TableBufferingFunction;
  readonly executionId: Uint8Array;
  readonly outputSchema: Schema;
  readonly storage: MapStorage;
  readonly logs: { level: LogLevel; message: string }[];
  process(batch: RecordBatch, batchIndex?: bigint | null): Promise<StateId>;
  combine(stateIds: StateId[]): Promise<StateId[]>;
  finalize(id: StateId, signal?: AbortSignal): Promise<RecordBatch[]>;
  /** process every batch, combine the last id (duplicated), drain every finalize stream in order. */
  run(batches: RecordBatch[]): Promise<{ stateIds: StateId[]; finalizeIds: StateId[]; streams: RecordBatch[][]; output: RecordBatch[] }>;
}

function argumentsWithDefaults(specs: readonly ArgumentSpec[], given: Record<string, ScalarValue>): Record<string, ScalarValue> {
  const out: Record<string, ScalarValue> = {};
  for (const s of specs) if (s.kind === 'named' && s.default !== undefined) out[s.name] = s.default;
  return { ...out, ...given };
}

/** Binds the function (throws the bind error) and returns a driver for one execution. */
function execution(fn: TableBufferingFunction, inputSchema: Schema, given: Record<string, ScalarValue> = {}): Execution {
  const args = argumentsWithDefaults(fn.argumentSpecs, given);
  const outputSchema = fn.onBind({ functionName: fn.name, inputSchema, arguments: args, settings: {} });
  const storage = new MapStorage();
  const logs: { level: LogLevel; message: string }[] = [];
  const executionId = Uint8Array.of(0xee, 0, 0, nextExecution++);
  const base: BufferingParams = {
    functionName: fn.name,
    executionId,
    storage,
    inputSchema,
    outputSchema,
    arguments: args,
    settings: {},
    attachOpaqueData: null,
    log: (level, message) => { logs.push({ level, message }); },
    runKernel, // no kernel pool here: kernels run inline, with the pool's move semantics
  };
  const ex: Execution = {
    fn,
    executionId,
    outputSchema,
    storage,
    logs,
    process: async (batch, batchIndex = null) => fn.process({ ...base, batchIndex }, batch),
    combine: async (ids) => fn.combine(base, ids),
    finalize: async (id, signal = new AbortController().signal) => {
      const out: RecordBatch[] = [];
      for await (const b of fn.finalizeProducer({ ...base, finalizeStateId: id, signal }, id) as AsyncIterable<RecordBatch>) out.push(b);
      return out;
    },
    run: async (batches) => {
      const stateIds: StateId[] = [];
      for (const b of batches) stateIds.push(await ex.process(b));
      const last = stateIds.at(-1);
      const finalizeIds = last ? await ex.combine([last, last]) : [];
      const streams: RecordBatch[][] = [];
      for (const id of finalizeIds) streams.push(await ex.finalize(id));
      return { stateIds, finalizeIds, streams, output: streams.flat() };
    },
  };
  return ex;
}

/** A batch of `schema` from plain JS column values (vectorFromArray per field). */
function batchOf(schema: Schema, columns: unknown[][]): RecordBatch {
  const length = columns[0]?.length ?? 0;
  const children = schema.fields.map((f, i) => vectorFromArray(columns[i]! as never[], f.type as DataType).data[0]! as Data);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

function batchFromChildren(schema: Schema, children: Data[]): RecordBatch {
  const length = children[0]?.length ?? 0;
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

function schemaOf(...fields: [string, DataType][]): Schema {
  return new Schema(fields.map(([n, t]) => new Field(n, t, true)));
}

/** Rows of the batches as arrays of JS values (bigint for 64-bit integers). */
function rows(batches: readonly RecordBatch[]): unknown[][] {
  const out: unknown[][] = [];
  for (const b of batches) {
    for (let r = 0; r < b.numRows; r++) out.push(b.schema.fields.map((_, i) => b.getChildAt(i)!.get(r)));
  }
  return out;
}

/** Field types as strings, for comparing a batch against the bind output schema. */
function typesOf(schema: Schema): string[] {
  return schema.fields.map((f) => `${f.name}:${String(f.type)}`);
}

function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Input helpers

function decimalData(scaled: (bigint | null)[], scale: number, precision = 18): Data {
  const words = new Uint32Array(scaled.length * 4);
  const validity = new Uint8Array(Math.ceil(scaled.length / 8));
  let nulls = 0;
  scaled.forEach((v, i) => {
    if (v === null) { nulls++; return; }
    validity[i >> 3]! |= 1 << (i & 7);
    const x = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((x >> BigInt(32 * k)) & 0xffffffffn);
  });
  return makeData({ type: new Decimal(scale, precision, 128), length: scaled.length, nullCount: nulls, nullBitmap: validity, data: words });
}

/** range(n) = 0..n-1 as BIGINT in chunks of 2,048 rows, like DuckDB's range() sink. */
function bigintChunks(schema: Schema, n: number, chunk = 2048): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const col = new BigInt64Array(len);
    for (let i = 0; i < len; i++) col[i] = BigInt(start + i);
    out.push(batchFromChildren(schema, [makeData({ type: new Int64(), length: len, nullCount: 0, data: col })]));
  }
  return out;
}

const BE = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; };

function assertOutputTypes(t: Test, ex: Execution, batches: readonly RecordBatch[]): void {
  for (const b of batches) t.same(typesOf(b.schema), typesOf(ex.outputSchema), 'finalize batch types = bind output schema');
}

// ---------------------------------------------------------------------------------------------
// The list

t.test('index exports every fixture in spec order, and the list validates', async (t) => {
  t.same(fixtures.map((f) => f.name), [
    'buffer_input', 'ordered_buffer_input', 'batch_index_buffer_input', 'echo_buffering', 'sum_all_columns',
    'exception_process', 'exception_finalize', 'crash_on_process', 'crash_on_combine', 'crash_on_finalize',
    'large_state', 'ordered_source', 'buffer_emit_wide', 'noop_buffer', 'group_quantiles', 'group_bootstrap',
    'misbehave', 'misbehave_queued',
  ]);
  t.equal(validateFunctions(fixtures).size, fixtures.length);
  for (const f of fixtures) {
    t.ok(f.metadata.description.length > 0, `${f.name} has a description`);
    const table = f.argumentSpecs.filter((a) => a.kind === 'table');
    t.same(table.map((a) => a.name), ['data'], `${f.name}: one TABLE argument named data`);
  }
  t.same(bufferInput.metadata, { description: 'Collects all input batches and emits during finalization', categories: ['utility', 'buffer'], stateId: 'execution' });
  t.same(sumAllColumns.metadata, { description: 'Computes column-wise sums across all batches', categories: ['aggregation', 'numeric'] });
  t.equal(exceptionProcess.metadata.description, 'Test function that raises exception during process');
  t.equal(exceptionFinalize.metadata.description, 'Test function that raises exception during finalize');
  t.equal(orderedBufferInput.metadata.sinkOrderDependent, true);
  t.equal(batchIndexBufferInput.metadata.requiresInputBatchIndex, true);
  t.equal(echoBuffering.metadata.projectionPushdown, true);
  t.equal(echoBuffering.metadata.filterPushdown, true);
  t.equal(orderedSource.metadata.sourceOrderDependent, true);
  for (const f of [bufferInput, sumAllColumns, largeState, bufferEmitWide, noopBuffer, groupQuantiles]) {
    const m = f.metadata;
    t.notOk(m.sinkOrderDependent || m.sourceOrderDependent || m.requiresInputBatchIndex || m.projectionPushdown || m.filterPushdown, `${f.name}: no flags`);
  }
  const logging = sumAllColumns.argumentSpecs.find((a) => a.name === 'logging');
  t.equal(logging?.kind, 'named');
  t.ok(logging?.kind === 'named' && DataType.isBool(logging.type) && logging.default === false, 'logging BOOLEAN default false');
  t.same(bufferEmitWide.argumentSpecs.map((a) => `${a.kind}:${a.name}`), ['positional:rows', 'table:data'], 'rows comes before data');
  const rowsArg = bufferEmitWide.argumentSpecs[0]!;
  t.ok(rowsArg.kind === 'positional' && DataType.isInt(rowsArg.type) && rowsArg.type.bitWidth === 64, 'rows is BIGINT');
});

// ---------------------------------------------------------------------------------------------
// Buffering fixtures

const mixedSchema = schemaOf(['i', new Int32()], ['s', new Utf8()], ['d', new Decimal(2, 10, 128)], ['b', new Int64()]);
function mixedBatches(): RecordBatch[] {
  return [
    batchFromChildren(mixedSchema, [
      vectorFromArray([5, null, 3], new Int32()).data[0]!,
      vectorFromArray(['five', 'x', null], new Utf8()).data[0]!,
      decimalData([150n, null, -250n], 2),
      vectorFromArray([5n, 4n, null], new Int64()).data[0]!,
    ]),
    batchFromChildren(mixedSchema, [
      vectorFromArray([2, 1], new Int32()).data[0]!,
      vectorFromArray(['two', 'one'], new Utf8()).data[0]!,
      decimalData([1n, 99999n], 2),
      vectorFromArray([2n, 1n], new Int64()).data[0]!,
    ]),
  ];
}

for (const fn of [bufferInput, orderedBufferInput, echoBuffering]) {
  t.test(`${fn.name}: re-emits every batch unchanged, in order, zero-copy`, async (t) => {
    const single = schemaOf(['x', new Int32()]);
    const ex1 = execution(fn, single);
    t.equal(ex1.outputSchema, single, 'output schema is the input schema');
    const one = batchOf(single, [[5, 4, 3, 2, 1]]);
    const r1 = await ex1.run([one]);
    t.same(rows(r1.output), [[5], [4], [3], [2], [1]], 'single chunk keeps input order');

    const ex = execution(fn, mixedSchema);
    const input = mixedBatches();
    const r = await ex.run(input);
    t.same(r.stateIds.map(hex), [hex(ex.executionId), hex(ex.executionId)], 'process returns the execution id');
    t.same(r.finalizeIds.map(hex), [hex(ex.executionId)], 'one finalize stream');
    t.equal(r.output.length, 2);
    t.equal(r.output[0], input[0], 'the very batch objects come back');
    t.equal(r.output[1], input[1]);
    const out = rows(r.output);
    t.same(out.map((row) => row[0]), [5, null, 3, 2, 1]);
    t.same(out.map((row) => row[1]), ['five', 'x', null, 'two', 'one']);
    t.same(out.map((row) => row[3]), [5n, 4n, null, 2n, 1n]);
    assertOutputTypes(t, ex, r.output);
  });
}

t.test('batch_index_buffer_input sorts stably by batch index', async (t) => {
  const schema = schemaOf(['tag', new Utf8()]);
  const ex = execution(batchIndexBufferInput, schema);
  const arrivals: [string, bigint][] = [['c0', 2n], ['a0', 0n], ['d0', 3n], ['c1', 2n], ['b0', 1n], ['a1', 0n], ['c2', 2n]];
  for (const [tag, index] of arrivals) t.same(await ex.process(batchOf(schema, [[tag]]), index), ex.executionId);
  const ids = await ex.combine([ex.executionId, ex.executionId, ex.executionId]);
  t.same(ids.map(hex), [hex(ex.executionId)]);
  const out = await ex.finalize(ids[0]!);
  t.same(rows(out).map((r) => r[0]), ['a0', 'a1', 'b0', 'c0', 'c1', 'c2', 'd0']);

  const bad = execution(batchIndexBufferInput, schema);
  await t.rejects(bad.process(batchOf(schema, [['x']]), null), /batch_index/, 'a missing batch index is an error');
});

// ---------------------------------------------------------------------------------------------
// sum_all_columns and its exception variants

t.test('sum_all_columns bind: numeric columns only, widened', async (t) => {
  const schema = schemaOf(['a', new Int32()], ['s', new Utf8()], ['f', new Float32()], ['d', new Decimal(1, 5, 128)],
    ['flag', new Bool()], ['b', new Int64()], ['u', new Uint64()], ['tiny', new Int8()]);
  const ex = execution(sumAllColumns, schema);
  t.same(typesOf(ex.outputSchema), ['a:Int64', 'f:Float64', 'd:Float64', 'b:Int64', 'u:Int64', 'tiny:Int64']);
  for (const fn of [sumAllColumns, exceptionProcess, exceptionFinalize]) {
    t.throws(() => execution(fn, schemaOf(['s', new Utf8()], ['flag', new Bool()])), /requires at least one numeric/, `${fn.name} bind error`);
  }
});

t.test('sum_all_columns sums exactly, nulls as 0', async (t) => {
  const two = schemaOf(['a', new Int32()], ['b', new Int32()]);
  let ex = execution(sumAllColumns, two);
  let r = await ex.run([batchOf(two, [[1], [2]])]);
  t.same(rows(r.output), [[1n, 2n]], '(SELECT 1 AS a, 2 AS b) → 1 2');
  assertOutputTypes(t, ex, r.output);

  const dec = schemaOf(['d', new Decimal(1, 4, 128)]);
  ex = execution(sumAllColumns, dec);
  r = await ex.run([batchFromChildren(dec, [decimalData([15n, 25n], 1)]), batchFromChildren(dec, [decimalData([30n, null], 1)])]);
  t.same(rows(r.output), [[7]], 'decimals 1.5 + 2.5 + 3.0 = 7.0');

  const big = schemaOf(['range', new Int64()]);
  ex = execution(sumAllColumns, big);
  const chunks = bigintChunks(big, 100_000);
  t.equal(chunks.length, 49);
  r = await ex.run(chunks);
  t.same(rows(r.output), [[4999950000n]], 'range(100000) as BIGINT');
  t.same(r.output.length, 1);

  const mixed = schemaOf(['i', new Int32()], ['f', new Float64()], ['s', new Utf8()], ['u', new Uint64()]);
  ex = execution(sumAllColumns, mixed);
  r = await ex.run([
    batchOf(mixed, [[null, null], [null, null], ['a', 'b'], [null, null]]),
    batchOf(mixed, [[-3, null], [0.25, 0.5], [null, 'c'], [7n, null]]),
  ]);
  t.same(rows(r.output), [[-3n, 0.75, 7n]], 'all-null chunk counts as 0; strings dropped');
});

t.test('sum_all_columns logging', async (t) => {
  const schema = schemaOf(['a', new Int64()]);
  const quiet = execution(sumAllColumns, schema);
  await quiet.run(bigintChunks(schema, 3000));
  t.same(quiet.logs, [], 'no logs by default');

  const ex = execution(sumAllColumns, schema, { logging: true });
  const r = await ex.run(bigintChunks(schema, 3000));
  t.same(ex.logs, [
    { level: 'INFO', message: 'Processing batch with 2048 rows' },
    { level: 'INFO', message: 'Processing batch with 952 rows' },
    { level: 'INFO', message: 'Combining 2 state_ids' },
  ]);
  t.same(rows(r.output), [[4498500n]]);
});

t.test('exception_process fails on every even call of an execution', async (t) => {
  const schema = schemaOf(['a', new Int32()], ['b', new Float64()]);
  const once = execution(exceptionProcess, schema);
  const r = await once.run([batchOf(schema, [[1, 2], [3.5, 4]])]);
  t.same(rows(r.output), [[0n, 0]], 'one chunk: a row of zeros (no partials are stored)');
  assertOutputTypes(t, once, r.output);

  const ex = execution(exceptionProcess, schema);
  const b = batchOf(schema, [[1], [1]]);
  await ex.process(b);
  await t.rejects(ex.process(b), { message: 'Intentional exception on batch 2' });
  await ex.process(b);
  await t.rejects(ex.process(b), { message: 'Intentional exception on batch 4' });
  const other = execution(exceptionProcess, schema);
  t.same(await other.process(b), other.executionId, 'counts are per execution');
});

t.test('exception_finalize sums, then fails on the first finalize tick', async (t) => {
  const schema = schemaOf(['a', new Int32()]);
  const ex = execution(exceptionFinalize, schema);
  await ex.process(batchOf(schema, [[1, 2, 3]]));
  const ids = await ex.combine([ex.executionId]);
  t.same(ids.map(hex), [hex(ex.executionId)]);
  await t.rejects(ex.finalize(ids[0]!), { message: 'Intentional exception during finalize()' });
});

// ---------------------------------------------------------------------------------------------
// Crash fixtures

t.test('crash_on_combine and crash_on_finalize', async (t) => {
  const schema = schemaOf(['a', new Int32()]);
  const c = execution(crashOnCombine, schema);
  t.same(await c.process(batchOf(schema, [[1]])), c.executionId);
  await t.rejects(c.combine([c.executionId]), { message: 'Intentional exception during combine()' });

  const f = execution(crashOnFinalize, schema);
  await f.process(batchOf(schema, [[1]]));
  const ids = await f.combine([f.executionId]);
  t.equal(ids.length, 1);
  let emitted = 0;
  const run = async () => {
    for await (const _ of crashOnFinalize.finalizeProducer({} as never, ids[0]!) as AsyncIterable<RecordBatch>) emitted++;
  };
  await t.rejects(run(), { message: 'Intentional exception during finalize()' });
  t.equal(emitted, 0, 'fails before the first batch');
});

t.test('crash_on_process is defined, refuses the main thread, and ends only its own thread', async (t) => {
  t.equal(crashOnProcess.name, 'crash_on_process');
  t.same(crashOnProcess.argumentSpecs.map((a) => a.name), ['data']);
  const schema = schemaOf(['a', new Int32()]);
  const ex = execution(crashOnProcess, schema);
  t.equal(ex.outputSchema, schema);
  // In the test's main thread the fixture throws instead of exiting (process.exit would end the run).
  await t.rejects(ex.process(batchOf(schema, [[1]])), /main thread/);

  // In a worker thread it ends that thread with exit code 137; this process carries on.
  // Module hooks registered in the main thread do not reach an eval worker: it registers tap's
  // TypeScript loader itself before importing the fixture source.
  const url = new URL('../functions/fixtures/crash_on_process.ts', import.meta.url).href;
  const hooks = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript')).map((a) => a.slice('--import='.length));
  const code = `
    const { parentPort } = require('node:worker_threads');
    ${JSON.stringify(hooks)}.reduce((p, h) => p.then(() => import(h)), Promise.resolve())
    .then(() => import(${JSON.stringify(url)})).then(async ({ crashOnProcess }) => {
      parentPort.postMessage('loaded');
      await crashOnProcess.process({ executionId: new Uint8Array(1) }, null);
      parentPort.postMessage('survived');
    }, (e) => parentPort.postMessage('import failed: ' + e.message));`;
  const messages: string[] = [];
  const exit = await new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.on('message', (m: string) => messages.push(m));
    w.on('error', reject);
    w.on('exit', resolve);
  });
  if (messages[0]?.startsWith('import failed')) {
    t.pass('crash_on_process in a worker thread', { skip: `worker could not load TypeScript: ${messages[0]}` });
    return;
  }
  t.same(messages, ['loaded']);
  t.equal(exit, 137, 'the worker thread exited with 137');
});

// ---------------------------------------------------------------------------------------------
// large_state, ordered_source, buffer_emit_wide, noop_buffer

t.test('large_state: one row holding 1 MiB per process call in every column', async (t) => {
  const schema = schemaOf(['range', new Int64()], ['i', new Int32()], ['f', new Float64()]);
  const ex = execution(largeState, schema);
  t.equal(ex.outputSchema, schema);
  const chunks: RecordBatch[] = [];
  for (let k = 0; k < 49; k++) chunks.push(batchOf(schema, [[1n], [1], [1]]));
  const r = await ex.run(chunks);
  const total = 49 * 1_048_576;
  t.ok(total >= 32 * 1024 * 1024);
  t.same(rows(r.output), [[BigInt(total), total, total]], 'exactly one row');
  assertOutputTypes(t, ex, r.output);

  t.throws(() => execution(largeState, schemaOf(['s', new Utf8()])), /integer or FLOAT\/DOUBLE.*s \(Utf8\)/, 'non-numeric columns are a bind error');
  const narrow = execution(largeState, schemaOf(['t', new Int8()]));
  await narrow.process(batchOf(schemaOf(['t', new Int8()]), [[1]]));
  await t.rejects(narrow.combine([narrow.executionId]), /does not fit column "t"/);
});

t.test('ordered_source: 16 big-endian ids, one row v = id each', async (t) => {
  const schema = schemaOf(['x', new Int32()]);
  const ex = execution(orderedSource, schema);
  t.same(typesOf(ex.outputSchema), ['v:Int64']);
  const r = await ex.run([batchOf(schema, [[1, 2, 3]]), batchOf(schema, [[4]])]);
  t.same(r.finalizeIds.map(hex), Array.from({ length: 16 }, (_, i) => hex(BE(i))));
  t.same(r.streams.map((s) => rows(s)), Array.from({ length: 16 }, (_, i) => [[BigInt(i)]]));
  t.equal(rows(r.output).reduce((s, row) => s + (row[0] as bigint), 0n), 120n);
  assertOutputTypes(t, ex, r.output);
});

t.test('buffer_emit_wide: one finalize batch n = 0..rows-1', async (t) => {
  const schema = schemaOf(['x', new Int32()]);
  for (const n of [0, 1, 2048, 2049, 10_000]) {
    const ex = execution(bufferEmitWide, schema, { rows: BigInt(n) });
    t.same(typesOf(ex.outputSchema), ['n:Int64']);
    const r = await ex.run([batchOf(schema, [[7]])]);
    t.equal(r.streams.length, 1);
    t.equal(r.streams[0]!.length, 1, `${n}: one batch`);
    const values = rows(r.output).map((row) => row[0] as bigint);
    t.equal(values.length, n);
    t.ok(values.every((v, i) => v === BigInt(i)), `${n}: 0..rows-1`);
    if (n === 10_000) t.equal(values.reduce((s, v) => s + v, 0n), 49995000n);
    assertOutputTypes(t, ex, r.output);
  }
  t.throws(() => execution(bufferEmitWide, schema, { rows: -1n }), /rows must be >= 0/);
  t.throws(() => execution(bufferEmitWide, schema, { rows: null }), /rows is required/);
});

t.test('noop_buffer: zero rows, output schema = input', async (t) => {
  const schema = schemaOf(['x', new Int32()], ['s', new Utf8()]);
  const ex = execution(noopBuffer, schema);
  t.equal(ex.outputSchema, schema);
  const r = await ex.run([batchOf(schema, [[1], ['a']]), batchOf(schema, [[2], ['b']])]);
  t.same(r.stateIds.map(hex), [hex(ex.executionId), hex(ex.executionId)]);
  t.same(r.finalizeIds, []);
  t.same(r.output, []);
});

// ---------------------------------------------------------------------------------------------
// group_quantiles against a naive reference


type Num = number | bigint;

/** The obvious implementation: Map of groups, sort with a comparator, Set for distinct. */
function reference(values: (Num | null)[], groups: number): unknown[][] {
  const byGroup = new Map<number, Num[]>();
  for (const v of values) {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
    const g = groupOf(v, groups);
    const list = byGroup.get(g) ?? [];
    list.push(v);
    byGroup.set(g, list);
  }
  const out: unknown[][] = [];
  for (const g of [...byGroup.keys()].sort((a, b) => a - b)) {
    const s = byGroup.get(g)!.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const n = s.length;
    const q = (p: number) => Number(s[Math.max(0, Math.ceil((p / 100) * n - 1e-9) - 1)]!);
    out.push([BigInt(g), BigInt(n), q(50), q(90), q(99), BigInt(new Set(s).size)]);
  }
  return out;
}

function chunked<T>(values: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

async function runQuantiles(t: Test, schema: Schema, columns: unknown[][], args: Record<string, ScalarValue>) {
  const ex = execution(groupQuantiles, schema, args);
  t.same(typesOf(ex.outputSchema), ['g:Int64', 'n:Int64', 'p50:Float64', 'p90:Float64', 'p99:Float64', 'distinct_count:Int64']);
  const n = columns[0]!.length;
  const batches = chunked(Array.from({ length: n }, (_, i) => i), 2048)
    .map((idx) => batchOf(schema, columns.map((c) => idx.map((i) => c[i]))));
  const r = await ex.run(batches);
  const ranges = r.finalizeIds.map((id) => new DataView(id.buffer, id.byteOffset, 4).getUint32(0));
  t.ok(r.finalizeIds.every((id) => id.byteLength === 4), 'finalize ids are 4-byte range starts');
  t.same(ranges, [...ranges].sort((a, b) => a - b), 'ranges ascend');
  // Each stream covers its own groups, ascending, starting at or after its range start.
  r.streams.forEach((s, k) => {
    const gs = rows(s).map((row) => Number(row[0]));
    t.same(gs, [...gs].sort((a, b) => a - b), `stream ${k} ascending by g`);
    t.ok(gs.length > 0 && gs[0]! >= ranges[k]! && (k + 1 === ranges.length || gs.at(-1)! < ranges[k + 1]!), `stream ${k} inside its range`);
  });
  for (const s of r.streams) assertOutputTypes(t, ex, s);
  return { r, out: rows(r.output) };
}

t.test('group_quantiles: integers (with negatives and NULLs) match the reference', async (t) => {
  const rnd = mulberry32(42);
  const n = 20_000;
  const ints = Array.from({ length: n }, () => (rnd() < 0.05 ? null : Math.floor(rnd() * 2000) - 1000));
  const labels = Array.from({ length: n }, (_, i) => `r${i}`);
  const schema = schemaOf(['label', new Utf8()], ['v', new Int32()]);
  const { r, out } = await runQuantiles(t, schema, [labels, ints], {});
  t.equal(r.finalizeIds.length, 8, 'default 64 groups cut into 8 ranges');
  t.same(out, reference(ints, 64));
  t.equal(out.length, 64);

  const { r: r3, out: out3 } = await runQuantiles(t, schema, [labels, ints], { groups: 3n, column: 'v' });
  t.equal(r3.finalizeIds.length, 3, 'fewer groups than ranges: one range per group');
  t.same(out3, reference(ints, 3));
});

t.test('group_quantiles: BIGINT beyond 2^53 stays exact', async (t) => {
  const rnd = mulberry32(7);
  const n = 9_000;
  const base = 1n << 60n;
  // Few distinct values so duplicates and distinct counts are exercised.
  const vals = Array.from({ length: n }, () => (rnd() < 0.02 ? null : base * (rnd() < 0.5 ? -1n : 1n) + BigInt(Math.floor(rnd() * 500))));
  const schema = schemaOf(['v', new Int64()]);
  const { out } = await runQuantiles(t, schema, [vals], { groups: 17n });
  const ref = reference(vals, 17);
  t.same(out, ref);
  t.ok(ref.some((row) => (row[5] as bigint) < (row[1] as bigint)), 'the data has duplicates');
});

t.test('group_quantiles: doubles (NaN/Infinity skipped), picks the first numeric column', async (t) => {
  const rnd = mulberry32(99);
  const n = 12_345;
  const vals = Array.from({ length: n }, (_, i) => {
    if (i % 1000 === 0) return Number.NaN;
    if (i % 1001 === 0) return Number.POSITIVE_INFINITY;
    if (i % 997 === 0) return null;
    return Math.round((rnd() * 300 - 150) * 4) / 4; // quarter steps: duplicates and -0.25 … 
  });
  const other = Array.from({ length: n }, () => 1.5);
  const schema = schemaOf(['s', new Utf8()], ['x', new Float64()], ['y', new Float64()]);
  const { out } = await runQuantiles(t, schema, [Array.from({ length: n }, () => 's'), vals, other], { groups: 10n });
  t.same(out, reference(vals, 10));
  const { out: outY } = await runQuantiles(t, schema, [Array.from({ length: n }, () => 's'), vals, other], { groups: 10n, column: 'y' });
  t.same(outY, [[1n, BigInt(n), 1.5, 1.5, 1.5, 1n]], 'column := y');
});

t.test('group_quantiles: nearest rank on a small known group; bind errors; empty input', async (t) => {
  const schema = schemaOf(['v', new Int32()]);
  // Group 0 of groups := 1000 holds 0..999 → n=1000; the 30 values 1000..1029 land in groups 0..29.
  const vals = Array.from({ length: 1000 }, (_, i) => i);
  const ex = execution(groupQuantiles, schema, { groups: 1n });
  const r = await ex.run([batchOf(schema, [vals.slice(0, 30)]), batchOf(schema, [vals.slice(30)])]);
  t.same(rows(r.output), [[0n, 1000n, 499, 899, 989, 1000n]], 'ceil(q·n)-1: 499, 899, 989');
  const ex30 = execution(groupQuantiles, schema, { groups: 1n });
  const r30 = await ex30.run([batchOf(schema, [Array.from({ length: 30 }, (_, i) => i)])]);
  t.same(rows(r30.output), [[0n, 30n, 14, 26, 29, 30n]], 'n=30: q·n = 27 exactly (not 27.000000000000004)');

  t.throws(() => execution(groupQuantiles, schemaOf(['s', new Utf8()])), /requires an integer or floating-point input column/);
  t.throws(() => execution(groupQuantiles, schema, { column: 'nope' }), /no input column named "nope"/);
  t.throws(() => execution(groupQuantiles, schemaOf(['v', new Int32()], ['s', new Utf8()]), { column: 's' }), /must be an integer or floating-point/);
  t.throws(() => execution(groupQuantiles, schema, { groups: 0n }), /groups must be between/);

  const nulls = execution(groupQuantiles, schema);
  const rn = await nulls.run([batchOf(schema, [[null, null]])]);
  t.same(rn.finalizeIds, [], 'only NULLs: no finalize stream, zero rows');
});
