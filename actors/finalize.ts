// A finalize stream: runs the user's producer on the actor's thread, applies pushed-down filters
// and projection, encodes each batch as IPC bytes and moves them through a MessagePort to the
// connection. Credits from the main thread bound how far the producer runs ahead of DuckDB.
import type { MessagePort } from 'node:worker_threads';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { FinalizeParams, StateId } from '../functions/api.js';
import type { Actor } from './actor.js';
import { MessageEncoder } from './codec.js';
import type { FinalizeIn, FinalizeOut, PushdownInput, WireLog } from './messages.js';
import { applyPushdown, parseFilters, projectSchema, type FilterProgram } from './pushdown/index.js';

function logMeta(l: WireLog): Map<string, string> {
  return new Map([['vgi_rpc.log_level', l.level], ['vgi_rpc.log_message', l.message]]);
}

export class FinalizeStream {
  private credits = 0;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private readonly logs: WireLog[] = [];
  private encoder: MessageEncoder | null = null;

  constructor(
    private readonly actor: Actor,
    private readonly finalizeStateId: StateId,
    private readonly port: MessagePort,
    private readonly pushdown: PushdownInput,
  ) {
    port.on('message', (m: FinalizeIn) => {
      if (m.t === 'credit') this.credits += m.n;
      else this.cancel();
      const w = this.wake; this.wake = null; w?.();
    });
  }

  private cancel(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    try {
      this.actor.fn.onCancel?.(this.params(), this.finalizeStateId);
    } catch (e) {
      this.logs.push({ level: 'ERROR', message: `onCancel failed: ${(e as Error).message}` });
    }
  }

  private paramsCache: FinalizeParams | null = null;
  private params(): FinalizeParams {
    return (this.paramsCache ??= { ...this.actor.baseParams(this.logs), finalizeStateId: this.finalizeStateId, signal: this.abort.signal });
  }

  private send(m: FinalizeOut): void {
    const transfer = 'bytes' in m && m.bytes ? [m.bytes.buffer as ArrayBuffer] : [];
    this.port.postMessage(m, transfer);
  }

  private drainLogs(enc: MessageEncoder): void {
    for (const l of this.logs.splice(0)) enc.metadataBatch(logMeta(l));
  }

  private async creditAvailable(): Promise<void> {
    while (this.credits <= 0 && !this.abort.signal.aborted) await new Promise<void>((r) => (this.wake = r));
  }

  async run(): Promise<void> {
    try {
      const full = this.actor.outputSchema;
      const ids = this.pushdown.projectionIds;
      const program: FilterProgram | null = parseFilters(this.pushdown, full);
      const outSchema: Schema = ids ? projectSchema(full, ids) : full;
      const enc = (this.encoder = new MessageEncoder(outSchema));
      this.send({ t: 'schema', bytes: enc.schemaBytes() });
      const produced = this.actor.fn.finalizeProducer(this.params(), this.finalizeStateId);
      for await (const batch of produced as AsyncIterable<RecordBatch>) {
        if (this.abort.signal.aborted) break;
        const out = applyPushdown(batch, program, ids, outSchema);
        if (out.numRows === 0) continue;
        await this.creditAvailable();
        if (this.abort.signal.aborted) break;
        this.credits--;
        this.drainLogs(enc);
        enc.batch(out);
        this.send({ t: 'tick', bytes: enc.take(), rows: out.numRows });
      }
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
      this.port.close();
    }
  }
}
