// A finalize stream: runs the user's producer on the actor's thread, applies pushed-down filters
// and projection, encodes each batch as IPC bytes and moves them through a MessagePort to the
// connection. Credits from the main thread bound how far the producer runs ahead of DuckDB.
import type { MessagePort } from 'node:worker_threads';
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import type { FinalizeParams, StateId } from '../functions/api.js';
import type { Actor, OpenStream } from './actor.js';
import { MessageEncoder } from './codec.js';
import { canEncodeConcat, encodeConcat } from './ipc-concat.js';
import { canConcatBatches, concatBatches } from './concat.js';
import type { FinalizeIn, FinalizeOut, PushdownInput, WireLog } from './messages.js';
import { applyPushdown, parseFilters, projectSchema, type FilterProgram } from './pushdown/index.js';

/**
 * Output batches are coalesced up to this many rows (60 DuckDB vectors; the extension pages wide
 * batches) or bytes, whichever comes first: one DuckDB round trip per tick instead of per
 * 2,048-row chunk the sink buffered.
 */
export const TICK_ROWS = 122_880;
export const TICK_BYTES = 16 << 20;
/** Recycled tick buffers kept per stream (the credit window plus the one DuckDB is reading). */
const SPARE_BUFFERS = 3;

/** Bytes a batch's buffers span (views counted by their own length). */
export function batchBytes(b: RecordBatch): number {
  let n = 0;
  const visit = (d: Data): void => {
    for (const v of [d.values, d.valueOffsets, d.nullBitmap] as (ArrayBufferView | undefined)[]) n += v?.byteLength ?? 0;
    for (const c of d.children) visit(c);
  };
  visit(b.data);
  return n;
}

function logMeta(l: WireLog): Map<string, string> {
  return new Map([['vgi_rpc.log_level', l.level], ['vgi_rpc.log_message', l.message]]);
}

export class FinalizeStream implements OpenStream {
  private credits = 0;
  /** Why the execution was destroyed under this stream, if it was. */
  private destroyedBy: string | null = null;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private readonly logs: WireLog[] = [];
  private encoder: MessageEncoder | null = null;
  /** Tick buffers DuckDB has finished reading, back from the main thread for reuse. */
  private readonly spare: ArrayBuffer[] = [];

  /** An n-byte region for a tick: a recycled buffer when one is big enough. */
  private readonly alloc = (n: number): Uint8Array => {
    let best = -1;
    for (let i = 0; i < this.spare.length; i++) {
      const len = this.spare[i]!.byteLength;
      if (len >= n && (best < 0 || len < this.spare[best]!.byteLength)) best = i;
    }
    if (best >= 0) return new Uint8Array(this.spare.splice(best, 1)[0]!, 0, n);
    // Some slack, so that the next tick (usually the same size or a little bigger) fits too.
    return new Uint8Array(new ArrayBuffer(n + (n >> 4)), 0, n);
  };

  constructor(
    private readonly actor: Actor,
    private readonly finalizeStateId: StateId,
    private readonly port: MessagePort,
    private readonly pushdown: PushdownInput,
  ) {
    port.on('message', (m: FinalizeIn) => {
      if (m.t === 'recycle') { if (this.spare.length < SPARE_BUFFERS) this.spare.push(m.buffer); return; }
      if (m.t === 'credit') { this.credits += m.n; this.poke(); } else this.cancel();
    });
  }

  private poke(): void { const w = this.wake; this.wake = null; w?.(); }

  private cancel(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    try {
      this.actor.fn.onCancel?.(this.params(), this.finalizeStateId);
    } catch (e) {
      this.logs.push({ level: 'ERROR', message: `onCancel failed: ${(e as Error).message}` });
    }
    this.poke();
  }

  /** The execution is being destroyed: cancel, and end the stream with an error, not a clean end. */
  stop(reason: string): void {
    this.destroyedBy ??= reason;
    this.cancel();
  }

  private paramsCache: FinalizeParams | null = null;
  private params(): FinalizeParams {
    return (this.paramsCache ??= { ...this.actor.baseParams(this.logs), finalizeStateId: this.finalizeStateId, signal: this.abort.signal });
  }

  private send(m: FinalizeOut): void {
    const transfer = 'bytes' in m && m.bytes ? [m.bytes.buffer as ArrayBuffer] : [];
    if (m.t === 'tick' && m.logs) transfer.push(m.logs.buffer as ArrayBuffer);
    this.port.postMessage(m, transfer);
  }

  private drainLogs(enc: MessageEncoder): void {
    for (const l of this.logs.splice(0)) enc.metadataBatch(logMeta(l));
  }

  private async creditAvailable(): Promise<void> {
    while (this.credits <= 0 && !this.abort.signal.aborted) await new Promise<void>((r) => (this.wake = r));
  }

  /**
   * One tick for the batches, written straight into one IPC message when their types allow it.
   * Dictionary columns need apache-arrow's writer (it emits the dictionary batches): the batches
   * are concatenated first when they share their dictionaries, else sent one tick each.
   * False if cancelled.
   */
  private async emit(enc: MessageEncoder, schema: Schema, batches: RecordBatch[]): Promise<boolean> {
    if (canEncodeConcat(batches)) {
      await this.creditAvailable();
      if (this.abort.signal.aborted) return false;
      this.credits--;
      this.drainLogs(enc);
      const logs = enc.take();
      let rows = 0;
      for (const b of batches) rows += b.numRows;
      this.send({ t: 'tick', bytes: encodeConcat(batches, this.alloc), rows, logs: logs.byteLength > 0 ? logs : null });
      return true;
    }
    const ticks = canConcatBatches(batches) ? [concatBatches(schema, batches)] : batches;
    for (const b of ticks) {
      await this.creditAvailable();
      if (this.abort.signal.aborted) return false;
      this.credits--;
      this.drainLogs(enc);
      enc.batch(b);
      this.send({ t: 'tick', bytes: enc.take(this.alloc), rows: b.numRows, logs: null });
    }
    return true;
  }

  private throwIfDestroyed(): void {
    if (this.destroyedBy !== null) throw new Error(`execution was destroyed (${this.destroyedBy}) before its finalize stream ended`);
  }

  async run(): Promise<void> {
    this.actor.streams.add(this);
    try {
      // Queued behind calls during which DuckDB destroyed the execution: its state is gone.
      if (this.actor.destroyed) this.destroyedBy ??= 'destroyed';
      this.throwIfDestroyed();
      const full = this.actor.outputSchema;
      const ids = this.pushdown.projectionIds;
      const program: FilterProgram | null = parseFilters(this.pushdown, full);
      const outSchema: Schema = ids ? projectSchema(full, ids) : full;
      const enc = (this.encoder = new MessageEncoder(outSchema));
      this.send({ t: 'schema', bytes: enc.schemaBytes() });
      const produced = this.actor.fn.finalizeProducer(this.params(), this.finalizeStateId);
      let pending: RecordBatch[] = [];
      let rows = 0;
      let bytes = 0;
      for await (const batch of produced as AsyncIterable<RecordBatch>) {
        if (this.abort.signal.aborted) break;
        const out = applyPushdown(batch, program, ids, outSchema);
        if (out.numRows === 0) continue;
        pending.push(out);
        rows += out.numRows;
        bytes += batchBytes(out);
        if (rows < TICK_ROWS && bytes < TICK_BYTES) continue;
        const ready = pending;
        pending = [];
        rows = 0;
        bytes = 0;
        if (!(await this.emit(enc, outSchema, ready))) break;
      }
      if (pending.length > 0 && !this.abort.signal.aborted) await this.emit(enc, outSchema, pending);
      this.throwIfDestroyed();
      this.drainLogs(enc);
      const tail = enc.take();
      this.send({ t: 'end', bytes: tail.byteLength > 0 ? tail : null });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      let bytes: Uint8Array | null = null;
      if (this.encoder) {
        this.drainLogs(this.encoder);
        this.encoder.metadataBatch(new Map([['vgi_rpc.log_level', 'EXCEPTION'], ['vgi_rpc.log_message', message]]));
        bytes = this.encoder.take();
      }
      this.send({ t: 'error', message, bytes });
    } finally {
      this.actor.streams.delete(this);
      this.port.close();
    }
  }
}
