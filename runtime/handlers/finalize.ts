// The finalize stream of one finalize state id, on the main thread: relay IPC bytes the actor
// produced, one data batch per DuckDB tick. Lockstep with DuckDB plus a small credit window to
// the actor keeps memory bounded (a batch is produced at most `WINDOW` ticks ahead).
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { RequestContext } from '../connection.js';
import { EOS } from '../wire/reader.js';
import { EOS_BYTES } from '../wire/encode.js';
import { unaryError } from '../wire/envelope.js';
import { MessageHeader } from '../wire/message.js';
import type { FinalizeIn, FinalizeOut } from '../../actors/messages.js';
import { decodeSchema, MessageEncoder } from '../../actors/codec.js';
import type { InitRequestView } from './init.js';
import type { ActorThreadHandle } from '../actors/pool.js';

const WINDOW = 2;

/** Async queue over a MessagePort; a closed port without a final message means the thread died. */
class PortQueue {
  private items: FinalizeOut[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private finished = false;

  constructor(private readonly port: MessagePort, private readonly thread: ActorThreadHandle) {
    port.on('message', (m: FinalizeOut) => {
      if (m.t === 'end' || m.t === 'error') this.finished = true;
      this.items.push(m);
      this.poke();
    });
    port.on('close', () => { this.closed = true; this.poke(); });
  }

  private poke(): void { const w = this.wake; this.wake = null; w?.(); }

  /** The next message, within one call deadline: the producer runs user code to make it. */
  async next(): Promise<FinalizeOut> {
    const disarm = this.thread.deadline('a finalize producer');
    try { return await this.wait(); } finally { disarm(); }
  }

  private async wait(): Promise<FinalizeOut> {
    for (;;) {
      const m = this.items.shift();
      if (m) return m;
      if (this.closed) {
        if (this.finished) return { t: 'error', message: 'finalize stream ended twice', bytes: null };
        const why = this.thread.lastDeath ? ` (${this.thread.lastDeath})` : '';
        return { t: 'error', message: `actor thread ${this.thread.index} died while producing this finalize stream${why}`, bytes: null };
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  send(m: FinalizeIn): void {
    if (!this.closed) this.port.postMessage(m, m.t === 'recycle' ? [m.buffer] : []);
  }

  close(): void { this.port.close(); }
}

function errorBatch(schemaBytes: Uint8Array, message: string): Uint8Array {
  const enc = new MessageEncoder(decodeSchema(schemaBytes));
  enc.take();
  enc.metadataBatch(new Map([['vgi_rpc.log_level', 'EXCEPTION'], ['vgi_rpc.log_message', message]]));
  return enc.take();
}

export async function streamFinalize(
  ctx: RequestContext,
  thread: ActorThreadHandle,
  key: string,
  view: InitRequestView,
  header: Uint8Array,
): Promise<void> {
  const { conn, core } = ctx;
  const { port1, port2 } = new MessageChannel();
  const items = new PortQueue(port1, thread);
  try {
    await thread.request({ t: 'finalize', eid: key, finalizeStateId: view.finalizeStateId ?? new Uint8Array(0), port: port2, pushdown: view.pushdown }, [port2]);
  } catch (e) {
    items.close();
    throw e; // answered as an init error (empty schema + EXCEPTION)
  }
  core.metrics.finalizeStreams++;
  // The port must close however the stream ends (a write to a peer that hung up throws), or it
  // keeps the process alive.
  try {
    await relayTicks(ctx, items, key, header);
  } finally {
    items.close();
  }
}

async function relayTicks(ctx: RequestContext, items: PortQueue, key: string, header: Uint8Array): Promise<void> {
  const { conn, core } = ctx;
  items.send({ t: 'credit', n: WINDOW });
  await conn.write([header]);

  // The output schema comes from the actor (it knows the projection); write it ahead of the first
  // tick, which both protocol versions accept.
  const first = await items.next();
  let schemaBytes: Uint8Array | null = null;
  let done = false;
  if (first.t === 'schema') {
    schemaBytes = first.bytes;
    await conn.write([schemaBytes]);
  } else {
    await conn.write(unaryError(first.t === 'error' ? first.message : 'finalize stream produced no schema'));
    done = true;
  }

  // The buffer of the last data batch written: DuckDB sends its next tick only after reading that
  // batch whole, so at the next tick the buffer goes back to the actor for reuse.
  let written: ArrayBuffer | null = null;
  for (;;) {
    const m = await conn.reader.next();
    if (written && m !== null && m !== EOS) { items.send({ t: 'recycle', buffer: written }); written = null; }
    if (m === null) { items.send({ t: 'cancel' }); break; } // DuckDB dropped the connection
    if (m === EOS) {
      // DuckDB closed its tick stream: it wants no more rows (LIMIT, release to the pool).
      if (!done) { items.send({ t: 'cancel' }); await conn.write([EOS_BYTES]); }
      break;
    }
    if (done || m.headerType !== MessageHeader.RecordBatch) continue; // tick schema, or draining
    if (m.metadata.has('vgi_rpc.cancel')) {
      items.send({ t: 'cancel' });
      await conn.write([EOS_BYTES]);
      done = true;
      continue;
    }
    const item = await items.next();
    core.pool.touch(key); // a long drain is activity, not abandonment
    if (item.t === 'tick') {
      // One write for the tick (logs, then the data batch).
      await conn.write(item.logs ? [item.logs, item.bytes] : [item.bytes]);
      written = item.bytes.buffer as ArrayBuffer;
      items.send({ t: 'credit', n: 1 });
      continue;
    }
    if (item.t === 'end') {
      await conn.write(item.bytes ? [item.bytes, EOS_BYTES] : [EOS_BYTES]);
    } else if (item.t === 'error') {
      const bytes = item.bytes ?? errorBatch(schemaBytes!, item.message);
      await conn.write([bytes, EOS_BYTES]);
    } else {
      await conn.write([errorBatch(schemaBytes!, 'finalize stream sent a second schema'), EOS_BYTES]);
    }
    done = true;
  }
}
