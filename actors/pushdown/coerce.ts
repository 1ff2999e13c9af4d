// Maps a column type to the physical comparison kernel it needs, and turns a constant into a value that
// kernel can compare *exactly*.
//
// DuckDB sends constants already cast to the column's type (filters spec §3.4), so the normal path is an
// identity. The 1.0.0 encoding is less strict, so integer widths, decimal scales and int/float mixes are
// reconciled here — but only when the result stays exact. Anything else is an UnsupportedFilterError,
// which fails a required predicate instead of silently changing its meaning.
import { DataType, DateUnit, TimeUnit, Type } from 'apache-arrow';
import type { Decimal, Dictionary, FixedSizeBinary, Float, Int, Time } from 'apache-arrow';
import { isDecimalValue, UnsupportedFilterError, type LiteralValue } from './program.js';

/** How values of a (non-dictionary) column are stored, i.e. which kernel compares them. */
export type Phys =
  | { readonly kind: 'num' } // number typed array: ≤32-bit ints, float32/64, date32, time32
  | { readonly kind: 'i64'; readonly signed: boolean } // BigInt64Array / BigUint64Array
  | { readonly kind: 'dec'; readonly words: number; readonly scale: number } // Uint32Array, `words` per value
  | { readonly kind: 'bool' } // bit-packed
  | { readonly kind: 'bytes' } // utf8 / binary and their large variants
  | { readonly kind: 'fixed'; readonly width: number }; // fixed_size_binary

/** A constant prepared for a kernel. `below`/`above`: outside the column's range, so the order is known. */
export type Prepared =
  | { readonly kind: 'null' }
  | { readonly kind: 'below' }
  | { readonly kind: 'above' }
  | { readonly kind: 'num'; readonly v: number }
  | { readonly kind: 'big'; readonly v: bigint }
  | { readonly kind: 'bool'; readonly v: boolean }
  | { readonly kind: 'bytes'; readonly v: Uint8Array };

/** The value type behind an optional dictionary encoding (ENUM columns compare by decoded string). */
export function valueTypeOf(type: DataType): DataType {
  return type.typeId === Type.Dictionary ? (type as Dictionary).dictionary : type;
}

export function physOf(type: DataType): Phys {
  switch (type.typeId) {
    case Type.Int:
      return (type as Int).bitWidth === 64 ? { kind: 'i64', signed: (type as Int).isSigned } : { kind: 'num' };
    case Type.Float:
      if ((type as Float).precision === 0) break; // float16 is stored as raw bits; DuckDB never exports it
      return { kind: 'num' };
    case Type.Date:
      return (type as DataType & { unit: DateUnit }).unit === DateUnit.DAY ? { kind: 'num' } : { kind: 'i64', signed: true };
    case Type.Time:
      return (type as Time).bitWidth === 64 ? { kind: 'i64', signed: true } : { kind: 'num' };
    case Type.Timestamp:
    case Type.Duration:
      return { kind: 'i64', signed: true };
    case Type.Decimal:
      return { kind: 'dec', words: (type as Decimal).bitWidth / 32, scale: (type as Decimal).scale };
    case Type.Bool:
      return { kind: 'bool' };
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      return { kind: 'bytes' };
    case Type.FixedSizeBinary:
      return { kind: 'fixed', width: (type as FixedSizeBinary).byteWidth };
    default:
      break;
  }
  throw new UnsupportedFilterError(`comparisons on ${type} columns are not supported`);
}

/** Values of the same domain compare meaningfully; e.g. a DATE constant against a TIMESTAMP column does not. */
function domainOf(type: DataType): string {
  const t = type as DataType & { unit?: number };
  switch (type.typeId) {
    case Type.Int: case Type.Float: case Type.Decimal: return 'number';
    case Type.Utf8: case Type.LargeUtf8: return 'text';
    case Type.Binary: case Type.LargeBinary: case Type.FixedSizeBinary: return 'binary';
    case Type.Bool: return 'bool';
    case Type.Date: return `date:${DateUnit[t.unit ?? 0]}`;
    case Type.Time: return `time:${TimeUnit[t.unit ?? 0]}`;
    case Type.Timestamp: return `timestamp:${TimeUnit[t.unit ?? 0]}`; // the zone does not change the instant
    case Type.Duration: return `duration:${TimeUnit[t.unit ?? 0]}`;
    default: return `other:${type}`;
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const utf8 = new TextEncoder();

function inRange(v: bigint, lo: bigint, hi: bigint): Prepared {
  return v < lo ? { kind: 'below' } : v > hi ? { kind: 'above' } : { kind: 'big', v };
}

/** An exact integer view of a numeric constant, or null when it has a fractional part / is not finite. */
function exactInteger(v: LiteralValue): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : null;
  if (isDecimalValue(v)) {
    const p = 10n ** BigInt(v.scale);
    return v.unscaled % p === 0n ? v.unscaled / p : null;
  }
  return null;
}

/** Rescales a numeric constant to `scale` decimal places, exactly, or returns null. */
function toScale(v: LiteralValue, scale: number): bigint | null {
  if (isDecimalValue(v)) {
    if (v.scale <= scale) return v.unscaled * 10n ** BigInt(scale - v.scale);
    const p = 10n ** BigInt(v.scale - scale);
    return v.unscaled % p === 0n ? v.unscaled / p : null;
  }
  const i = exactInteger(v);
  return i === null ? null : i * 10n ** BigInt(scale);
}

/**
 * Prepares constant `value` (of Arrow type `litType`) for comparison against a column of type `colType`.
 * Throws UnsupportedFilterError when the comparison cannot be done exactly.
 */
export function prepareLiteral(colType: DataType, litType: DataType, value: LiteralValue): Prepared {
  const col = valueTypeOf(colType);
  const lit = valueTypeOf(litType);
  if (value === null) return { kind: 'null' };
  if (domainOf(col) !== domainOf(lit)) {
    throw new UnsupportedFilterError(`cannot compare a ${col} column with a ${lit} constant exactly`);
  }
  const phys = physOf(col);
  const fail = (): never => {
    throw new UnsupportedFilterError(`constant ${String(value)} (${lit}) cannot be compared exactly with a ${col} column`);
  };
  switch (phys.kind) {
    case 'num': {
      if (typeof value === 'number') return { kind: 'num', v: value };
      const i = exactInteger(value);
      if (i === null) return fail();
      const asNumber = Number(i);
      if (BigInt(asNumber) === i) return { kind: 'num', v: asNumber }; // exactly representable as a double
      // Otherwise only ≤32-bit integer columns have a known order against the constant.
      if (col.typeId === Type.Float) return fail();
      return i < 0n ? { kind: 'below' } : { kind: 'above' };
    }
    case 'i64': {
      if (typeof value === 'number' && !Number.isFinite(value) && !Number.isNaN(value)) {
        return value < 0 ? { kind: 'below' } : { kind: 'above' };
      }
      const i = exactInteger(value);
      if (i === null) return fail();
      return phys.signed ? inRange(i, I64_MIN, I64_MAX) : inRange(i, 0n, U64_MAX);
    }
    case 'dec': {
      const u = toScale(value, phys.scale);
      if (u === null) return fail();
      const bits = BigInt(phys.words * 32);
      return inRange(u, -(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n);
    }
    case 'bool':
      return typeof value === 'boolean' ? { kind: 'bool', v: value } : fail();
    case 'bytes':
    case 'fixed':
      if (typeof value === 'string') return { kind: 'bytes', v: utf8.encode(value) };
      if (value instanceof Uint8Array) return { kind: 'bytes', v: value };
      return fail();
  }
}
