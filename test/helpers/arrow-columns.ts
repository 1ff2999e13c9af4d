// Test data: one N-row column of every Arrow type DuckDB exports (values, NULLs, edge cases), and
// the oracles the kernel tests compare with (value rendering, exact-size fresh buffers).
import {
  Binary, Bool, Data, DataType, DateDay, DateMillisecond, Decimal, DenseUnion, Dictionary, DurationMicrosecond, Field,
  FixedSizeBinary, FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, IntervalDayTime, IntervalMonthDayNano,
  IntervalYearMonth, LargeBinary, LargeList, LargeUtf8, List, Map_, Null, RecordBatch, Schema, SparseUnion, Struct,
  TimeMicrosecond, TimeMillisecond, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond,
  Uint16, Uint32, Uint64, Uint8, Utf8, Vector, makeData, vectorFromArray,
} from 'apache-arrow';

/** The assertions these helpers use (tap's subtest type is a deep generic; this is all we need). */
export interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): boolean;
  same(found: unknown, wanted: unknown, message: string): boolean;
  fail(message: string): boolean;
}

export const N = 12;
export const col = (v: unknown[], type: DataType): Data => vectorFromArray(v as never[], type as never).data[0] as Data;
export const withNulls = <T>(f: (i: number) => T): (T | null)[] => [...Array(N)].map((_, i) => (i % 4 === 2 ? null : f(i)));
export function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array(((valid.length + 63) & ~63) >> 3);
  valid.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7); });
  return out;
}
export const valid = [...Array(N)].map((_, i) => i % 4 !== 2);
export const big = (type: DataType, f: (i: number) => bigint): Data =>
  makeData({ type: type as TimestampNanosecond, data: BigInt64Array.from([...Array(N)].map((_, i) => f(i))), nullBitmap: bitmap(valid) }) as Data;

export function unions(): [string, Data][] {
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

/** One column of every Arrow type DuckDB exports (unions are separate: not every kernel takes them). */
export function allColumns(): [string, Data][] {
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

export function batchOf(cols: [string, Data][]): RecordBatch {
  const fields = cols.map(([n, d]) => new Field(n, d.type as DataType, true));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: N, nullCount: 0, children: cols.map(([, d]) => d) }));
}

/** Value rendering used as the oracle: arrow-js getters on the input vs on the output. */
export const render = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x instanceof Map ? [...x] : Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));

/** Every buffer below `data` (dictionaries excluded: they are shared on purpose) is fresh and exact-size. */
export function checkBuffers(t: Asserts, data: Data, path: string): void {
  for (const [name, buf] of [['offsets', data.valueOffsets], ['values', data.values], ['validity', data.nullBitmap], ['typeIds', data.typeIds]] as const) {
    const view = buf as ArrayBufferView | undefined;
    if (view === undefined || view === null) continue;
    if (view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) {
      t.fail(`${path}.${name}: byteOffset ${view.byteOffset}, byteLength ${view.byteLength} of ${view.buffer.byteLength}`);
    }
  }
  t.equal(data.offset, 0, `${path}: offset 0`);
  data.children.forEach((c, i) => checkBuffers(t, c, `${path}.children[${i}]`));
}

export function countNulls(v: Vector): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!v.isValid(i)) n++;
  return n;
}
