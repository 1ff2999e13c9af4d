#!/usr/bin/env node
// One long-lived DuckDB (@duckdb/node-api 1.5.5 + the vgi extension, or with VGI_BENCH_DUCK=v1
// @haybarn/node-api 1.5.3 + its extension) for one bench configuration.
// stdin: one JSON command per line {id, sql}; stdout: one JSON reply per line
// {id, ok, ms, cpuUser, cpuSys, rows | error}. cpu* is this process's own CPU time in seconds
// (process.cpuUsage), i.e. DuckDB's, spent while the statement ran.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

if (process.env.QUERY_FARM_TELEMETRY_OPT_OUT !== '1') {
  process.stderr.write('duck-runner: QUERY_FARM_TELEMETRY_OPT_OUT=1 must be set (LOAD vgi segfaults without it)\n');
  process.exit(2);
}
const require = createRequire(import.meta.url);
// VGI_BENCH_DUCK=v1: DuckDB 1.5.3 + its vgi extension (protocol 1.0.0); else 1.5.5 (2.0.0).
const v1 = process.env.VGI_BENCH_DUCK === 'v1';
const { DuckDBInstance } = require(v1 ? '@haybarn/node-api' : '@duckdb/node-api');
const ext = require.resolve(`@haybarn/ext-vgi-h1-5-${v1 ? 3 : 5}-linux-x64/package.json`).replace(/package\.json$/, 'bin/vgi.duckdb_extension');

const send = (o) => process.stdout.write(`${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
const db = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
const conn = await db.connect();
await conn.run(`LOAD '${ext}'`);
send({ id: 0, ok: true, ready: true, pid: process.pid });

let tail = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const { id, sql } = JSON.parse(line);
  tail = tail.then(async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      const r = await conn.runAndReadAll(sql);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      send({ id, ok: true, ms, cpuUser: c.user / 1e6, cpuSys: c.system / 1e6, rows: r.getRows().slice(0, 20) });
    } catch (e) {
      send({ id, ok: false, ms: performance.now() - t0, error: String(e?.message ?? e) });
    }
  });
}).on('close', async () => {
  await tail;
  try { conn.closeSync(); db.closeSync(); } catch { /* exiting anyway */ }
  process.exit(0);
});
