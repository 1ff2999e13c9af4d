// Driving a grouped-aggregation fixture (group_quantiles, group_bootstrap) the way the runtime
// does, without the runtime: fake params, one numeric column cut into 2,048-row chunks, process →
// combine → every finalize stream at once (as DuckDB's source threads drain them).
import { Field, Int32, Int64, RecordBatch, Schema, Struct, Utf8, makeData, type Data, type DataType } from 'apache-arrow';
import { MessageChannel } from 'node:worker_threads';
import { KernelRouter } from '../../runtime/kernels.js';
import { PortKernelRunner } from '../../actors/kernels.js';
import type { BufferingParams, ExecutionStorage, FinalizeParams, ScalarValue, TableBufferingFunction } from '../../functions/api.js';

export type Num = number | bigint;
export type RunKernel = BufferingParams['runKernel'];

/** A small seeded PRNG for test data (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fixtures' group of a value: floor(v) mod groups, taken non-negative (BIGINTs exactly). */
export function groupOf(v: Num, groups: number): number {
  return typeof v === 'bigint'
    ? Number(((v % BigInt(groups)) + BigInt(groups)) % BigInt(groups))
    : ((Math.floor(v) % groups) + groups) % groups;
}

/** runKernel on a real kernel pool (router + piscina threads, as an actor thread uses it). */
export function poolRunKernel(t: { teardown(fn: () => unknown): void }, threads: number): RunKernel {
  const router = new KernelRouter({ threads });
  t.teardown(() => router.close());
  const ch = new MessageChannel();
  router.attach(ch.port1);
  const runner = new PortKernelRunner(ch.port2);
  return (k, input, transfer) => runner.run(k, input, transfer);
}

/** Key-value storage only: the grouped fixtures keep their state under keys, never in logs. */
export class KvStorage implements ExecutionStorage {
  readonly kv = new Map<string, unknown>();
  append(): void { throw new Error('unused'); }
  batches(): readonly RecordBatch[] { return []; }
  replace(): void { throw new Error('unused'); }
  get<T>(key: string): T | undefined { return this.kv.get(key) as T | undefined; }
  set<T>(key: string, value: T): void { this.kv.set(key, value); }
  get bufferedBytes(): number { return 0; }
}

/**
 * Column `v` of `type` (NULL where null) cut into 2,048-row batches; `textFirst` puts an all-NULL
 * VARCHAR column `s` before it (the fixture must find the numeric column).
 */
export function numericBatches(type: DataType, values: (Num | null)[], textFirst = false): RecordBatch[] {
  const fields = [...(textFirst ? [new Field('s', new Utf8(), true)] : []), new Field('v', type, true)];
  const schema = new Schema(fields);
  const out: RecordBatch[] = [];
  for (let start = 0; start < values.length; start += 2048) {
    const part = values.slice(start, start + 2048);
    const data = type instanceof Int64 ? new BigInt64Array(part.length) : type instanceof Int32 ? new Int32Array(part.length) : new Float64Array(part.length);
    const validity = new Uint8Array(Math.ceil(part.length / 8));
    let nulls = 0;
    part.forEach((v, i) => {
      if (v === null) { nulls++; return; }
      validity[i >> 3]! |= 1 << (i & 7);
      (data as unknown as Num[])[i] = v;
    });
    const child = makeData({ type, length: part.length, nullCount: nulls, nullBitmap: validity, data } as never) as Data;
    const children = textFirst
      ? [makeData({ type: new Utf8(), length: part.length, nullCount: part.length, nullBitmap: new Uint8Array(validity.length), valueOffsets: new Int32Array(part.length + 1), data: new Uint8Array(0) }), child]
      : [child];
    out.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: part.length, nullCount: 0, children })));
  }
  return out;
}

export function rowsOf(bs: readonly RecordBatch[]): unknown[][] {
  return bs.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => b.schema.fields.map((_, i) => b.getChildAt(i)!.get(r))));
}

/** process every batch → combine → every finalize stream concurrently; the rows of all streams. */
export async function driveBuffering(fn: TableBufferingFunction, input: RecordBatch[], schema: Schema, args: Record<string, ScalarValue>, runKernel: RunKernel): Promise<unknown[][]> {
  const outputSchema = fn.onBind({ functionName: fn.name, inputSchema: schema, arguments: args, settings: {} });
  const base: BufferingParams = {
    functionName: fn.name, executionId: Uint8Array.of(1), storage: new KvStorage(), inputSchema: schema, outputSchema,
    arguments: args, settings: {}, attachOpaqueData: null, log: () => undefined, runKernel,
  };
  for (const b of input) await fn.process({ ...base, batchIndex: null }, b);
  const ids = await fn.combine(base, [base.executionId]);
  const streams = await Promise.all(ids.map(async (id) => {
    const params: FinalizeParams = { ...base, finalizeStateId: id, signal: new AbortController().signal };
    const out: RecordBatch[] = [];
    for await (const b of fn.finalizeProducer(params, id) as AsyncIterable<RecordBatch>) out.push(b);
    return out;
  }));
  return rowsOf(streams.flat());
}
