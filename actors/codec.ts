// Arrow decoding and encoding on the actor thread: this is where batch bodies are touched.
import { RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema, Table, Vector, type TypeMap } from 'apache-arrow';
import type { ArgumentSpec, Arguments, ScalarValue, Settings } from '../functions/api.js';
import { DATA_NULL_ROWS, REQUEST_NULL_ROWS, validateOffsets, validateStream } from '../runtime/wire/validate.js';
import { concat, EOS_BYTES } from '../runtime/wire/encode.js';


/** A serialized schema: DuckDB sends a bare schema message (no EOS); streams are accepted too. */
export function decodeSchema(bytes: Uint8Array): Schema {
  const stream = concat([bytes, EOS_BYTES]);
  validateStream(stream, REQUEST_NULL_ROWS);
  const reader = RecordBatchReader.from(stream);
  reader.open();
  return reader.schema;
}

/** The batches of one IPC stream. Column buffers are views into `bytes` (zero-copy when aligned). */
export function decodeBatches(bytes: Uint8Array, nullRows = DATA_NULL_ROWS): RecordBatch[] {
  validateStream(bytes, nullRows); // corrupt headers must fail fast, not loop inside apache-arrow
  const reader = RecordBatchReader.from(bytes);
  return [...reader];
}

/** A request dataclass (arguments, settings): bounded headers and offsets before any value is read. */
function decodeRequestBatches(bytes: Uint8Array): RecordBatch[] {
  const batches = decodeBatches(bytes, REQUEST_NULL_ROWS);
  for (const b of batches) validateOffsets(b.data);
  return batches;
}

/** JS value of an Arrow cell, normalized for users (Uint8Array for binary, plain objects for structs). */
export function toScalar(v: unknown): ScalarValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array || v instanceof Date) return v;
  if (v instanceof Vector) return Array.from(v as Vector, toScalar); // list cells
  const json = (v as { toJSON?: () => unknown }).toJSON?.(); // struct and map rows
  if (json && typeof json === 'object') {
    const out: { [k: string]: ScalarValue } = {};
    for (const [k, x] of Object.entries(json as Record<string, unknown>)) out[k] = toScalar(x);
    return out;
  }
  return String(v);
}

/** Maps the `args` struct (positional_i / named_<name>) onto the function's argument specs. */
export function decodeArguments(bytes: Uint8Array | null, specs: readonly ArgumentSpec[]): Arguments {
  const out: Record<string, ScalarValue> = {};
  let row: Record<string, unknown> = {};
  if (bytes && bytes.byteLength > 0) {
    const t = new Table(decodeRequestBatches(bytes));
    const args = t.getChild('args');
    if (args && args.get(0) !== null) {
      const struct = args.type.children as { name: string }[];
      for (const f of struct) row[f.name] = args.getChild(f.name)?.get(0);
    }
  }
  let positional = 0;
  for (const s of specs) {
    if (s.kind === 'table') continue;
    if (s.kind === 'positional') {
      const key = `positional_${positional++}`;
      if (!(key in row)) throw new TypeError(`missing positional argument ${s.name}`);
      out[s.name] = toScalar(row[key]);
    } else {
      const key = `named_${s.name}`;
      out[s.name] = key in row && row[key] !== null ? toScalar(row[key]) : (s.default ?? null);
    }
  }
  return out;
}

export function decodeSettings(bytes: Uint8Array | null): Settings {
  const out: Record<string, ScalarValue> = {};
  if (!bytes || bytes.byteLength === 0) return out;
  const t = new Table(decodeRequestBatches(bytes));
  for (const f of t.schema.fields) out[f.name] = toScalar(t.getChild(f.name)?.get(0));
  return out;
}

/**
 * Writes one IPC stream message by message. apache-arrow's writer queues chunks internally;
 * collecting them as they are produced gives the exact bytes of each message (schema,
 * dictionary batches + record batch), ready to be moved to the main thread in one buffer.
 */
export class MessageEncoder<T extends TypeMap = TypeMap> extends RecordBatchStreamWriter<T> {
  private parts: Uint8Array[] = [];
  private size = 0;

  constructor(readonly schema: Schema<T>) {
    super({ autoDestroy: false });
    this.reset(undefined, schema);
  }

  protected override _write(chunk: ArrayBufferView | ArrayBuffer): this {
    const view = chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (view.byteLength > 0) {
      this.parts.push(view);
      this.size += view.byteLength;
      (this as unknown as { _position: number })._position += view.byteLength;
    }
    return this;
  }

  /** Everything written since the last take, copied into one (transferable) buffer of its own. */
  take(alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n)): Uint8Array {
    const out = alloc(this.size);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.byteLength; }
    this.parts = [];
    this.size = 0;
    return out;
  }

  /** Schema message bytes (written by the constructor). */
  schemaBytes(): Uint8Array { return this.take(); }

  /** A data batch, relabelled with the stream's schema (a batch whose schema differs only in
   * nullability would otherwise close the writer and be dropped silently). */
  batch(b: RecordBatch): this {
    this.write(b.schema === this.schema ? (b as RecordBatch<T>) : new RecordBatch(this.schema, b.data as never));
    return this;
  }

  /** A zero-row batch carrying custom metadata (logs and errors on the stream's schema). */
  metadataBatch(meta: Map<string, string>): this {
    const empty = new RecordBatch(this.schema, undefined as never);
    this.write(new RecordBatch(this.schema, empty.data as never, meta) as RecordBatch<T>);
    return this;
  }

  end(): this {
    this._write(EOS_BYTES);
    return this;
  }
}
