// One execution = one actor. Its calls arrive from several connections (one per DuckDB sink
// thread) but run strictly one after another, in arrival order: user code never sees two of its
// own calls interleave, even when it is async.
import type { RecordBatch, Schema } from 'apache-arrow';
import type {
  Arguments, BufferingParams, CombineParams, LogLevel, ProcessParams, Settings, StateId, TableBufferingFunction,
} from '../functions/api.js';
import { decodeArguments, decodeSchema, decodeSettings } from './codec.js';
import { ChunkDecoder } from './chunk-decoder.js';
import { MemoryStorage } from './storage.js';
import { runKernel } from './kernels.js';
import type { InitContext, WireLog } from './messages.js';

export class ActorError extends Error {
  override readonly name = 'ActorError';
}

export interface CallResult<T> { readonly value: T; readonly logs: WireLog[] }

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A finalize stream of an actor, as the actor sees it: something destroy must stop first. */
export interface OpenStream { stop(reason: string): void }

export class Actor {
  readonly storage = new MemoryStorage();
  /** Finalize streams of this execution that are producing (actors/finalize.ts). */
  readonly streams = new Set<OpenStream>();
  readonly inputSchema: Schema;
  readonly outputSchema: Schema;
  readonly arguments: Arguments;
  readonly settings: Settings;
  private readonly decoder = new ChunkDecoder();
  /** The last input schema found to match `inputSchema` (the decoder reuses one per stream). */
  private checkedSchema: Schema | null = null;
  /** The first failure of a queued (early-acknowledged) process call. */
  deferredError: unknown = null;
  private tail: Promise<unknown> = Promise.resolve();
  private busy = 0;
  destroyed = false;
  lastUsed = Date.now();

  constructor(
    readonly fn: TableBufferingFunction,
    readonly executionId: Uint8Array,
    readonly init: InitContext,
  ) {
    this.outputSchema = decodeSchema(init.outputSchema);
    this.inputSchema = init.inputSchema ? decodeSchema(init.inputSchema) : this.outputSchema;
    this.arguments = decodeArguments(init.arguments, fn.argumentSpecs);
    this.settings = decodeSettings(init.settings);
  }

  /** Params shared by every phase; `logs` collects what this call says to DuckDB. */
  baseParams(logs: WireLog[]): BufferingParams {
    return {
      functionName: this.fn.name,
      executionId: this.executionId,
      storage: this.storage,
      inputSchema: this.inputSchema,
      outputSchema: this.outputSchema,
      arguments: this.arguments,
      settings: this.settings,
      attachOpaqueData: this.init.attachOpaqueData,
      log: (level: LogLevel, message: string) => { logs.push({ level, message: String(message) }); },
      runKernel,
    };
  }

  /** Runs `task` after every earlier call of this actor has finished. */
  enqueue<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.destroyed) return Promise.reject(new ActorError('execution was destroyed'));
    this.lastUsed = Date.now();
    // Fast path: an idle actor with synchronous user code runs without a microtask hop.
    if (this.busy === 0) {
      this.busy++;
      let r: T | Promise<T>;
      try { r = task(); } catch (e) { this.busy--; return Promise.reject(e); }
      if (!(r instanceof Promise)) { this.busy--; return Promise.resolve(r); }
      const p = r.finally(() => { this.busy--; });
      this.tail = p.catch(() => undefined);
      return p;
    }
    this.busy++;
    const p = this.tail.then(task).finally(() => { this.busy--; });
    this.tail = p.catch(() => undefined);
    return p;
  }

  /**
   * Decodes the input chunk (views into the moved request buffer) and calls process. `queued`:
   * DuckDB already has its answer (the function declared `stateId: 'execution'`), so a failure is
   * kept for combine, and the chunks after a failure are skipped.
   */
  process(buffer: ArrayBuffer, offset: number, length: number, batchIndex: bigint | null, queued = false): Promise<CallResult<StateId>> {
    return this.enqueue(() => {
      // Skipped: an earlier chunk failed and the execution is failing anyway.
      if (queued && this.deferredError !== null) return { value: this.executionId, logs: [] };
      try {
        const r = this.runProcess(new Uint8Array(buffer, offset, length), batchIndex, queued);
        if (queued && r instanceof Promise) return r.catch((e: unknown) => { this.deferredError ??= e; throw e; });
        return r;
      } catch (e) {
        if (queued) this.deferredError ??= e;
        throw e;
      }
    });
  }

  /**
   * A queued chunk (DuckDB already has its answer): `done` gets its logs and error. An idle actor
   * with a synchronous process runs it right here, without the promise and closures per chunk of
   * `process` (GC was the actor thread's largest cost for `noop_buffer`, bench/hotpath.mjs).
   */
  processQueued(buffer: ArrayBuffer, offset: number, length: number, batchIndex: bigint | null, done: (logs: WireLog[], failed: boolean, error?: unknown) => void): void {
    if (this.busy > 0 || this.destroyed) {
      this.process(buffer, offset, length, batchIndex, true).then((r) => done(r.logs, false), (e: unknown) => done(logsOf(e), true, e));
      return;
    }
    this.lastUsed = Date.now();
    if (this.deferredError !== null) { done([], false); return; } // skipped, as in process
    let r: CallResult<StateId> | Promise<CallResult<StateId>>;
    try {
      r = this.runProcess(new Uint8Array(buffer, offset, length), batchIndex, true);
    } catch (e) {
      this.deferredError ??= e;
      done(logsOf(e), true, e);
      return;
    }
    if (!(r instanceof Promise)) { done(r.logs, false); return; }
    // The user's process is async: later calls queue behind it, as enqueue would have arranged.
    this.busy++;
    const p = r.catch((e: unknown) => { this.deferredError ??= e; throw e; }).finally(() => { this.busy--; });
    this.tail = p.catch(() => undefined);
    p.then((ok) => done(ok.logs, false), (e: unknown) => done(logsOf(e), true, e));
  }

  /** Synchronous when the user's process is: no promise per chunk unless the user returns one. */
  private runProcess(bytes: Uint8Array, batchIndex: bigint | null, queued: boolean): CallResult<StateId> | Promise<CallResult<StateId>> {
    const batches = this.decoder.decode(bytes);
    if (batches.length === 0) throw new ActorError('process request carried no input batch');
    const schema = batches[0]!.schema;
    if (schema !== this.checkedSchema) {
      // A chunk the function was not bound for must fail here: buffered, it would be re-emitted
      // later under the output schema's types, a silent wrong answer.
      const problem = schemaMismatch(schema, this.inputSchema);
      if (problem) throw new ActorError(`${this.fn.name}: input chunk does not match the bound input schema: ${problem}`);
      this.checkedSchema = schema;
    }
    const logs: WireLog[] = [];
    const params: ProcessParams = { ...this.baseParams(logs), batchIndex };
    let i = 0;
    const step = (last: StateId): CallResult<StateId> | Promise<CallResult<StateId>> => {
      while (i < batches.length) {
        const r = this.fn.process(params, batches[i++] as RecordBatch);
        if (typeof (r as PromiseLike<StateId>).then === 'function') return Promise.resolve(r).then(step);
        last = r as StateId;
      }
      if (!(last instanceof Uint8Array)) throw new ActorError(`${this.fn.name}.process must return a Uint8Array state id`);
      if (queued && last !== this.executionId && !sameBytes(last, this.executionId)) {
        throw new ActorError(`${this.fn.name} declares stateId 'execution' but its process returned a different state id`);
      }
      return { value: last, logs };
    };
    return step(this.executionId);
  }

  combine(stateIds: StateId[]): Promise<CallResult<StateId[]>> {
    return this.enqueue(async () => {
      // A queued chunk failed after DuckDB had its answer: combine is where the query learns.
      if (this.deferredError !== null) throw this.deferredError;
      const logs: WireLog[] = [];
      const params: CombineParams = this.baseParams(logs);
      const ids = await this.fn.combine(params, stateIds);
      if (!Array.isArray(ids) || !ids.every((x) => x instanceof Uint8Array)) {
        throw new ActorError(`${this.fn.name}.combine must return an array of Uint8Array ids`);
      }
      return { value: ids, logs };
    });
  }

  destroy(reason: string): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      // Open streams are stopped first, so each onCancel still sees the state it produced from:
      // DuckDB's destructor can overtake the cancel of a stream it stopped reading (LIMIT), since
      // the two travel on different ports.
      for (const s of [...this.streams]) s.stop(reason);
      this.fn.onDestroy?.(this.baseParams([]));
    } finally {
      this.storage.clear();
    }
  }
}

function logsOf(e: unknown): WireLog[] {
  return (e as { logs?: WireLog[] } | null)?.logs ?? [];
}

/** Why `got` cannot stand for `bound` (column count or a column's type), or null. Names and
 * nullability may differ: DuckDB labels chunks itself, and only the types decide the bytes. */
export function schemaMismatch(got: Schema, bound: Schema): string | null {
  if (got.fields.length !== bound.fields.length) return `${got.fields.length} columns, expected ${bound.fields.length}`;
  for (let i = 0; i < got.fields.length; i++) {
    const a = String(got.fields[i]!.type);
    const b = String(bound.fields[i]!.type);
    if (a !== b) return `column ${i + 1} (${got.fields[i]!.name}) is ${a}, expected ${b}`;
  }
  return null;
}
