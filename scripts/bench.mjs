#!/usr/bin/env node
// `npm run bench [-- --quick] [--runs N] [--only <config substring>] [--n 1e7] [--fn name] [--input range|table] [--quiet 0.15] [--no-build]`
//
// Real DuckDB (@duckdb/node-api 1.5.5 + the vgi extension, protocol 2.0.0; and DuckDB 1.5.3, protocol
// 1.0.0, for the vgi-actors rows marked so) against the vgi-actors
// fixture worker and two hand-framed floor workers (bench/floor-*.mjs), over launch: and stdio.
// One long-lived DuckDB process per configuration (ATTACH once), all open for the whole run; per
// row one warm-up and --runs timed runs (median and range), interleaved across configurations so
// that the load of a shared machine hits floors and vgi-actors alike. Progress on stderr, a
// markdown table on stdout, JSON in bench/results/<timestamp>.json.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDuck } from '../bench/lib/duck.mjs';
import { CpuMeter, peakRssKb, resetPeak, systemCpu, taggedPids, waitQuiet } from '../bench/lib/procs.mjs';
import { FUNCTIONS, commandLine, configurations } from '../bench/lib/matrix.mjs';
import { addRatios, speedupLines, summarize, table } from '../bench/lib/report.mjs';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1'; // LOAD vgi segfaults without it (no network here)
const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string', multiple: true },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    n: { type: 'string', multiple: true },
    fn: { type: 'string', multiple: true },
    input: { type: 'string', multiple: true },
    // Wait before each timed run until the machine is less than this share (0..1) busy (≤ 2 min).
    quiet: { type: 'string' },
  },
});
const runs = Math.max(3, Number(opts.runs ?? 3));
const quiet = Number(opts.quiet ?? 0);

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
// Narrowing for quick experiments: --n 1e7, --fn buffer_input, --input range.
if (opts.n) configs = configs.map((c) => ({ ...c, ns: c.ns.filter((n) => opts.n.map(Number).includes(n)) }));
if (opts.fn) configs = configs.map((c) => ({ ...c, fns: c.fns.filter((f) => opts.fn.includes(f)) }));
if (opts.input) configs = configs.map((c) => ({ ...c, inputs: c.inputs.filter((i) => opts.input.includes(i)) }));
configs = configs.filter((c) => c.ns.length && c.fns.length && c.inputs.length);
const rows = [];
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;

/** One configuration: its own DuckDB process (ATTACHed once) and worker processes, found by tag. */
async function openConfig(cfg) {
  const tag = `${process.pid}-${cfg.id.replace(/[^a-z0-9]+/gi, '_')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vgib-')); // short: the socket path must fit in 107 bytes
  // Idle timeouts outlast the other configurations' turns (runs are interleaved), so no worker
  // restarts between two runs of a row; the bench stops every worker itself at the end.
  const env = { VGI_BENCH_TAG: tag, VGI_ACTORS_STATE_DIR: dir, VGI_ACTORS_HOST_IDLE_TIMEOUT: '120', NODE_OPTIONS: '', VGI_BENCH_DUCK: cfg.duck ?? 'v2' };
  const duck = await openDuck(env);
  const c = { cfg, tag, dir, duck, exclude: [duck.pid], failed: null };
  const must = async (sql) => { const r = await duck.query(sql); if (!r.ok) throw new Error(`${sql}: ${r.error}`); return r; };
  c.must = must;
  try {
    await must('SET threads = 2');
    if (cfg.argv) {
      await must('SET vgi_worker_pool_idle_limit_seconds = 300'); // pooled stdio workers survive the other turns
      const loc = cfg.transport === 'launch' ? `launch:${commandLine(cfg.argv)}` : commandLine(cfg.argv);
      const extra = cfg.transport === 'launch' ? `, launcher_state_dir '${dir}', launcher_idle_timeout 120` : '';
      await must(`ATTACH 'example' AS example (TYPE vgi, LOCATION '${loc.replace(/'/g, "''")}'${extra})`);
    }
  } catch (e) {
    c.failed = e.message;
  }
  return c;
}

async function closeConfig(c) {
  await c.duck.close();
  await sleep(200);
  for (const pid of taggedPids(c.tag)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  rmSync(c.dir, { recursive: true, force: true });
}

/** One timed run of a row; false (and the row marked failed) on an error or a wrong answer. */
async function timedRun(c, row, src) {
  const fn = FUNCTIONS[row.fn];
  const pids = taggedPids(c.tag, c.exclude);
  for (const pid of pids) resetPeak(pid); // peak RSS of this run only
  if (quiet > 0) await waitQuiet(quiet, 120_000, progress);
  const meter = new CpuMeter(c.tag, c.exclude);
  const sys0 = systemCpu();
  meter.start();
  const r = await c.duck.query(fn.sql(src));
  const workerCpu = meter.stop();
  const sys1 = systemCpu();
  if (!r.ok) { row.error = r.error; return false; }
  // Share of the machine other processes used during the run: what the load average cannot say.
  const other = Math.max(0, (sys1.busy - sys0.busy) - workerCpu - (r.cpuUser + r.cpuSys)) / Math.max(1e-9, sys1.total - sys0.total);
  const got = String(r.rows[0]?.[0]);
  if (got !== fn.expect(row.n)) { row.error = `wrong answer ${got}, expected ${fn.expect(row.n)}`; return false; }
  const peaks = taggedPids(c.tag, c.exclude).map(peakRssKb).filter((x) => x !== null);
  const peak = peaks.length ? Math.max(...peaks) : null;
  row.runs.push({ s: r.ms / 1000, duckCpu: r.cpuUser + r.cpuSys, workerCpu, peakRssKb: peak, load: loadavg()[0], other });
  if (peak !== null) row.peakRssKb = Math.max(row.peakRssKb ?? 0, peak);
  return true;
}

// Every configuration stays open for the whole run, and the timed runs of one input size are
// interleaved across configurations (floor, vgi-actors, reference, …, then again): on a shared
// machine, load that comes and goes then hits every row alike instead of whichever ran at the time.
const open = [];
for (const cfg of configs) { progress(`[${elapsed()}] starting ${cfg.id}`); open.push(await openConfig(cfg)); }
for (const c of open) if (c.failed) rows.push({ config: c.cfg.id, worker: c.cfg.worker, transport: c.cfg.transport, input: '-', n: 0, fn: '-', runs: [], error: c.failed });
const inputs = [...new Set(configs.flatMap((c) => c.inputs))];
const ns = [...new Set(configs.flatMap((c) => c.ns))].sort((a, b) => a - b);
try {
  for (const input of inputs) {
    for (const n of ns) {
      const here = open.filter((c) => !c.failed && c.cfg.inputs.includes(input) && c.cfg.ns.includes(n));
      if (here.length === 0) continue;
      const src = input === 'range' ? `range(${n})` : 't';
      const group = [];
      for (const c of here) {
        if (input === 'table') await c.must(`CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM range(${n})`);
        for (const fn of c.cfg.fns) {
          const row = { config: c.cfg.id, worker: c.cfg.worker, transport: c.cfg.transport, input, n, fn, runs: [], load: loadavg()[0] };
          progress(`[${elapsed()}] ${input} ${n}: warm-up ${c.cfg.id} ${fn}`);
          const warm = await c.duck.query(FUNCTIONS[fn].sql(src));
          if (!warm.ok) row.error = warm.error;
          group.push({ c, row });
          rows.push(row);
        }
      }
      for (let i = 0; i < runs; i++) {
        for (const { c, row } of group) {
          if (row.error) continue;
          progress(`[${elapsed()}] ${input} ${n}: run ${i + 1}/${runs} ${c.cfg.id} ${row.fn}`);
          await timedRun(c, row, src);
        }
      }
      for (const { row } of group) if (!row.error) summarize(row);
    }
  }
} finally {
  for (const c of open) await closeConfig(c);
}
// Table order: configuration (matrix order), then input, N and function.
const order = (r) => [configs.findIndex((c) => c.id === r.config), inputs.indexOf(r.input), r.n, configs.find((c) => c.id === r.config)?.fns.indexOf(r.fn) ?? 0];
rows.sort((a, b) => { const x = order(a), y = order(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; });
progress(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
addRatios(rows);

const result = {
  startedAt: new Date(t0).toISOString(),
  machine: { cpus: availableParallelism(), node: process.version, kernel: release() },
  options: { quick: opts.quick, runs, only: opts.only ?? null, quiet },
  rows,
};
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
const file = opts.out ?? join(outDir, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
const loads = rows.map((r) => r.load).filter((x) => x !== undefined);
const loadNote = loads.length ? `1-min load average during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (${availableParallelism()} cores)` : '';
const speed = speedupLines(rows);
process.stdout.write(`${table(rows)}\n\n${speed.length ? `${speed.join('\n')}\n` : ''}${loadNote}\nJSON: ${file}\n`);
