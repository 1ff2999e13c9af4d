// Echo side of bench/dispatch.mjs: answers each 56 KB message with a 16-byte state id.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const reply = () => new Uint8Array(16);
if (workerData?.mode === 'raw') {
  parentPort.on('message', (m) => parentPort.postMessage({ t: 'reply', id: reply(), n: m.buf.byteLength }));
} else if (workerData?.mode === 'comlink') {
  const Comlink = await import('comlink');
  const nodeEndpoint = createRequire(import.meta.url)('comlink/dist/umd/node-adapter.js');
  Comlink.expose({ process: (buf) => ({ id: reply(), n: buf.byteLength }) }, nodeEndpoint(parentPort));
}
// piscina: the default export is the task handler.
export default function ({ buf }) { return { id: reply(), n: buf.byteLength }; }
