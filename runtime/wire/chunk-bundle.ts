// Process calls a stdio relay already answered travel to the host as *chunk bundles*: one small IPC
// stream (this schema, one batch of N rows, EOS) per relay batch, instead of N whole request
// streams. The host then frames, checks and routes one message per bundle (up to ~256 KiB) rather
// than three per chunk, and can move the bundle's buffer to the actor whole (docs/performance.md §10).
//
// Columns, all binary and non-null: execution_id, input_batch (the chunk's inner IPC stream,
// exactly as DuckDB sent it) and batch_index (8 bytes little-endian, or empty for none). The
// relay writes the input bytes straight from DuckDB's request (writev, no copy).
import { binarySchemaMessage, batchHeader, EOS_BYTES, type ColumnNode } from './encode.js';
import { ProtocolError, recordBatchHeader, bodyBuffer, type IpcMessage } from './message.js';

export const CHUNKS_METHOD = '__vgi_actors_chunks__';
const COLUMNS = ['execution_id', 'input_batch', 'batch_index'] as const;
/** The schema message every bundle starts with (the host checks it byte for byte). */
export const CHUNK_BUNDLE_SCHEMA = binarySchemaMessage(COLUMNS, false);
const META = new Map([['vgi_rpc.method', CHUNKS_METHOD]]);
/** More rows than a relay ever batches (each row adds ≥ 48 bytes to a 256 KiB bundle): a bad frame. */
const MAX_ROWS = 1 << 16;
const pad8 = (n: number): number => (n + 7) & ~7;
const ZEROS = new Uint8Array(8);

/** Collects answered process calls on the relay until it sends them as one bundle. */
export class ChunkBundleWriter {
  private eids: Uint8Array[] = [];
  private inputs: Uint8Array[] = [];
  private indexes: (bigint | null)[] = [];
  /** Bytes the bundle will take on the wire, roughly (inputs dominate). */
  bytes = 0;

  get rows(): number { return this.inputs.length; }

  add(eid: Uint8Array, input: Uint8Array, batchIndex: bigint | null): void {
    this.eids.push(eid);
    this.inputs.push(input);
    this.indexes.push(batchIndex);
    this.bytes += input.byteLength + eid.byteLength + 32;
  }

  /** The bundle as parts to write back to back (schema, batch, EOS); empties the writer. */
  take(): Uint8Array[] {
    const n = this.rows;
    const eidOffsets = new Int32Array(n + 1);
    const inputOffsets = new Int32Array(n + 1);
    const indexOffsets = new Int32Array(n + 1);
    let eidBytes = 0;
    let inputBytes = 0;
    let indexCount = 0;
    for (let i = 0; i < n; i++) {
      eidOffsets[i + 1] = eidBytes += this.eids[i]!.byteLength;
      inputOffsets[i + 1] = inputBytes += this.inputs[i]!.byteLength;
      if (this.indexes[i] !== null) indexCount++;
      indexOffsets[i + 1] = indexCount * 8;
    }
    const eidData = new Uint8Array(eidBytes);
    for (let i = 0, at = 0; i < n; i++) { eidData.set(this.eids[i]!, at); at += this.eids[i]!.byteLength; }
    const indexData = new DataView(new ArrayBuffer(indexCount * 8));
    for (let i = 0, at = 0; i < n; i++) {
      const b = this.indexes[i]!;
      if (b !== null) { indexData.setBigInt64(at, b, true); at += 8; }
    }
    const offsetBytes = (n + 1) * 4;
    const node: ColumnNode = { length: n, nullCount: 0 };
    const { prefix } = batchHeader(n, [node, node, node], [0, offsetBytes, eidBytes, 0, offsetBytes, inputBytes, 0, offsetBytes, indexCount * 8], META);
    const parts: Uint8Array[] = [CHUNK_BUNDLE_SCHEMA, prefix];
    /** One body buffer, written as `pieces` back to back, then padded to 8 bytes. */
    const buffer = (...pieces: Uint8Array[]): void => {
      let n = 0;
      for (const p of pieces) if (p.byteLength > 0) { parts.push(p); n += p.byteLength; }
      if (pad8(n) > n) parts.push(ZEROS.subarray(0, pad8(n) - n));
    };
    buffer(new Uint8Array(eidOffsets.buffer));
    buffer(eidData);
    buffer(new Uint8Array(inputOffsets.buffer));
    buffer(...this.inputs);
    buffer(new Uint8Array(indexOffsets.buffer));
    buffer(new Uint8Array(indexData.buffer));
    parts.push(EOS_BYTES);
    this.eids = [];
    this.inputs = [];
    this.indexes = [];
    this.bytes = 0;
    return parts;
  }
}

export interface BundledChunk {
  readonly eid: Uint8Array;
  /** A view into the bundle message's bytes. */
  readonly input: Uint8Array;
  readonly batchIndex: bigint | null;
}

/** Offsets of a binary column, checked against its data (Arrow's rules: monotonic, in range). */
interface Column { readonly offs: DataView; readonly data: Uint8Array }

function offsetsOf(m: IpcMessage, rb: ReturnType<typeof recordBatchHeader>, col: number, n: number): Column {
  const offs = bodyBuffer(m, rb, col * 3 + 1);
  const data = bodyBuffer(m, rb, col * 3 + 2);
  if (offs.byteLength < (n + 1) * 4) throw new ProtocolError(`chunk bundle: offsets of ${COLUMNS[col]} too short`);
  const dv = new DataView(offs.buffer, offs.byteOffset, (n + 1) * 4);
  let prev = dv.getInt32(0, true);
  if (prev !== 0) throw new ProtocolError(`chunk bundle: offsets of ${COLUMNS[col]} do not start at 0`);
  for (let i = 1; i <= n; i++) {
    const o = dv.getInt32(i * 4, true);
    if (o < prev || o > data.byteLength) throw new ProtocolError(`chunk bundle: offsets of ${COLUMNS[col]} out of range`);
    prev = o;
  }
  return { offs: dv, data };
}

/**
 * The chunks of a bundle stream ([schema, batch]), checked: the exact schema, the method, row
 * count, and every offset. Throws ProtocolError on anything else.
 */
export function readChunkBundle(stream: readonly IpcMessage[]): BundledChunk[] {
  const schema = stream[0]?.bytes;
  if (stream.length !== 2 || !Buffer.from(schema!.buffer, schema!.byteOffset, schema!.byteLength).equals(CHUNK_BUNDLE_SCHEMA)) {
    throw new ProtocolError('a one-way marker must be followed by a chunk bundle');
  }
  const m = stream[1]!;
  if (m.metadata.get('vgi_rpc.method') !== CHUNKS_METHOD) throw new ProtocolError('chunk bundle batch lacks its method');
  const rb = recordBatchHeader(m);
  const n = Number(rb.length());
  if (!(n >= 1 && n <= MAX_ROWS) || rb.nodesLength() !== 3 || rb.buffersLength() !== 9) throw new ProtocolError('chunk bundle has a bad shape');
  const eids = offsetsOf(m, rb, 0, n);
  const inputs = offsetsOf(m, rb, 1, n);
  const indexes = offsetsOf(m, rb, 2, n);
  const at = (c: Column, i: number): Uint8Array => c.data.subarray(c.offs.getInt32(i * 4, true), c.offs.getInt32(i * 4 + 4, true));
  const out: BundledChunk[] = [];
  for (let i = 0; i < n; i++) {
    const eid = at(eids, i);
    if (eid.byteLength === 0) throw new ProtocolError('chunk bundle row carries no execution_id');
    const idx = at(indexes, i);
    if (idx.byteLength !== 0 && idx.byteLength !== 8) throw new ProtocolError('chunk bundle batch_index is not 8 bytes');
    const batchIndex = idx.byteLength === 8 ? new DataView(idx.buffer, idx.byteOffset, 8).getBigInt64(0, true) : null;
    out.push({ eid, input: at(inputs, i), batchIndex });
  }
  return out;
}
