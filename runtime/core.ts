// State shared by every connection of one runtime: the actor pool, the function catalog, metrics.
import type { TableBufferingFunction } from '../functions/api.js';
import { ActorPool } from './actors/pool.js';

export interface CatalogOptions {
  /** The catalog name DuckDB attaches (`ATTACH '<name>'`). */
  readonly name: string;
  readonly schema: string;
}

export interface RuntimeMetrics {
  connections: number;
  requests: number;
  chunks: number;
  executionsStarted: number;
  executionsEnded: number;
  finalizeStreams: number;
  /** Executions ended by the TTL sweep (abandoned by DuckDB). */
  executionsSwept: number;
}

export class RuntimeCore {
  readonly metrics: RuntimeMetrics = { connections: 0, requests: 0, chunks: 0, executionsStarted: 0, executionsEnded: 0, finalizeStreams: 0, executionsSwept: 0 };
  /** Requests being handled right now (drain waits for zero). */
  inflight = 0;

  constructor(
    readonly functions: ReadonlyMap<string, TableBufferingFunction>,
    readonly pool: ActorPool,
    readonly catalog: CatalogOptions,
    readonly log: (line: string) => void,
  ) {}

  fn(name: string): TableBufferingFunction {
    const f = this.functions.get(name);
    if (!f) throw new Error(`vgi-actors: unknown function '${name}' in catalog '${this.catalog.name}'`);
    return f;
  }

  /** Ends an execution: frees its actor and forgets its route. Never throws (destructor rule). */
  async destroyExecution(key: string, reason: string): Promise<void> {
    if (!this.pool.has(key)) return;
    try {
      const thread = this.pool.route(key);
      const r = await thread.request({ t: 'destroy', eid: key, reason });
      if (r.value === true) this.metrics.executionsEnded++;
    } catch (e) {
      this.log(`destroying execution ${key} (${reason}): ${(e as Error).message}`);
    } finally {
      this.pool.forget(key);
    }
  }
}
