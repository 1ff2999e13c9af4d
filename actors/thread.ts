// The actors living on one worker thread. A plain class, driven by messages: tests can run it
// in-process (where coverage sees it); host.ts only wires it to parentPort.
import type { TableBufferingFunction } from '../functions/api.js';
import { Actor, ActorError } from './actor.js';
import { decodeArguments, decodeSchema, decodeSettings } from './codec.js';
import { FinalizeStream } from './finalize.js';
import { serializeError, type ChunksDone, type FromActor, type QueuedChunk, type SerializedError, type ThreadStats, type ToActor, type WireLog } from './messages.js';
import { Schema, tableToIPC, Table } from 'apache-arrow';
import { collectGarbage } from './gc.js';

/** Executions holding at least this much trigger a collection when they end. */
export const RELEASE_AFTER_BYTES = 16 << 20;

export class UnknownExecutionError extends Error {
  override readonly name = 'UnknownExecutionError';
}

/** The serialized form of a schema the extension accepts (schema-only IPC stream). */
export function schemaBytes(schema: Schema): Uint8Array {
  return tableToIPC(new Table(schema), 'stream');
}

export class ActorThread {
  readonly actors = new Map<string, Actor>();
  /** Finished queued chunks not yet reported, per execution (one 'done' message per turn). */
  private readonly done = new Map<string, { chunks: number; bytes: number; logs: WireLog[]; error: SerializedError | null }>();
  private doneScheduled = false;

  constructor(
    private readonly functions: ReadonlyMap<string, TableBufferingFunction>,
    private readonly rawPost: (m: FromActor, transfer?: ArrayBuffer[]) => void,
  ) {}

  /** Every reply goes out after the pending 'done' report, so the main thread sees chunk
   * completions (their logs and errors) before any later answer of the same execution. */
  private post(m: FromActor, transfer?: ArrayBuffer[]): void {
    this.flushDone();
    this.rawPost(m, transfer);
  }

  private chunkDone(eid: string, bytes: number, logs: readonly WireLog[], error: SerializedError | null): void {
    let d = this.done.get(eid);
    if (!d) this.done.set(eid, (d = { chunks: 0, bytes: 0, logs: [], error: null }));
    d.chunks++;
    d.bytes += bytes;
    for (const l of logs) d.logs.push(l);
    if (error && !d.error) d.error = error;
    if (!this.doneScheduled) {
      this.doneScheduled = true;
      // After this turn's messages: one report covers every chunk a batch delivered.
      setImmediate(() => { this.doneScheduled = false; this.flushDone(); });
    }
  }

  private flushDone(): void {
    if (this.done.size === 0) return;
    const items: ChunksDone[] = [];
    for (const [eid, d] of this.done) items.push({ eid, ...d });
    this.done.clear();
    this.rawPost({ t: 'done', items });
  }

  private queued(buffer: ArrayBuffer, c: QueuedChunk): void {
    const bytes = c.length;
    const a = this.actors.get(c.eid);
    if (!a) {
      this.chunkDone(c.eid, bytes, [], serializeError(new UnknownExecutionError(`unknown execution_id ${c.eid} (init never ran here, or the execution already ended)`)));
      return;
    }
    a.processQueued(buffer, c.offset, c.length, c.batchIndex, (logs, failed, error) => {
      this.chunkDone(c.eid, bytes, logs, failed ? serializeError(error) : null);
    });
  }

  private fn(name: string): TableBufferingFunction {
    const f = this.functions.get(name);
    if (!f) throw new ActorError(`unknown function '${name}'`);
    return f;
  }

  private actor(eid: string): Actor {
    const a = this.actors.get(eid);
    if (!a) throw new UnknownExecutionError(`unknown execution_id ${eid} (init never ran here, or the execution already ended)`);
    return a;
  }

  private reply(id: number, run: () => { value: unknown; logs: WireLog[] } | Promise<{ value: unknown; logs: WireLog[] }>): void {
    let p: Promise<{ value: unknown; logs: WireLog[] }>;
    try { p = Promise.resolve(run()); } catch (e) { p = Promise.reject(e); }
    p.then(
      ({ value, logs }) => this.post({ t: 'reply', id, ok: true, value, logs }),
      (e: unknown) => this.post({ t: 'reply', id, ok: false, error: serializeError(e), logs: (e as { logs?: WireLog[] })?.logs ?? [] }),
    );
  }

  handle(m: ToActor): void {
    switch (m.t) {
      case 'chunks':
        for (const c of m.items) this.queued(c.buffer ?? m.buffer!, c);
        return;
      case 'bind':
        return this.reply(m.id, () => {
          const fn = this.fn(m.functionName);
          const inputSchema = m.inputSchema ? decodeSchema(m.inputSchema) : new Schema([]);
          const schema = fn.onBind({ functionName: fn.name, inputSchema, arguments: decodeArguments(m.arguments, fn.argumentSpecs), settings: decodeSettings(m.settings) });
          return { value: { outputSchema: schemaBytes(schema) }, logs: [] };
        });
      case 'create':
        return this.reply(m.id, () => {
          if (!this.actors.has(m.eid)) this.actors.set(m.eid, new Actor(this.fn(m.init.functionName), m.executionId, m.init));
          return { value: null, logs: [] };
        });
      case 'process':
        return this.reply(m.id, async () => {
          const r = await this.actor(m.eid).process(m.buffer, m.offset, m.length, m.batchIndex);
          return { value: { stateId: r.value }, logs: r.logs };
        });
      case 'combine':
        return this.reply(m.id, async () => {
          const r = await this.actor(m.eid).combine(m.stateIds);
          return { value: { finalizeStateIds: r.value }, logs: r.logs };
        });
      case 'finalize':
        return this.reply(m.id, () => {
          const actor = this.actor(m.eid);
          // Start after every queued process/combine call, then run beside the actor's mailbox:
          // DuckDB drains several finalize streams of one execution in parallel, and making one
          // wait for another would tie DuckDB's source threads together.
          const stream = new FinalizeStream(actor, m.finalizeStateId, m.port, m.pushdown);
          void actor.enqueue(() => { void stream.run(); });
          return { value: null, logs: [] };
        });
      case 'destroy':
        return this.reply(m.id, () => {
          const a = this.actors.get(m.eid);
          this.actors.delete(m.eid);
          const held = a?.storage.bufferedBytes ?? 0;
          a?.destroy(m.reason);
          // A large execution's buffers are garbage now; V8 would free them only once new external
          // memory piles up (~64 MB more), so a following query would stack on top of them.
          if (held >= RELEASE_AFTER_BYTES) setImmediate(collectGarbage);
          return { value: a !== undefined, logs: [] };
        });
      case 'reclaim':
        // The runtime has been idle (runtime/runtime.ts): free this isolate's garbage, so the
        // ArrayBuffers it still references go back to malloc and V8 may shrink its heap.
        return this.reply(m.id, () => ({ value: collectGarbage(), logs: [] }));
      case 'stats':
        return this.reply(m.id, () => {
          let bufferedBytes = 0;
          let spilledBytes = 0;
          for (const a of this.actors.values()) { bufferedBytes += a.storage.bufferedBytes; spilledBytes += a.storage.spilledBytes; }
          const mem = process.memoryUsage(); // heap figures are this thread's isolate (rss is the process's)
          const stats: ThreadStats = {
            actors: this.actors.size, bufferedBytes, spilledBytes,
            heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers,
          };
          return { value: stats, logs: [] };
        });
    }
  }
}
