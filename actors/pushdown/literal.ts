// Decoding constants (filter payload cells, IN lists, join keys) from Arrow without losing precision.
//
// This is deliberately not `Vector.get()`: arrow-js returns timestamps as JS milliseconds (lossy for µs/ns),
// decimals as opaque word objects and 64-bit values inconsistently. Constants are decoded once per init,
// so clarity matters more than speed here.
import { DataType, DateUnit, Type } from 'apache-arrow';
import type { Data, Decimal, Dictionary, FixedSizeBinary, Float, Int, List, Time } from 'apache-arrow';
import { bitAt, hasNulls, offsetAt, type Offsets } from './bits.js';
import { UnsupportedFilterError, type LiteralValue } from './program.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Two's-complement little-endian 32-bit words → signed bigint. */
export function wordsToBigInt(words: Uint32Array, base: number, count: number): bigint {
  let v = 0n;
  for (let k = count - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[base + k]);
  return BigInt.asIntN(32 * count, v);
}

/** IEEE half float → number (arrow-js stores float16 as raw Uint16 bits). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bytesAt(data: Data, i: number): Uint8Array {
  const offsets = data.valueOffsets as Offsets;
  const values = data.values as Uint8Array;
  return values.slice(offsetAt(offsets, i), offsetAt(offsets, i + 1));
}

/** Locates row `index` of a (possibly multi-chunk) dictionary vector. */
function dictionaryCell(data: Data<Dictionary>, index: number): LiteralValue {
  const dict = data.dictionary;
  if (!dict) throw new UnsupportedFilterError('dictionary-encoded constant without a dictionary');
  let rest = index;
  for (const chunk of dict.data) {
    if (rest < chunk.length) return readCell(chunk, rest);
    rest -= chunk.length;
  }
  throw new UnsupportedFilterError(`dictionary index ${index} out of range`);
}

/** The value of row `i` of `data` (relative to the Data, as arrow-js indexes it). */
export function readCell(data: Data, i: number): LiteralValue {
  if (data.typeId === Type.Null) return null;
  if (hasNulls(data) && bitAt(data.nullBitmap as Uint8Array, data.offset + i) === 0) return null;
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Int:
      return (type as Int).bitWidth === 64 ? (data.values as BigInt64Array | BigUint64Array)[i] : Number((data.values as Int32Array)[i]);
    case Type.Float:
      return (type as Float).precision === 0 ? halfToNumber((data.values as Uint16Array)[i]) : (data.values as Float64Array)[i];
    case Type.Bool:
      return bitAt(data.values as Uint8Array, data.offset + i) === 1;
    case Type.Decimal: {
      const stride = (type as Decimal).bitWidth / 32;
      return { unscaled: wordsToBigInt(data.values as Uint32Array, i * stride, stride), scale: (type as Decimal).scale };
    }
    case Type.Date:
      return (type as DataType & { unit: DateUnit }).unit === DateUnit.DAY ? (data.values as Int32Array)[i] : (data.values as BigInt64Array)[i];
    case Type.Time:
      return (type as Time).bitWidth === 64 ? (data.values as BigInt64Array)[i] : (data.values as Int32Array)[i];
    case Type.Timestamp:
    case Type.Duration:
      return (data.values as BigInt64Array)[i];
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = bytesAt(data, i);
      try {
        return utf8Decoder.decode(bytes);
      } catch {
        return bytes; // not valid UTF-8: keep the raw bytes, comparisons are bytewise anyway
      }
    }
    case Type.Binary:
    case Type.LargeBinary:
      return bytesAt(data, i);
    case Type.FixedSizeBinary: {
      const w = (type as FixedSizeBinary).byteWidth;
      return (data.values as Uint8Array).slice(i * w, (i + 1) * w);
    }
    case Type.Dictionary: {
      const idx = (data.values as ArrayLike<number | bigint>)[i];
      return dictionaryCell(data as Data<Dictionary>, Number(idx));
    }
    default:
      throw new UnsupportedFilterError(`constants of type ${type} are not supported`);
  }
}

/** Every row of `data`, decoded. */
export function readAll(data: Data): LiteralValue[] {
  const out = new Array<LiteralValue>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = readCell(data, i);
  return out;
}

/** Row `i` of a list<T> / large_list<T> column: the element type and the decoded elements. NULL list → null. */
export function readListCell(data: Data, i: number): { valueType: DataType; values: LiteralValue[] } | null {
  const type = data.type as DataType;
  if (type.typeId !== Type.List && type.typeId !== Type.LargeList) {
    throw new UnsupportedFilterError(`an IN set must be a list, got ${type}`);
  }
  if (hasNulls(data) && bitAt(data.nullBitmap as Uint8Array, data.offset + i) === 0) return null;
  const offsets = data.valueOffsets as Offsets;
  const child = data.children[0];
  const values: LiteralValue[] = [];
  for (let k = offsetAt(offsets, i), end = offsetAt(offsets, i + 1); k < end; k++) values.push(readCell(child, k));
  return { valueType: (type as List).valueType, values };
}
