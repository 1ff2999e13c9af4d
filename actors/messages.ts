// The typed protocol between the main thread (runtime/) and actor threads (actors/).
// Control travels on the thread's parentPort; each finalize stream gets its own MessagePort so
// its batches stay ordered and flow-controlled independently of other traffic.
import type { MessagePort } from 'node:worker_threads';
import type { WireLog } from '../runtime/wire/envelope.js';

export type { WireLog };

/** What an execution keeps from sink init (the wire does not repeat it on process/combine). */
export interface InitContext {
  readonly functionName: string;
  /** Serialized Arrow schemas as DuckDB sent them. */
  readonly inputSchema: Uint8Array | null;
  readonly outputSchema: Uint8Array;
  /** IPC of the `args` struct row (BindRequest.arguments). */
  readonly arguments: Uint8Array | null;
  readonly settings: Uint8Array | null;
  readonly attachOpaqueData: Uint8Array | null;
}

/** Pushdown of one finalize stream, still encoded; the actor parses it where it is used. */
export interface PushdownInput {
  readonly protocolMajor: number;
  readonly projectionIds: number[] | null;
  readonly filters: Uint8Array | null;
  readonly joinKeys: Uint8Array[] | null;
}

export type ToActor =
  | { t: 'bind'; id: number; functionName: string; inputSchema: Uint8Array | null; arguments: Uint8Array | null; settings: Uint8Array | null }
  | { t: 'create'; id: number; eid: string; executionId: Uint8Array; init: InitContext }
  | { t: 'process'; id: number; eid: string; buffer: ArrayBuffer; offset: number; length: number; batchIndex: bigint | null }
  | { t: 'combine'; id: number; eid: string; stateIds: Uint8Array[] }
  | { t: 'finalize'; id: number; eid: string; finalizeStateId: Uint8Array; port: MessagePort; pushdown: PushdownInput }
  | { t: 'destroy'; id: number; eid: string; reason: string }
  | { t: 'stats'; id: number }
  // Idle reclaim: a full GC of the thread's heap (replies whether one ran).
  | { t: 'reclaim'; id: number }
  // No id and no reply: chunks already acknowledged to DuckDB; completions come back in 'done'.
  // `buffer` holds the input IPC streams of the chunks that came without a buffer of their own,
  // back to back (8-byte aligned), moved as one.
  | { t: 'chunks'; buffer: ArrayBuffer | null; items: QueuedChunk[] };

/**
 * A process call acknowledged to DuckDB before the actor ran it (functions declaring
 * `stateId: 'execution'`): where its input lies, in its own moved read buffer (`buffer`) or else
 * in the 'chunks' message's buffer.
 */
export interface QueuedChunk {
  readonly eid: string;
  readonly buffer?: ArrayBuffer;
  readonly offset: number;
  readonly length: number;
  readonly batchIndex: bigint | null;
}

/** Queued chunks of one execution the actor has finished (in order), with what they produced. */
export interface ChunksDone {
  readonly eid: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly logs: WireLog[];
  /** The first failure among them; later chunks of a failed execution are skipped. */
  readonly error: SerializedError | null;
}

export interface SerializedError { readonly name: string; readonly message: string; readonly stack?: string }

export type FromActor =
  | { t: 'reply'; id: number; ok: true; value: unknown; logs: WireLog[] }
  | { t: 'reply'; id: number; ok: false; error: SerializedError; logs: WireLog[] }
  | { t: 'done'; items: ChunksDone[] }
  | { t: 'ready' };

/** Replies' value shapes, by request kind. */
export interface BindReply { readonly outputSchema: Uint8Array }
export interface ProcessReply { readonly stateId: Uint8Array }
export interface CombineReply { readonly finalizeStateIds: Uint8Array[] }
export interface ThreadStats {
  readonly actors: number; readonly bufferedBytes: number; readonly heapUsed: number;
  /** Bytes of this thread's spill files (memory budget, actors/spill.ts). */
  readonly spilledBytes?: number;
  /** This thread's isolate: V8 heap reserved, memory V8 tracks outside it, and ArrayBuffers. */
  readonly heapTotal?: number;
  readonly external?: number;
  readonly arrayBuffers?: number;
}

/** Finalize stream, actor → main. Every `tick` holds logs plus exactly one data batch message. */
export type FinalizeOut =
  | { t: 'schema'; bytes: Uint8Array }
  // `logs`: log batches to write before `bytes` (the data batch message, in its own buffer that
  // the main thread hands back with a 'recycle' once DuckDB has read it).
  | { t: 'tick'; bytes: Uint8Array; rows: number; logs: Uint8Array | null }
  | { t: 'end'; bytes: Uint8Array | null }
  | { t: 'error'; message: string; bytes: Uint8Array | null };

/** Finalize stream, main → actor. */
export type FinalizeIn = { t: 'credit'; n: number } | { t: 'cancel' } | { t: 'recycle'; buffer: ArrayBuffer };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}
