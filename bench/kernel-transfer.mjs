#!/usr/bin/env node
// Does runKernel move big typed arrays, or copy them? Round trips of an 80 MB Float64Array
// through the real kernel path (actor-side runner → MessagePort → main-thread router → piscina
// thread → back), moved (listed in `transfer`) vs cloned (not listed), medians of 9.
//   node bench/kernel-transfer.mjs          (after `npx tsc -p tsconfig.json`)
import { MessageChannel } from 'node:worker_threads';
import { KernelRouter } from '../dist/runtime/kernels.js';
import { PortKernelRunner } from '../dist/actors/kernels.js';
import { defineKernel } from '../dist/functions/api.js';

const kernelModule = `data:text/javascript,${encodeURIComponent('export function identity(x) { return x; }')}`;
const identity = defineKernel(kernelModule, 'identity');
const router = new KernelRouter({ threads: 1 });
const ch = new MessageChannel();
router.attach(ch.port1);
const runner = new PortKernelRunner(ch.port2);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const N = 10_000_000; // 80 MB
let values = new Float64Array(N).fill(1.5);
await runner.run(identity, { values: new Float64Array(8) }); // start the pool
for (const mode of ['moved', 'cloned']) {
  const ms = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    const out = await runner.run(identity, { values }, mode === 'moved' ? [values.buffer] : []);
    ms.push(performance.now() - t0);
    if (mode === 'moved' && values.length !== 0) throw new Error('input was not detached');
    values = out.values;
    if (values.length !== N || values[N - 1] !== 1.5) throw new Error('bad output');
  }
  console.log(`${mode}: median ${median(ms).toFixed(2)} ms (min ${Math.min(...ms).toFixed(2)}, max ${Math.max(...ms).toFixed(2)}) for an 80 MB Float64Array round trip`);
}
await router.close();
