// Reads the first row of a nested IPC blob (a request dataclass such as the process request)
// straight from its buffers, without apache-arrow's reader: on the per-chunk hot path a full
// decode costs ~59 µs, this costs a few. Only flat columns are read this way (binary, utf8,
// int64, list<binary>); anything else goes through the control-plane decoder.
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Field as FbField } from 'apache-arrow/fb/field';
import { Type as FbType } from 'apache-arrow/fb/type';
import { Header, ProtocolError } from './message.js';
import { RecentByBytes } from './recent.js';

interface ColumnLayout { readonly type: FbType; readonly node: number; readonly buffer: number; readonly childType: FbType | null }
type Layout = ReadonlyMap<string, ColumnLayout>;

/** Buffers one field occupies in Arrow's pre-order flattening (V5 metadata). */
function bufferCount(f: FbField): number {
  if (f.dictionary()) return 2; // dictionary-encoded: validity + indices
  switch (f.typeType()) {
    case FbType.Null: return 0;
    case FbType.Binary: case FbType.Utf8: case FbType.LargeBinary: case FbType.LargeUtf8: return 3;
    case FbType.Struct_: case FbType.FixedSizeList: return 1;
    case FbType.List: case FbType.LargeList: case FbType.Map: return 2;
    case FbType.Union: throw new ProtocolError('union columns are not supported in requests');
    case FbType.BinaryView: case FbType.Utf8View: throw new ProtocolError('view columns are not supported in requests');
    default: return 2;
  }
}

function walk(f: FbField, acc: { nodes: number; buffers: number }): void {
  acc.nodes += 1;
  acc.buffers += bufferCount(f);
  for (let i = 0; i < f.childrenLength(); i++) walk(f.children(i)!, acc);
}

function layoutOf(schema: FbSchema): Layout {
  const out = new Map<string, ColumnLayout>();
  const acc = { nodes: 0, buffers: 0 };
  for (let i = 0; i < schema.fieldsLength(); i++) {
    const f = schema.fields(i)!;
    const childType = f.childrenLength() > 0 ? f.children(0)!.typeType() : null;
    out.set(f.name() ?? '', { type: f.typeType(), node: acc.nodes, buffer: acc.buffers, childType });
    walk(f, acc);
  }
  return out;
}

// Request headers repeat byte for byte on every call: parse each distinct one once (the schema
// and batch headers of the few request kinds in flight), and derive a schema's layout once.
const headers = new RecentByBytes<Header>(8);
const layouts = new WeakMap<Header, Layout>();

interface Span { readonly bodyStart: number; readonly end: number; readonly header: Header }

function messageAt(blob: Uint8Array, pos: number): Span | null {
  if (pos + 8 > blob.byteLength) return null;
  const dv = new DataView(blob.buffer, blob.byteOffset + pos, 8);
  let len = dv.getInt32(0, true);
  let prefix = 4;
  if (len === -1) { len = dv.getInt32(4, true); prefix = 8; }
  if (len === 0) return null;
  if (len < 0 || pos + prefix + len > blob.byteLength) throw new ProtocolError('nested IPC message is truncated');
  const metaStart = pos + prefix;
  const header = headers.get(blob.subarray(metaStart, metaStart + len), Header.parse);
  const end = metaStart + len + header.bodyLength;
  if (end > blob.byteLength) throw new ProtocolError('nested IPC message body is truncated');
  return { bodyStart: metaStart + len, end, header };
}

/** First row of a nested request blob, readable column by column. */
export class NestedRow {
  private constructor(
    private readonly blob: Uint8Array,
    private readonly layout: Layout,
    private readonly rb: FbRecordBatch,
    private readonly bodyStart: number,
    private readonly bodyEnd: number,
  ) {}

  static parse(blob: Uint8Array): NestedRow {
    const s1 = messageAt(blob, 0);
    if (!s1) throw new ProtocolError('nested IPC blob has no schema');
    if (s1.header.headerType !== MessageHeader.Schema) throw new ProtocolError('nested IPC blob does not start with a schema');
    let layout = layouts.get(s1.header);
    if (!layout) {
      layout = layoutOf(s1.header.fb.header(new FbSchema()) as FbSchema);
      layouts.set(s1.header, layout);
    }
    const s2 = messageAt(blob, s1.end);
    if (!s2) throw new ProtocolError('nested IPC blob has no record batch');
    const rb = s2.header.recordBatch();
    if (!rb) throw new ProtocolError('nested IPC blob: dictionaries are not expected here');
    if (Number(rb.length()) < 1) throw new ProtocolError('nested request batch has no rows');
    return new NestedRow(blob, layout, rb, s2.bodyStart, s2.end);
  }

  has(name: string): boolean { return this.layout.has(name); }

  private col(name: string, types: readonly FbType[]): ColumnLayout {
    const c = this.layout.get(name);
    if (!c) throw new ProtocolError(`request has no field '${name}'`);
    if (!types.includes(c.type)) throw new ProtocolError(`request field '${name}' has an unexpected type`);
    return c;
  }

  private buffer(i: number): Uint8Array {
    const b = this.rb.buffers(i);
    if (!b) throw new ProtocolError(`nested batch lacks buffer ${i}`);
    const off = this.bodyStart + Number(b.offset());
    const end = off + Number(b.length());
    if (end > this.bodyEnd) throw new ProtocolError(`nested buffer ${i} lies outside the body`);
    return this.blob.subarray(off, end);
  }

  private isNull(c: ColumnLayout, row = 0): boolean {
    const node = this.rb.nodes(c.node)!;
    if (Number(node.nullCount()) === 0) return false;
    const validity = this.buffer(c.buffer);
    if (validity.byteLength === 0) return false;
    return (validity[row >> 3]! & (1 << (row & 7))) === 0;
  }

  private varAt(offsetsBuf: number, dataBuf: number, row: number): Uint8Array {
    const offs = this.buffer(offsetsBuf);
    const dv = new DataView(offs.buffer, offs.byteOffset, offs.byteLength);
    if (offs.byteLength < (row + 2) * 4) throw new ProtocolError('nested offsets buffer too short');
    const a = dv.getInt32(row * 4, true);
    const b = dv.getInt32(row * 4 + 4, true);
    const data = this.buffer(dataBuf);
    if (a < 0 || b < a || b > data.byteLength) throw new ProtocolError('nested offsets out of range');
    return data.subarray(a, b);
  }

  /** A binary or utf8 cell as bytes (a view into the blob), or null. */
  bytes(name: string): Uint8Array | null {
    const c = this.col(name, [FbType.Binary, FbType.Utf8]);
    if (this.isNull(c)) return null;
    return this.varAt(c.buffer + 1, c.buffer + 2, 0);
  }

  string(name: string): string | null {
    const b = this.bytes(name);
    return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }

  int64(name: string): bigint | null {
    const c = this.col(name, [FbType.Int]);
    if (this.isNull(c)) return null;
    const v = this.buffer(c.buffer + 1);
    if (v.byteLength < 8) throw new ProtocolError(`field '${name}' is not int64`);
    return new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
  }

  /** A list<binary> cell as an array of byte views. */
  binaryList(name: string): Uint8Array[] | null {
    const c = this.col(name, [FbType.List]);
    if (c.childType !== FbType.Binary) throw new ProtocolError(`field '${name}' is not list<binary>`);
    if (this.isNull(c)) return null;
    const offs = this.buffer(c.buffer + 1);
    const dv = new DataView(offs.buffer, offs.byteOffset, offs.byteLength);
    const start = dv.getInt32(0, true);
    const end = dv.getInt32(4, true);
    const child = { type: FbType.Binary, node: c.node + 1, buffer: c.buffer + 2, childType: null };
    const out: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      if (this.isNull(child, i)) continue;
      out.push(this.varAt(child.buffer + 1, child.buffer + 2, i));
    }
    return out;
  }
}
