// Piscina worker file of the kernel pool (runtime/kernels.ts). It lives in actors/, not runtime/:
// like host.ts it is a thread entry that runs user code, and it shares its loading and
// transfer rules with the in-process fallback (actors/kernels.ts), so a kernel behaves the same
// wherever it runs. runtime/ stays main-thread code that never imports user modules.
// Kept tiny on purpose: tap cannot measure coverage inside worker threads.
import { Piscina } from 'piscina';
import { callKernel, type KernelTask, type KernelTaskResult } from './kernels.js';

// stdout may be DuckDB's IPC pipe or the launcher's discovery channel: a kernel's console.log
// must not reach it (piscina does not expose the Worker `stdout` option).
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

/** A result whose transfer list piscina moves (top-level `Piscina.move` cannot reach nested buffers). */
class Moved {
  constructor(private readonly value: KernelTaskResult, private readonly list: ArrayBuffer[]) {}
  get [Piscina.transferableSymbol](): ArrayBuffer[] { return this.list; }
  get [Piscina.valueSymbol](): KernelTaskResult { return this.value; }
}

export default async function runKernelTask(task: KernelTask): Promise<unknown> {
  const r = await callKernel(task);
  return r.ok && r.transfer.length > 0 ? Piscina.move(new Moved(r, r.transfer) as never) : r;
}
