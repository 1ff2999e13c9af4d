// One Arrow IPC message, parsed only as far as its flatbuffer header. The body is never decoded
// here: the main thread routes bytes, actors decode them.
import { ByteBuffer } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { KeyValue } from 'apache-arrow/fb/key-value';
import { validateHeader } from './validate.js';

export { MessageHeader };

/**
 * A parsed and bounds-checked message header (the flatbuffer after the length prefix). Readers
 * share one Header among messages whose header bytes are equal (runtime/wire/recent.ts), so it
 * is immutable and reads only its own copy of the bytes.
 */
export class Header {
  private rb: FbRecordBatch | null | undefined;
  private constructor(
    readonly fb: FbMessage,
    readonly headerType: MessageHeader,
    readonly bodyLength: number,
    /** Custom metadata of the message (vgi_rpc.* keys live here on record batches). */
    readonly metadata: ReadonlyMap<string, string>,
  ) {}

  /** Parses and validates `meta`, which the header keeps: pass bytes nobody else changes or moves. */
  static parse(meta: Uint8Array): Header {
    let fb: FbMessage;
    try {
      fb = FbMessage.getRootAsMessage(new ByteBuffer(meta));
    } catch (e) {
      throw new ProtocolError(`malformed IPC message header: ${(e as Error).message}`);
    }
    validateHeader(fb, meta.byteLength);
    const n = fb.customMetadataLength();
    let metadata = EMPTY_META;
    if (n > 0) {
      const m = new Map<string, string>();
      const kv = new KeyValue();
      for (let i = 0; i < n; i++) {
        const e = fb.customMetadata(i, kv);
        const k = e?.key();
        if (k != null) m.set(k, e?.value() ?? '');
      }
      metadata = m;
    }
    return new Header(fb, fb.headerType(), Number(fb.bodyLength()), metadata);
  }

  /** The record batch table of a RecordBatch message (read once per header). */
  recordBatch(): FbRecordBatch | null {
    if (this.rb === undefined) this.rb = this.headerType === MessageHeader.RecordBatch ? this.fb.header(new FbRecordBatch()) as FbRecordBatch | null : null;
    return this.rb;
  }
}

/** A message in its own ArrayBuffer: [0xFFFFFFFF][int32 len][flatbuffer][pad][body]. */
export interface IpcMessage {
  /** The whole message; may be a view into a larger read buffer (see ownBuffer). */
  readonly bytes: Uint8Array;
  readonly headerType: MessageHeader;
  readonly bodyOffset: number;
  readonly bodyLength: number;
  /** Custom metadata of the message (vgi_rpc.* keys live here on record batches). */
  readonly metadata: ReadonlyMap<string, string>;
  readonly header: Header;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const EMPTY_META: ReadonlyMap<string, string> = new Map();

/** A complete message buffer whose header (at bodyOffset - header length) is `header`. */
export function messageOf(bytes: Uint8Array, bodyOffset: number, header: Header): IpcMessage {
  return { bytes, headerType: header.headerType, bodyOffset, bodyLength: header.bodyLength, metadata: header.metadata, header };
}

export function recordBatchHeader(m: IpcMessage): FbRecordBatch {
  if (m.headerType !== MessageHeader.RecordBatch) throw new ProtocolError(`expected a record batch message, got header type ${m.headerType}`);
  const rb = m.header.recordBatch();
  if (!rb) throw new ProtocolError('record batch message without header');
  return rb;
}

export function schemaHeader(m: IpcMessage): FbSchema {
  if (m.headerType !== MessageHeader.Schema) throw new ProtocolError(`expected a schema message, got header type ${m.headerType}`);
  const s = m.header.fb.header(new FbSchema()) as FbSchema | null;
  if (!s) throw new ProtocolError('schema message without header');
  return s;
}

/**
 * The message in an ArrayBuffer holding nothing else (byte 0 = the message's first byte), which
 * can be moved to another thread: its own buffer when it has one, else a copy.
 */
export function ownBuffer(m: IpcMessage): ArrayBuffer {
  return soleOwner(m) ?? m.bytes.slice().buffer;
}

/** The ArrayBuffer `m` fills from its first byte to its last (a read of its own, or a copy), else null. */
export function soleOwner(m: IpcMessage): ArrayBuffer | null {
  const b = m.bytes;
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer as ArrayBuffer : null;
}

/** The bytes of body buffer `i` of a record batch (a view, no copy). */
export function bodyBuffer(m: IpcMessage, rb: FbRecordBatch, i: number): Uint8Array {
  const b = rb.buffers(i);
  if (!b) throw new ProtocolError(`record batch has no buffer ${i}`);
  const off = Number(b.offset());
  const len = Number(b.length());
  if (off < 0 || len < 0 || off + len > m.bodyLength) throw new ProtocolError(`buffer ${i} lies outside the message body`);
  return m.bytes.subarray(m.bodyOffset + off, m.bodyOffset + off + len);
}
