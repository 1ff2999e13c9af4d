// One actor thread, seen from the main thread: its Worker, the requests waiting for it, the
// early-acknowledged chunks queued for it, and the deadlines on its calls. When it dies it fails
// its pending calls and reports to its owner (the pool), which replaces it.
import { MessageChannel, Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import type { FromActor, QueuedChunk, SerializedError, ThreadStats, ToActor, WireLog } from '../../actors/messages.js';
import type { ChunksDone } from '../../actors/messages.js';
import type { ThreadLoad } from '../placement.js';

/** What a thread handle needs from its pool. */
export interface ThreadOwner {
  readonly functionsModule: string;
  readonly hostUrl: URL;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly kernels: { attach(port: MessagePort): void } | undefined;
  readonly threadBudgetBytes: number | undefined;
  readonly spillRoot: string | undefined;
  readonly callDeadlineMs: number;
  chunksDone(d: ChunksDone): void;
  threadDied(t: ActorThreadHandle, why: string): void;
}

/** Raised when user code (or the actor runtime) fails; the message goes to DuckDB as is. */
export class ActorCallError extends Error {
  override readonly name = 'ActorCallError';
  constructor(readonly remote: SerializedError, readonly logs: WireLog[]) {
    super(remote.message);
  }
}

export class ActorThreadDiedError extends Error {
  override readonly name = 'ActorThreadDiedError';
}

type Request = ToActor extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface Pending { resolve(v: { value: unknown; logs: WireLog[] }): void; reject(e: Error): void }

// Queued chunks are posted in batches: one postMessage and one wake-up of the actor thread per
// batch instead of per 2,048-row chunk (a post cost 50–300 µs of main-thread time under load,
// measured: the wake-up of a sleeping thread, not the copy, is what costs on 2 cores).
// A batch goes out when it holds POST_BATCH chunks or POST_BATCH_BYTES, after POST_DELAY_MS
// otherwise, and before any other message to the thread (order is kept). Nobody waits on the
// delay: DuckDB has its answers, and combine posts what is queued first. bench/hotpath.mjs:
// 2 ms / 64 chunks cost ~4 µs more main-thread CPU per chunk than 5 ms / 256.
// A chunk that arrived in a socket read of its own (the usual case) is moved with that read's
// buffer: no copy on the main thread (~2–4 µs per chunk, bench/hotpath.mjs). Others (a request
// split over reads, or sharing one with the next request, as a stdio relay's batches do) are
// copied into one exact-size buffer per batch. So is a stdio relay's bundle of chunks, whose
// buffer all of them share (handlers/buffering.ts queueOneWay).
const POST_BATCH = 256;
const POST_BATCH_BYTES = 4 << 20;
const POST_DELAY_MS = 5;

/** A queued chunk: its input, and the read buffer it may be moved in (else it is copied). */
interface Outgoing { readonly eid: string; readonly input: Uint8Array; readonly own: ArrayBuffer | null; readonly batchIndex: bigint | null }
const align8 = (n: number): number => (n + 7) & ~7;
const noop = (): void => undefined;
export const EMPTY_STATS: ThreadStats = { actors: 0, bufferedBytes: 0, heapUsed: 0 };

export class ActorThreadHandle {
  worker!: Worker;
  /** The worker's threadId (Worker.threadId reads -1 once the thread has exited). */
  threadId = -1;
  ready!: Promise<void>;
  alive = false;
  readonly pending = new Map<number, Pending>();
  readonly executions = new Set<string>();
  private nextId = 1;
  private outbox: Outgoing[] = [];
  /** Bytes queued, and of those the bytes to copy into the batch's shared buffer. */
  private outboxBytes = 0;
  private copyBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Early-acknowledged chunks posted to the thread and not yet reported done. */
  private chunksOut = 0;
  /** Fires when queued chunks made no progress for a whole call deadline (see watchChunks). */
  private chunkWatch: NodeJS.Timeout | null = null;
  /** Why the runtime terminated this thread (a call deadline), if it did. */
  private killReason: string | null = null;
  /** The thread's counters as of its last stats answer (see ActorPool.stats). */
  lastStats: ThreadStats = EMPTY_STATS;
  /** Why the thread last died; finalize streams cut off by the death quote it. */
  lastDeath: string | null = null;

  constructor(readonly index: number, private readonly pool: ThreadOwner) {
    this.spawn();
  }

  spawn(): void {
    this.killReason = null;
    // A dedicated channel for params.runKernel (runtime/kernels.ts): kernel traffic never queues
    // behind this thread's control messages.
    const kernels = this.pool.kernels ? new MessageChannel() : null;
    const w = new Worker(this.pool.hostUrl, {
      workerData: { functionsModule: this.pool.functionsModule, kernelPort: kernels?.port2, memoryBudgetBytes: this.pool.threadBudgetBytes, spillRoot: this.pool.spillRoot },
      transferList: kernels ? [kernels.port2] : [],
      resourceLimits: this.pool.resourceLimits,
      // The host never writes to stdout: stdout may be DuckDB's IPC pipe.
      stdout: true,
    });
    if (kernels) this.pool.kernels!.attach(kernels.port1);
    this.worker = w;
    this.threadId = w.threadId;
    w.stdout.resume();
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromActor): void => {
        if (m.t === 'ready') { this.alive = true; resolve(); return; }
        this.onReply(m);
      };
      w.on('message', onMessage);
      // A thread that fails with 'error' (e.g. its heap limit) emits 'exit' too, after onDeath has
      // spawned its replacement: events of a worker that is no longer this handle's are ignored,
      // or that late 'exit' would fail the replacement's executions and spawn a second one.
      w.once('error', (e) => {
        if (this.worker !== w) return;
        if (!this.alive) reject(e);
        this.onDeath(`error: ${e.message}`);
      });
      w.once('exit', (code) => {
        if (this.worker !== w) return;
        if (!this.alive) reject(new ActorThreadDiedError(`actor thread ${this.index} exited during start-up (code ${code})`));
        this.onDeath(`exit code ${code}`);
      });
    });
    this.ready.catch(() => undefined);
  }

  private onReply(m: FromActor): void {
    if (m.t === 'done') {
      for (const d of m.items) { this.chunksOut -= d.chunks; this.pool.chunksDone(d); }
      this.watchChunks();
      return;
    }
    if (m.t !== 'reply') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve({ value: m.value, logs: m.logs });
    else p.reject(new ActorCallError(m.error, m.logs));
  }

  private deathHandled: Worker | null = null;
  private onDeath(why: string): void {
    if (this.deathHandled === this.worker) return;
    this.deathHandled = this.worker;
    this.alive = false;
    this.dropOutbox();
    if (this.killReason) why = this.killReason;
    this.lastDeath = why;
    const err = new ActorThreadDiedError(`actor thread ${this.index} died (${why}); its executions were lost`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.pool.threadDied(this, err.message);
  }

  /**
   * Arms a call deadline for `what`; the returned function disarms it. A call still running at the
   * deadline gets its thread terminated: JavaScript offers no other way to stop a synchronous
   * loop, and a thread's actors share its event loop, so every execution on it is lost (and
   * failed with this reason) while the thread is replaced.
   */
  deadline(what: string): () => void {
    const ms = this.pool.callDeadlineMs;
    if (!ms) return noop;
    const timer = setTimeout(() => this.kill(`${what} ran past the call deadline of ${ms / 1000} s`), ms);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** Terminates the thread; its 'exit' event fails its executions with `why`. */
  kill(why: string): void {
    if (!this.alive || this.killReason) return;
    this.killReason = why;
    void this.worker.terminate();
  }

  /**
   * Early-acknowledged chunks have no pending request to time, so the thread is watched instead:
   * while chunks are outstanding, it must report some of them done within every call deadline
   * (each report restarts the clock, so one deadline bounds one process call, queueing aside).
   */
  private watchChunks(): void {
    const ms = this.pool.callDeadlineMs;
    if (!ms) return;
    if (this.chunksOut <= 0) {
      if (this.chunkWatch) clearTimeout(this.chunkWatch);
      this.chunkWatch = null;
      return;
    }
    if (this.chunkWatch) { this.chunkWatch.refresh(); return; }
    this.chunkWatch = setTimeout(() => { this.chunkWatch = null; this.kill(`a queued process call ran past the call deadline of ${ms / 1000} s`); }, ms);
    this.chunkWatch.unref();
  }

  /**
   * Queues an early-acknowledged chunk; order with every later message to the thread is kept.
   * `own`: the read buffer `input` lies in, which holds nothing else anyone needs: it is moved
   * (with the request around the input, ~4% more bytes) instead of copied.
   */
  queueChunk(eid: string, input: Uint8Array, batchIndex: bigint | null, own: ArrayBuffer | null = null): void {
    this.outbox.push({ eid, input, own, batchIndex });
    this.outboxBytes += align8(input.byteLength);
    if (own === null) this.copyBytes += align8(input.byteLength);
    if (this.flushTimer === null && !this.due) {
      this.flushTimer = setTimeout(() => this.flush(), POST_DELAY_MS);
    }
  }

  /** True when a full batch waits: the caller posts it (after answering DuckDB, off its critical path). */
  get due(): boolean {
    return this.outbox.length >= POST_BATCH || this.outboxBytes >= POST_BATCH_BYTES;
  }

  /** Posts the queued chunks now (before any other message, and before waiting on the actor). */
  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.outbox.length === 0) return;
    const pending = this.outbox;
    // Not zero-filled: every byte the actor reads is copied in below; only the alignment gaps
    // between chunks stay unset.
    const buffer = this.copyBytes > 0 ? Buffer.allocUnsafeSlow(this.copyBytes).buffer as ArrayBuffer : null;
    const bytes = buffer ? new Uint8Array(buffer) : null;
    this.outbox = [];
    this.outboxBytes = 0;
    this.copyBytes = 0;
    const items: QueuedChunk[] = [];
    const transfer: ArrayBuffer[] = buffer ? [buffer] : [];
    let at = 0;
    for (const p of pending) {
      if (p.own) {
        items.push({ eid: p.eid, buffer: p.own, offset: p.input.byteOffset, length: p.input.byteLength, batchIndex: p.batchIndex });
        // The chunks of a relay's bundle share one buffer, queued back to back: listed once.
        if (transfer[transfer.length - 1] !== p.own) transfer.push(p.own);
        continue;
      }
      bytes!.set(p.input, at);
      items.push({ eid: p.eid, offset: at, length: p.input.byteLength, batchIndex: p.batchIndex });
      at += align8(p.input.byteLength);
    }
    if (!this.alive) return;
    this.worker.postMessage({ t: 'chunks', buffer, items } satisfies ToActor, transfer);
    this.chunksOut += items.length;
    this.watchChunks();
  }

  private dropOutbox(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.chunkWatch) clearTimeout(this.chunkWatch);
    this.chunkWatch = null;
    this.chunksOut = 0;
    this.outbox = [];
    this.outboxBytes = 0;
    this.copyBytes = 0;
  }

  request(msg: Request, transfer: TransferListItem[] = []): Promise<{ value: unknown; logs: WireLog[] }> {
    if (!this.alive) return Promise.reject(new ActorThreadDiedError(`actor thread ${this.index} is not running`));
    this.flush();
    const id = this.nextId++;
    // Every call but stats runs user code. (A late stats answer only means the thread is busy with
    // a call that has its own deadline; metrics() does not wait for it, see ActorPool.stats.)
    const disarm = msg.t === 'stats' ? noop : this.deadline(msg.t === 'finalize' ? 'a finalize producer' : `the ${msg.t} call`);
    return new Promise<{ value: unknown; logs: WireLog[] }>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id } as ToActor, transfer);
    }).finally(disarm);
  }

  load(): ThreadLoad {
    // Queued chunks count as calls in flight: the thread is busy running them.
    return { index: this.index, alive: this.alive, actors: this.executions.size, inflight: this.pending.size + this.chunksOut };
  }
}
