#!/usr/bin/env node
// group_quantiles or group_bootstrap with 1 vs 2 actor threads (issue 4: one query on every core).
//
//   node bench/group-quantiles.mjs [--fn group_quantiles|group_bootstrap] [--resamples R]
//                                  [--threads 1,2] [--runs 5] [--rows 10000000] [--groups 64]
//                                  [--type double|bigint|integer] [--blocks 1] [--quiet 0.1] [--json]
//
// Real DuckDB (@duckdb/node-api 1.5.5 + the vgi extension, SET threads=2) attaches the built
// fixture worker (dist/runtime/cli.js, so run `npx tsc -p tsconfig.json` first) once per thread
// count, each through `launch:` with its own fresh launcher_state_dir, and times
//   SELECT count(*), sum(n), sum(distinct_count) FROM <cat>.group_quantiles((SELECT x FROM t))
// (group_bootstrap: count(*), sum(n) and an order-independent hash of every output row, so runs
// with 1 and 2 threads must agree bit for bit) over a TEMP TABLE t of `rows` rows: one warm-up, then `runs` timed runs per thread count
// (`blocks` > 1 repeats the whole A,B,… sequence to expose drift). Prints medians and ranges.
// `--quiet 0.1` waits before each run until other processes use < 10% of the machine (the
// hosts' launcher_idle_timeout then grows from 3 s to 300 s so a wait never restarts a host).
//
// Also importable: `import { benchGroupQuantiles } from './bench/group-quantiles.mjs'`.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, systemCpu, waitQuiet } from './lib/procs.mjs';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/runtime/cli.js');
const EXTENSION = join(ROOT, 'node_modules/@haybarn/ext-vgi-h1-5-5-linux-x64/bin/vgi.duckdb_extension');

const TABLE_SQL = {
  // Values spread over ~1e6 distinct doubles (quarter steps) so distinct counts matter.
  double: (rows) => `CREATE TEMP TABLE t AS SELECT (floor(random() * 4000000) / 4 - 500000)::DOUBLE AS x FROM range(${rows})`,
  bigint: (rows) => `CREATE TEMP TABLE t AS SELECT (floor(random() * 2000000) - 1000000)::BIGINT AS x FROM range(${rows})`,
  integer: (rows) => `CREATE TEMP TABLE t AS SELECT (floor(random() * 2000000) - 1000000)::INTEGER AS x FROM range(${rows})`,
};

/** CPU seconds of this process plus every process whose command line mentions one of the dirs. */
function ourCpu(dirs) {
  let sec = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (Number(p) !== process.pid && !dirs.some((d) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(d))) continue;
      sec += cpuSeconds(Number(p)) ?? 0;
    } catch { /* exited */ }
  }
  return sec;
}

/** The actor hosts serving our state dirs (their --unix path is inside one). */
function hostPids(dirs) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try { if (dirs.some((d) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(d))) out.push(Number(p)); } catch { /* exited */ }
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the benchmark; returns { [threads]: { ms: number[], median, min, max } , result }. */
export async function benchGroupQuantiles({ fn = 'group_quantiles', resamples, threads = [1, 2], runs = 5, rows = 10_000_000, groups = 64, type = 'double', blocks = 1, quiet = 0, idleTimeout = quiet > 0 ? 300 : 3, log = (s) => process.stderr.write(`${s}\n`) } = {}) {
  process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1'; // LOAD segfaults without it (no network)
  const { DuckDBInstance } = require('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const conn = await db.connect();
  const dirs = [];
  try {
    await conn.run(`LOAD '${EXTENSION}'`);
    await conn.run('SET threads=2');
    await conn.run(TABLE_SQL[type](rows));
    for (const n of threads) {
      const dir = mkdtempSync(join(tmpdir(), 'vgi-gq-'));
      dirs.push(dir);
      const location = `launch:${process.execPath} ${CLI} serve --fixtures --threads ${n}`;
      await conn.run(`ATTACH 'example' AS ex${n} (TYPE vgi, LOCATION '${location}', launcher_state_dir '${dir}', launcher_idle_timeout ${idleTimeout})`);
    }
    const sql = (n) => (fn === 'group_bootstrap'
      ? `SELECT count(*)::BIGINT AS groups, sum(n)::BIGINT AS n, bit_xor(hash(g, median, ci_low, ci_high))::VARCHAR AS h FROM ex${n}.group_bootstrap((SELECT x FROM t), groups := ${groups}${resamples ? `, resamples := ${resamples}` : ''})`
      : `SELECT count(*)::BIGINT AS groups, sum(n)::BIGINT AS n, sum(distinct_count)::BIGINT AS d, sum(p50) AS p50 FROM ex${n}.group_quantiles((SELECT x FROM t), groups := ${groups})`);
    // Other processes on the machine distort timings: each run reports the share of the machine
    // (all cores) used by processes other than DuckDB (this process) and the actor hosts.
    const once = async (n) => {
      if (quiet > 0) await waitQuiet(quiet, 120_000, log);
      const s0 = systemCpu(), o0 = ourCpu(dirs);
      const t0 = performance.now();
      const r = await conn.runAndReadAll(sql(n));
      const ms = performance.now() - t0;
      const s1 = systemCpu(), o1 = ourCpu(dirs);
      const foreign = Math.max(0, (s1.busy - s0.busy) - (o1 - o0)) / Math.max(1e-9, s1.total - s0.total);
      return { ms, foreign, row: r.getRowsJson()[0] };
    };
    const out = {};
    let result = null;
    for (let b = 0; b < blocks; b++) {
      for (const n of threads) {
        const w = await once(n); // warm-up: starts the host, its threads and kernel pool
        log(`threads=${n} warm-up ${w.ms.toFixed(0)} ms`);
        if (result === null) result = w.row;
        else if (JSON.stringify(result) !== JSON.stringify(w.row)) throw new Error(`results differ: ${JSON.stringify(result)} vs ${JSON.stringify(w.row)}`);
        const rec = (out[n] ??= { ms: [], foreign: [] });
        const ms = rec.ms;
        for (let i = 0; i < runs; i++) {
          const r = await once(n);
          if (JSON.stringify(result) !== JSON.stringify(r.row)) throw new Error(`results differ: ${JSON.stringify(result)} vs ${JSON.stringify(r.row)}`);
          ms.push(r.ms);
          rec.foreign.push(Math.round(r.foreign * 100));
          log(`threads=${n} run ${i + 1}: ${r.ms.toFixed(0)} ms (other processes: ${(r.foreign * 100).toFixed(0)}% of the machine; 1-min load ${loadavg()[0].toFixed(2)})`);
        }
      }
    }
    for (const n of threads) {
      const s = out[n];
      s.median = median(s.ms);
      s.min = Math.min(...s.ms);
      s.max = Math.max(...s.ms);
    }
    return { config: { fn, resamples: resamples ?? null, rows, groups, type, runs, blocks, duckdbThreads: 2 }, result, byThreads: out };
  } finally {
    conn.closeSync?.();
    db.closeSync?.();
    // The hosts DuckDB launched for us idle out on their own; with a long idle timeout stop them.
    for (const pid of hostPids(dirs)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function parse(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], argv[i + 1]];
    const take = () => { if (!argv[i].includes('=')) i++; return v; };
    if (k === '--fn') o.fn = take();
    else if (k === '--resamples') o.resamples = Number(take());
    else if (k === '--threads') o.threads = take().split(',').map(Number);
    else if (k === '--runs') o.runs = Number(take());
    else if (k === '--rows') o.rows = Number(take());
    else if (k === '--groups') o.groups = Number(take());
    else if (k === '--type') o.type = take();
    else if (k === '--blocks') o.blocks = Number(take());
    else if (k === '--quiet') o.quiet = Number(take()); // wait for < this busy share (0..1) before each run
    else if (k === '--json') o.json = true;
  }
  return o;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = parse(process.argv.slice(2));
  const r = await benchGroupQuantiles(opts);
  if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  const ts = Object.keys(r.byThreads).map(Number);
  for (const n of ts) {
    const s = r.byThreads[n];
    process.stdout.write(`threads=${n}: median ${s.median.toFixed(0)} ms (range ${s.min.toFixed(0)}–${s.max.toFixed(0)}, ${s.ms.length} runs; other processes' load per run: ${s.foreign.join(',')}%)\n`);
  }
  if (ts.length >= 2) {
    const a = r.byThreads[ts[0]].median, b = r.byThreads[ts[1]].median;
    process.stdout.write(`speedup ${ts[0]}→${ts[1]} threads: ${(a / b).toFixed(2)}× (result ${JSON.stringify(r.result)})\n`);
  }
  process.exit(0);
}
