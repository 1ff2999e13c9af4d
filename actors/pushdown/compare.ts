// Column-at-a-time comparison of one column against one constant, in DuckDB order (filters spec §9.2).
//
// Each kernel walks the typed arrays directly and writes TRUE/FALSE for every row, ignoring NULLs; the
// caller overlays NULL afterwards. Per row it computes "less / equal / greater" and maps it through a
// 3-entry table built from the operator, so one loop per physical type serves all six operators.
import type { Data } from 'apache-arrow';
import { int64Halves, type Offsets } from './bits.js';
import type { Phys, Prepared } from './coerce.js';
import type { CompareOp } from './program.js';
import { FALSE, TRUE } from './tristate.js';

/** Writes TRUE/FALSE per row of `data` (NULL rows get an arbitrary value the caller overwrites). */
export type ValueKernel = (data: Data, out: Uint8Array) => void;

/** [result if column < constant, if equal, if greater]. The `distinct` ops order like ne/eq on non-NULLs. */
export function orderTable(op: CompareOp): readonly [number, number, number] {
  switch (op) {
    case 'eq': case 'not_distinct_from': return [FALSE, TRUE, FALSE];
    case 'ne': case 'distinct_from': return [TRUE, FALSE, TRUE];
    case 'lt': return [TRUE, FALSE, FALSE];
    case 'le': return [TRUE, TRUE, FALSE];
    case 'gt': return [FALSE, FALSE, TRUE];
    case 'ge': return [FALSE, TRUE, TRUE];
  }
}

/**
 * Numbers, including floats. DuckDB order: NaN equals NaN and is above everything (+inf included);
 * -0.0 equals 0.0. With a non-NaN constant b, a NaN row fails `<`, `>` and `===`, which lands on "greater".
 */
function numKernel(b: number, [lt, eq, gt]: readonly number[]): ValueKernel {
  if (b !== b) {
    return (data, out) => {
      const v = data.values as Float64Array; // any number typed array; read-only
      for (let i = 0; i < out.length; i++) out[i] = v[i] !== v[i] ? eq : lt;
    };
  }
  return (data, out) => {
    const v = data.values as Float64Array;
    for (let i = 0; i < out.length; i++) {
      const a = v[i];
      out[i] = a < b ? lt : a > b ? gt : a === b ? eq : gt;
    }
  };
}

/** 64-bit integers compared on their 32-bit halves (no BigInt per row). */
function i64Kernel(b: bigint, signed: boolean, [lt, eq, gt]: readonly number[]): ValueKernel {
  const bl = Number(BigInt.asUintN(32, b));
  const bh = signed ? Number(BigInt.asIntN(32, b >> 32n)) : Number(BigInt.asUintN(32, b >> 32n));
  return (data, out) => {
    const { lo, hi } = int64Halves(data.values as BigInt64Array, signed);
    for (let i = 0; i < out.length; i++) {
      const ah = hi[2 * i + 1];
      if (ah !== bh) { out[i] = ah < bh ? lt : gt; continue; }
      const al = lo[2 * i];
      out[i] = al < bl ? lt : al > bl ? gt : eq;
    }
  };
}

/** Decimals: two's-complement little-endian words; the top word is signed, the others unsigned. */
function decKernel(b: bigint, words: number, [lt, eq, gt]: readonly number[]): ValueKernel {
  const bw = new Uint32Array(words);
  for (let k = 0; k < words; k++) bw[k] = Number(BigInt.asUintN(32, b >> BigInt(32 * k)));
  const top = bw[words - 1] | 0;
  return (data, out) => {
    const v = data.values as Uint32Array;
    for (let i = 0, base = 0; i < out.length; i++, base += words) {
      const ah = v[base + words - 1] | 0;
      if (ah !== top) { out[i] = ah < top ? lt : gt; continue; }
      let r = eq;
      for (let k = words - 2; k >= 0; k--) {
        const a = v[base + k];
        if (a !== bw[k]) { r = a < bw[k] ? lt : gt; break; }
      }
      out[i] = r;
    }
  };
}

function boolKernel(b: boolean, [lt, eq, gt]: readonly number[]): ValueKernel {
  const bb = b ? 1 : 0;
  return (data, out) => {
    const v = data.values as Uint8Array;
    const off = data.offset; // bool values are bit-packed and not pre-sliced
    for (let i = 0; i < out.length; i++) {
      const p = off + i;
      const a = (v[p >> 3] >> (p & 7)) & 1;
      out[i] = a < bb ? lt : a > bb ? gt : eq;
    }
  };
}

/** memcmp of `bytes[s, s+len)` against `b`, shorter prefix first: negative, zero or positive. */
export function compareBytes(bytes: Uint8Array, s: number, len: number, b: Uint8Array): number {
  const m = len < b.length ? len : b.length;
  for (let k = 0; k < m; k++) {
    const d = bytes[s + k] - b[k];
    if (d !== 0) return d;
  }
  return len - b.length;
}

/** Variable-length utf8/binary: bytewise unsigned order, which for UTF-8 equals code point order. */
function bytesKernel(b: Uint8Array, [lt, eq, gt]: readonly number[]): ValueKernel {
  const eqOnly = lt === gt; // eq / ne: a length mismatch decides without reading bytes
  return (data, out) => {
    const bytes = data.values as Uint8Array;
    const offs = data.valueOffsets as Offsets;
    const large = offs instanceof BigInt64Array;
    let s = large ? Number(offs[0]) : (offs[0] as number);
    for (let i = 0; i < out.length; i++) {
      const e = large ? Number(offs[i + 1]) : (offs[i + 1] as number);
      const len = e - s;
      if (eqOnly && len !== b.length) out[i] = lt;
      else {
        const c = compareBytes(bytes, s, len, b);
        out[i] = c < 0 ? lt : c > 0 ? gt : eq;
      }
      s = e;
    }
  };
}

/** fixed_size_binary (e.g. arrow.uuid, big-endian bytes): bytewise unsigned. */
function fixedKernel(b: Uint8Array, width: number, [lt, eq, gt]: readonly number[]): ValueKernel {
  return (data, out) => {
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < out.length; i++) {
      const c = compareBytes(bytes, i * width, width, b);
      out[i] = c < 0 ? lt : c > 0 ? gt : eq;
    }
  };
}

/** The kernel for `column op constant` on a column stored as `phys`. `lit` must not be `null` (the caller folds it). */
export function compareKernel(phys: Phys, lit: Prepared, op: CompareOp): ValueKernel {
  const tbl = orderTable(op);
  switch (lit.kind) {
    case 'null': throw new Error('compareKernel: NULL constants are folded by the caller');
    case 'below': return (_d, out) => void out.fill(tbl[2]); // every value is greater than the constant
    case 'above': return (_d, out) => void out.fill(tbl[0]);
    default: break;
  }
  switch (phys.kind) {
    case 'num': return numKernel((lit as { v: number }).v, tbl);
    case 'i64': return i64Kernel((lit as { v: bigint }).v, phys.signed, tbl);
    case 'dec': return decKernel((lit as { v: bigint }).v, phys.words, tbl);
    case 'bool': return boolKernel((lit as { v: boolean }).v, tbl);
    case 'bytes': return bytesKernel((lit as { v: Uint8Array }).v, tbl);
    case 'fixed': return fixedKernel((lit as { v: Uint8Array }).v, phys.width, tbl);
  }
}
