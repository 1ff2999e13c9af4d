// A minimal vgi-rpc client for in-process tests: builds request streams the way the extension
// does (one batch, vgi_rpc.* metadata on the batch) and reads whole response streams back.
import { Socket } from 'node:net';
import { Binary, Field, RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema, makeData, Struct, vectorFromArray } from 'apache-arrow';
import { MessageReader, type ReadItem } from '../../runtime/wire/reader.js';
import { concat, EOS_BYTES } from '../../runtime/wire/encode.js';

export interface Response {
  readonly batches: RecordBatch[];
  /** The EXCEPTION message, when the response is an error. */
  readonly error: string | null;
  readonly errorKind: string | null;
  /** Bytes of the `result` cell of a unary value response. */
  readonly result: Uint8Array | null;
}

export function requestStream(method: string, blob: Uint8Array | null, version = '2.0.0', extraMeta: Record<string, string> = {}): Uint8Array {
  const meta = new Map<string, string>([['vgi_rpc.method', method], ['vgi_rpc.request_version', '1'], ['vgi_rpc.protocol_version', version], ...Object.entries(extraMeta)]);
  if (version.startsWith('2.')) meta.set('vgi_rpc.protocol', 'vgi.v2');
  let batch: RecordBatch;
  if (blob) {
    const schema = new Schema([new Field('request', new Binary(), false)]);
    const col = vectorFromArray([blob], new Binary());
    batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 1, children: [col.data[0]!] }), meta);
  } else {
    const schema = new Schema([]);
    batch = new RecordBatch(schema, makeData({ type: new Struct([]), length: 1, children: [] }), meta);
  }
  const w = new RecordBatchStreamWriter();
  w.write(batch);
  w.finish();
  return w.toUint8Array(true);
}

export function readResponse(bytes: Uint8Array): Response {
  const reader = RecordBatchReader.from(bytes);
  const batches = [...reader];
  let error: string | null = null;
  let errorKind: string | null = null;
  let result: Uint8Array | null = null;
  for (const b of batches) {
    if (b.numRows === 0 && b.metadata.get('vgi_rpc.log_level') === 'EXCEPTION') {
      error = b.metadata.get('vgi_rpc.log_message') ?? '';
      errorKind = b.metadata.get('vgi_rpc.error_kind') ?? null;
    } else if (b.numRows === 1 && b.schema.fields[0]?.name === 'result') {
      result = b.getChild('result')!.get(0) as Uint8Array;
    }
  }
  return { batches, error, errorKind, result };
}

/** One client connection to a listening worker. */
export class Client {
  private readonly reader: MessageReader;
  constructor(readonly socket: Socket) {
    this.reader = new MessageReader(socket);
  }

  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.once('error', reject);
      s.connect(path, () => { s.off('error', reject); resolve(new Client(s)); });
    });
  }

  send(bytes: Uint8Array): void { this.socket.write(bytes); }

  /** The next IPC message, EOS, or null at the end of the connection (for stream-level tests). */
  message(): Promise<ReadItem> { return this.reader.next(); }

  /** Reads one response stream; null when the worker closed the connection. */
  async read(): Promise<Response | null> {
    const msgs = await this.reader.readStream();
    if (msgs === null) return null;
    return readResponse(concat([...msgs.map((m) => m.bytes), EOS_BYTES]));
  }

  async call(method: string, blob: Uint8Array | null, version = '2.0.0', extraMeta: Record<string, string> = {}): Promise<Response> {
    this.send(requestStream(method, blob, version, extraMeta));
    const r = await this.read();
    if (!r) throw new Error(`connection closed while waiting for ${method}`);
    return r;
  }

  close(): void { this.socket.end(); }
}
