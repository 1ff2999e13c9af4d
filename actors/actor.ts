// One execution = one actor. Its calls arrive from several connections (one per DuckDB sink
// thread) but run strictly one after another, in arrival order: user code never sees two of its
// own calls interleave, even when it is async.
import type { RecordBatch, Schema } from 'apache-arrow';
import type {
  Arguments, BufferingParams, CombineParams, LogLevel, ProcessParams, Settings, StateId, TableBufferingFunction,
} from '../functions/api.js';
import { decodeArguments, decodeBatches, decodeSchema, decodeSettings } from './codec.js';
import { MemoryStorage } from './storage.js';
import { runKernel } from './kernels.js';
import type { InitContext, WireLog } from './messages.js';

export class ActorError extends Error {
  override readonly name = 'ActorError';
}

export interface CallResult<T> { readonly value: T; readonly logs: WireLog[] }

export class Actor {
  readonly storage = new MemoryStorage();
  readonly inputSchema: Schema;
  readonly outputSchema: Schema;
  readonly arguments: Arguments;
  readonly settings: Settings;
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

  /** Decodes the input chunk (views into the moved request buffer) and calls process. */
  process(buffer: ArrayBuffer, offset: number, length: number, batchIndex: bigint | null): Promise<CallResult<StateId>> {
    return this.enqueue(async () => {
      const batches = decodeBatches(new Uint8Array(buffer, offset, length));
      const logs: WireLog[] = [];
      const params: ProcessParams = { ...this.baseParams(logs), batchIndex };
      let last: StateId = this.executionId;
      for (const b of batches) last = await this.fn.process(params, b as RecordBatch);
      if (batches.length === 0) throw new ActorError('process request carried no input batch');
      if (!(last instanceof Uint8Array)) throw new ActorError(`${this.fn.name}.process must return a Uint8Array state id`);
      return { value: last, logs };
    });
  }

  combine(stateIds: StateId[]): Promise<CallResult<StateId[]>> {
    return this.enqueue(async () => {
      const logs: WireLog[] = [];
      const params: CombineParams = this.baseParams(logs);
      const ids = await this.fn.combine(params, stateIds);
      if (!Array.isArray(ids) || !ids.every((x) => x instanceof Uint8Array)) {
        throw new ActorError(`${this.fn.name}.combine must return an array of Uint8Array ids`);
      }
      return { value: ids, logs };
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.fn.onDestroy?.(this.baseParams([]));
    } finally {
      this.storage.clear();
    }
  }
}
