#!/usr/bin/env node
// duck-child.mjs — run one DuckDB flavour (+ the vgi extension) in its own
// process and serve SQL over newline-delimited JSON.
//
//   node duck-child.mjs <v2|v1> [optionsJson]
//
//   v2 = @duckdb/node-api 1.5.5 + @haybarn/ext-vgi-h1-5-5 (vgi protocol 2.0.0)
//   v1 = @haybarn/node-api 1.5.3 + @haybarn/ext-vgi-h1-5-3 (vgi protocol 1.0.0)
//
// optionsJson (optional): {"path": ":memory:", "config": {...DuckDB config...},
//                          "load": true}
//
// stdin  (one JSON object per line):
//   {id, sql, mode?: 'rows'|'run', conn?: number}
//   {id, cmd: 'interrupt', conn?: number}
//   {id, cmd: 'close'}                       -> close the DB, exit 0
// stdout (one JSON object per line, nothing else is written by this program):
//   {id, ok: true, columns, types, rows, rowsChanged, ms}
//   {id, ok: false, error}
//
// Commands for the same `conn` (default 0) run strictly in order; different
// connections run concurrently. Commands received before the database is open
// are queued. If opening/loading fails the error goes to stderr and the
// process exits with code 3. When stdin reaches EOF (parent died) the process
// exits.
//
// QUERY_FARM_TELEMETRY_OPT_OUT=1 must be in the environment (LOAD segfaults
// otherwise); we refuse to start without it rather than crash.

import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

// ---------------------------------------------------------------- stdout guard
// Only protocol lines may go to stdout. Anything JS-side that would log to
// stdout is routed to stderr instead.
const stdoutWrite = process.stdout.write.bind(process.stdout);
for (const k of ['log', 'info', 'debug', 'dir', 'table', 'trace']) {
  // eslint-disable-next-line no-console
  console[k] = console.error.bind(console);
}
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);

function send(obj) {
  stdoutWrite(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------- setup
const FLAVOURS = {
  v2: { api: '@duckdb/node-api', ext: '@haybarn/ext-vgi-h1-5-5' },
  v1: { api: '@haybarn/node-api', ext: '@haybarn/ext-vgi-h1-5-3' },
};
const flavour = process.argv[2];
if (!FLAVOURS[flavour]) {
  process.stderr.write(`usage: node duck-child.mjs <v2|v1> [optionsJson]\n`);
  process.exit(2);
}
if (process.env.QUERY_FARM_TELEMETRY_OPT_OUT !== '1') {
  process.stderr.write('duck-child: QUERY_FARM_TELEMETRY_OPT_OUT=1 must be set (LOAD segfaults otherwise)\n');
  process.exit(2);
}
let options = {};
try {
  if (process.argv[3]) options = JSON.parse(process.argv[3]);
} catch (e) {
  process.stderr.write(`duck-child: bad options JSON: ${e.message}\n`);
  process.exit(2);
}

const require = createRequire(import.meta.url);

function extensionPath(fl) {
  const leaf = `${FLAVOURS[fl].ext}-${process.platform}-${process.arch}`;
  const pkgJson = require.resolve(`${leaf}/package.json`);
  return pkgJson.replace(/package\.json$/, 'bin/vgi.duckdb_extension');
}

const api = require(FLAVOURS[flavour].api);
const V = api; // value classes are exported from the package root

// ---------------------------------------------------------------- values
const DATE_POS_INF = 2 ** 31 - 1;
const DATE_NEG_INF = -(2 ** 31 - 1);

function hex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Convert a DuckDBValue into an exact, JSON-safe value. */
function toJson(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      if (Object.is(v, -0)) return '-0';
      return v;
    default:
      break;
  }
  if (v instanceof V.DuckDBBlobValue) return hex(v.bytes);
  if (v instanceof V.DuckDBListValue || v instanceof V.DuckDBArrayValue) return v.items.map(toJson);
  if (v instanceof V.DuckDBStructValue) {
    const out = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = toJson(x);
    return out;
  }
  if (v instanceof V.DuckDBMapValue) return v.entries.map(({ key, value }) => ({ key: toJson(key), value: toJson(value) }));
  if (v instanceof V.DuckDBUnionValue) return { tag: v.tag, value: toJson(v.value) };
  if (v instanceof V.DuckDBDateValue) {
    // node-api renders ±infinity dates as year 5881580; DuckDB prints 'infinity'.
    if (v.days === DATE_POS_INF) return 'infinity';
    if (v.days === DATE_NEG_INF) return '-infinity';
    return v.toString();
  }
  if (V.DuckDBVariantValue && v instanceof V.DuckDBVariantValue) return String(v);
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v.toString === 'function' && v.toString !== Object.prototype.toString) return v.toString();
  return String(v);
}

// ---------------------------------------------------------------- database
let instance = null;
/** @type {Map<number, {conn: Promise<any>, tail: Promise<void>}>} */
const conns = new Map();
let closing = false;

function getConn(n) {
  let c = conns.get(n);
  if (!c) {
    c = { conn: instance.connect(), tail: Promise.resolve() };
    conns.set(n, c);
  }
  return c;
}

async function open() {
  const config = { allow_unsigned_extensions: 'true', ...(options.config ?? {}) };
  instance = await api.DuckDBInstance.create(options.path ?? ':memory:', config);
  const c0 = await getConn(0).conn;
  if (options.load !== false) {
    const p = extensionPath(flavour);
    statSync(p); // fail early with a clear ENOENT
    await c0.run(`LOAD '${p.replace(/'/g, "''")}'`);
  }
}

async function execSql(msg) {
  const { id, sql } = msg;
  const mode = msg.mode ?? 'rows';
  const c = await getConn(msg.conn ?? 0).conn;
  const t0 = performance.now();
  try {
    if (typeof sql !== 'string') throw new Error('command has no sql string');
    let reply;
    if (mode === 'run') {
      const r = await c.run(sql);
      reply = { id, ok: true, columns: r.columnNames(), types: r.columnTypes().map(String), rows: [], rowsChanged: r.rowsChanged };
    } else {
      const r = await c.runAndReadAll(sql);
      const rows = r.getRows().map((row) => row.map(toJson));
      reply = { id, ok: true, columns: r.columnNames(), types: r.columnTypes().map(String), rows, rowsChanged: r.rowsChanged };
    }
    reply.ms = performance.now() - t0;
    send(reply);
  } catch (e) {
    send({ id, ok: false, error: e && e.message ? e.message : String(e), ms: performance.now() - t0 });
  }
}

function closeAll() {
  for (const c of conns.values()) {
    c.conn.then((x) => { try { x.closeSync(); } catch { /* ignore */ } }, () => {});
  }
  try { instance?.closeSync(); } catch { /* ignore */ }
}

async function handle(msg) {
  const n = msg.conn ?? 0;
  if (msg.cmd === 'interrupt') {
    // bypasses the per-connection queue on purpose
    try {
      const c = conns.get(n);
      if (c) (await c.conn).interrupt();
      send({ id: msg.id, ok: true, columns: [], types: [], rows: [], ms: 0 });
    } catch (e) {
      send({ id: msg.id, ok: false, error: e.message });
    }
    return;
  }
  if (msg.cmd === 'close') {
    closing = true;
    // let every queued statement finish first
    await Promise.allSettled([...conns.values()].map((c) => c.tail));
    closeAll();
    send({ id: msg.id, ok: true, columns: [], types: [], rows: [], ms: 0 });
    process.exit(0);
  }
  if (msg.cmd !== undefined) {
    send({ id: msg.id, ok: false, error: `unknown cmd ${JSON.stringify(msg.cmd)}` });
    return;
  }
  const c = getConn(n);
  c.tail = c.tail.then(() => execSql(msg));
}

// ---------------------------------------------------------------- main loop
const pending = [];
let ready = false;

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`duck-child: bad command line: ${line.slice(0, 200)}\n`);
    return;
  }
  if (closing) {
    send({ id: msg.id, ok: false, error: 'database is closing' });
    return;
  }
  if (ready) handle(msg);
  else pending.push(msg);
});
let readyResolve;
const readyPromise = new Promise((r) => { readyResolve = r; });
rl.on('close', async () => {
  // parent went away (or closed our stdin): finish what was asked, then exit
  await readyPromise;
  if (closing) return;
  await Promise.allSettled([...conns.values()].map((c) => c.tail));
  if (closing) return;
  closeAll();
  process.exit(0);
});

try {
  await open();
} catch (e) {
  process.stderr.write(`duck-child(${flavour}): failed to open DuckDB/load vgi: ${e && e.stack ? e.stack : e}\n`);
  process.exit(3);
}
ready = true;
for (const m of pending.splice(0)) handle(m);
readyResolve();
