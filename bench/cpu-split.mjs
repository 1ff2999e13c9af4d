#!/usr/bin/env node
// `node bench/cpu-split.mjs [--worker actors|floor] [--transport stdio|launch] [--input table|range] [--runs 5] [--n 1e7] [--node-arg=--cpu-prof …]`
//
// Where the CPU of one `noop_buffer` query over a TEMP TABLE (two DuckDB sink threads; `--input range`: one) goes, per
// process: DuckDB, the stdio relays (or the floor's processes), the actor host, and the host's
// threads (main, then the others by tid: the actor thread is usually the busiest). Reads
// /proc/<pid>/stat around each query. Uses dist/ as built, copied to a private snapshot.
// docs/performance.md §9.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDuck } from './lib/duck.mjs';
import { cpuSeconds, taggedPids } from './lib/procs.mjs';
import { FLOOR_ACK, commandLine } from './lib/matrix.mjs';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1';
const { values: opts } = parseArgs({
  options: {
    worker: { type: 'string', default: 'actors' },
    transport: { type: 'string', default: 'stdio' },
    runs: { type: 'string', default: '5' },
    n: { type: 'string', default: '1e7' },
    input: { type: 'string', default: 'table' },
    // Node flags for the worker command DuckDB runs (the stdio relays, or the launch: worker).
    'node-arg': { type: 'string', multiple: true, default: [] },
  },
});
const root = fileURLToPath(new URL('../', import.meta.url));
const snap = mkdtempSync(join(root, 'bench/tmp/split-'));
cpSync(join(root, 'dist'), snap, { recursive: true });
const tag = `split${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'vgis-'));
const launch = opts.transport === 'launch';

/** CPU seconds per thread of `pid`. */
function threadCpu(pid) {
  const m = new Map();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      m.set(Number(t), (Number(x[11]) + Number(x[12])) / 100);
    }
  } catch { /* gone */ }
  return m;
}

/** 'host' (serves a socket: the actor host, or under launch: the worker), 'relay', or 'other'. */
function kind(pid) {
  try {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    if (c.includes('--unix') || (launch && (c.includes('cli.js') || c.includes('floor')))) return 'host';
    return c.includes('cli.js') || c.includes('floor') ? 'relay' : 'other';
  } catch { return 'gone'; }
}

const duck = await openDuck({ VGI_BENCH_TAG: tag, VGI_ACTORS_STATE_DIR: dir, VGI_ACTORS_HOST_IDLE_TIMEOUT: '120', NODE_OPTIONS: '' });
try {
  const must = async (sql) => { const r = await duck.query(sql); if (!r.ok) throw new Error(`${sql}: ${r.error}`); return r; };
  await must('SET threads = 2');
  await must('SET vgi_worker_pool_idle_limit_seconds = 300');
  const argv = [process.execPath, ...opts['node-arg'], ...(opts.worker === 'floor' ? [FLOOR_ACK] : [join(snap, 'runtime/cli.js'), 'serve', '--fixtures'])];
  await must(launch
    ? `ATTACH 'example' AS example (TYPE vgi, LOCATION 'launch:${commandLine(argv)}', launcher_state_dir '${dir}', launcher_idle_timeout 120)`
    : `ATTACH 'example' AS example (TYPE vgi, LOCATION '${commandLine(argv)}')`);
  await must(`CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM range(${Number(opts.n)})`);
  const sql = `SELECT count(*) FROM example.noop_buffer((SELECT * FROM ${opts.input === 'range' ? `range(${Number(opts.n)})` : 't'}))`;
  await must(sql); // warm-up: starts relays and host
  for (let i = 0; i < Number(opts.runs); i++) {
    const pids = taggedPids(tag, [duck.pid]);
    // The process with the most threads serves (a launch: host may wait as the parent of another).
    const host = pids.filter((p) => kind(p) === 'host').sort((a, b) => threadCpu(b).size - threadCpu(a).size)[0];
    const h0 = host ? threadCpu(host) : new Map();
    const c0 = new Map(pids.map((p) => [p, cpuSeconds(p) ?? 0]));
    const d0 = cpuSeconds(duck.pid);
    const t0 = performance.now();
    await must(sql);
    const s = (performance.now() - t0) / 1000;
    const by = {};
    for (const p of taggedPids(tag, [duck.pid])) by[kind(p)] = (by[kind(p)] ?? 0) + ((cpuSeconds(p) ?? 0) - (c0.get(p) ?? 0));
    let threads = '';
    if (host) {
      const d = [...threadCpu(host)].map(([t, v]) => [t, v - (h0.get(t) ?? 0)]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
      threads = ` | host threads: ${d.map(([t, v]) => `${t === host ? 'main' : t} ${v.toFixed(2)}`).join(', ')}`;
    }
    console.log(`${opts.worker}/${opts.transport} ${s.toFixed(3)} s | CPU s: DuckDB ${(cpuSeconds(duck.pid) - d0).toFixed(2)}, ${Object.entries(by).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}${threads}`);
  }
} finally {
  await duck.close();
  for (const p of taggedPids(tag)) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  rmSync(snap, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
