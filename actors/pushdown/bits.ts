// Low-level access to arrow-js `Data` buffers, shared by the evaluator and the gather kernel.
//
// arrow-js conventions this file encodes (apache-arrow 21, see `Data.slice`):
// - `values` and `valueOffsets` are already sliced: element i of the Data is `values[i * stride]`.
// - the validity bitmap and bit-packed bool `values` are NOT sliced: row i is bit `data.offset + i`.
// - struct / fixed-size-list children are sliced along with the parent, so child row i ↔ parent row i
//   (times the list size); list/map children are addressed through `valueOffsets`.
// - a Data without nulls may carry an empty (or absent) bitmap; `Null` Data has no bitmap but every row is NULL.
import { Type } from 'apache-arrow';
import type { Data } from 'apache-arrow';

/** True when some row of `data` may be NULL according to its own bitmap (ancestors not considered). */
export function hasNulls(data: Data): boolean {
  if (data.typeId === Type.Null) return data.length > 0;
  const bm = data.nullBitmap as Uint8Array | undefined;
  return bm !== undefined && bm !== null && bm.length > 0 && data.nullCount > 0;
}

/** Bit `data.offset + i` of the validity bitmap. Callers check `hasNulls` first. */
export function bitAt(bitmap: Uint8Array, pos: number): number {
  return (bitmap[pos >> 3] >> (pos & 7)) & 1;
}

/**
 * One byte per row: 1 = valid, 0 = NULL. Returns null when every row is valid, so the common no-NULL
 * case costs nothing. Expanding the bitmap once keeps the per-type kernels free of bit twiddling.
 */
export function validityBytes(data: Data): Uint8Array | null {
  if (!hasNulls(data)) return null;
  const n = data.length;
  const out = new Uint8Array(n);
  if (data.typeId === Type.Null) return out;
  const bm = data.nullBitmap as Uint8Array;
  const off = data.offset;
  if ((off & 7) === 0) {
    // Byte-aligned: expand whole bytes at a time.
    let byte = off >> 3;
    let i = 0;
    for (; i + 8 <= n; i += 8, byte++) {
      const b = bm[byte];
      out[i] = b & 1; out[i + 1] = (b >> 1) & 1; out[i + 2] = (b >> 2) & 1; out[i + 3] = (b >> 3) & 1;
      out[i + 4] = (b >> 4) & 1; out[i + 5] = (b >> 5) & 1; out[i + 6] = (b >> 6) & 1; out[i + 7] = (b >> 7) & 1;
    }
    for (let k = 0; i < n; i++, k++) out[i] = (bm[byte] >> k) & 1;
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = bitAt(bm, off + i);
  return out;
}

/** Row-wise AND of two optional validity arrays (null = all valid). May return one of its inputs. */
export function andValidity(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (a === null) return b;
  if (b === null) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

/**
 * 64-bit integer columns viewed as 32-bit halves (little-endian): comparing `hi` then `lo` as plain
 * numbers avoids allocating a BigInt per row, which is what reading a BigInt64Array element costs.
 */
export function int64Halves(values: BigInt64Array | BigUint64Array, signed: boolean): { lo: Uint32Array; hi: Int32Array | Uint32Array } {
  const lo = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const hi = signed ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : lo;
  return { lo, hi };
}

/** Reads a value offset (Int32Array for utf8/binary/list, BigInt64Array for the large variants) as a number. */
export type Offsets = Int32Array | BigInt64Array;
export function offsetAt(offsets: Offsets, i: number): number {
  return typeof offsets[i] === 'bigint' ? Number(offsets[i]) : (offsets[i] as number);
}
