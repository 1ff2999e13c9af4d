// The user-facing interface of a table-buffering function. Nothing here knows about the wire:
// the runtime (runtime/, actors/) adapts these types to the vgi protocol.
//
// Model: the Rust `vgi` crate's buffering module. A call `fn((SELECT …))` is one *execution*;
// every chunk DuckDB sinks reaches `process`, then `combine` runs once, then one finalize producer
// runs per finalize state id. All of an execution's calls run on one actor (one worker thread), so
// `params.storage` is plain in-memory state, never shared with another thread.
import type { DataType, RecordBatch, Schema } from 'apache-arrow';

/** Opaque bytes naming a piece of state (DuckDB logs them as hex). */
export type StateId = Uint8Array;

/** A scalar argument or setting value, as apache-arrow reads it (int64 → bigint, DECIMAL → string). */
export type ScalarValue = null | boolean | number | bigint | string | Uint8Array | Date | ScalarValue[] | { [key: string]: ScalarValue };

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** One declared parameter. The TABLE input is where `(SELECT …)` goes in the SQL call. */
export type ArgumentSpec =
  | { readonly kind: 'table'; readonly name: string }
  | { readonly kind: 'positional'; readonly name: string; readonly type: DataType }
  | { readonly kind: 'named'; readonly name: string; readonly type: DataType; readonly default?: ScalarValue };

export interface FunctionMetadata {
  /** Shown in `duckdb_functions().description`. */
  readonly description: string;
  readonly categories?: readonly string[];
  /** One sink thread, chunks in source order. Exclusive with requiresInputBatchIndex. */
  readonly sinkOrderDependent?: boolean;
  /** Finalize streams are drained one at a time, in the order combine returned them. */
  readonly sourceOrderDependent?: boolean;
  /** Every process call carries DuckDB's batch index (`params.batchIndex`). */
  readonly requiresInputBatchIndex?: boolean;
  /** The runtime narrows finalize output to the columns DuckDB needs. */
  readonly projectionPushdown?: boolean;
  /** The runtime applies DuckDB's pushed-down filters exactly to finalize output. */
  readonly filterPushdown?: boolean;
  /**
   * What `process` returns as its state id.
   * - `'returned'` (default): whatever `process` returns; DuckDB gets its answer only after
   *   `process` has run on the chunk.
   * - `'execution'`: `process` always returns `params.executionId` (the usual choice: DuckDB keeps
   *   only the last state id of each sink thread, so state is kept per execution anyway). The runtime
   *   may then answer DuckDB as soon as a chunk has arrived and hand it to the actor afterwards, in
   *   order, with a bounded queue: the sink runs at transport speed instead of waiting for two
   *   thread hops per 2,048-row chunk. In exchange, an error thrown by `process` fails the
   *   execution's next process call or, at the latest, its combine; lines `process` logs reach
   *   DuckDB with one of the execution's later responses; and a `process` that returns any other
   *   id fails the execution the same way.
   */
  readonly stateId?: 'execution' | 'returned';
}

export type Arguments = Readonly<Record<string, ScalarValue>>;
export type Settings = Readonly<Record<string, ScalarValue>>;

/** What bind sees: the TABLE input's schema and the scalar arguments, by spec name. */
export interface BindParams {
  readonly functionName: string;
  readonly inputSchema: Schema;
  readonly arguments: Arguments;
  readonly settings: Settings;
}

/** Per-execution state, owned by the execution's actor. Batches are kept as they arrived: zero-copy. */
export interface ExecutionStorage {
  /** Appends a batch to the named log. */
  append(log: string, batch: RecordBatch): void;
  /**
   * The batches of a log, in append order. Iterate it (for…of, yield*): batches spilled to disk
   * under the memory budget are read back lazily, one file at a time. Spread it (`[...]`) only
   * when random access is needed: that loads every batch into memory.
   */
  batches(log: string): Iterable<RecordBatch>;
  /** Replaces a log's batches (e.g. after a sort in combine). */
  replace(log: string, batches: RecordBatch[]): void;
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  /** Bytes of buffered Arrow data this execution holds in memory (spilled batches excluded). */
  readonly bufferedBytes: number;
}

/** Fields every phase has. Arguments, settings and schemas are kept from sink init: the wire
 * does not carry them on process/combine. */
export interface BufferingParams {
  readonly functionName: string;
  readonly executionId: Uint8Array;
  readonly storage: ExecutionStorage;
  readonly inputSchema: Schema;
  /** The full (unprojected) output schema from bind. */
  readonly outputSchema: Schema;
  readonly arguments: Arguments;
  readonly settings: Settings;
  readonly attachOpaqueData: Uint8Array | null;
  /** Sends a log line to DuckDB (`duckdb_logs()`), attached to the current response. */
  log(level: LogLevel, message: string): void;
  /**
   * Runs a CPU kernel (see defineKernel) on the runtime's kernel pool, off this execution's
   * thread, so one execution can keep several cores busy (e.g. `Promise.all` over sub-ranges).
   * `input` is structured-cloned, except the ArrayBuffers listed in `transfer`: those are moved
   * (detached here; don't touch them afterwards). The output's ArrayBuffers (ArrayBuffers and
   * typed arrays inside plain objects and arrays) are moved back. A kernel that throws, or one
   * that cannot be loaded, rejects with a KernelError carrying its message.
   */
  runKernel<I, O>(kernel: KernelRef<I, O>, input: I, transfer?: readonly ArrayBuffer[]): Promise<O>;
}

export interface ProcessParams extends BufferingParams {
  /** DuckDB's batch index of this chunk; set only for `requiresInputBatchIndex` functions. */
  readonly batchIndex: bigint | null;
}

export type CombineParams = BufferingParams;

export interface FinalizeParams extends BufferingParams {
  readonly finalizeStateId: StateId;
  /** Set when the finalize stream was cancelled; a long producer may poll it. */
  readonly signal: AbortSignal;
}

export type FinalizeOutput = Iterable<RecordBatch> | AsyncIterable<RecordBatch>;

export interface TableBufferingFunction {
  readonly name: string;
  readonly metadata: FunctionMetadata;
  readonly argumentSpecs: readonly ArgumentSpec[];
  /** Output schema for this call; a thrown error becomes DuckDB's bind error. */
  onBind(params: BindParams): Schema;
  /** Sinks one input chunk (≤ 2,048 rows). DuckDB keeps only the last state id per sink thread. */
  process(params: ProcessParams, batch: RecordBatch): StateId | Promise<StateId>;
  /** Runs once after every process call; each returned id becomes one finalize stream. */
  combine(params: CombineParams, stateIds: StateId[]): StateId[] | Promise<StateId[]>;
  /** Produces the rows of one finalize state id. Batches must carry the output schema's types. */
  finalizeProducer(params: FinalizeParams, finalizeStateId: StateId): FinalizeOutput;
  /**
   * Called when DuckDB cancels a finalize stream (best effort), or when the execution ends while
   * the stream is still open; either way before `onDestroy`, with `params.storage` intact.
   */
  onCancel?(params: FinalizeParams, finalizeStateId: StateId): void;
  /** Called when the execution ends (destructor, failure or TTL sweep). */
  onDestroy?(params: BufferingParams): void;
}

/** Identity helper that gives a function literal its type. */
export function defineTableBufferingFunction(fn: TableBufferingFunction): TableBufferingFunction {
  return fn;
}

/**
 * Names a CPU kernel: an exported pure function `(input: I) => O | Promise<O>` of an ES module.
 * Kernels run on other threads, so they see only their input (no `params`, no closures) and the
 * module is loaded by URL in the kernel thread.
 */
export interface KernelRef<I = unknown, O = unknown> {
  /** The module's absolute URL (`file:`, or `data:`). */
  readonly module: string;
  /** The export to call. */
  readonly name: string;
  /** Type-only: carries I and O (never set). */
  readonly __signature?: (input: I) => O;
}

/**
 * A reference to the kernel `name` exported by `module`, e.g.
 * `defineKernel<In, Out>(new URL('./my-kernels.js', import.meta.url), 'sortRuns')`.
 * A relative path is refused: the kernel thread has no notion of "here".
 */
export function defineKernel<I, O>(module: string | URL, name: string): KernelRef<I, O> {
  const href = module instanceof URL ? module.href : module;
  if (typeof href !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(href)) {
    throw new TypeError(`defineKernel: module must be an absolute URL such as new URL('./kernels.js', import.meta.url), got ${JSON.stringify(href)}`);
  }
  if (typeof name !== 'string' || name === '') throw new TypeError('defineKernel: name must name an exported function');
  return Object.freeze({ module: href, name });
}

/** A kernel failed (threw, could not be loaded, or its thread died); `message` is the kernel's. */
export class KernelError extends Error {
  override readonly name = 'KernelError';
  constructor(
    message: string,
    /** `module#name` of the kernel. */
    readonly kernel: string,
    /** The original error's name (e.g. `RangeError`) and stack, as the kernel thread saw them. */
    readonly remoteName: string = 'Error',
    readonly remoteStack?: string,
  ) {
    super(message);
  }
}
