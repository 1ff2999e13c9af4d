#!/usr/bin/env node
// `npm run bench [-- --quick] [--runs N] [--only <config substring>] [--no-build]`
//
// Real DuckDB (@duckdb/node-api 1.5.5 + the vgi extension, protocol 2.0.0) against the vgi-actors
// fixture worker and two hand-framed floor workers (bench/floor-*.mjs), over launch: and stdio.
// One long-lived DuckDB process per configuration: ATTACH once, then per row one warm-up and
// --runs timed runs (median and range). Progress on stderr, a markdown table on stdout, JSON in
// bench/results/<timestamp>.json.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDuck } from '../bench/lib/duck.mjs';
import { CpuMeter, peakRssKb, resetPeak, taggedPids } from '../bench/lib/procs.mjs';
import { FUNCTIONS, commandLine, configurations } from '../bench/lib/matrix.mjs';
import { addRatios, summarize, table } from '../bench/lib/report.mjs';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1'; // LOAD vgi segfaults without it (no network here)
const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string', multiple: true },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const runs = Math.max(3, Number(opts.runs ?? 3));

if (!opts['no-build']) {
  const b = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (b.status !== 0) { process.stderr.write('bench: build failed\n'); process.exit(1); }
}

// Run a private copy of the build: a rebuild of dist/ during the bench (another `npm test`) would
// otherwise change the stdio host's identity mid-query and split an execution over two hosts.
const snapshot = join(root, 'bench/tmp', `dist-${process.pid}`);
rmSync(snapshot, { recursive: true, force: true });
cpSync(join(root, 'dist'), snapshot, { recursive: true });
process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }));

const tty = process.stderr.isTTY;
const progress = (s) => process.stderr.write(tty ? `\r\x1b[K${s}` : `${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let configs = configurations({ quick: opts.quick, cli: join(snapshot, 'runtime/cli.js') });
if (opts.only) configs = configs.filter((c) => opts.only.some((o) => c.id.includes(o)));
const total = configs.reduce((a, c) => a + c.inputs.length * c.ns.length * c.fns.length, 0);
let done = 0;
const rows = [];
const t0 = Date.now();

async function runConfig(cfg) {
  const tag = `${process.pid}-${cfg.id.replace(/[^a-z0-9]+/gi, '_')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vgib-')); // short: the socket path must fit in 107 bytes
  const env = { VGI_BENCH_TAG: tag, VGI_ACTORS_STATE_DIR: dir, VGI_ACTORS_HOST_IDLE_TIMEOUT: '5', NODE_OPTIONS: '' };
  const duck = await openDuck(env);
  const exclude = [duck.pid];
  const fail = (r, e) => { r.error = e; rows.push(r); };
  try {
    const must = async (sql) => { const r = await duck.query(sql); if (!r.ok) throw new Error(`${sql}: ${r.error}`); return r; };
    await must('SET threads = 2');
    if (cfg.argv) {
      const loc = cfg.transport === 'launch' ? `launch:${commandLine(cfg.argv)}` : commandLine(cfg.argv);
      const extra = cfg.transport === 'launch' ? `, launcher_state_dir '${dir}', launcher_idle_timeout 5` : '';
      await must(`ATTACH 'example' AS example (TYPE vgi, LOCATION '${loc.replace(/'/g, "''")}'${extra})`);
    }
    for (const input of cfg.inputs) {
      for (const n of cfg.ns) {
        const src = input === 'range' ? `range(${n})` : 't';
        if (input === 'table') await must(`CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM range(${n})`);
        for (const fnName of cfg.fns) {
          const fn = FUNCTIONS[fnName];
          const row = { config: cfg.id, worker: cfg.worker, transport: cfg.transport, input, n, fn: fnName, runs: [] };
          done++;
          const label = `[${done}/${total} ${((Date.now() - t0) / 1000).toFixed(0)}s] ${cfg.id} ${input} ${n} ${fnName}`;
          progress(`${label} warm-up`);
          const warm = await duck.query(fn.sql(src));
          if (!warm.ok) { fail(row, warm.error); continue; }
          const pids = () => taggedPids(tag, exclude);
          for (const pid of pids()) resetPeak(pid);
          let bad = null;
          for (let i = 0; i < runs; i++) {
            progress(`${label} run ${i + 1}/${runs}`);
            const meter = new CpuMeter(tag, exclude);
            meter.start();
            const r = await duck.query(fn.sql(src));
            const workerCpu = meter.stop();
            if (!r.ok) { bad = r.error; break; }
            const got = String(r.rows[0]?.[0]);
            if (got !== fn.expect(n)) { bad = `wrong answer ${got}, expected ${fn.expect(n)}`; break; }
            row.runs.push({ s: r.ms / 1000, duckCpu: r.cpuUser + r.cpuSys, workerCpu });
          }
          if (bad) { fail(row, bad); continue; }
          const peaks = pids().map(peakRssKb).filter((x) => x !== null);
          row.peakRssKb = peaks.length ? Math.max(...peaks) : null;
          rows.push(summarize(row));
        }
      }
    }
  } catch (e) {
    rows.push({ config: cfg.id, worker: cfg.worker, transport: cfg.transport, input: '-', n: 0, fn: '-', runs: [], error: e.message });
  } finally {
    await duck.close();
    await sleep(200);
    for (const pid of taggedPids(tag)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const cfg of configs) await runConfig(cfg);
progress(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
addRatios(rows);

const result = {
  startedAt: new Date(t0).toISOString(),
  machine: { cpus: availableParallelism(), node: process.version, kernel: release() },
  options: { quick: opts.quick, runs, only: opts.only ?? null },
  rows,
};
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
const file = opts.out ?? join(outDir, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${table(rows)}\n\nJSON: ${file}\n`);
