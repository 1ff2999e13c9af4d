// One connection (a stdio pipe pair or one AF_UNIX socket): read a request stream, dispatch it,
// write the response, repeat. Requests on a connection are strictly sequential (vgi-rpc rule).
// Errors answer the request that caused them and the loop goes on; only a byte stream we can no
// longer frame ends the connection.
import type { Readable, Writable } from 'node:stream';
import { MessageReader } from './wire/reader.js';
import { ProtocolError, recordBatchHeader, bodyBuffer, type IpcMessage } from './wire/message.js';
import { transportOptionsReply, unaryError, type WireLog } from './wire/envelope.js';
import type { RuntimeCore } from './core.js';
import { handleCatalog, isCatalogMethod } from './handlers/catalog.js';
import { handleBind } from './handlers/bind.js';
import { handleInit } from './handlers/init.js';
import { handleCombine, handleDestructor, handleProcess } from './handlers/buffering.js';
import { resolveProtocol } from './protocol/versions.js';
import type { ProtocolDefinition } from './protocol/types.js';

/** What a handler gets: the request, its protocol version, and the connection's I/O. */
export interface RequestContext {
  readonly core: RuntimeCore;
  readonly conn: Connection;
  readonly method: string;
  readonly protocol: ProtocolDefinition;
  /** [schema message, request batch message] of the request stream. */
  readonly messages: readonly IpcMessage[];
  readonly batch: IpcMessage;
}

export class Connection {
  readonly reader: MessageReader;
  private closed = false;

  constructor(readonly core: RuntimeCore, readonly input: Readable, readonly output: Writable, readonly label: string) {
    this.reader = new MessageReader(input);
    output.on('error', () => { this.closed = true; });
    output.on('close', () => { this.closed = true; });
  }

  get isClosed(): boolean { return this.closed; }

  /** Writes one response's parts in a single syscall when possible, honouring backpressure. */
  async write(parts: readonly Uint8Array[]): Promise<void> {
    const out = this.output;
    // The peer may have gone while a handler waited on an actor: a socket that already closed
    // never emits 'drain' or 'close' again, so waiting on it would hang this connection forever.
    if (this.closed || out.destroyed || out.writableEnded) { this.closed = true; return; }
    out.cork();
    let ok = true;
    for (const p of parts) if (p.byteLength > 0) ok = out.write(p);
    out.uncork();
    if (!ok && !this.closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => { out.off('drain', done); out.off('close', done); out.off('error', done); resolve(); };
        out.on('drain', done);
        out.on('close', done);
        out.on('error', done);
      });
    }
  }

  async writeError(message: string, logs: readonly WireLog[] = [], errorKind?: string): Promise<void> {
    await this.write(unaryError(message, { logs, errorKind }));
  }

  /** Serves requests until the peer closes the connection. */
  async serve(): Promise<void> {
    this.core.metrics.connections++;
    try {
      for (;;) {
        let req: IpcMessage[] | null;
        try {
          req = await this.reader.readStream();
        } catch (e) {
          // The byte stream cannot be framed any more: answer once, then drop the connection.
          await this.writeError(`vgi-actors: malformed request stream: ${(e as Error).message}`);
          break;
        }
        if (req === null) break;
        this.core.inflight++;
        try {
          await this.dispatch(req);
        } finally {
          this.core.inflight--;
        }
        if (this.closed) break;
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) this.core.log(`connection ${this.label} failed: ${(e as Error).stack ?? e}`);
    } finally {
      this.closed = true;
      this.core.metrics.connections--;
      this.output.end();
    }
  }

  private async dispatch(req: IpcMessage[]): Promise<void> {
    const batch = req.find((m) => m.metadata.has('vgi_rpc.method'));
    if (!batch) return this.writeError('vgi-actors: request has no record batch carrying vgi_rpc.method');
    const method = batch.metadata.get('vgi_rpc.method')!;
    this.core.metrics.requests++;
    if (method === '__transport_options__') return this.write(transportOptionsReply());
    let protocol: ProtocolDefinition;
    try {
      protocol = resolveProtocol(batch.metadata.get('vgi_rpc.protocol_version'), batch.metadata.get('vgi_rpc.protocol'));
    } catch (e) {
      return this.writeError((e as Error).message);
    }
    const ctx: RequestContext = { core: this.core, conn: this, method, protocol, messages: req, batch };
    try {
      if (isCatalogMethod(method)) return await handleCatalog(ctx);
      switch (method) {
        case 'bind': return await handleBind(ctx);
        case 'init': return await handleInit(ctx);
        case 'table_buffering_process': return await handleProcess(ctx);
        case 'table_buffering_combine': return await handleCombine(ctx);
        case 'table_buffering_destructor': return await handleDestructor(ctx);
        default:
          return await this.writeError(`vgi-actors: unknown method '${method}'`, [], 'method_not_implemented');
      }
    } catch (e) {
      const err = e as Error & { logs?: WireLog[] };
      if (!(e instanceof Error) || err.name === 'Error' || err.name === 'TypeError' || err.name === 'RangeError') {
        this.core.log(`${method} failed: ${err.stack ?? err}`);
      }
      await this.writeError(err.message ?? String(e), err.logs ?? []);
    }
  }
}

/** The single `request: binary` cell of a VGI method's request batch (a view, no copy). */
export function requestBlob(batch: IpcMessage): Uint8Array {
  const rb = recordBatchHeader(batch);
  if (Number(rb.length()) !== 1) throw new ProtocolError('request batch must have exactly one row');
  const offs = bodyBuffer(batch, rb, 1);
  if (offs.byteLength < 8) throw new ProtocolError('request column is not binary');
  const dv = new DataView(offs.buffer, offs.byteOffset, 8);
  const a = dv.getInt32(0, true);
  const b = dv.getInt32(4, true);
  const data = bodyBuffer(batch, rb, 2);
  if (a < 0 || b < a || b > data.byteLength) throw new ProtocolError('request cell offsets out of range');
  return data.subarray(a, b);
}
