// Hand framing of the small, hot responses (state ids, unary envelopes, logs, errors).
// apache-arrow's writer costs ~0.3 ms per stream for these; building the flatbuffer directly
// costs a few µs, which matters at one round trip per 2,048-row chunk.
import { Builder } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion } from 'apache-arrow/fb/metadata-version';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { FieldNode } from 'apache-arrow/fb/field-node';
import { Buffer as FbBuffer } from 'apache-arrow/fb/buffer';
import { KeyValue } from 'apache-arrow/fb/key-value';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Field as FbField } from 'apache-arrow/fb/field';
import { Binary as FbBinary } from 'apache-arrow/fb/binary';
import { Type as FbType } from 'apache-arrow/fb/type';

export const EOS_BYTES = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

const pad8 = (n: number): number => (n + 7) & ~7;

function metadataVector(b: Builder, meta: ReadonlyMap<string, string> | undefined, create: (b: Builder, d: number[]) => number): number {
  if (!meta || meta.size === 0) return 0;
  const kvs: number[] = [];
  for (const [k, v] of meta) kvs.push(KeyValue.createKeyValue(b, b.createString(k), b.createString(v)));
  return create(b, kvs);
}

/** Wraps a finished flatbuffer Message into [continuation][len][fb][pad]. */
function framePrefix(b: Builder): Uint8Array {
  const fb = b.asUint8Array();
  const metaLen = pad8(fb.byteLength);
  const out = new Uint8Array(8 + metaLen);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, -1, true);
  dv.setInt32(4, metaLen, true);
  out.set(fb, 8);
  return out;
}

export interface ColumnNode { readonly length: number; readonly nullCount: number }

/**
 * The framed header of a record batch message whose body buffers have the given byte lengths,
 * laid out back to back, each padded to 8 bytes. Returns the prefix ([continuation][len][fb][pad])
 * and where each buffer starts in the body.
 */
export function batchHeader(length: number, nodes: readonly ColumnNode[], bufferLengths: readonly number[], meta?: ReadonlyMap<string, string>): { prefix: Uint8Array; offsets: number[]; bodyLength: number } {
  const b = new Builder(256);
  const kv = metadataVector(b, meta, (bb, d) => FbMessage.createCustomMetadataVector(bb, d));
  let bodyLength = 0;
  const offsets: number[] = [];
  for (const n of bufferLengths) { offsets.push(bodyLength); bodyLength += pad8(n); }
  FbRecordBatch.startBuffersVector(b, bufferLengths.length);
  for (let i = bufferLengths.length - 1; i >= 0; i--) FbBuffer.createBuffer(b, BigInt(offsets[i]!), BigInt(bufferLengths[i]!));
  const buffersVec = b.endVector();
  FbRecordBatch.startNodesVector(b, nodes.length);
  for (let i = nodes.length - 1; i >= 0; i--) FieldNode.createFieldNode(b, BigInt(nodes[i]!.length), BigInt(nodes[i]!.nullCount));
  const nodesVec = b.endVector();
  FbRecordBatch.startRecordBatch(b);
  FbRecordBatch.addLength(b, BigInt(length));
  FbRecordBatch.addNodes(b, nodesVec);
  FbRecordBatch.addBuffers(b, buffersVec);
  const rb = FbRecordBatch.endRecordBatch(b);
  b.finish(FbMessage.createMessage(b, MetadataVersion.V5, MessageHeader.RecordBatch, rb, BigInt(bodyLength), kv));
  return { prefix: framePrefix(b), offsets, bodyLength };
}

/**
 * Encodes a record batch message from already laid-out column buffers. `buffers` follow Arrow's
 * pre-order flattening (validity, offsets, data …); an empty array stands for an absent buffer.
 * Returns the message as parts to write back to back.
 */
export function batchMessage(length: number, nodes: readonly ColumnNode[], buffers: readonly Uint8Array[], meta?: ReadonlyMap<string, string>): Uint8Array[] {
  const { prefix } = batchHeader(length, nodes, buffers.map((x) => x.byteLength), meta);
  const parts: Uint8Array[] = [prefix];
  for (const buf of buffers) {
    if (buf.byteLength > 0) parts.push(buf);
    const p = pad8(buf.byteLength) - buf.byteLength;
    if (p > 0) parts.push(new Uint8Array(p));
  }
  return parts;
}

/** A schema message with binary columns only (the shapes of every unary envelope). */
export function binarySchemaMessage(names: readonly string[], nullable: boolean): Uint8Array {
  const b = new Builder(256);
  const fields = names.map((name) => {
    const n = b.createString(name);
    FbBinary.startBinary(b);
    const t = FbBinary.endBinary(b);
    const children = FbField.createChildrenVector(b, []);
    FbField.startField(b);
    FbField.addName(b, n);
    FbField.addNullable(b, nullable);
    FbField.addTypeType(b, FbType.Binary);
    FbField.addType(b, t);
    FbField.addChildren(b, children);
    return FbField.endField(b);
  });
  const fv = FbSchema.createFieldsVector(b, fields);
  FbSchema.startSchema(b);
  FbSchema.addFields(b, fv);
  const s = FbSchema.endSchema(b);
  b.finish(FbMessage.createMessage(b, MetadataVersion.V5, MessageHeader.Schema, s, 0n, 0));
  return framePrefix(b);
}

/** Buffers and node for a 1-row, non-null binary column holding `value`. */
export function binaryCell(value: Uint8Array): { node: ColumnNode; buffers: Uint8Array[] } {
  const offsets = new Uint8Array(8);
  new DataView(offsets.buffer).setInt32(4, value.byteLength, true);
  return { node: { length: 1, nullCount: 0 }, buffers: [new Uint8Array(0), offsets, value] };
}

/** Zero-row batch for a schema of `columns` binary columns, carrying only custom metadata. */
export function emptyBinaryBatch(columns: number, meta: ReadonlyMap<string, string>): Uint8Array[] {
  const nodes: ColumnNode[] = [];
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < columns; i++) {
    nodes.push({ length: 0, nullCount: 0 });
    // A 0-length offsets buffer is legal for 0 rows, but one int32 zero is what C++ writes.
    buffers.push(new Uint8Array(0), new Uint8Array(4), new Uint8Array(0));
  }
  return batchMessage(0, nodes, buffers, meta);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}
