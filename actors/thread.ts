// The actors living on one worker thread. A plain class, driven by messages: tests can run it
// in-process (where coverage sees it); host.ts only wires it to parentPort.
import type { TableBufferingFunction } from '../functions/api.js';
import { Actor, ActorError } from './actor.js';
import { decodeArguments, decodeSchema, decodeSettings } from './codec.js';
import { FinalizeStream } from './finalize.js';
import { serializeError, type FromActor, type ThreadStats, type ToActor, type WireLog } from './messages.js';
import { Schema, tableToIPC, Table } from 'apache-arrow';

export class UnknownExecutionError extends Error {
  override readonly name = 'UnknownExecutionError';
}

/** The serialized form of a schema the extension accepts (schema-only IPC stream). */
export function schemaBytes(schema: Schema): Uint8Array {
  return tableToIPC(new Table(schema), 'stream');
}

export class ActorThread {
  readonly actors = new Map<string, Actor>();

  constructor(
    private readonly functions: ReadonlyMap<string, TableBufferingFunction>,
    private readonly post: (m: FromActor, transfer?: ArrayBuffer[]) => void,
  ) {}

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
          a?.destroy();
          return { value: a !== undefined, logs: [] };
        });
      case 'stats':
        return this.reply(m.id, () => {
          let bufferedBytes = 0;
          let spilledBytes = 0;
          for (const a of this.actors.values()) { bufferedBytes += a.storage.bufferedBytes; spilledBytes += a.storage.spilledBytes; }
          const stats: ThreadStats = { actors: this.actors.size, bufferedBytes, heapUsed: process.memoryUsage().heapUsed, spilledBytes };
          return { value: stats, logs: [] };
        });
    }
  }
}
