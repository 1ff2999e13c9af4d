// CPU kernels, actor side. `params.runKernel` posts {id, module, name, input} on the actor
// thread's dedicated kernel port (created by runtime/actors/pool.ts, one per actor thread, so
// kernel traffic never queues behind actor control messages); the main thread's router
// (runtime/kernels.ts) hands it to the piscina pool, whose worker (actors/kernel-worker.ts)
// imports the module and calls the export. Input ArrayBuffers listed in `transfer` and every
// ArrayBuffer of the output are moved, never copied.
//
// Without a port (an ActorThread driven in-process, e.g. in tests) kernels run inline on the
// calling thread with the same semantics: input and output go through structuredClone with the
// same transfer lists, so the caller's buffers are detached exactly as in the real runtime.
import type { MessagePort } from 'node:worker_threads';
import { KernelError, type KernelRef } from '../functions/api.js';

export interface SerializedKernelError { readonly name: string; readonly message: string; readonly stack?: string }

/** Actor thread → main thread, on the kernel port. */
export interface KernelRequest {
  readonly id: number;
  readonly module: string;
  readonly name: string;
  readonly input: unknown;
  /** The ArrayBuffers moved with this message; the router moves them on to the kernel thread. */
  readonly transfer: ArrayBuffer[];
}

/** Main thread → actor thread, on the kernel port. */
export type KernelReply =
  | { readonly id: number; readonly ok: true; readonly output: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedKernelError };

/** What the kernel worker returns to the router (the transfer list travels along, moved). */
export type KernelTaskResult =
  | { readonly ok: true; readonly output: unknown; readonly transfer: ArrayBuffer[] }
  | { readonly ok: false; readonly error: SerializedKernelError };

export interface KernelTask { readonly module: string; readonly name: string; readonly input: unknown }

export function serializeKernelError(e: unknown): SerializedKernelError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

function kernelLabel(module: string, name: string): string {
  return `${module}#${name}`;
}

function toKernelError(module: string, name: string, e: SerializedKernelError): KernelError {
  return e.name === 'KernelError'
    ? new KernelError(e.message, kernelLabel(module, name), 'KernelError', e.stack)
    : new KernelError(e.message, kernelLabel(module, name), e.name, e.stack);
}

function checkRef(kernel: Pick<KernelRef, 'module' | 'name'> | null | undefined): void {
  if (!kernel || typeof kernel.module !== 'string' || typeof kernel.name !== 'string') {
    throw new TypeError('runKernel: the kernel must be a KernelRef made by defineKernel(module, name)');
  }
}

// ---------------------------------------------------------------------------------------------
// Loading and calling a kernel (kernel threads, and the inline fallback)

type KernelFn = (input: unknown) => unknown;
const loaded = new Map<string, KernelFn>();

/** Imports `module` and returns its export `name`; failures are KernelErrors that say which. */
export async function loadKernel(module: string, name: string): Promise<KernelFn> {
  const key = kernelLabel(module, name);
  const hit = loaded.get(key);
  if (hit) return hit;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(module)) as Record<string, unknown>;
  } catch (e) {
    throw new KernelError(`cannot load kernel module ${module}: ${(e as Error)?.message ?? String(e)}`, key);
  }
  const fn = mod[name];
  if (typeof fn !== 'function') {
    throw new KernelError(`kernel module ${module} has no exported function '${name}'${fn === undefined ? '' : ` (it is a ${typeof fn})`}`, key);
  }
  loaded.set(key, fn as KernelFn);
  return fn as KernelFn;
}

export interface OutputScan {
  /** The distinct ArrayBuffers to move with the output. */
  readonly transfer: ArrayBuffer[];
  /** Why the output cannot be structured-cloned (e.g. `output.f is a function`), or null. */
  readonly problem: string | null;
}

const UNCLONABLE: [new (...a: never[]) => object, string][] = [[Promise, 'a Promise'], [WeakMap, 'a WeakMap'], [WeakSet, 'a WeakSet'], [WeakRef, 'a WeakRef']];

/**
 * One walk over a kernel's output: collects the distinct ArrayBuffers reachable through objects,
 * arrays, Maps, Sets, typed arrays and DataViews (what the output moves back), and finds what
 * structured clone would refuse (functions, symbols, promises …), so a bad output is a clear
 * KernelError instead of a dead kernel thread. SharedArrayBuffers are shared, not moved; Node's
 * pooled small Buffers are untransferable and get copied. Stops 64 levels deep.
 */
export function scanOutput(value: unknown): OutputScan {
  const transfer: ArrayBuffer[] = [];
  const seen = new Set<object>();
  const path: (string | number)[] = [];
  const where = (): string => `output${path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
  let problem: string | null = null;
  const visit = (v: unknown): void => {
    if (problem !== null) return;
    if (typeof v === 'function') { problem = `${where()} is a function`; return; }
    if (typeof v === 'symbol') { problem = `${where()} is a symbol`; return; }
    if (v === null || typeof v !== 'object' || seen.has(v) || path.length > 64) return;
    seen.add(v);
    if (v instanceof ArrayBuffer) {
      if (v.byteLength > 0) transfer.push(v);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      if (!(buf instanceof ArrayBuffer) || buf.byteLength === 0 || seen.has(buf)) return;
      seen.add(buf);
      if (Buffer.isBuffer(v) && buf.byteLength === Buffer.poolSize && v.byteLength < buf.byteLength) return;
      transfer.push(buf);
      return;
    }
    for (const [cls, what] of UNCLONABLE) if (v instanceof cls) { problem = `${where()} is ${what}`; return; }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x !== null && (typeof x === 'object' || typeof x === 'function' || typeof x === 'symbol')) { path.push(i); visit(x); path.pop(); }
      }
    } else if (v instanceof Map) {
      for (const [k, x] of v) { path.push(`get(${String(k)})`); visit(k); visit(x); path.pop(); }
    } else if (v instanceof Set) {
      for (const x of v) { path.push('<set>'); visit(x); path.pop(); }
    } else if (!(v instanceof Date || v instanceof RegExp || v instanceof Error)) {
      for (const k of Object.keys(v)) { path.push(k); visit((v as Record<string, unknown>)[k]); path.pop(); }
    }
  };
  visit(value);
  return { transfer, problem };
}

/** The ArrayBuffers a kernel output moves back (see scanOutput). */
export function collectTransfer(value: unknown): ArrayBuffer[] {
  return scanOutput(value).transfer;
}

/** Calls the kernel; never throws: the result says how it went (the kernel worker's contract). */
export async function callKernel(task: KernelTask): Promise<KernelTaskResult> {
  try {
    const fn = await loadKernel(task.module, task.name);
    const output = await fn(task.input);
    const scan = scanOutput(output);
    if (scan.problem) throw new KernelError(`kernel ${kernelLabel(task.module, task.name)} returned an output that cannot cross threads: ${scan.problem}`, kernelLabel(task.module, task.name));
    return { ok: true, output, transfer: scan.transfer };
  } catch (e) {
    return { ok: false, error: serializeKernelError(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Runners

export interface KernelRunner {
  run<I, O>(kernel: KernelRef<I, O>, input: I, transfer?: readonly ArrayBuffer[]): Promise<O>;
}

/** The real runtime: requests go over the actor thread's kernel port to the main thread's router. */
export class PortKernelRunner implements KernelRunner {
  private nextId = 1;
  private closed = false;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; module: string; name: string }>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: KernelReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.output);
      else p.reject(toKernelError(p.module, p.name, m.error));
      if (this.pending.size === 0) this.port.unref();
    });
    port.on('close', () => this.fail('the kernel pool closed'));
    port.unref(); // an idle kernel port must not keep the thread alive
  }

  private fail(why: string): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new KernelError(`kernel ${kernelLabel(p.module, p.name)} did not finish: ${why}`, kernelLabel(p.module, p.name)));
    this.pending.clear();
  }

  run<I, O>(kernel: KernelRef<I, O>, input: I, transfer: readonly ArrayBuffer[] = []): Promise<O> {
    try {
      checkRef(kernel);
      if (this.closed) throw new KernelError(`kernel ${kernelLabel(kernel.module, kernel.name)} cannot run: the kernel pool closed`, kernelLabel(kernel.module, kernel.name));
      const id = this.nextId++;
      const list = [...transfer];
      const req: KernelRequest = { id, module: kernel.module, name: kernel.name, input, transfer: list };
      return new Promise<O>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, module: kernel.module, name: kernel.name });
        try {
          this.port.postMessage(req, list);
        } catch (e) {
          this.pending.delete(id);
          reject(e as Error); // e.g. DataCloneError: the input cannot cross threads
          return;
        }
        this.port.ref();
      });
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  close(): void {
    this.fail('the actor thread closed its kernel port');
    this.port.close();
  }
}

/** No kernel pool (in-process use): runs the kernel here, moving input and output like the pool. */
export class InlineKernelRunner implements KernelRunner {
  async run<I, O>(kernel: KernelRef<I, O>, input: I, transfer: readonly ArrayBuffer[] = []): Promise<O> {
    checkRef(kernel);
    const moved = structuredClone(input, { transfer: [...transfer] });
    const r = await callKernel({ module: kernel.module, name: kernel.name, input: moved });
    if (!r.ok) throw toKernelError(kernel.module, kernel.name, r.error);
    return structuredClone(r.output, { transfer: r.transfer }) as O;
  }
}

let runner: KernelRunner = new InlineKernelRunner();

/** Installs the runner behind every `params.runKernel` of this thread (host.ts, at start-up). */
export function installKernelRunner(r: KernelRunner): void {
  runner = r;
}

/** Connects this thread's `params.runKernel` to the kernel port the pool gave it. */
export function installKernelPort(port: MessagePort): PortKernelRunner {
  const r = new PortKernelRunner(port);
  installKernelRunner(r);
  return r;
}

/** `params.runKernel`: delegates to the thread's runner (the pool's port, or inline). */
export function runKernel<I, O>(kernel: KernelRef<I, O>, input: I, transfer?: readonly ArrayBuffer[]): Promise<O> {
  return runner.run(kernel, input, transfer);
}
