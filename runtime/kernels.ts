// CPU kernels, main-thread side: routes kernel requests from the actor threads' kernel ports to
// a piscina pool. The main thread only forwards messages (moving their ArrayBuffers); kernel
// modules are imported by the pool's worker (actors/kernel-worker.ts), never here.
//
// The pool is created on the first request (functions that never call runKernel cost nothing),
// with minThreads = maxThreads = the runtime's thread count and no idle reaping of its own: kernels
// are stateless, so piscina's model (replaceable workers, one queue) fits them, unlike actors.
// When the whole runtime is idle, its idle reclaim stops the pool (release()) and the next
// request starts a new one.
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { serializeKernelError, type KernelReply, type KernelRequest, type KernelTaskResult } from '../actors/kernels.js';

export interface KernelRouterOptions {
  /** Kernel threads (the runtime's thread count). */
  readonly threads: number;
  readonly resourceLimits?: ResourceLimits;
  /** The piscina worker file; default actors/kernel-worker (.ts under tap's loader, .js built). */
  readonly workerUrl?: URL;
}

export class KernelRouter {
  private pool: Piscina | null = null;
  /** Each actor thread's port, with the kernels it has running or queued. */
  private readonly ports = new Map<MessagePort, Set<AbortController>>();
  private closed = false;
  private inflight = 0;
  readonly threads: number;
  private readonly workerUrl: URL;

  constructor(private readonly opts: KernelRouterOptions) {
    this.threads = Math.max(1, opts.threads);
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.workerUrl = opts.workerUrl ?? new URL(`../actors/kernel-worker.${ext}`, import.meta.url);
  }

  /** Requests in flight (queued or running on the pool). */
  get pending(): number { return this.inflight; }

  /** Kernel threads running now (none before the first request). */
  get threadCount(): number { return this.pool?.threads.length ?? 0; }

  /** Serves kernel requests arriving on `port` (one per actor thread; dropped when it closes). */
  attach(port: MessagePort): void {
    if (this.closed) { port.close(); return; }
    this.ports.set(port, new Set());
    port.on('message', (m: KernelRequest) => this.onRequest(port, m));
    port.on('close', () => {
      // The actor thread is gone (crashed, or terminated at a call deadline): nobody waits for
      // its kernels, and one stuck in a loop would hold a kernel thread forever. Aborting a
      // running piscina task terminates (and replaces) its thread.
      for (const a of this.ports.get(port) ?? []) a.abort();
      this.ports.delete(port);
    });
    port.unref(); // the actor threads keep the process alive, not their kernel ports
  }

  private piscina(): Piscina {
    return (this.pool ??= new Piscina({
      filename: this.workerUrl.href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity,
      resourceLimits: this.opts.resourceLimits,
    }));
  }

  private reply(port: MessagePort, m: KernelReply, transfer: ArrayBuffer[] = []): void {
    try {
      port.postMessage(m, transfer);
    } catch (e) {
      // The output could not be cloned (e.g. it holds a function): say so instead of hanging.
      port.postMessage({ id: m.id, ok: false, error: serializeKernelError(e) } satisfies KernelReply);
    }
  }

  private onRequest(port: MessagePort, m: KernelRequest): void {
    if (this.closed) {
      this.reply(port, { id: m.id, ok: false, error: { name: 'KernelError', message: 'the kernel pool is closed' } });
      return;
    }
    const abort = new AbortController();
    const mine = this.ports.get(port);
    mine?.add(abort);
    this.inflight++;
    this.piscina()
      .run({ module: m.module, name: m.name, input: m.input }, { transferList: m.transfer, signal: abort.signal })
      .then(
        (r: KernelTaskResult) => {
          if (r.ok) this.reply(port, { id: m.id, ok: true, output: r.output }, r.transfer);
          else this.reply(port, { id: m.id, ok: false, error: r.error });
        },
        // The kernel thread died (piscina replaces it) or could not send the output back.
        (e: unknown) => this.reply(port, {
          id: m.id,
          ok: false,
          error: e instanceof Error ? serializeKernelError(e) : { name: 'KernelError', message: `the kernel thread failed: ${JSON.stringify(e) ?? String(e)}` },
        }),
      )
      .finally(() => { this.inflight--; mine?.delete(abort); });
  }

  /**
   * Stops the kernel threads if no kernel is queued or running (the idle reclaim): their heaps go
   * with them, and the next request starts a fresh pool. True if threads were stopped.
   */
  async release(): Promise<boolean> {
    const pool = this.pool;
    if (!pool || this.inflight > 0) return false;
    this.pool = null; // a request arriving from here on starts a new pool
    await pool.destroy();
    return true;
  }

  /** Stops serving: later requests fail, the pool's threads stop (running kernels are cut off). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.ports.keys()) p.close();
    this.ports.clear();
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }
}
