// The embeddable runtime: a library first; the CLI only wraps it.
//
//   const rt = await createRuntime({ functions: new URL('./my-functions.js', import.meta.url) });
//   await rt.listen('/tmp/my.sock');          // AF_UNIX (launch:/unix://)
//   ...
//   await rt.close();                         // drains in-flight calls, stops threads
import { availableParallelism } from 'node:os';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { ResourceLimits } from 'node:worker_threads';
import { loadFunctions, moduleUrl } from '../functions/load.js';
import { ActorPool } from './actors/pool.js';
import { defaultMemoryBudget, prepareSpillRoot, removeProcessSpillDirs, spillRoot } from '../actors/spill.js';
import { KernelRouter } from './kernels.js';
import { collectGarbage } from '../actors/gc.js';
import { idleReclaimer } from './idle-reclaim.js';
import { Connection } from './connection.js';
import { RuntimeCore, type RuntimeMetrics } from './core.js';
import { listenUnix, type UnixListener, type UnixListenOptions } from './transports/unix.js';

export interface RuntimeOptions {
  /** Module whose default (or `functions`) export is the list of functions to serve. */
  readonly functions: string | URL;
  /** Actor threads; default: one per available core. */
  readonly threads?: number;
  /** Catalog name DuckDB attaches (default `example`) and its single schema (default `main`). */
  readonly catalog?: string;
  readonly schema?: string;
  /** Per-thread V8 limits (a thread that exceeds them dies alone; its executions fail). */
  readonly resourceLimits?: ResourceLimits;
  /**
   * Executions with no call for this long are ended (their actor freed): DuckDB sends the
   * destructor best-effort only, and a killed DuckDB sends nothing. Default 10 minutes; 0 = never.
   */
  readonly executionTtlMs?: number;
  /** Diagnostics sink; default: stderr. Never stdout (it may be DuckDB's IPC pipe). */
  readonly log?: (line: string) => void;
  /**
   * Budget for buffered bytes across all actor threads (each thread gets budget / threads); over
   * its share a thread spills the largest executions' batches to Arrow IPC files. Default: half
   * of the machine's memory (or of the cgroup limit). Infinity = never spill.
   */
  readonly memoryBudgetBytes?: number;
  /**
   * Longest one call into user code may take (onBind, process, combine, onDestroy, or producing
   * one finalize batch, each counted from when the main thread hands it to the actor's thread).
   * Past it the actor's thread is terminated — the only way to stop a synchronous loop — its
   * executions fail with a message naming the deadline, and a fresh thread replaces it.
   * Default 5 minutes; 0 = no deadline.
   */
  readonly callDeadlineMs?: number;
  /** Where spill files go: `<spillDir>/vgi-actors-spill-<uid>/…` (0700). Default os.tmpdir(). */
  readonly spillDir?: string;
  /**
   * After this long with no live execution and no request, memory held for past queries is given
   * back: kernel threads stop (the next `params.runKernel` starts them again), and every actor
   * thread and the main thread run a full GC, twice, 6 s apart (V8 shrinks a heap's young
   * generation only at a GC that follows a few seconds of low allocation). In an embedding
   * service the main-thread GC covers the service's whole heap. Default 10 s; 0 = never.
   */
  readonly idleReclaimMs?: number;
}

export interface RuntimeSnapshot extends RuntimeMetrics {
  readonly threads: number;
  readonly liveExecutions: number;
  readonly bufferedBytes: number;
  /** Bytes of spill files (memory budget). */
  readonly spilledBytes: number;
  readonly inflight: number;
  /** Actor threads replaced after dying (a crash, the heap limit, a call deadline). */
  readonly threadsReplaced: number;
  /** Idle periods in which memory was reclaimed (`idleReclaimMs`). */
  readonly idleReclaims: number;
  /** Where this process's memory is (bytes). */
  readonly memory: RuntimeMemory;
}

/** Memory figures in bytes. `rss` is the whole process (main thread, actor and kernel threads, and anything else living in it). */
export interface RuntimeMemory {
  readonly rss: number;
  /** The main thread's isolate (process.memoryUsage()). */
  readonly main: IsolateMemory;
  /** Each actor thread's isolate, by thread index (zeros while a thread is being replaced). */
  readonly actorThreads: IsolateMemory[];
  /** Kernel threads running (0 until the first params.runKernel). */
  readonly kernelThreads: number;
}

export interface IsolateMemory {
  /** V8 heap in use / reserved. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory V8 is told about outside its heap; `arrayBuffers` is the ArrayBuffer part of it. */
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface Runtime {
  /** Serves one connection (e.g. stdin/stdout) until the peer closes it. */
  serve(input: Readable, output: Writable, label?: string): Promise<void>;
  serveSocket(socket: Duplex, label?: string): Promise<void>;
  /** Listens on an AF_UNIX socket path. */
  listen(path: string, opts?: UnixListenOptions): Promise<UnixListener>;
  metrics(): Promise<RuntimeSnapshot>;
  /** Stops accepting, waits up to `drainMs` for in-flight calls, then stops the actor threads. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

export const DEFAULT_CALL_DEADLINE_MS = 5 * 60_000;
export const DEFAULT_IDLE_RECLAIM_MS = 10_000;
export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const specifier = moduleUrl(opts.functions);
  const functions = await loadFunctions(specifier);
  const threads = opts.threads ?? availableParallelism();
  // params.runKernel: one kernel thread per actor thread, started on the first kernel call.
  const kernels = new KernelRouter({ threads, resourceLimits: opts.resourceLimits });
  // Memory budget: stale spill directories of dead hosts go first.
  const budget = opts.memoryBudgetBytes ?? defaultMemoryBudget();
  const spill = Number.isFinite(budget) ? spillRoot(opts.spillDir) : undefined;
  if (spill) prepareSpillRoot(spill);
  const pool = new ActorPool({ functionsModule: specifier, threads, resourceLimits: opts.resourceLimits, kernels, memoryBudgetBytes: spill ? budget : undefined, spillRoot: spill,
    callDeadlineMs: opts.callDeadlineMs ?? DEFAULT_CALL_DEADLINE_MS,
  });
  await pool.start(); // (the kernel pool has no threads yet: nothing to stop if this throws)
  const log = opts.log ?? ((line: string) => { process.stderr.write(`vgi-actors: ${line}\n`); });
  const core = new RuntimeCore(functions, pool, { name: opts.catalog ?? 'example', schema: opts.schema ?? 'main' }, log);
  const listeners: UnixListener[] = [];
  const open = new Set<Connection>();

  // TTL sweep: abandoned executions (no destructor ever came) must not hold memory forever.
  const ttl = opts.executionTtlMs ?? 10 * 60_000;
  const sweeper = ttl > 0 ? setInterval(() => {
    for (const key of pool.idleSince(ttl)) {
      core.metrics.executionsSwept++;
      void core.destroyExecution(key, `no call for ${Math.round(ttl / 1000)} s (TTL)`);
    }
  }, Math.max(50, Math.min(ttl / 4, 60_000))) : null;
  sweeper?.unref();

  // Idle reclaim: between bursts of queries, give back what the last ones left behind.
  let idleReclaims = 0;
  const idleAfter = opts.idleReclaimMs ?? DEFAULT_IDLE_RECLAIM_MS;
  const reclaimer = idleAfter > 0 ? idleReclaimer(
    idleAfter,
    () => pool.executions === 0 && core.inflight === 0,
    () => core.metrics.requests + core.metrics.chunks,
    async (pass) => {
      if (pass === 1) await kernels.release();
      await pool.reclaim();
      collectGarbage();
      if (pass === 2) idleReclaims++;
    },
  ) : null;
  let counter = 0;

  const serve = async (input: Readable, output: Writable, label = `conn-${++counter}`): Promise<void> => {
    const c = new Connection(core, input, output, label);
    open.add(c);
    try { await c.serve(); } finally { open.delete(c); }
  };

  return {
    serve,
    serveSocket: (socket, label) => serve(socket, socket, label),
    async listen(path, lopts) {
      const l = await listenUnix(path, (sock) => serve(sock, sock), () => pool.executions, lopts);
      listeners.push(l);
      return l;
    },
    async metrics() {
      const stats = await pool.stats();
      const mem = process.memoryUsage();
      return {
        ...core.metrics,
        threads: pool.size,
        liveExecutions: pool.executions,
        bufferedBytes: stats.reduce((a, s) => a + s.bufferedBytes, 0),
        spilledBytes: stats.reduce((a, s) => a + (s.spilledBytes ?? 0), 0),
        inflight: core.inflight,
        threadsReplaced: pool.threadsReplaced,
        idleReclaims,
        memory: {
          rss: mem.rss,
          main: { heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers },
          actorThreads: stats.map((s) => ({ heapUsed: s.heapUsed, heapTotal: s.heapTotal ?? 0, external: s.external ?? 0, arrayBuffers: s.arrayBuffers ?? 0 })),
          kernelThreads: kernels.threadCount,
        },
      };
    },
    async close({ drainMs = 10_000 } = {}) {
      if (sweeper) clearInterval(sweeper);
      if (reclaimer) clearInterval(reclaimer);
      const stopped = Promise.all(listeners.map((l) => l.close())); // stop accepting now
      const deadline = Date.now() + drainMs;
      while (core.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const c of open) c.input.destroy();
      await stopped;
      await pool.close();
      await kernels.close();
      if (spill) removeProcessSpillDirs(spill);
    },
  };
}
