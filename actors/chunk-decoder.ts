// DuckDB's per-chunk IPC streams, decoded on the actor thread for one execution.
//
// Every chunk repeats the same schema message, and chunks of fixed-width columns repeat the same
// record batch header too. apache-arrow's RecordBatchReader re-parses both each time (~50 µs per
// 2,048-row chunk). This keeps the execution's schema (re-checked byte for byte), parses each
// distinct batch header once (runtime/wire/recent.ts), and builds a chunk's column vectors only
// when something reads them: a function that never looks at its input (`noop_buffer`, or one
// that counts rows) pays for no vectors and leaves no garbage behind. Anything unusual
// (dictionaries, compression, no schema) goes through apache-arrow's reader (`decodeBatches`).
import { RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { MessageHeader } from 'apache-arrow/enum';
import { VectorLoader } from 'apache-arrow/visitor/vectorloader';
import { ByteBuffer } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { validateHeader } from '../runtime/wire/validate.js';
import { RecentByBytes } from '../runtime/wire/recent.js';
import { decodeBatches } from './codec.js';

/** The fields of apache-arrow's (internal) record batch header that VectorLoader needs. */
interface RecordBatchHeader {
  readonly length: number;
  readonly nodes: ConstructorParameters<typeof VectorLoader>[1];
  readonly buffers: ConstructorParameters<typeof VectorLoader>[2];
  readonly compression: unknown;
  readonly variadicBufferCounts: number[];
}

/** A validated message header; corrupt counts must fail here, not loop inside apache-arrow. */
function parseHeader(meta: Uint8Array): Message {
  validateHeader(FbMessage.getRootAsMessage(new ByteBuffer(meta)), meta.byteLength);
  return Message.decode(meta);
}

/** A batch header decoded once (apache-arrow's `Message.header()` decodes it on every call). */
interface BatchHeader { readonly msg: Message; readonly header: RecordBatchHeader | null }

function parseBatchHeader(meta: Uint8Array): BatchHeader {
  const msg = parseHeader(meta);
  return { msg, header: msg.headerType === MessageHeader.RecordBatch ? msg.header() as unknown as RecordBatchHeader : null };
}

export class ChunkDecoder {
  private schemaKey: Uint8Array | null = null;
  private schema: Schema | null = null;
  private struct: Struct | null = null;
  private readonly headers = new RecentByBytes<BatchHeader>(4);

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
          const msg = parseHeader(meta);
          if (msg.headerType !== MessageHeader.Schema) return decodeBatches(bytes);
          this.schema = msg.header() as Schema;
          this.struct = null;
          this.schemaKey = meta.slice();
        }
        pos += prefix + metaLen;
        continue;
      }
      const { msg, header } = this.headers.get(meta, parseBatchHeader);
      const bodyStart = pos + prefix + metaLen;
      pos = bodyStart + msg.bodyLength;
      if (pos > bytes.byteLength) return decodeBatches(bytes);
      if (header === null || header.compression != null) return decodeBatches(bytes);
      const schema = this.schema!;
      out.push(chunkBatch(schema, this.struct ??= new Struct(schema.fields), header, bytes.subarray(bodyStart, pos), new Map(msg.metadata))); // the header is shared, its metadata map must not be
    }
    return out;
  }

  private sameSchema(meta: Uint8Array): boolean {
    const k = this.schemaKey;
    if (!k || k.byteLength !== meta.byteLength) return false;
    return Buffer.compare(Buffer.from(k.buffer, k.byteOffset, k.byteLength), Buffer.from(meta.buffer, meta.byteOffset, meta.byteLength)) === 0;
  }
}

/** What a chunk needs to build its vectors later. */
interface Pending {
  readonly struct: Struct;
  readonly header: RecordBatchHeader;
  readonly body: Uint8Array;
}

const PENDING = Symbol('vgi-actors.pendingColumns');

interface LazyBatch { schema: Schema; _metadata: Map<string, string>; [PENDING]: Pending | null }

function load(schema: Schema, p: Pending): Data<Struct> {
  const body = (p.body.byteOffset & 7) === 0 ? p.body : p.body.slice(); // typed-array views need alignment
  const loader = new VectorLoader(body, p.header.nodes, p.header.buffers, new Map(), schema.metadataVersion, p.header.variadicBufferCounts);
  return makeData({ type: p.struct, length: p.header.length, nullCount: 0, children: loader.visitMany(schema.fields) as Data[] });
}

// `new RecordBatch(schema, data)` re-checks child lengths and copies the schema (a Schema, two
// Maps, a field array, a Struct type and a second Data per batch: objects every buffered batch
// keeps alive). Decoded chunks are consistent by construction, so they share the execution's
// schema and Struct type, and are made from a prototype whose `data` getter builds the vectors on
// first read and then keeps them as the plain own property a RecordBatch has. The shortcut is
// used only if apache-arrow's RecordBatch still has exactly the fields it sets (checked at load).
const FAST_BATCH = (() => {
  const b = new RecordBatch(new Schema([]), makeData({ type: new Struct([]), length: 0, children: [] }));
  return Object.keys(b).sort().join() === '_metadata,data,schema';
})();

const LAZY_PROTO: object = Object.create(RecordBatch.prototype, {
  data: {
    configurable: true,
    get(this: LazyBatch): Data<Struct> {
      const data = load(this.schema, this[PENDING]!);
      Object.defineProperty(this, 'data', { value: data, writable: true, enumerable: true, configurable: true });
      this[PENDING] = null;
      return data;
    },
  },
  // Row counts need no vectors (a counting function stays cheap).
  numRows: {
    configurable: true,
    get(this: LazyBatch & { data: Data<Struct> }): number {
      const p = this[PENDING];
      return p ? p.header.length : this.data.length;
    },
  },
});

function chunkBatch(schema: Schema, struct: Struct, header: RecordBatchHeader, body: Uint8Array, metadata: Map<string, string>): RecordBatch {
  const pending: Pending = { struct, header, body };
  if (!FAST_BATCH) return new RecordBatch(schema, load(schema, pending), metadata.size > 0 ? metadata : undefined);
  const b = Object.create(LAZY_PROTO) as LazyBatch;
  b.schema = schema;
  b._metadata = metadata;
  b[PENDING] = pending;
  return b as unknown as RecordBatch;
}
