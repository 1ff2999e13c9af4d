/**
 * Encoding/decoding of the small nested IPC blobs of the control plane:
 * one-row batches (results, catalog items, requests), serialized schemas and
 * function argument schemas. Clarity over speed: everything goes through
 * apache-arrow builders.
 */
import {
  DataType,
  Dictionary,
  Field,
  makeData,
  Null,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  Type,
  Utf8,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import { enumValuesOf } from './spec.js';
import { REQUEST_NULL_ROWS, validateOffsets, validateStream } from '../wire/validate.js';

/** The 8-byte end-of-stream marker (continuation + zero length). */
export const EOS_BYTES: Uint8Array = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

export class ProtocolEncodeError extends Error {
  override name = 'ProtocolEncodeError';
}

export class ProtocolDecodeError extends Error {
  override name = 'ProtocolDecodeError';
}

// ---------------------------------------------------------------------------
// JS value -> builder-ready value
// ---------------------------------------------------------------------------

function fail(path: string, msg: string): never {
  throw new ProtocolEncodeError(`${path}: ${msg}`);
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v != null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/**
 * Normalize a JS value for `type`: int64 -> bigint, maps -> Map, Date ->
 * epoch ms, undefined -> null, recursively. Throws on values of the wrong kind.
 */
function normalize(type: DataType, value: unknown, path: string): unknown {
  if (value === undefined || value === null) return null;
  switch (type.typeId) {
    case Type.Null:
      return null;
    case Type.Bool:
      if (typeof value !== 'boolean') fail(path, `expected boolean, got ${typeof value}`);
      return value;
    case Type.Int: {
      const bits = (type as unknown as { bitWidth: number }).bitWidth;
      if (bits === 64) {
        if (typeof value === 'bigint') return value;
        if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
        fail(path, `expected integer (number or bigint), got ${String(value)}`);
      }
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      return fail(path, `expected integer, got ${String(value)}`);
    }
    case Type.Float:
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      return fail(path, `expected number, got ${typeof value}`);
    case Type.Utf8:
    case Type.LargeUtf8:
      if (typeof value !== 'string') fail(path, `expected string, got ${typeof value}`);
      return value;
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      if (value instanceof Uint8Array) return value;
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      return fail(path, 'expected Uint8Array');
    case Type.Timestamp: {
      // apache-arrow builders take epoch milliseconds.
      if (value instanceof Date) return value.getTime();
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') {
        const unit = (type as unknown as { unit: number }).unit; // 0 s, 1 ms, 2 us, 3 ns
        return Number(value) * [1000, 1, 1e-3, 1e-6][unit]!;
      }
      return fail(path, 'expected Date or epoch milliseconds');
    }
    case Type.Dictionary:
      return normalize((type as Dictionary).dictionary, value, path);
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      if (!isIterable(value) || typeof value === 'string') fail(path, 'expected an array');
      const child = type.children[0]!.type as DataType;
      return Array.from(value, (v, i) => normalize(child, v, `${path}[${i}]`));
    }
    case Type.Struct: {
      if (typeof value !== 'object') fail(path, 'expected an object');
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const c of type.children as Field[]) out[c.name] = normalize(c.type, src[c.name], `${path}.${c.name}`);
      return out;
    }
    case Type.Map: {
      const entries = (type.children[0]!.type as Struct).children;
      const kType = entries[0]!.type as DataType;
      const vType = entries[1]!.type as DataType;
      let pairs: Iterable<unknown>;
      if (value instanceof Map) pairs = value.entries();
      else if (Array.isArray(value)) pairs = value;
      else if (typeof value === 'object') pairs = Object.entries(value as Record<string, unknown>);
      else return fail(path, 'expected a Map, an array of [key, value] or an object');
      const out = new Map<unknown, unknown>();
      for (const pair of pairs) {
        if (!Array.isArray(pair) || pair.length !== 2) fail(path, 'map entries must be [key, value] pairs');
        const k = normalize(kType, pair[0], `${path}{key}`);
        if (k === null) fail(path, 'map keys must not be null');
        out.set(k, normalize(vType, pair[1], `${path}[${String(k)}]`));
      }
      return out;
    }
    default:
      return value;
  }
}

/** One-element column for a top-level dictionary field, with the declared enum as dictionary. */
function dictionaryColumn(type: Dictionary, value: unknown, path: string): Data {
  if (value !== null && typeof value !== 'string') fail(path, `expected string enum value, got ${typeof value}`);
  const declared = enumValuesOf(type);
  let values: readonly string[];
  if (declared) {
    if (value !== null && !declared.includes(value)) {
      fail(path, `${JSON.stringify(value)} is not one of ${declared.join(', ')}`);
    }
    values = declared;
  } else {
    values = value === null ? [] : [value];
  }
  const index = value === null ? 0 : values.indexOf(value);
  const dictionary = vectorFromArray([...values], new Utf8());
  return makeData({
    type,
    length: 1,
    nullCount: value === null ? 1 : 0,
    nullBitmap: value === null ? Uint8Array.of(0) : null,
    data: Int16Array.of(index),
    dictionary,
  } as never) as Data;
}

function columnData(field: Field, value: unknown, path: string): Data {
  const v = normalize(field.type, value, path);
  if (DataType.isDictionary(field.type)) return dictionaryColumn(field.type, v, path);
  if (field.type.typeId === Type.Null) return makeData({ type: new Null(), length: 1, nullCount: 1 });
  const vector = vectorFromArray([v] as unknown[], field.type);
  return vector.data[0] as Data;
}

export interface EncodeOptions {
  /** Per-batch custom metadata (e.g. `vgi_rpc.method`). */
  readonly metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

function toMetadataMap(m: EncodeOptions['metadata']): Map<string, string> {
  if (!m) return new Map();
  if (m instanceof Map) return new Map(m);
  return new Map(Object.entries(m as Record<string, string>));
}

/** A one-row RecordBatch of `schema` from a plain object keyed by field name. */
export function rowToBatch(schema: Schema, row: Readonly<Record<string, unknown>>, options?: EncodeOptions): RecordBatch {
  const known = new Set(schema.fields.map((x) => x.name));
  for (const key of Object.keys(row)) {
    if (!known.has(key)) throw new ProtocolEncodeError(`unknown field ${JSON.stringify(key)} (schema has ${[...known].join(', ') || 'no fields'})`);
  }
  const children = schema.fields.map((field) => {
    if (!(field.name in row) && !field.nullable) {
      throw new ProtocolEncodeError(`missing value for non-nullable field ${JSON.stringify(field.name)}`);
    }
    return columnData(field, row[field.name], field.name);
  });
  const data = makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children });
  return new RecordBatch(schema, data, toMetadataMap(options?.metadata));
}

/** Serialize batches as a complete IPC stream (schema, dictionaries, batches, EOS). */
export function batchesToStream(schema: Schema, batches: readonly RecordBatch[]): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  for (const b of batches) writer.write(b);
  writer.finish();
  return writer.toUint8Array(true);
}

/**
 * A complete Arrow IPC stream: schema + one 1-row record batch + EOS.
 * Values: strings, booleans, numbers/bigints (int64 accepts both), Uint8Array,
 * arrays for lists, objects for structs, Map / [k, v][] / object for maps,
 * strings for dictionary columns, null/undefined for nulls.
 */
export function encodeRow(schema: Schema, row: Readonly<Record<string, unknown>>, options?: EncodeOptions): Uint8Array {
  return batchesToStream(schema, [rowToBatch(schema, row, options)]);
}

/** A schema-only IPC stream: schema message + EOS. */
export function encodeSchemaStream(schema: Schema): Uint8Array {
  return batchesToStream(schema, []);
}

/** Byte length of the first encapsulated message (continuation/legacy prefix + metadata). */
function firstMessageLength(bytes: Uint8Array): number {
  if (bytes.byteLength < 4) throw new ProtocolDecodeError('IPC bytes too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0, true);
  if (first === 0xffffffff) {
    if (bytes.byteLength < 8) throw new ProtocolDecodeError('IPC bytes too short');
    return 8 + view.getInt32(4, true);
  }
  return 4 + first; // pre-0.15 format without continuation marker
}

/**
 * A serialized schema: one encapsulated IPC Schema message without EOS, like
 * `pyarrow.Schema.serialize()` / C++ `ipc::SerializeSchema` (what DuckDB sends).
 */
export function encodeSchemaMessage(schema: Schema): Uint8Array {
  const stream = encodeSchemaStream(schema);
  return stream.slice(0, firstMessageLength(stream));
}

/** Append EOS to a bare schema message; leave a stream untouched. */
export function ensureStream(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) throw new ProtocolDecodeError('empty IPC bytes');
  const len = firstMessageLength(bytes);
  if (bytes.byteLength > len) return bytes;
  const out = new Uint8Array(bytes.byteLength + EOS_BYTES.byteLength);
  out.set(bytes, 0);
  out.set(EOS_BYTES, bytes.byteLength);
  return out;
}

/** Read a serialized schema: a bare encapsulated schema message (DuckDB) or a stream. */
export function decodeSchema(bytes: Uint8Array): Schema {
  try {
    const stream = ensureStream(bytes);
    validateStream(stream); // a corrupt header must fail fast, not loop inside apache-arrow
    return tableFromIPC(stream).schema;
  } catch (e) {
    if (e instanceof ProtocolDecodeError) throw e;
    throw new ProtocolDecodeError(`cannot read serialized schema: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// Arrow value -> plain JS
// ---------------------------------------------------------------------------

/**
 * Convert a value read from an apache-arrow vector of `type` to plain JS:
 * lists -> arrays, structs -> objects, maps -> Map, dictionaries -> their
 * value, binary -> a copied Uint8Array, int64 -> bigint, timestamps -> epoch ms.
 */
export function toPlain(type: DataType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.Dictionary:
      return toPlain((type as Dictionary).dictionary, value);
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = type.children[0]!.type as DataType;
      return Array.from(value as Iterable<unknown>, (v) => toPlain(child, v));
    }
    case Type.Struct: {
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const c of type.children as Field[]) out[c.name] = toPlain(c.type, src[c.name]);
      return out;
    }
    case Type.Map: {
      const entries = (type.children[0]!.type as Struct).children;
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value as Iterable<[unknown, unknown]>) {
        out.set(toPlain(entries[0]!.type, k), toPlain(entries[1]!.type, v));
      }
      return out;
    }
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return (value as Uint8Array).slice();
    default:
      return value;
  }
}

/** Row `index` of a batch as a plain object keyed by field name. */
export function batchRow(batch: RecordBatch, index = 0): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  batch.schema.fields.forEach((field, i) => {
    const column = batch.getChildAt(i);
    row[field.name] = column ? toPlain(field.type, column.get(index)) : null;
  });
  return row;
}

/**
 * Read the first row of a nested IPC stream (a request or result blob) into a
 * plain object by field name, so either version's field order reads the same.
 * Throws ProtocolDecodeError when the stream holds no row.
 */
export function decodeRow(bytes: Uint8Array): { schema: Schema; row: Record<string, unknown> } {
  let table: Table;
  try {
    validateStream(bytes, REQUEST_NULL_ROWS); // a corrupt header must fail fast, not loop inside apache-arrow
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new ProtocolDecodeError(`cannot read IPC stream: ${(e as Error).message}`);
  }
  const batch = table.batches.find((b) => b.numRows > 0);
  if (!batch) throw new ProtocolDecodeError('IPC stream holds no row');
  try {
    validateOffsets(batch.data);
  } catch (e) {
    throw new ProtocolDecodeError(`cannot read IPC stream: ${(e as Error).message}`);
  }
  return { schema: table.schema, row: batchRow(batch, 0) };
}

// ---------------------------------------------------------------------------
// Function argument schemas
// ---------------------------------------------------------------------------

export interface ArgumentSpec {
  readonly name: string;
  /** `table`: the TABLE input (type null); `positional`; `named` (`fn(…, name := v)`). */
  readonly kind: 'table' | 'positional' | 'named';
  /** Required for positional and named arguments; ignored for `table`. */
  readonly type?: DataType;
  /** Extra field metadata (e.g. `vgi_type=any`, `vgi_varargs=true`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Arrow schema of a function's arguments (FunctionInfo.arguments), with the vgi field metadata. */
export function argumentsSchema(args: readonly ArgumentSpec[]): Schema {
  let sawNamed = false;
  const names = new Set<string>();
  const fields = args.map((a) => {
    if (names.has(a.name)) throw new ProtocolEncodeError(`duplicate argument ${JSON.stringify(a.name)}`);
    names.add(a.name);
    const metadata = new Map(Object.entries(a.metadata ?? {}));
    if (a.kind === 'named') {
      sawNamed = true;
      metadata.set('vgi_arg', 'named');
    } else if (sawNamed) {
      throw new ProtocolEncodeError(`argument ${JSON.stringify(a.name)}: positional arguments must come before named ones`);
    }
    if (a.kind === 'table') {
      metadata.set('vgi_type', 'table');
      return new Field(a.name, new Null(), true, metadata);
    }
    if (!a.type) throw new ProtocolEncodeError(`argument ${JSON.stringify(a.name)}: a type is required`);
    return new Field(a.name, a.type, true, metadata);
  });
  return new Schema(fields);
}

/** Serialized arguments schema for FunctionInfo.arguments. */
export function encodeArgumentsSchema(args: readonly ArgumentSpec[]): Uint8Array {
  return encodeSchemaMessage(argumentsSchema(args));
}
