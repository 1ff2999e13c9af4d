// Arrow decoding and encoding on the actor thread: this is where batch bodies are touched.
import { RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema, Struct, Table, Vector, makeData, type Data, type TypeMap } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { MessageHeader } from 'apache-arrow/enum';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import type { ArgumentSpec, Arguments, ScalarValue, Settings } from '../functions/api.js';
import { DATA_NULL_ROWS, REQUEST_NULL_ROWS, validateHeader, validateOffsets, validateStream } from '../runtime/wire/validate.js';
import { concat, EOS_BYTES } from '../runtime/wire/encode.js';
import { ByteBuffer } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';


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

/**
 * Decodes DuckDB's per-chunk IPC streams for one execution. Every chunk repeats the same schema
 * message; `RecordBatchReader` re-parses it each time (~50 µs per 2,048-row chunk). This keeps
 * the schema of the first chunk (re-checked byte for byte, which costs nothing) and only loads the
 * record batch message's vectors. Anything unusual (dictionaries, compression, no schema) goes
 * through `decodeBatches`.
 */
export class ChunkDecoder {
  private schemaKey: Uint8Array | null = null;
  private schema: Schema | null = null;
  private struct: Struct | null = null;

  decode(bytes: Uint8Array): RecordBatch[] {
    const out: RecordBatch[] = [];
    let pos = 0;
    let first = true;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (pos + 8 <= bytes.byteLength) {
      let metaLen = dv.getInt32(pos, true);
      let prefix = 4;
      if (metaLen === -1) { metaLen = dv.getInt32(pos + 4, true); prefix = 8; }
      if (metaLen <= 0) break; // EOS
      if (pos + prefix + metaLen > bytes.byteLength) return decodeBatches(bytes); // reports the corruption
      const meta = bytes.subarray(pos + prefix, pos + prefix + metaLen);
      if (first) {
        first = false;
        if (!this.sameSchema(meta)) {
          validateHeader(FbMessage.getRootAsMessage(new ByteBuffer(meta)), metaLen);
          const msg = Message.decode(meta);
          if (msg.headerType !== MessageHeader.Schema) return decodeBatches(bytes);
          this.schema = msg.header() as Schema;
          this.struct = null;
          this.schemaKey = meta.slice();
        }
        pos += prefix + metaLen;
        continue;
      }
      // Corrupt headers must fail fast, not loop inside apache-arrow (see runtime/wire/validate.ts).
      validateHeader(FbMessage.getRootAsMessage(new ByteBuffer(meta)), metaLen);
      const msg = Message.decode(meta);
      const bodyStart = pos + prefix + metaLen;
      pos = bodyStart + msg.bodyLength;
      if (pos > bytes.byteLength) return decodeBatches(bytes);
      if (msg.headerType !== MessageHeader.RecordBatch) return decodeBatches(bytes);
      const header = msg.header() as unknown as RecordBatchHeader;
      if (header.compression != null) return decodeBatches(bytes);
      let body = bytes.subarray(bodyStart, pos);
      if ((body.byteOffset & 7) !== 0) body = body.slice(); // typed-array views need alignment
      const schema = this.schema!;
      const loader = new VectorLoader(body, header.nodes, header.buffers, new Map(), schema.metadataVersion, header.variadicBufferCounts);
      const children = loader.visitMany(schema.fields);
      out.push(batchOf(schema, this.struct ??= new Struct(schema.fields), header.length, children, msg.metadata));
    }
    return out;
  }

  private sameSchema(meta: Uint8Array): boolean {
    const k = this.schemaKey;
    if (!k || k.byteLength !== meta.byteLength) return false;
    return Buffer.compare(Buffer.from(k.buffer, k.byteOffset, k.byteLength), Buffer.from(meta.buffer, meta.byteOffset, meta.byteLength)) === 0;
  }
}

// `new RecordBatch(schema, data)` re-checks child lengths and copies the schema (a Schema, two
// Maps, a field array, a Struct type and a second Data per batch: objects every buffered batch
// keeps alive). Decoded chunks are consistent by construction, so they share the execution's
// schema and Struct type. The shortcut is used only if apache-arrow's RecordBatch still has
// exactly the fields it sets (checked once, at load).
const FAST_BATCH = (() => {
  const b = new RecordBatch(new Schema([]), makeData({ type: new Struct([]), length: 0, children: [] }));
  return Object.keys(b).sort().join() === '_metadata,data,schema';
})();

function batchOf(schema: Schema, struct: Struct, length: number, children: Data[], metadata: Map<string, string>): RecordBatch {
  const data = makeData({ type: struct, length, nullCount: 0, children });
  if (!FAST_BATCH) return new RecordBatch(schema, data, metadata.size > 0 ? metadata : undefined);
  const b = Object.create(RecordBatch.prototype) as { schema: Schema; data: Data; _metadata: Map<string, string> };
  b.schema = schema;
  b.data = data;
  b._metadata = metadata;
  return b as unknown as RecordBatch;
}

/** The fields of apache-arrow's (internal) record batch header that VectorLoader needs. */
interface RecordBatchHeader {
  readonly length: number;
  readonly nodes: ConstructorParameters<typeof VectorLoader>[1];
  readonly buffers: ConstructorParameters<typeof VectorLoader>[2];
  readonly compression: unknown;
  readonly variadicBufferCounts: number[];
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
