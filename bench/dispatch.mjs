#!/usr/bin/env node
// Why actors use raw worker_threads messaging: sequential round-trip cost of one process-sized
// message (a 56 KB ArrayBuffer moved to the thread and an id moved back) through
// raw postMessage, piscina 5 and comlink 4. `node bench/dispatch.mjs` prints a table.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import Piscina from 'piscina';
import * as Comlink from 'comlink';

const require = createRequire(import.meta.url);
const nodeEndpoint = require('comlink/dist/umd/node-adapter.js');
const N = Number(process.argv[2] ?? 20000);
const SIZE = 56 * 1024;
const workerUrl = new URL('./dispatch-worker.mjs', import.meta.url);

async function measure(name, once) {
  for (let i = 0; i < 2000; i++) await once(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await once();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  return { name, 'µs per round trip': us.toFixed(1), 'calls/s': Math.round(1e6 / us) };
}

const rows = [];
{
  const w = new Worker(workerUrl, { workerData: { mode: 'raw' } });
  let pending = null;
  w.on('message', (m) => { const p = pending; pending = null; p(m); });
  rows.push(await measure('raw postMessage (transfer)', () => new Promise((r) => {
    pending = r;
    const buf = new ArrayBuffer(SIZE);
    w.postMessage({ t: 'process', buf }, [buf]);
  })));
  await w.terminate();
}
{
  const pool = new Piscina({ filename: new URL('./dispatch-worker.mjs', import.meta.url).href, minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  rows.push(await measure('piscina 5 run (transferList)', () => {
    const buf = new ArrayBuffer(SIZE);
    return pool.run({ buf }, { transferList: [buf] });
  }));
  await pool.destroy();
}
{
  const w = new Worker(workerUrl, { workerData: { mode: 'comlink' } });
  const api = Comlink.wrap(nodeEndpoint(w));
  rows.push(await measure('comlink 4 call (transfer)', () => {
    const buf = new ArrayBuffer(SIZE);
    return api.process(Comlink.transfer(buf, [buf]));
  }));
  api[Comlink.releaseProxy]();
  await w.terminate();
}
console.table(rows);
