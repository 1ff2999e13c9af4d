// The fixed set of actor threads and the routing table execution → thread. Threads are spawned
// once and never reaped (piscina's model of replaceable, idle-reaped workers would lose actor
// state; see docs/design.md). A thread that dies fails exactly the executions it hosted and is
// replaced; every other execution keeps running.
import { rmSync } from 'node:fs';
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import type { ChunksDone, ThreadStats } from '../../actors/messages.js';
import { Mailbox } from './mailbox.js';
import { pickStateless, placeActor } from '../placement.js';
import { threadSpillDir } from '../../actors/spill.js';
import { ActorThreadDiedError, ActorThreadHandle, EMPTY_STATS, type ThreadOwner } from './thread-handle.js';

export { ActorCallError, ActorThreadDiedError, ActorThreadHandle } from './thread-handle.js';

/** A busy thread's stats answer is awaited this long before its last known counters stand in. */
const STATS_WAIT_MS = 250;

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

export class ActorPool implements ThreadOwner {
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

  chunksDone(d: ChunksDone): void {
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

  /** Asks every live thread for a full GC of its heap (the idle reclaim, runtime/runtime.ts). */
  async reclaim(): Promise<void> {
    await Promise.all(this.threads.map((t) => (t.alive ? t.request({ t: 'reclaim' }).catch(() => undefined) : undefined)));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
