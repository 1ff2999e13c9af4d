// One connection (a stdio pipe pair or one AF_UNIX socket): read a request stream, dispatch it,
// write the response, repeat. Requests on a connection are strictly sequential (vgi-rpc rule).
// Errors answer the request that caused them and the loop goes on; only a byte stream we can no
// longer frame ends the connection.
//
// A stdio relay may switch its connection into relay mode (runtime/transports/relay-link.ts): then
// a one-way marker announces a bundle of process calls the relay already answered
// (runtime/wire/chunk-bundle.ts); they are queued without a response.
import type { Readable, Writable } from 'node:stream';
import { Socket } from 'node:net';
import { MessageReader } from './wire/reader.js';
import { ProtocolError, soleOwner, type IpcMessage } from './wire/message.js';
import { decodeControl, RELAY_METHOD } from './wire/relay-control.js';
import { RelayLink } from './transports/relay-link.js';
import { ActorCallError } from './actors/pool.js';
import { transportOptionsReply, unaryError, type WireLog } from './wire/envelope.js';
import type { RuntimeCore } from './core.js';
import { handleCatalog, isCatalogMethod } from './handlers/catalog.js';
import { handleBind } from './handlers/bind.js';
import { handleInit } from './handlers/init.js';
import { handleCombine, handleDestructor, handleProcess, queueOneWay } from './handlers/buffering.js';
import { readChunkBundle } from './wire/chunk-bundle.js';
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
  /** The read buffer holding this request and nothing else: a handler may move it (see MessageReader). */
  readonly buffer: ArrayBuffer | null;
}

export class Connection {
  readonly reader: MessageReader;
  /** Set when a stdio relay opened this connection (data or control side). */
  relay: RelayLink | null = null;
  private closed = false;

  constructor(readonly core: RuntimeCore, readonly input: Readable, readonly output: Writable, readonly label: string) {
    this.reader = new MessageReader(input, input instanceof Socket);
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
        let next: { req: IpcMessage[]; oneWay: boolean } | null;
        try {
          next = await this.nextRequest();
        } catch (e) {
          // The byte stream cannot be framed any more: answer once, then drop the connection.
          await this.writeError(`vgi-actors: malformed request stream: ${(e as Error).message}`);
          break;
        }
        if (next === null) break;
        this.core.inflight++;
        try {
          if (next.oneWay) {
            // Nobody waits for an answer: a failure here cannot be reported on this request, so
            // it ends the connection (the relay exits, DuckDB sees a dead worker).
            let n = 0;
            try {
              n = await this.dispatchOneWay(next.req);
            } catch (e) {
              this.core.log(`one-way request on ${this.label} failed, closing the connection: ${(e as Error).stack ?? e}`);
              break;
            } finally {
              this.relay!.oneWayDone(n);
            }
          } else {
            await this.dispatch(next.req);
          }
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
      this.relay?.closed(this);
      this.output.end();
    }
  }

  /** The next request, and whether a relay marked it one-way (an empty stream before it). */
  private async nextRequest(): Promise<{ req: IpcMessage[]; oneWay: boolean } | null> {
    const req = await this.reader.readStream();
    if (req === null) return null;
    if (req.length > 0 || !this.relay?.carriesData(this)) return { req, oneWay: false };
    const next = await this.reader.readStream();
    if (next === null || next.length === 0) throw new ProtocolError('a one-way marker must be followed by a request');
    return { req: next, oneWay: true };
  }

  /** A relay's bundle of process calls it already answered; returns how many it held. */
  private async dispatchOneWay(req: IpcMessage[]): Promise<number> {
    const chunks = readChunkBundle(req);
    this.core.metrics.requests += chunks.length;
    // The bundle's buffer moves to the actor when nothing else lies in it: the read it came in
    // (after its marker), or the copy the reader made of a bundle that spanned reads.
    const own = this.reader.lastStreamBuffer ?? soleOwner(req[1]!);
    await queueOneWay(this, chunks, own);
    return chunks.length;
  }

  private async dispatch(req: IpcMessage[]): Promise<void> {
    const batch = req.find((m) => m.metadata.has('vgi_rpc.method'));
    if (!batch) return this.writeError('vgi-actors: request has no record batch carrying vgi_rpc.method');
    const method = batch.metadata.get('vgi_rpc.method')!;
    this.core.metrics.requests++;
    if (method === '__transport_options__') return this.write(transportOptionsReply());
    if (method === RELAY_METHOD) {
      try {
        return RelayLink.onControl(this, decodeControl(batch.metadata)); // control messages get no response
      } catch (e) {
        return this.writeError((e as Error).message);
      }
    }
    let protocol: ProtocolDefinition;
    try {
      protocol = resolveProtocol(batch.metadata.get('vgi_rpc.protocol_version'), batch.metadata.get('vgi_rpc.protocol'));
    } catch (e) {
      return this.writeError((e as Error).message);
    }
    const ctx: RequestContext = { core: this.core, conn: this, method, protocol, messages: req, batch, buffer: this.reader.lastStreamBuffer };
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
      // The caller's mistakes (a malformed request), the function's own errors and a peer that hung
      // up (DuckDB closes connections early after LIMIT or an error) are DuckDB's business; anything
      // else (a lost thread, a bug of ours) is the operator's to see as well.
      if (!(e instanceof ActorCallError || e instanceof ProtocolError || peerGone(e))) this.core.log(`${method} failed: ${err.stack ?? err}`);
      await this.writeError(err.message ?? String(e), err.logs ?? []);
    }
  }
}

/** A write or read failed because the other end closed the connection. */
function peerGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}
