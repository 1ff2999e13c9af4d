// Encodes several batches of one schema as ONE Arrow IPC record batch message, copying every
// column straight from the stored batches into the message body: one copy per finalize byte
// (concatBatches + apache-arrow's writer would make two, and leave both behind as garbage).
// The message is written into a buffer the caller provides, so finalize streams can recycle the
// buffers the main thread hands back once DuckDB has read them.
import { Type } from 'apache-arrow';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { batchHeader, type ColumnNode } from '../runtime/wire/encode.js';
import { canConcat, copyBits, copyVariableBytes, fixedChild, hasNulls, listChild, rebaseOffsets, setBits, structChild, variableBytesLength } from './concat.js';

interface Plan {
  readonly nodes: ColumnNode[];
  readonly sizes: number[];
  /** Writes buffer i into its (zeroed) region. */
  readonly fills: ((dst: Uint8Array) => void)[];
}

function add(plan: Plan, size: number, fill: (dst: Uint8Array) => void): void {
  plan.sizes.push(size);
  plan.fills.push(fill);
}

function offsetsOf(parts: readonly Data[], total: number, large: boolean, plan: Plan): void {
  add(plan, (total + 1) * (large ? 8 : 4), (dst) => {
    rebaseOffsets(large ? new BigInt64Array(dst.buffer, dst.byteOffset, total + 1) : new Int32Array(dst.buffer, dst.byteOffset, total + 1), parts);
  });
}

function planColumn(parts: readonly Data[], plan: Plan): void {
  const first = parts[0]!;
  const type = first.type as DataType;
  let total = 0;
  let nulls = 0;
  for (const p of parts) { total += p.length; if (hasNulls(p)) nulls += p.nullCount; }
  if (type.typeId === Type.Null) { plan.nodes.push({ length: total, nullCount: total }); return; }
  plan.nodes.push({ length: total, nullCount: nulls });
  if (nulls === 0) add(plan, 0, () => undefined); // no validity buffer: every row is valid
  else add(plan, (total + 7) >> 3, (dst) => {
    dst.fill(0); // bits are OR-ed into place
    let pos = 0;
    for (const p of parts) {
      if (hasNulls(p)) copyBits(dst, pos, p.nullBitmap as Uint8Array, p.offset, p.length);
      else setBits(dst, pos, p.length);
      pos += p.length;
    }
  });
  switch (type.typeId) {
    case Type.Bool:
      add(plan, (total + 7) >> 3, (dst) => {
        dst.fill(0);
        let pos = 0;
        for (const p of parts) { copyBits(dst, pos, p.values as Uint8Array, p.offset, p.length); pos += p.length; }
      });
      return;
    case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time: case Type.Timestamp:
    case Type.Interval: case Type.Duration: case Type.FixedSizeBinary: {
      const values = first.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
      const rowBytes = first.stride * values.BYTES_PER_ELEMENT;
      add(plan, total * rowBytes, (dst) => {
        let pos = 0;
        for (const p of parts) {
          const v = p.values as ArrayBufferView;
          const n = p.length * rowBytes;
          dst.set(new Uint8Array(v.buffer, v.byteOffset, n), pos);
          pos += n;
        }
      });
      return;
    }
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary: {
      offsetsOf(parts, total, type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary, plan);
      const bytes = variableBytesLength(parts);
      if (type.typeId !== Type.LargeUtf8 && type.typeId !== Type.LargeBinary && bytes > 0x7fffffff) throw new RangeError('concat: more than 2 GiB of variable-width values in one batch');
      add(plan, bytes, (dst) => copyVariableBytes(dst, parts));
      return;
    }
    case Type.List: case Type.LargeList: case Type.Map:
      offsetsOf(parts, total, type.typeId === Type.LargeList, plan);
      planColumn(parts.map(listChild), plan);
      return;
    case Type.FixedSizeList:
      planColumn(parts.map(fixedChild), plan);
      return;
    case Type.Struct:
      first.children.forEach((_, i) => planColumn(parts.map((p) => structChild(p, i)), plan));
      return;
    default:
      throw new TypeError(`ipc-concat: Arrow type ${String(type)} is not supported`);
  }
}

/** True when `encodeConcat` can write these batches (no dictionaries, unions or view types). */
export function canEncodeConcat(batches: readonly RecordBatch[]): boolean {
  if (batches.length === 0) return false;
  const fields = batches[0]!.schema.fields;
  return fields.every((f, i) => !hasDictionary(f.type as DataType) && canConcat(batches.map((b) => structChild(b.data, i))));
}

function hasDictionary(t: DataType): boolean {
  return t.typeId === Type.Dictionary || (t.children ?? []).some((c) => hasDictionary(c.type as DataType));
}

/**
 * One record batch message holding the rows of `batches` in order. `alloc(n)` returns the n-byte
 * (zeroed or recycled) region to write the message into; the returned view is that region.
 */
export function encodeConcat(batches: readonly RecordBatch[], alloc: (bytes: number) => Uint8Array): Uint8Array {
  const plan: Plan = { nodes: [], sizes: [], fills: [] };
  let rows = 0;
  for (const b of batches) rows += b.numRows;
  batches[0]!.schema.fields.forEach((_, i) => planColumn(batches.map((b) => structChild(b.data, i)), plan));
  const { prefix, offsets, bodyLength } = batchHeader(rows, plan.nodes, plan.sizes);
  const msg = alloc(prefix.byteLength + bodyLength);
  msg.set(prefix, 0);
  const body = msg.subarray(prefix.byteLength);
  for (let i = 0; i < plan.sizes.length; i++) {
    const start = offsets[i]!;
    const end = i + 1 < offsets.length ? offsets[i + 1]! : bodyLength;
    const size = plan.sizes[i]!;
    if (size > 0) plan.fills[i]!(body.subarray(start, start + size));
    if (end > start + size) body.fill(0, start + size, end); // padding (recycled buffers hold old bytes)
  }
  return msg;
}
