// The finalize concat kernel (actors/concat.ts) on every Arrow type DuckDB exports: values,
// NULLs, sliced inputs at non-byte-aligned offsets, exact-size output buffers, IPC round trip;
// and the types it refuses (unions, differing dictionaries).
import t from 'tap';
import {
  Binary, Bool, Data, DataType, DateDay, DateMillisecond, Decimal, DenseUnion, Dictionary, DurationMicrosecond, Field,
  FixedSizeBinary, FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, IntervalDayTime, IntervalMonthDayNano,
  IntervalYearMonth, LargeBinary, LargeList, LargeUtf8, List, Map_, Null, RecordBatch, Schema, SparseUnion, Struct,
  TimeMicrosecond, TimeMillisecond, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond,
  Uint16, Uint32, Uint64, Uint8, Utf8, Vector, makeData, tableFromIPC, tableToIPC, Table, vectorFromArray,
} from 'apache-arrow';
import { canConcat, canConcatBatches, concatBatches, copyBits } from '../actors/concat.js';
import { canEncodeConcat, encodeConcat } from '../actors/ipc-concat.js';
import { MessageEncoder } from '../actors/codec.js';

interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): boolean;
  same(found: unknown, wanted: unknown, message: string): boolean;
  fail(message: string): boolean;
}

const N = 12;
const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
const withNulls = <T>(f: (i: number) => T): (T | null)[] => [...Array(N)].map((_, i) => (i % 4 === 2 ? null : f(i)));
function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array(((valid.length + 63) & ~63) >> 3);
  valid.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7); });
  return out;
}
const valid = [...Array(N)].map((_, i) => i % 4 !== 2);
const big = (type: DataType, f: (i: number) => bigint): Data =>
  makeData({ type: type as TimestampNanosecond, data: BigInt64Array.from([...Array(N)].map((_, i) => f(i))), nullBitmap: bitmap(valid) }) as Data;

function unions(): [string, Data][] {
  const i32 = col([...Array(N)].map((_, i) => i * 10), new Int32());
  const str = col([...Array(N)].map((_, i) => `u${i}`), new Utf8());
  const kids = [new Field('i', new Int32(), true), new Field('s', new Utf8(), true)];
  const ids = Int8Array.from([...Array(N)].map((_, i) => i % 3 === 0 ? 1 : 0));
  const sparse = makeData({ type: new SparseUnion([0, 1], kids), typeIds: ids, children: [i32, str] });
  // Dense: child rows are compact; the k-th row of each type points at slot k.
  const counts = [0, 0];
  const offs = Int32Array.from(ids, (id) => counts[id]++);
  const dense = makeData({
    type: new DenseUnion([0, 1], kids), typeIds: ids, valueOffsets: offs,
    children: [col([...Array(counts[0])].map((_, k) => k), new Int32()), col([...Array(counts[1])].map((_, k) => `d${k}`), new Utf8())],
  });
  return [['sparse_union', sparse as Data], ['dense_union', dense as Data]];
}

function allColumns(): [string, Data][] {
  const entries = new Struct([new Field('key', new Utf8(), false), new Field('value', new Int64(), true)]);
  const dictionary = vectorFromArray(['red', 'green', 'blue'], new Utf8());
  const stType = new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]);
  const stA = col(withNulls((i) => i), new Int32());
  const stB = col([...Array(N)].map((_, i) => (i % 3 ? `b${i}` : null)), new Utf8());
  return [
    ['bool', col(withNulls((i) => i % 3 === 0), new Bool())],
    ['int8', col(withNulls((i) => i - 6), new Int8())],
    ['int16', col(withNulls((i) => i * 1000 - 6000), new Int16())],
    ['int32', col(withNulls((i) => i * 100000 - 7), new Int32())],
    ['int64', col(withNulls((i) => BigInt(i) * 10n ** 17n - 5n), new Int64())],
    ['uint8', col(withNulls((i) => 250 - i), new Uint8())],
    ['uint16', col(withNulls((i) => 65000 + i), new Uint16())],
    ['uint32', col(withNulls((i) => 4294967295 - i), new Uint32())],
    ['uint64', col(withNulls((i) => 2n ** 64n - 1n - BigInt(i)), new Uint64())],
    ['float16', col(withNulls((i) => i / 2), new Float16())],
    ['float32', col(withNulls((i) => (i === 1 ? NaN : i / 4)), new Float32())],
    ['float64', col(withNulls((i) => (i === 1 ? NaN : i === 3 ? -0 : i * 1.5)), new Float64())],
    ['decimal128', col(withNulls((i) => new Uint32Array([i * 7, i ? 0xffffffff : 0, i, i % 2 ? 0x80000000 : 0])), new Decimal(3, 38, 128))],
    ['date32', col(withNulls((i) => new Date(Date.UTC(2024, 0, 1 + i))), new DateDay())],
    ['date64', big(new DateMillisecond(), (i) => BigInt(i) * 86400000n)],
    ['time32', col(withNulls((i) => i * 1000), new TimeMillisecond())],
    ['time64', big(new TimeMicrosecond(), (i) => BigInt(i) * 3600000000n)],
    ['ts_s', big(new TimestampSecond(), (i) => BigInt(i) * 1000n)],
    ['ts_ms', big(new TimestampMillisecond(), (i) => BigInt(i) * -1000n)],
    ['ts_us_tz', big(new TimestampMicrosecond('Etc/UTC'), (i) => 1700000000000000n + BigInt(i))],
    ['ts_ns', big(new TimestampNanosecond(), (i) => 1700000000123456789n + BigInt(i))],
    ['interval_ym', col(withNulls((i) => new Int32Array([i])), new IntervalYearMonth())],
    ['interval_dt', col(withNulls((i) => new Int32Array([i, i * 1000])), new IntervalDayTime())],
    ['interval_mdn', makeData({ type: new IntervalMonthDayNano(), data: Int32Array.from([...Array(N * 4)].map((_, k) => k)), nullBitmap: bitmap(valid) }) as Data],
    ['duration', big(new DurationMicrosecond(), (i) => BigInt(i) * 7n)],
    ['utf8', col(withNulls((i) => (i === 0 ? '' : i === 5 ? '😀 a longer string that exceeds sixteen bytes' : `s${i}`)), new Utf8())],
    ['large_utf8', col(withNulls((i) => `L${i}`.repeat(i)), new LargeUtf8())],
    ['binary', col(withNulls((i) => Uint8Array.from([...Array(i)].map((_, k) => 255 - k))), new Binary())],
    ['large_binary', col(withNulls((i) => Uint8Array.of(i, i)), new LargeBinary())],
    ['fixed_binary', col(withNulls((i) => Uint8Array.from([...Array(16)].map((_, k) => i + k))), new FixedSizeBinary(16))],
    ['fixed_binary3', col(withNulls((i) => Uint8Array.of(i, i + 1, i + 2)), new FixedSizeBinary(3))],
    ['list', col(withNulls((i) => [...Array(i % 3)].map((_, k) => BigInt(i * 10 + k))), new List(new Field('item', new Int64(), true)))],
    ['list_of_utf8', col(withNulls((i) => (i % 5 === 0 ? [] : [`x${i}`, null, `y${i}`])), new List(new Field('item', new Utf8(), true)))],
    ['large_list', col(withNulls((i) => [i, i + 1]), new LargeList(new Field('item', new Int32(), true)))],
    ['fixed_list', col(withNulls((i) => [i, i === 4 ? null : -i]), new FixedSizeList(2, new Field('item', new Int32(), true)))],
    ['struct', makeData({ type: stType, length: N, nullBitmap: bitmap([...Array(N)].map((_, i) => i !== 7)), children: [stA, stB] }) as Data],
    ['map', col(withNulls((i) => new Map([...Array(i % 3)].map((_, k) => [`k${k}`, BigInt(i + k)]))), new Map_(new Field('entries', entries, false)))],
    ['dictionary', makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.from([...Array(N)].map((_, i) => i % 3)), nullBitmap: bitmap(valid), dictionary }) as Data],
    ['null', makeData({ type: new Null(), length: N }) as Data],
  ];
}


function batchOf(cols: [string, Data][]): RecordBatch {
  const fields = cols.map(([n, d]) => new Field(n, d.type as DataType, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: N, nullCount: 0, children: cols.map(([, d]) => d) }));
}

const render = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x instanceof Map ? [...x] : Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));

function checkBuffers(t: Asserts, data: Data, path: string): void {
  for (const [name, buf] of [['offsets', data.valueOffsets], ['values', data.values], ['validity', data.nullBitmap]] as const) {
    const view = buf as ArrayBufferView | undefined;
    if (view === undefined || view === null) continue;
    if (view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) t.fail(`${path}.${name}: not an exact-size buffer`);
  }
  t.equal(data.offset, 0, `${path}: offset 0`);
  data.children.forEach((c, i) => checkBuffers(t, c, `${path}.children[${i}]`));
}

function countNulls(v: Vector): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!v.isValid(i)) n++;
  return n;
}

function checkConcat(t: Asserts, parts: RecordBatch[], label: string): void {
  t.equal(canConcatBatches(parts), true, `${label}: concatenable`);
  const out = concatBatches(parts[0]!.schema, parts);
  const total = parts.reduce((a, b) => a + b.numRows, 0);
  t.equal(out.numRows, total, `${label}: row count`);
  const back = tableFromIPC(tableToIPC(new Table([out]), 'stream'));
  parts[0]!.schema.fields.forEach((field, c) => {
    const want: string[] = [];
    const valid: boolean[] = [];
    for (const p of parts) for (let i = 0; i < p.numRows; i++) { want.push(render(p.getChildAt(c)!.get(i))); valid.push(p.getChildAt(c)!.isValid(i)); }
    const dst = out.getChildAt(c)!;
    t.same([...Array(total).keys()].map((j) => render(dst.get(j))), want, `${label}: ${field.name} values`);
    t.same([...Array(total).keys()].map((j) => dst.isValid(j)), valid, `${label}: ${field.name} validity`);
    if (field.type.typeId !== 1 /* Null */) t.equal(dst.data[0]!.nullCount, countNulls(dst), `${label}: ${field.name} nullCount`);
    if (field.name !== 'dictionary') checkBuffers(t, dst.data[0]!, `${label}: ${field.name}`);
    t.same([...Array(total).keys()].map((j) => render(back.getChildAt(c)!.get(j))), want, `${label}: ${field.name} IPC round trip`);
  });
}

t.test('concatenates every type, whole and sliced at odd offsets', async (t) => {
  const b = batchOf(allColumns());
  checkConcat(t, [b, b], 'two whole batches (second lands at bit 12)');
  checkConcat(t, [b.slice(0, 5), b.slice(5, 12)], 'split at 5');
  checkConcat(t, [b.slice(3, 12), b.slice(1, 10).slice(2, 9), b, b.slice(11, 12)], 'slices of slices');
  checkConcat(t, [b.slice(4, 4), b.slice(0, 3)], 'an empty part');
});

t.test('refuses unions and dictionaries that differ', async (t) => {
  const [, sparse] = unions()[0]!;
  t.equal(canConcat([sparse, sparse]), false, 'sparse union');
  const d1 = makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.of(0), dictionary: vectorFromArray(['a'], new Utf8()) }) as Data;
  const d2 = makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.of(0), dictionary: vectorFromArray(['b'], new Utf8()) }) as Data;
  t.equal(canConcat([d1, d2]), false, 'different dictionaries');
  t.equal(canConcat([d1, d1]), true, 'the same dictionary');
  t.equal(canConcatBatches([batchOf(allColumns())]), false, 'a single batch needs no concat');
});

t.test('copyBits handles every alignment', async (t) => {
  const src = Uint8Array.from([0b10110101, 0b01101100, 0b11110000, 0b00001111]);
  for (const srcPos of [0, 1, 3, 8, 9]) {
    for (const dstPos of [0, 2, 8, 13]) {
      for (const n of [0, 1, 7, 8, 13, 20]) {
        const dst = new Uint8Array(8);
        copyBits(dst, dstPos, src, srcPos, n);
        const bit = (a: Uint8Array, i: number): number => (a[i >> 3]! >> (i & 7)) & 1;
        const got = [...Array(64).keys()].map((i) => bit(dst, i));
        const want = [...Array(64).keys()].map((i) => (i >= dstPos && i < dstPos + n ? bit(src, srcPos + i - dstPos) : 0));
        t.same(got, want, `src ${srcPos} dst ${dstPos} n ${n}`);
      }
    }
  }
});

t.test('encodeConcat writes the same rows as one IPC message, into fresh or recycled buffers', async (t) => {
  const cols = allColumns().filter(([n]) => n !== 'dictionary');
  const b = batchOf(cols);
  const parts = [b.slice(3, 12), b, b.slice(1, 10).slice(2, 9), b.slice(0, 0)];
  t.equal(canEncodeConcat(parts), true);
  t.equal(canEncodeConcat([batchOf(allColumns())]), false, 'dictionaries go through the writer');
  const want = concatBatches(b.schema, parts);
  const schemaMsg = new MessageEncoder(b.schema).schemaBytes();
  const eos = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
  for (const [label, alloc] of [
    ['fresh', (n: number) => new Uint8Array(n)],
    ['recycled', (n: number) => new Uint8Array(new ArrayBuffer(n + 4096)).fill(0xab).subarray(0, n)],
  ] as const) {
    const msg = encodeConcat(parts, alloc);
    const stream = new Uint8Array(schemaMsg.byteLength + msg.byteLength + 8);
    stream.set(schemaMsg, 0);
    stream.set(msg, schemaMsg.byteLength);
    stream.set(eos, schemaMsg.byteLength + msg.byteLength);
    const back = tableFromIPC(stream);
    t.equal(back.numRows, want.numRows, `${label}: rows`);
    b.schema.fields.forEach((f, c) => {
      const got = [...Array(want.numRows).keys()].map((j) => render(back.getChildAt(c)!.get(j)));
      const exp = [...Array(want.numRows).keys()].map((j) => render(want.getChildAt(c)!.get(j)));
      t.same(got, exp, `${label}: ${f.name}`);
    });
  }
});
