// Bounds checks for IPC message headers before anything walks them. A flatbuffer is trusted
// input to both our readers and apache-arrow's: a corrupted vector length (up to 2^31) makes a
// reader loop billions of times on the main thread and freeze every connection (found by
// test/fuzz.test.ts). Every vector element takes at least 4 bytes of the header, so no honest
// count exceeds the header size / 4; nesting deeper than 64 levels is refused as well.
import { ByteBuffer } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { DictionaryBatch as FbDictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import type { Field as FbField } from 'apache-arrow/fb/field';
import { ProtocolError } from './message.js';

const MAX_DEPTH = 64;

function count(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ProtocolError(`corrupt IPC header: ${what} count ${n}`);
}

function checkField(f: FbField, max: number, depth: number, budget: { fields: number }): void {
  if (depth > MAX_DEPTH) throw new ProtocolError('corrupt IPC header: fields nested too deeply');
  if (--budget.fields < 0) throw new ProtocolError('corrupt IPC header: too many fields');
  count(f.childrenLength(), max, 'child field');
  count(f.customMetadataLength(), max, 'field metadata');
  for (let i = 0; i < f.childrenLength(); i++) {
    const c = f.children(i);
    if (!c) throw new ProtocolError('corrupt IPC header: missing child field');
    checkField(c, max, depth + 1, budget);
  }
}

// Every value takes at least one bit of body (validity or data), except columns of the Null type,
// which have no buffers: allow those `nullRows` extra rows (a million for data batches, a few
// thousand for request dataclasses, which hold one row). Without this bound a corrupt length
// (2^31) makes readers materialize billions of values.
export const DATA_NULL_ROWS = 1 << 20;
export const REQUEST_NULL_ROWS = 4096;

function checkBatch(rb: FbRecordBatch | null, max: number, bodyLength: number, nullRows: number): void {
  if (!rb) throw new ProtocolError('corrupt IPC header: record batch without body description');
  count(rb.nodesLength(), max / 4, 'field node'); // 16-byte structs
  const maxRows = bodyLength * 8 + nullRows;
  count(Number(rb.length()), maxRows, 'row');
  for (let i = 0; i < rb.nodesLength(); i++) {
    const n = rb.nodes(i)!;
    count(Number(n.length()), maxRows, 'value');
    count(Number(n.nullCount()), Number(n.length()), 'null');
  }
  count(rb.buffersLength(), max / 4, 'buffer');
  count(rb.variadicBufferCountsLength(), max / 2, 'variadic buffer');
}

/** Throws ProtocolError unless every count in the header fits inside it. */
export function validateHeader(fb: FbMessage, headerLength: number, nullRows = DATA_NULL_ROWS): void {
  const max = Math.floor(headerLength / 4);
  try {
    count(fb.customMetadataLength(), max, 'custom metadata');
    switch (fb.headerType()) {
      case MessageHeader.Schema: {
        const s = fb.header(new FbSchema()) as FbSchema | null;
        if (!s) throw new ProtocolError('corrupt IPC header: schema message without schema');
        count(s.fieldsLength(), max, 'field');
        count(s.customMetadataLength(), max, 'schema metadata');
        count(s.featuresLength(), max / 2, 'feature');
        const budget = { fields: max };
        for (let i = 0; i < s.fieldsLength(); i++) {
          const f = s.fields(i);
          if (!f) throw new ProtocolError('corrupt IPC header: missing field');
          checkField(f, max, 0, budget);
        }
        break;
      }
      case MessageHeader.RecordBatch:
        checkBatch(fb.header(new FbRecordBatch()) as FbRecordBatch | null, max, Number(fb.bodyLength()), nullRows);
        break;
      case MessageHeader.DictionaryBatch:
        checkBatch((fb.header(new FbDictionaryBatch()) as FbDictionaryBatch | null)?.data() ?? null, max, Number(fb.bodyLength()), nullRows);
        break;
      default:
        throw new ProtocolError(`unexpected IPC message type ${fb.headerType()}`);
    }
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    // flatbuffers reads past the end of a corrupt header with DataView → RangeError.
    throw new ProtocolError(`corrupt IPC header: ${(e as Error).message}`);
  }
}

/** Validates every message header of a complete nested IPC stream (before apache-arrow reads it). */
export function validateStream(bytes: Uint8Array, nullRows = DATA_NULL_ROWS): void {
  let pos = 0;
  while (pos + 8 <= bytes.byteLength) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + pos, 8);
    let len = dv.getInt32(0, true);
    let prefix = 4;
    if (len === -1) { len = dv.getInt32(4, true); prefix = 8; }
    if (len === 0) return;
    if (len < 0 || pos + prefix + len > bytes.byteLength) throw new ProtocolError('nested IPC message is truncated');
    const fb = FbMessage.getRootAsMessage(new ByteBuffer(bytes.subarray(pos + prefix, pos + prefix + len)));
    validateHeader(fb, len, nullRows);
    const body = Number(fb.bodyLength());
    if (!Number.isFinite(body) || body < 0 || pos + prefix + len + body > bytes.byteLength) throw new ProtocolError('nested IPC message body is truncated');
    pos += prefix + len + body;
  }
}

/** The parts of an apache-arrow Data a bounds check needs (kept structural: no arrow import). */
interface DataLike {
  readonly length: number;
  readonly offset: number;
  readonly type: { readonly typeId: number; readonly listSize?: number };
  readonly values?: { readonly length: number };
  readonly valueOffsets?: ArrayLike<number | bigint>;
  readonly children: readonly DataLike[];
}

// apache-arrow Type ids used below (enum Type in apache-arrow/enum).
const T = { Utf8: 5, Binary: 4, LargeUtf8: 20, LargeBinary: 19, List: 12, LargeList: 21, Map: 17, FixedSizeList: 16 } as const;

/**
 * Checks that every offset of variable-length columns lies inside the data it indexes. Header
 * checks cannot see offsets: a corrupt one made a one-row request decode into a 16-million
 * element list (found by test/fuzz.test.ts). Used on request dataclasses before reading values.
 */
export function validateOffsets(d: DataLike, depth = 0): void {
  if (depth > MAX_DEPTH) throw new ProtocolError('corrupt IPC data: nested too deeply');
  const id = d.type.typeId;
  const offs = d.valueOffsets;
  const span = (limit: number): void => {
    if (!offs || offs.length < d.offset + d.length + 1) throw new ProtocolError('corrupt IPC data: offsets buffer too short');
    let prev = Number(offs[d.offset]);
    if (prev < 0) throw new ProtocolError('corrupt IPC data: negative offset');
    for (let i = d.offset + 1; i <= d.offset + d.length; i++) {
      const o = Number(offs[i]);
      if (o < prev || o > limit) throw new ProtocolError('corrupt IPC data: offset out of range');
      prev = o;
    }
  };
  if (id === T.Utf8 || id === T.Binary || id === T.LargeUtf8 || id === T.LargeBinary) span(d.values?.length ?? 0);
  else if (id === T.List || id === T.LargeList || id === T.Map) span(d.children[0]?.length ?? 0);
  else if (id === T.FixedSizeList && (d.children[0]?.length ?? 0) < (d.offset + d.length) * (d.type.listSize ?? 0)) {
    throw new ProtocolError('corrupt IPC data: fixed-size list child too short');
  }
  for (const c of d.children) validateOffsets(c, depth + 1);
}
