#!/usr/bin/env node
// `node bench/hotpath.mjs [--chunks 20000] [--conns 2] [--runs 3] [--worker actors --worker floor]`
//
// The per-chunk cost of the worker's main thread, without DuckDB: a client plays DuckDB's sink
// threads (one connection each, one synchronous process call at a time, like the extension) and
// sends `noop_buffer` process calls of one 2,048-row BIGINT chunk to a `unix://` worker. It
// reports the worker's main-thread CPU per chunk (from /proc, the figure that decides the
// two-sink TEMP TABLE bench: there the main thread is the bottleneck) next to the hand-framed
// acknowledge-only floor's. Uses dist/ as built (`npm run build` first). docs/performance.md §8.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Binary, Field, Int64, RecordBatch, RecordBatchStreamWriter, Schema, Struct, makeData, vectorFromArray } from 'apache-arrow';
import { MessageReader } from '../dist/runtime/wire/reader.js';
import { protocolFor } from '../dist/runtime/protocol/versions.js';
import { encodeRow, encodeSchemaMessage } from '../dist/runtime/protocol/encode.js';
import { FLOOR_ACK } from './lib/matrix.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    chunks: { type: 'string', default: '20000' },
    conns: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    worker: { type: 'string', multiple: true },
    'node-arg': { type: 'string', multiple: true },
    threads: { type: 'boolean', default: false },
    cli: { type: 'string', multiple: true }, // more vgi-actors builds to compare (dist/runtime/cli.js of another checkout) // CPU per thread name (main, actors, GC helpers) on stderr // e.g. --node-arg=--cpu-prof (profiles the workers)
  },
});
const CHUNKS = Number(opts.chunks);
const CONNS = Number(opts.conns);
const RUNS = Number(opts.runs);
const WORKERS = [...(opts.worker ?? ['floor', 'actors']), ...(opts.cli ?? [])];
const FN = 'noop_buffer';
const v2 = protocolFor('2.0.0');
const IN = new Schema([new Field('range', new Int64(), true)]);

// ------------------------------------------------------------------ requests, as the extension frames them
function row(table, given) {
  const r = { ...given };
  for (const f of v2.schemas[table].fields) if (!(f.name in r)) r[f.name] = null;
  return encodeRow(v2.schemas[table], r);
}
function requestStream(method, blob) {
  const meta = new Map([['vgi_rpc.method', method], ['vgi_rpc.request_version', '1'], ['vgi_rpc.protocol_version', '2.0.0'], ['vgi_rpc.protocol', 'vgi.v2']]);
  const schema = new Schema([new Field('request', new Binary(), false)]);
  const col = vectorFromArray([blob], new Binary());
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 1, children: [col.data[0]] }), meta);
  return RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
}
const bindCall = row('bindRequest', {
  function_name: FN, arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: encodeSchemaMessage(IN),
  resolved_secrets_provided: false, schema_path: ['main'],
});
const initStream = requestStream('init', row('initRequest', { bind_call: bindCall, output_schema: encodeSchemaMessage(new Schema([])), phase: 'TABLE_BUFFERING' }));
const chunk = (() => {
  const values = BigInt64Array.from({ length: 2048 }, (_, i) => BigInt(i));
  const col = makeData({ type: new Int64(), length: 2048, nullCount: 0, data: values });
  const batch = new RecordBatch(IN, makeData({ type: new Struct(IN.fields), length: 2048, children: [col] }));
  return RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
})();
const processStream = (eid) => requestStream('table_buffering_process', row('processRequest', { function_name: FN, execution_id: eid, input_batch: chunk, schema_path: ['main'] }));
const combineStream = (eid) => requestStream('table_buffering_combine', row('combineRequest', { function_name: FN, execution_id: eid, state_ids: [eid], schema_path: ['main'] }));
const destructorStream = (eid) => requestStream('table_buffering_destructor', row('destructorRequest', { function_name: FN, execution_id: eid, schema_path: ['main'] }));
const emptyInput = RecordBatchStreamWriter.writeAll([new RecordBatch(IN, makeData({ type: new Struct(IN.fields), length: 0, children: [makeData({ type: new Int64(), length: 0 })] }))]).toUint8Array(true);

// ------------------------------------------------------------------ client
class Conn {
  constructor(sock) { this.sock = sock; this.reader = new MessageReader(sock); }
  static open(path) {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.once('error', reject);
      s.connect(path, () => { s.off('error', reject); resolve(new Conn(s)); });
    });
  }
  async call(bytes) {
    this.sock.write(bytes);
    const msgs = await this.reader.readStream();
    if (msgs === null) throw new Error('worker closed the connection');
    for (const m of msgs) if (m.metadata.get('vgi_rpc.log_level') === 'EXCEPTION') throw new Error(m.metadata.get('vgi_rpc.log_message'));
    return msgs;
  }
}

/** utime + stime of one thread of `pid` (the main thread when tid = pid), in seconds. */
function threadCpu(pid, tid = pid) {
  const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** CPU seconds per thread name (comm) of `pid`: main, actor threads, GC helpers, libuv. */
function threadsCpu(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = Number(tid) === pid ? 'main' : f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(`${comm}#${tid}`, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch { /* thread gone */ }
  }
  return out;
}
function processCpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startWorker(kind, dir) {
  const sock = join(dir, `${kind.replace(/\W+/g, '_')}.sock`.slice(-40));
  const cli = kind === 'actors' ? join(root, 'dist/runtime/cli.js') : kind;
  const argv = kind === 'floor' ? [FLOOR_ACK, '--unix', sock] : [cli, 'serve', '--fixtures', '--unix', sock, '--threads', '2'];
  const child = spawn(process.execPath, [...(opts['node-arg'] ?? []), ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('UNIX:')) resolve(); });
    child.once('exit', (c) => reject(new Error(`${kind} worker exited (${c})`)));
  });
  return { child, sock };
}

/** The process serving the socket: `pid`, or its child when the host runs itself again (runtime/malloc.ts). */
function serverPid(pid) {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(p);
    } catch { /* gone */ }
  }
  return pid;
}

async function oneRun(sock, pid) {
  const conns = await Promise.all(Array.from({ length: CONNS }, () => Conn.open(sock)));
  const header = await conns[0].call(initStream);
  const eidBatch = header.find((m) => m.metadata.size === 0 && m.headerType === 3) ?? null;
  // The execution id is the header row's execution_id: decode it with apache-arrow (control plane).
  const { RecordBatchReader } = await import('apache-arrow');
  const { concat, EOS_BYTES } = await import('../dist/runtime/wire/encode.js');
  const table = [...RecordBatchReader.from(concat([...header.map((m) => m.bytes), EOS_BYTES]))];
  const eid = table.find((b) => b.numRows === 1).getChild('execution_id').get(0);
  void eidBatch;
  await conns[0].call(emptyInput);
  const proc = processStream(eid);
  const cpu0 = threadCpu(pid); const all0 = processCpu(pid); const th0 = threadsCpu(pid); const t0 = performance.now();
  await Promise.all(conns.map(async (c) => { for (let i = 0; i < CHUNKS; i++) await c.call(proc); }));
  const t1 = performance.now(); const cpu1 = threadCpu(pid); const all1 = processCpu(pid); const th1 = threadsCpu(pid);
  await conns[0].call(combineStream(eid));
  await conns[0].call(destructorStream(eid));
  for (const c of conns) c.sock.destroy();
  const n = CHUNKS * CONNS;
  // Per thread name, summed over threads of that name (µs per chunk).
  // Node names no thread: the actor and kernel threads and V8's GC helpers are all `node`; the
  // busiest one is the actor (µs per chunk of the top three, then the rest).
  const byName = new Map();
  const others = [];
  for (const [k, v] of th1) {
    const d = ((v - (th0.get(k) ?? 0)) * 1e6) / n;
    if (d <= 0) continue;
    if (k.startsWith('main#')) byName.set('main', d);
    else others.push(d);
  }
  others.sort((a, b) => b - a);
  others.slice(0, 3).forEach((d, i) => byName.set(`thread${i + 1}`, d));
  byName.set('rest', others.slice(3).reduce((a, b) => a + b, 0));
  return { wallUs: ((t1 - t0) * 1000) / n, mainUs: ((cpu1 - cpu0) * 1e6) / n, allUs: ((all1 - all0) * 1e6) / n, byName };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'vgi-hot-'));
const rows = [];
try {
  for (const kind of WORKERS) {
    const w = await startWorker(kind, dir);
    try {
      await oneRun(w.sock, w.child.pid); // warm-up
      const pid = serverPid(w.child.pid);
      const rs = [];
      for (let r = 0; r < RUNS; r++) rs.push(await oneRun(w.sock, pid));
      const names = new Map();
      for (const r of rs) for (const [k, v] of r.byName) names.set(k, [...(names.get(k) ?? []), v]);
      if (opts.threads) console.error(`${kind}: µs/chunk by thread: ${[...names].map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')}`);
      rows.push({ kind, wall: median(rs.map((r) => r.wallUs)), main: median(rs.map((r) => r.mainUs)), all: median(rs.map((r) => r.allUs)), mains: rs.map((r) => r.mainUs.toFixed(1)) });
    } finally { w.child.kill('SIGTERM'); }
  }
} finally { rmSync(dir, { recursive: true, force: true }); }
console.log(`| worker | wall µs/chunk | main-thread CPU µs/chunk (runs) | process CPU µs/chunk |`);
console.log(`|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.kind} | ${r.wall.toFixed(1)} | ${r.main.toFixed(1)} (${r.mains.join(', ')}) | ${r.all.toFixed(1)} |`);
console.log(`${CONNS} connections × ${CHUNKS} chunks of 2,048 BIGINT rows, noop_buffer, ${RUNS} runs (median)`);
