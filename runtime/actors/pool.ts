// The fixed set of actor threads and the routing table execution → thread. Threads are spawned
// once and never reaped (piscina's model of replaceable, idle-reaped workers would lose actor
// state; see docs/design.md). A thread that dies fails exactly the executions it hosted and is
// replaced; every other execution keeps running.
import { rmSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import type { FromActor, QueuedChunk, SerializedError, ThreadStats, ToActor, WireLog } from '../../actors/messages.js';
import { Mailbox } from './mailbox.js';
import { pickStateless, placeActor, type ThreadLoad } from '../placement.js';
import { threadSpillDir } from '../../actors/spill.js';

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
// measured). A batch goes out when it holds POST_BATCH chunks or POST_BATCH_BYTES, after
// POST_DELAY_MS otherwise, and before any other message to the thread (order is kept).
// The chunks of a batch are copied into one exact-size buffer: one transfer, and the actor keeps
// only the input IPC (not the request envelope around it) in a few large allocations instead of
// thousands of small ones.
const POST_BATCH = 64;
const POST_BATCH_BYTES = 4 << 20;
const POST_DELAY_MS = 2;

interface Outgoing { readonly eid: string; readonly input: Uint8Array; readonly batchIndex: bigint | null }
const align8 = (n: number): number => (n + 7) & ~7;
const noop = (): void => undefined;
const EMPTY_STATS: ThreadStats = { actors: 0, bufferedBytes: 0, heapUsed: 0 };
const STATS_WAIT_MS = 250;

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
  private outboxBytes = 0;
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

  constructor(readonly index: number, private readonly pool: ActorPool) {
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

  /** Queues an early-acknowledged chunk; order with every later message to the thread is kept. */
  queueChunk(eid: string, input: Uint8Array, batchIndex: bigint | null): void {
    this.outbox.push({ eid, input, batchIndex });
    this.outboxBytes += align8(input.byteLength);
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
    const buffer = new ArrayBuffer(this.outboxBytes);
    const bytes = new Uint8Array(buffer);
    this.outbox = [];
    this.outboxBytes = 0;
    const items: QueuedChunk[] = [];
    let at = 0;
    for (const p of pending) {
      bytes.set(p.input, at);
      items.push({ eid: p.eid, offset: at, length: p.input.byteLength, batchIndex: p.batchIndex });
      at += align8(p.input.byteLength);
    }
    if (!this.alive) return;
    this.worker.postMessage({ t: 'chunks', buffer, items } satisfies ToActor, [buffer]);
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

export interface ActorPoolOptions {
  readonly functionsModule: string;
  readonly threads: number;
  readonly resourceLimits?: ResourceLimits;
  /** Serves each thread's kernel port (runtime/kernels.ts); without it kernels run inline. */
  readonly kernels?: { attach(port: MessagePort): void };
  /** Budget for buffered bytes across all threads (each gets budget / threads); unset = no spilling. */
  readonly memoryBudgetBytes?: number;
  /** Spill root (actors/spill.ts spillRoot()); required for spilling. */
  readonly spillRoot?: string;
  /** Longest a call into user code may run before its thread is terminated; 0/unset = no limit. */
  readonly callDeadlineMs?: number;
}

interface Route {
  readonly thread: ActorThreadHandle;
  lost: string | null;
  lastUsed: number;
  /** Early acknowledgement state; undefined until the first process call decided, null = synchronous. */
  mailbox?: Mailbox | null;
}

export class ActorPool {
  readonly functionsModule: string;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly hostUrl: URL;
  readonly kernels: ActorPoolOptions['kernels'];
  readonly spillRoot: string | undefined;
  /** Each thread's share of the memory budget. */
  readonly threadBudgetBytes: number | undefined;
  readonly callDeadlineMs: number;
  /** Threads replaced after dying (crash, heap limit, call deadline). */
  threadsReplaced = 0;
  private readonly threads: ActorThreadHandle[] = [];
  private readonly routes = new Map<string, Route>();
  private closing = false;
  private roundRobin = 0;

  constructor(opts: ActorPoolOptions) {
    this.functionsModule = opts.functionsModule;
    // A small young generation: actor threads mostly hold long-lived batches, and each semi-space
    // V8 grows (16 MB by default) is resident memory per thread. Measured: −28 MB peak RSS for
    // buffer_input over 1e7 rows with 2 threads, no measurable throughput change.
    this.resourceLimits = { maxYoungGenerationSizeMb: 8, ...opts.resourceLimits };
    this.kernels = opts.kernels;
    this.spillRoot = opts.spillRoot;
    this.callDeadlineMs = opts.callDeadlineMs ?? 0;
    this.threadBudgetBytes = opts.memoryBudgetBytes === undefined ? undefined : Math.floor(opts.memoryBudgetBytes / Math.max(1, opts.threads));
    // Under tap's TypeScript loader this module is a .ts file and so is its sibling host.
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.hostUrl = new URL(`../../actors/host.${ext}`, import.meta.url);
    for (let i = 0; i < Math.max(1, opts.threads); i++) this.threads.push(new ActorThreadHandle(i, this));
  }

  async start(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.ready));
  }

  get size(): number { return this.threads.length; }

  /** Places a new execution on the least-loaded thread; it stays there. */
  place(eid: string): ActorThreadHandle {
    const t = this.threads[placeActor(this.threads.map((x) => x.load()))]!;
    t.executions.add(eid);
    this.routes.set(eid, { thread: t, lost: null, lastUsed: Date.now() });
    return t;
  }

  /** The thread hosting `eid`, or an error naming why the execution is gone. */
  route(eid: string): ActorThreadHandle {
    const r = this.routes.get(eid);
    if (r) r.lastUsed = Date.now();
    if (!r) throw new Error(`unknown execution_id ${eid} (init never ran on this worker, or the execution already ended)`);
    if (r.lost) throw new ActorThreadDiedError(`execution ${eid} was lost: ${r.lost}`);
    return r.thread;
  }

  has(eid: string): boolean { return this.routes.has(eid); }

  /** Marks an execution as in use (a finalize stream ticking) so the TTL sweep leaves it alone. */
  touch(eid: string): void {
    const r = this.routes.get(eid);
    if (r) r.lastUsed = Date.now();
  }

  /** Executions nobody has called for `ttlMs`: abandoned (DuckDB killed, connection dropped). */
  idleSince(ttlMs: number, now = Date.now()): string[] {
    const out: string[] = [];
    for (const [eid, r] of this.routes) if (now - r.lastUsed >= ttlMs) out.push(eid);
    return out;
  }

  /** The execution's mailbox (`create` decides on the first call whether it has one). */
  mailbox(eid: string, create: () => Mailbox | null): Mailbox | null {
    const r = this.routes.get(eid);
    if (!r) return null;
    if (r.mailbox === undefined) r.mailbox = create();
    return r.mailbox;
  }

  chunksDone(d: Parameters<Mailbox['done']>[0]): void {
    this.routes.get(d.eid)?.mailbox?.done(d);
  }

  /** Forgets an execution (after its destructor, or a failed sink init). */
  forget(eid: string): void {
    const r = this.routes.get(eid);
    if (!r) return;
    r.mailbox?.close();
    r.thread.executions.delete(eid);
    this.routes.delete(eid);
  }

  /**
   * Resolves once at least one thread is live. A replaced thread needs ~0.5–1 s to start; calls
   * that arrive meanwhile wait for it instead of failing (found by the soak: with one thread, the
   * query after a crash failed with "no actor thread is running").
   */
  async whenLive(timeoutMs = 30_000): Promise<void> {
    if (this.threads.some((t) => t.alive)) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ActorThreadDiedError(`no actor thread came up within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.any(this.threads.map((t) => t.ready)), timeout]);
    } catch (e) {
      throw e instanceof AggregateError ? new ActorThreadDiedError('no actor thread could be started') : e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stateless calls (bind) go to the least busy live thread (runtime/placement.ts). */
  any(): ActorThreadHandle {
    if (!this.threads.some((t) => t.alive)) throw new ActorThreadDiedError('no actor thread is running');
    return this.threads[pickStateless(this.threads.map((x) => x.load()), this.roundRobin++ % this.threads.length)]!;
  }

  threadDied(t: ActorThreadHandle, why: string): void {
    for (const eid of t.executions) {
      const r = this.routes.get(eid);
      if (r) r.lost = `its actor thread ${t.index} died (${why.replace(/^actor thread \d+ died \((.*)\).*$/, '$1')})`;
      r?.mailbox?.close(); // waiters re-check the route and fail with the reason above
    }
    t.executions.clear();
    // A dead thread never deletes its spill files (the destructor that would is gone with it).
    if (this.spillRoot) rmSync(threadSpillDir(this.spillRoot, t.threadId), { recursive: true, force: true });
    if (this.closing) return;
    t.spawn();
    t.ready.then(() => { this.threadsReplaced++; }, () => undefined); // replace the thread; the lost routes keep answering with the reason
  }

  /**
   * Each thread's counters. A thread busy in user code (a long call, or one running into its
   * deadline) answers late: after STATS_WAIT_MS its last known counters stand in, so metrics()
   * never hangs on one thread.
   */
  async stats(): Promise<ThreadStats[]> {
    return Promise.all(this.threads.map(async (t) => {
      if (!t.alive) return EMPTY_STATS;
      const fresh = t.request({ t: 'stats' }).then((r) => (t.lastStats = r.value as ThreadStats), () => EMPTY_STATS);
      let timer: NodeJS.Timeout | undefined;
      const stale = new Promise<ThreadStats>((resolve) => { timer = setTimeout(() => resolve(t.lastStats), STATS_WAIT_MS); });
      try { return await Promise.race([fresh, stale]); } finally { clearTimeout(timer); }
    }));
  }

  get executions(): number { return this.routes.size; }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
