// Set membership (`IN`) and substring kernels. Like compare.ts they write TRUE/FALSE per row and leave
// NULL handling to the caller.
import type { DataType } from 'apache-arrow';
import { Buffer } from 'node:buffer';
import { int64Halves, type Offsets } from './bits.js';
import { physOf, prepareLiteral, valueTypeOf } from './coerce.js';
import type { ValueKernel } from './compare.js';
import { wordsToBigInt } from './literal.js';
import type { LiteralValue } from './program.js';
import { FALSE, TRUE } from './tristate.js';

export interface SetKernel {
  readonly kernel: ValueKernel;
  /** The set holds a NULL element: a non-matching row then yields NULL instead of FALSE. */
  readonly hasNull: boolean;
  /** The set has no elements at all: the result is FALSE even for a NULL row. */
  readonly empty: boolean;
}

/** Byte strings keyed as latin1 JS strings: one char per byte, so equal keys ⇔ equal bytes. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Builds the membership kernel for a column of type `colType` and constants of type `valueType`.
 * JS `Set` uses SameValueZero, which is DuckDB's float equality (NaN = NaN, -0 = 0).
 */
export function inKernel(colType: DataType, valueType: DataType, values: readonly LiteralValue[]): SetKernel {
  const phys = physOf(valueTypeOf(colType));
  let hasNull = false;
  const nums = new Set<number>();
  const bigs = new Set<bigint>();
  const keys = new Set<string>();
  const bools = [false, false];
  const members: Uint8Array[] = []; // distinct byte-string members, in `keys` too
  for (const v of values) {
    const p = prepareLiteral(colType, valueType, v);
    switch (p.kind) {
      case 'null': hasNull = true; break;
      case 'below': case 'above': break; // outside the column's range: can never match
      case 'num': nums.add(p.v); break;
      case 'big':
        // 64-bit ints in the safe range go to the number set so most rows never build a BigInt.
        if (phys.kind === 'i64' && p.v >= BigInt(Number.MIN_SAFE_INTEGER) && p.v <= BigInt(Number.MAX_SAFE_INTEGER)) nums.add(Number(p.v));
        else bigs.add(p.v);
        break;
      case 'bool': bools[p.v ? 1 : 0] = true; break;
      case 'bytes': {
        const key = latin1(p.v);
        if (!keys.has(key)) { keys.add(key); members.push(p.v); }
        break;
      }
    }
  }
  const empty = values.length === 0;
  let kernel: ValueKernel;
  switch (phys.kind) {
    case 'num':
      kernel = (data, out) => {
        const v = data.values as Float64Array;
        for (let i = 0; i < out.length; i++) out[i] = nums.has(v[i]) ? TRUE : FALSE;
      };
      break;
    case 'i64': {
      const signed = phys.signed;
      kernel = (data, out) => {
        const raw = data.values as BigInt64Array;
        const { lo, hi } = int64Halves(raw, signed);
        for (let i = 0; i < out.length; i++) {
          const h = hi[2 * i + 1];
          const safe = signed ? h >= -0x200000 && h < 0x200000 : h < 0x200000; // |value| < 2^53
          const hit = safe ? nums.has(h * 4294967296 + lo[2 * i]) : bigs.size > 0 && bigs.has(raw[i]);
          out[i] = hit ? TRUE : FALSE;
        }
      };
      break;
    }
    case 'dec': {
      const w = phys.words;
      kernel = (data, out) => {
        const v = data.values as Uint32Array;
        for (let i = 0; i < out.length; i++) out[i] = bigs.has(wordsToBigInt(v, i * w, w)) ? TRUE : FALSE;
      };
      break;
    }
    case 'bool':
      kernel = (data, out) => {
        const v = data.values as Uint8Array;
        for (let i = 0, p = data.offset; i < out.length; i++, p++) out[i] = bools[(v[p >> 3] >> (p & 7)) & 1] ? TRUE : FALSE;
      };
      break;
    case 'bytes':
      kernel = bytesInKernel(members, keys);
      break;
    case 'fixed': {
      const w = phys.width;
      kernel = (data, out) => {
        const buf = bufferOf(data.values as Uint8Array);
        for (let i = 0; i < out.length; i++) out[i] = keys.has(buf.toString('latin1', i * w, (i + 1) * w)) ? TRUE : FALSE;
      };
      break;
    }
  }
  return { kernel, hasNull, empty };
}

/** `bytes[s, s+len)` equals `m` byte for byte. */
function equalAt(bytes: Uint8Array, s: number, len: number, m: Uint8Array): boolean {
  if (len !== m.length) return false;
  for (let k = 0; k < len; k++) if (bytes[s + k] !== m[k]) return false;
  return true;
}

/**
 * utf8/binary membership. Building a JS string key per row is the slow part, so rows are first screened
 * by length (free: it comes from the offsets); small sets are then compared bytewise without any
 * allocation, and only large sets fall back to a hashed latin1 key.
 */
function bytesInKernel(members: readonly Uint8Array[], keys: ReadonlySet<string>): ValueKernel {
  const lengths = new Set(members.map((m) => m.length));
  const small = members.length <= 8;
  return (data, out) => {
    const bytes = data.values as Uint8Array;
    const buf = bufferOf(bytes);
    const offs = data.valueOffsets as Offsets;
    const large = offs instanceof BigInt64Array;
    for (let i = 0; i < out.length; i++) {
      const s = large ? Number(offs[i]) : (offs[i] as number);
      const len = (large ? Number(offs[i + 1]) : (offs[i + 1] as number)) - s;
      let hit = false;
      if (lengths.has(len)) {
        if (small) { for (const m of members) if (equalAt(bytes, s, len, m)) { hit = true; break; } }
        else hit = keys.has(buf.toString('latin1', s, s + len));
      }
      out[i] = hit ? TRUE : FALSE;
    }
  };
}

/** Is `needle` found in `bytes[s, e)` at the position `where` asks for? Byte-exact, no normalization. */
function matchAt(bytes: Uint8Array, s: number, e: number, needle: Uint8Array, where: 'starts_with' | 'ends_with' | 'contains'): boolean {
  const n = needle.length;
  if (n > e - s) return false;
  const tryAt = (p: number): boolean => {
    for (let k = 0; k < n; k++) if (bytes[p + k] !== needle[k]) return false;
    return true;
  };
  if (where === 'starts_with') return tryAt(s);
  if (where === 'ends_with') return tryAt(e - n);
  for (let p = s; p + n <= e; p++) if (tryAt(p)) return true;
  return false;
}

/** `starts_with` / `ends_with` / `contains` on a utf8 or binary column. An empty needle matches every value. */
export function stringMatchKernel(fn: 'starts_with' | 'ends_with' | 'contains', needle: Uint8Array): ValueKernel {
  return (data, out) => {
    const bytes = data.values as Uint8Array;
    const offs = data.valueOffsets as Offsets;
    for (let i = 0; i < out.length; i++) {
      out[i] = matchAt(bytes, Number(offs[i]), Number(offs[i + 1]), needle, fn) ? TRUE : FALSE;
    }
  };
}
