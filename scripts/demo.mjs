#!/usr/bin/env node
// `npm run demo`: an embedded DuckDB attaches the vgi-actors fixture worker over `launch:`,
// runs a few table-buffering queries, prints them, and cleans up after itself.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The vgi extension tries to install httpfs for telemetry at LOAD and crashes without network.
process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1';
const { DuckDBInstance } = await import('@duckdb/node-api');

const require = createRequire(import.meta.url);
const extension = join(dirname(require.resolve('@haybarn/ext-vgi-h1-5-5-linux-x64/package.json')), 'bin', 'vgi.duckdb_extension');
const cli = fileURLToPath(new URL('../dist/runtime/cli.js', import.meta.url));
// A private launcher state dir: this demo never reuses (or leaves behind) someone else's worker.
const stateDir = mkdtempSync(join(tmpdir(), 'vgi-demo-'));

const queries = [
  ['buffer_input keeps rows exactly (NULLs, strings, decimals)',
    `SELECT * FROM example.buffer_input((SELECT * FROM (VALUES (1, 'one', 1.50::DECIMAL(5,2)), (2, NULL, 2.25), (3, 'three', NULL)) t(id, name, price)))`],
  ['1,000,000 rows buffered by an actor, counted by DuckDB',
    `SELECT count(*) AS rows, sum(range) AS total FROM example.buffer_input((SELECT * FROM range(1000000)))`],
  ['sum_all_columns: an aggregation across all chunks',
    `SELECT * FROM example.sum_all_columns((SELECT range AS a, range * 2 AS b, 'text' AS ignored FROM range(1, 100001)))`],
  ['echo_buffering: projection and filter pushed down to the worker',
    `SELECT id FROM example.echo_buffering((SELECT range AS id, range % 7 AS k FROM range(50))) WHERE k = 3 ORDER BY id`],
  ['ordered_source: 16 finalize streams, drained in order',
    `SELECT list(v) AS streams FROM example.ordered_source((SELECT 1))`],
];

function show(rows, columns) {
  const text = (v) => (v === null ? 'NULL' : typeof v === 'bigint' ? v.toString() : Array.isArray(v) ? `[${v.map(text).join(', ')}]` : String(v));
  const cells = rows.map((r) => r.map(text));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r) => '  ' + r.map((v, i) => v.padEnd(widths[i])).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of cells) console.log(line(r));
}

function stopWorkers() {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(stateDir)) process.kill(Number(p), 'SIGTERM'); } catch { /* gone */ }
  }
}

const db = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
const conn = await db.connect();
try {
  await conn.run(`LOAD '${extension}'`);
  await conn.run(`ATTACH 'example' AS example (TYPE vgi, LOCATION 'launch:${process.execPath} ${cli} serve --fixtures', launcher_state_dir '${stateDir}', launcher_idle_timeout 2)`);
  console.log(`vgi-actors demo: DuckDB ${(await conn.runAndReadAll('SELECT version()')).getRows()[0][0]} attached the fixture worker over launch:\n`);
  for (const [title, sql] of queries) {
    const t0 = performance.now();
    const r = await conn.runAndReadAll(sql);
    console.log(`${title}  (${(performance.now() - t0).toFixed(0)} ms)`);
    show(r.getRows(), r.columnNames());
    console.log();
  }
} finally {
  conn.closeSync?.();
  db.closeSync?.();
  stopWorkers();
  rmSync(stateDir, { recursive: true, force: true });
}
