// A gather ("take") kernel over arrow-js Data: builds a new batch holding rows `indices` of the input.
//
// Every output buffer is freshly allocated at its exact size (byteOffset 0, byteLength equal to its
// ArrayBuffer), so a caller can later move a taken batch to another thread by transferring its buffers
// without detaching anything shared. The one exception is the dictionary of a dictionary column, which is
// kept as is (it is usually shared by many batches; only its indices are gathered).
//
// Fixed-width values are copied as raw 8/16/32-bit words: that keeps float bit patterns (NaN payloads)
// intact and avoids a BigInt allocation per 64-bit value.
import { Data, RecordBatch, Type, UnionMode } from 'apache-arrow';
import type { DataType, DenseUnion, FixedSizeList, Vector } from 'apache-arrow';
import { bitAt, hasNulls, type Offsets } from './bits.js';

type Buffers = [Offsets | undefined, ArrayBufferView | undefined, Uint8Array, Int8Array | undefined];
type TypedArrayCtor = new (buffer: ArrayBuffer) => ArrayBufferView;

function makeOut(type: DataType, length: number, nullCount: number, buffers: Buffers, children: Data[] = [], dictionary?: Vector): Data {
  return new Data(type, 0, length, nullCount, buffers as unknown as ConstructorParameters<typeof Data>[4], children, dictionary);
}

/** Gathers the validity bits. Returns an empty bitmap when the input has no NULLs (what makeData does too). */
function takeValidity(data: Data, idx: Uint32Array): { bitmap: Uint8Array; nullCount: number } {
  if (!hasNulls(data)) return { bitmap: new Uint8Array(0), nullCount: 0 };
  const src = data.nullBitmap as Uint8Array;
  const off = data.offset;
  const out = new Uint8Array((idx.length + 7) >> 3);
  let valid = 0;
  for (let j = 0; j < idx.length; j++) {
    if (bitAt(src, off + idx[j]) === 1) {
      out[j >> 3] |= 1 << (j & 7);
      valid++;
    }
  }
  return { bitmap: valid === idx.length ? new Uint8Array(0) : out, nullCount: idx.length - valid };
}

/** Bit-packed bools: the values bitmap is addressed with `data.offset`, like the validity bitmap. */
function takeBits(values: Uint8Array, off: number, idx: Uint32Array): Uint8Array {
  const out = new Uint8Array((idx.length + 7) >> 3);
  for (let j = 0; j < idx.length; j++) if (bitAt(values, off + idx[j]) === 1) out[j >> 3] |= 1 << (j & 7);
  return out;
}

/** Fixed-width rows of `elems` elements each; returns a new array of the input's own typed-array class. */
function takeFixed(values: ArrayBufferView & { length: number; BYTES_PER_ELEMENT: number }, elems: number, idx: Uint32Array): ArrayBufferView {
  const rowBytes = values.BYTES_PER_ELEMENT * elems;
  const buf = new ArrayBuffer(idx.length * rowBytes);
  // Widest word that divides the row and matches the source alignment.
  const word = rowBytes % 4 === 0 && values.byteOffset % 4 === 0 ? 4 : rowBytes % 2 === 0 && values.byteOffset % 2 === 0 ? 2 : 1;
  const W = word === 4 ? Uint32Array : word === 2 ? Uint16Array : Uint8Array;
  const src = new W(values.buffer as ArrayBuffer, values.byteOffset, Math.floor(values.byteLength / word));
  const dst = new W(buf);
  const per = rowBytes / word;
  if (per === 1) {
    for (let j = 0; j < idx.length; j++) dst[j] = src[idx[j]];
  } else if (per === 2) {
    for (let j = 0; j < idx.length; j++) { const s = idx[j] * 2; dst[2 * j] = src[s]; dst[2 * j + 1] = src[s + 1]; }
  } else {
    for (let j = 0, d = 0; j < idx.length; j++) {
      const s = idx[j] * per;
      for (let w = 0; w < per; w++) dst[d++] = src[s + w];
    }
  }
  return new (values.constructor as TypedArrayCtor)(buf);
}

/** New offsets for the gathered rows of an offsets-based layout, plus the total child length. */
function takeOffsets(offs: Offsets, idx: Uint32Array): { offsets: Offsets; total: number; starts: Float64Array } {
  const large = offs instanceof BigInt64Array;
  const starts = new Float64Array(idx.length + 1); // source start per row, then the output offsets
  const out = large ? new BigInt64Array(idx.length + 1) : new Int32Array(idx.length + 1);
  let pos = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j];
    const s = large ? Number(offs[i]) : (offs[i] as number);
    const e = large ? Number(offs[i + 1]) : (offs[i + 1] as number);
    starts[j] = s;
    pos += e - s;
    if (large) (out as BigInt64Array)[j + 1] = BigInt(pos);
    else (out as Int32Array)[j + 1] = pos;
  }
  return { offsets: out, total: pos, starts };
}

function rowLength(offsets: Offsets, j: number): number {
  return Number(offsets[j + 1]) - Number(offsets[j]);
}

/** utf8 / binary (and large variants): copy each value's bytes into one exact-size buffer. */
function takeBytes(data: Data, idx: Uint32Array): { offsets: Offsets; values: Uint8Array } {
  const { offsets, total, starts } = takeOffsets(data.valueOffsets as Offsets, idx);
  const src = data.values as Uint8Array;
  const out = new Uint8Array(total);
  for (let j = 0, pos = 0; j < idx.length; j++) {
    const s = starts[j];
    const len = rowLength(offsets, j);
    if (len <= 16) for (let k = 0; k < len; k++) out[pos + k] = src[s + k]; // short strings: avoid subarray objects
    else out.set(src.subarray(s, s + len), pos);
    pos += len;
  }
  return { offsets, values: out };
}

/** list / large_list / map: new offsets, and the child gathered at every referenced position. */
function takeNested(data: Data, idx: Uint32Array): { offsets: Offsets; child: Data } {
  const { offsets, total, starts } = takeOffsets(data.valueOffsets as Offsets, idx);
  const childIdx = new Uint32Array(total);
  for (let j = 0, p = 0; j < idx.length; j++) {
    const s = starts[j];
    for (let k = 0, len = rowLength(offsets, j); k < len; k++) childIdx[p++] = s + k;
  }
  return { offsets, child: takeData(data.children[0], childIdx) };
}

function takeDenseUnion(data: Data, idx: Uint32Array): Data {
  const type = data.type as DenseUnion;
  const typeIds = data.typeIds as Int8Array;
  const offs = data.valueOffsets as Int32Array;
  const outIds = new Int8Array(idx.length);
  const outOffs = new Int32Array(idx.length);
  const perChild: number[][] = data.children.map(() => []);
  for (let j = 0; j < idx.length; j++) {
    const id = typeIds[idx[j]];
    const c = type.typeIdToChildIndex[id];
    outIds[j] = id;
    outOffs[j] = perChild[c].length; // children are compacted: the k-th row of a type goes to slot k
    perChild[c].push(offs[idx[j]]);
  }
  const children = data.children.map((ch, c) => takeData(ch, Uint32Array.from(perChild[c])));
  return makeOut(type, idx.length, -1, [outOffs, undefined, new Uint8Array(0), outIds], children);
}

/** Rows `idx` of `data` (relative to the Data, i.e. respecting its offset) as a new Data with offset 0. */
export function takeData(data: Data, idx: Uint32Array): Data {
  const type = data.type as DataType;
  const k = idx.length;
  if (type.typeId === Type.Null) return new Data(type, 0, k, k);
  if (type.typeId === Type.Union) {
    if ((type as DenseUnion).mode === UnionMode.Dense) return takeDenseUnion(data, idx);
    // Sparse: every child has a row per union row, so each is gathered with the same indices.
    const ids = takeFixed(data.typeIds as Int8Array, 1, idx) as Int8Array;
    return makeOut(type, k, -1, [undefined, undefined, new Uint8Array(0), ids], data.children.map((c) => takeData(c, idx)));
  }
  const { bitmap, nullCount } = takeValidity(data, idx);
  switch (type.typeId) {
    case Type.Bool:
      return makeOut(type, k, nullCount, [undefined, takeBits(data.values as Uint8Array, data.offset, idx), bitmap, undefined]);
    case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time: case Type.Timestamp:
    case Type.Interval: case Type.Duration: case Type.FixedSizeBinary:
      return makeOut(type, k, nullCount, [undefined, takeFixed(data.values as Uint8Array, data.stride, idx), bitmap, undefined]);
    case Type.Dictionary:
      // Keep the dictionary (often shared by many batches); gather the indices only.
      return makeOut(type, k, nullCount, [undefined, takeFixed(data.values as Uint8Array, 1, idx), bitmap, undefined], [], data.dictionary);
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary: {
      const { offsets, values } = takeBytes(data, idx);
      return makeOut(type, k, nullCount, [offsets, values, bitmap, undefined]);
    }
    case Type.List: case Type.LargeList: case Type.Map: {
      const { offsets, child } = takeNested(data, idx);
      return makeOut(type, k, nullCount, [offsets, undefined, bitmap, undefined], [child]);
    }
    case Type.FixedSizeList: {
      const size = (type as FixedSizeList).listSize;
      const childIdx = new Uint32Array(k * size);
      for (let j = 0, p = 0; j < k; j++) for (let e = 0, s = idx[j] * size; e < size; e++) childIdx[p++] = s + e;
      return makeOut(type, k, nullCount, [undefined, undefined, bitmap, undefined], [takeData(data.children[0], childIdx)]);
    }
    case Type.Struct:
      return makeOut(type, k, nullCount, [undefined, undefined, bitmap, undefined], data.children.map((c) => takeData(c, idx)));
    default:
      throw new Error(`takeRows: Arrow type ${type} is not supported`);
  }
}

/** A new batch with rows `indices` of `batch`, in that order (indices may repeat). Same schema and metadata. */
export function takeRows(batch: RecordBatch, indices: Uint32Array): RecordBatch {
  const children = batch.data.children.map((c) => takeData(c, indices));
  const data = makeOut(batch.data.type, indices.length, 0, [undefined, undefined, new Uint8Array(0), undefined], children);
  return new RecordBatch(batch.schema, data as Data<typeof batch.data.type>, new Map(batch.metadata));
}
