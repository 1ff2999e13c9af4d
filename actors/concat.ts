// A concatenation kernel over arrow-js Data: many small batches of one schema → one batch.
//
// Finalize output is coalesced with it: DuckDB sinks 2,048-row chunks, and replaying them one per
// finalize tick costs a DuckDB round trip per 2,048 rows. One 122,880-row batch per tick costs one
// round trip per 60 chunks (the extension pages wide batches itself).
//
// Every output buffer is freshly allocated at its exact size with offset 0 (so the result can be
// moved to another thread without detaching anything the inputs share). Values are copied as raw
// bytes, so float bit patterns and NaN payloads are kept. Types the kernel cannot merge without
// changing their meaning (unions, dictionaries with different dictionaries, view types) are
// reported by `canConcat`, and callers then emit the batches one by one.
import { Data, RecordBatch, Type } from 'apache-arrow';
import type { DataType, FixedSizeList, Schema } from 'apache-arrow';

export type Offsets = Int32Array | BigInt64Array;

/** Bit `pos` of a bitmap. */
const bit = (bm: Uint8Array, pos: number): number => (bm[pos >> 3]! >> (pos & 7)) & 1;

/** Copies `n` bits from `src` at `srcPos` into `dst` at `dstPos` (dst bits start out as 0). */
export function copyBits(dst: Uint8Array, dstPos: number, src: Uint8Array, srcPos: number, n: number): void {
  if (n <= 0) return;
  if ((dstPos & 7) === 0 && (srcPos & 7) === 0) {
    // Byte-aligned (every DuckDB chunk is 2,048 rows): whole bytes, then the tail bits.
    const bytes = n >> 3;
    dst.set(src.subarray(srcPos >> 3, (srcPos >> 3) + bytes), dstPos >> 3);
    for (let i = bytes << 3; i < n; i++) if (bit(src, srcPos + i)) dst[(dstPos + i) >> 3]! |= 1 << ((dstPos + i) & 7);
    return;
  }
  for (let i = 0; i < n; i++) if (bit(src, srcPos + i)) dst[(dstPos + i) >> 3]! |= 1 << ((dstPos + i) & 7);
}

/** Sets bits [pos, pos + n) to 1. */
export function setBits(dst: Uint8Array, pos: number, n: number): void {
  let i = 0;
  for (; i < n && ((pos + i) & 7) !== 0; i++) dst[(pos + i) >> 3]! |= 1 << ((pos + i) & 7);
  const full = (n - i) >> 3;
  if (full > 0) { dst.fill(0xff, (pos + i) >> 3, ((pos + i) >> 3) + full); i += full << 3; }
  for (; i < n; i++) dst[(pos + i) >> 3]! |= 1 << ((pos + i) & 7);
}

export function hasNulls(d: Data): boolean {
  const bm = d.nullBitmap as Uint8Array | undefined;
  return d.nullCount > 0 && bm !== undefined && bm !== null && bm.byteLength > 0;
}

/** True when every column type of the parts can be concatenated by `concatData`. */
export function canConcat(parts: readonly Data[]): boolean {
  const first = parts[0];
  if (!first) return false;
  const t = first.type as DataType;
  switch (t.typeId) {
    case Type.Null: case Type.Bool: case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time:
    case Type.Timestamp: case Type.Interval: case Type.Duration: case Type.FixedSizeBinary:
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
      return true;
    case Type.Dictionary:
      // Indices can be appended only when every part points into the same dictionary.
      return parts.every((p) => p.dictionary === first.dictionary);
    case Type.List: case Type.LargeList: case Type.Map:
      return canConcat(parts.map((p) => listChild(p)));
    case Type.FixedSizeList:
      return canConcat(parts.map((p) => fixedChild(p)));
    case Type.Struct:
      return first.children.every((_, i) => canConcat(parts.map((p) => structChild(p, i))));
    default:
      return false;
  }
}

/** The child rows a list Data addresses: [offsets[0], offsets[length]). */
export function listChild(d: Data): Data {
  const offs = d.valueOffsets as Offsets;
  const s = Number(offs[0]);
  const e = Number(offs[d.length]);
  const c = d.children[0]!;
  return s === 0 && e === c.length ? c : c.slice(s, e - s);
}

export function fixedChild(d: Data): Data {
  const n = d.length * (d.type as FixedSizeList).listSize;
  const c = d.children[0]!;
  return c.length === n ? c : c.slice(0, n);
}

export function structChild(d: Data, i: number): Data {
  const c = d.children[i]!;
  return c.length === d.length ? c : c.slice(0, d.length);
}

function validity(parts: readonly Data[], total: number): { bitmap: Uint8Array; nullCount: number } {
  let nulls = 0;
  for (const p of parts) if (hasNulls(p)) nulls += p.nullCount;
  if (nulls === 0) return { bitmap: new Uint8Array(0), nullCount: 0 };
  const out = new Uint8Array((total + 7) >> 3);
  let pos = 0;
  for (const p of parts) {
    if (hasNulls(p)) copyBits(out, pos, p.nullBitmap as Uint8Array, p.offset, p.length);
    else setBits(out, pos, p.length);
    pos += p.length;
  }
  return { bitmap: out, nullCount: nulls };
}

/** Raw bytes of the first `n` elements of a fixed-width values array. */
function rawBytes(values: ArrayBufferView, bytes: number): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, bytes);
}

function concatFixed(parts: readonly Data[], total: number): ArrayBufferView {
  const first = parts[0]!;
  const values = first.values as ArrayBufferView & { BYTES_PER_ELEMENT: number; constructor: new (b: ArrayBuffer) => ArrayBufferView };
  const rowBytes = first.stride * values.BYTES_PER_ELEMENT;
  const buf = new ArrayBuffer(total * rowBytes);
  const dst = new Uint8Array(buf);
  let pos = 0;
  for (const p of parts) {
    const n = p.length * rowBytes;
    dst.set(rawBytes(p.values as ArrayBufferView, n), pos);
    pos += n;
  }
  return new values.constructor(buf);
}

function concatBoolValues(parts: readonly Data[], total: number): Uint8Array {
  const out = new Uint8Array((total + 7) >> 3);
  let pos = 0;
  for (const p of parts) { copyBits(out, pos, p.values as Uint8Array, p.offset, p.length); pos += p.length; }
  return out;
}

/**
 * Writes the parts' offsets into `out` (total rows + 1 entries), rebased so each part continues
 * where the last ended. Returns the bytes of values they span.
 */
export function rebaseOffsets(out: Offsets, parts: readonly Data[]): number {
  const large = out instanceof BigInt64Array;
  out[0] = large ? 0n : (0 as never);
  let row = 0;
  let base = 0;
  for (const p of parts) {
    const offs = p.valueOffsets as Offsets;
    const start = Number(offs[0]);
    if (large) {
      const src = offs as BigInt64Array;
      const shift = BigInt(base - start);
      for (let i = 1; i <= p.length; i++) out[row + i] = src[i]! + shift;
    } else {
      const o = out as Int32Array;
      const src = offs as Int32Array;
      const shift = base - start;
      for (let i = 1; i <= p.length; i++) o[row + i] = src[i]! + shift;
    }
    row += p.length;
    base += Number(offs[p.length]) - start;
  }
  return base;
}

/** New offsets for the concatenated rows (see rebaseOffsets). */
function concatOffsets(parts: readonly Data[], total: number, large: boolean): Offsets {
  const out = large ? new BigInt64Array(total + 1) : new Int32Array(total + 1);
  const bytes = rebaseOffsets(out, parts);
  if (!large && bytes > 0x7fffffff) throw new RangeError('concat: more than 2 GiB of variable-width values in one batch');
  return out;
}

/** Bytes of variable-width values (utf8/binary) the parts' rows span. */
export function variableBytesLength(parts: readonly Data[]): number {
  let n = 0;
  for (const p of parts) { const o = p.valueOffsets as Offsets; n += Number(o[p.length]) - Number(o[0]); }
  return n;
}

/** Copies the parts' variable-width values into `dst`, back to back. */
export function copyVariableBytes(dst: Uint8Array, parts: readonly Data[]): void {
  let pos = 0;
  for (const p of parts) {
    const o = p.valueOffsets as Offsets;
    const s = Number(o[0]);
    const e = Number(o[p.length]);
    dst.set((p.values as Uint8Array).subarray(s, e), pos);
    pos += e - s;
  }
}

function concatBytes(parts: readonly Data[]): Uint8Array {
  const out = new Uint8Array(variableBytesLength(parts));
  copyVariableBytes(out, parts);
  return out;
}

type Buffers = ConstructorParameters<typeof Data>[4];
const data = (type: DataType, length: number, nullCount: number, buffers: unknown[], children: Data[] = [], dictionary?: Data['dictionary']): Data =>
  new Data(type, 0, length, nullCount, buffers as unknown as Buffers, children, dictionary);

/** The parts (same type; check `canConcat` first) as one Data with offset 0. */
export function concatData(parts: readonly Data[]): Data {
  const first = parts[0]!;
  const type = first.type as DataType;
  let total = 0;
  for (const p of parts) total += p.length;
  if (type.typeId === Type.Null) return new Data(type, 0, total, total);
  const { bitmap, nullCount } = validity(parts, total);
  switch (type.typeId) {
    case Type.Bool:
      return data(type, total, nullCount, [undefined, concatBoolValues(parts, total), bitmap, undefined]);
    case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time: case Type.Timestamp:
    case Type.Interval: case Type.Duration: case Type.FixedSizeBinary:
      return data(type, total, nullCount, [undefined, concatFixed(parts, total), bitmap, undefined]);
    case Type.Dictionary:
      return data(type, total, nullCount, [undefined, concatFixed(parts, total), bitmap, undefined], [], first.dictionary);
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary: {
      const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
      return data(type, total, nullCount, [concatOffsets(parts, total, large), concatBytes(parts), bitmap, undefined]);
    }
    case Type.List: case Type.LargeList: case Type.Map: {
      const offsets = concatOffsets(parts, total, type.typeId === Type.LargeList);
      return data(type, total, nullCount, [offsets, undefined, bitmap, undefined], [concatData(parts.map(listChild))]);
    }
    case Type.FixedSizeList:
      return data(type, total, nullCount, [undefined, undefined, bitmap, undefined], [concatData(parts.map(fixedChild))]);
    case Type.Struct:
      return data(type, total, nullCount, [undefined, undefined, bitmap, undefined], first.children.map((_, i) => concatData(parts.map((p) => structChild(p, i)))));
    default:
      throw new TypeError(`concat: Arrow type ${String(type)} is not supported`);
  }
}

/** True when the batches' columns can be merged into one batch. */
export function canConcatBatches(batches: readonly RecordBatch[]): boolean {
  if (batches.length < 2) return false;
  const cols = batches[0]!.data.children.length;
  for (let i = 0; i < cols; i++) if (!canConcat(batches.map((b) => b.data.children[i]!))) return false;
  return true;
}

/** One batch of `schema` holding the rows of `batches` in order (their schemas must match it). */
export function concatBatches(schema: Schema, batches: readonly RecordBatch[]): RecordBatch {
  let total = 0;
  for (const b of batches) total += b.numRows;
  const children = schema.fields.map((_, i) => concatData(batches.map((b) => structChild(b.data, i))));
  const struct = data(batches[0]!.data.type, total, 0, [undefined, undefined, new Uint8Array(0), undefined], children);
  return new RecordBatch(schema, struct as Data<RecordBatch['data']['type']>);
}
