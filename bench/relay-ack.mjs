#!/usr/bin/env node
// `node bench/relay-ack.mjs [--runs 5] [--n 1e7] [--fn noop_buffer --fn buffer_input] [--input range --input table]`
//
// A/B of the relay's early acknowledgement under stdio (runtime/transports/relay-ack.ts), on the
// same build: the ack floor over stdio, vgi-actors over stdio with the acknowledging relay,
// the same with VGI_ACTORS_RELAY_ACK=0 (the plain byte relay of before), and vgi-actors over
// launch: (one hop). Uses dist/ as built (run `npm run build` first), copied to a private
// snapshot; timed runs are interleaved across configurations like scripts/bench.mjs, which also
// explains the columns. Prints a markdown table and the 1-minute load average per run.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDuck } from './lib/duck.mjs';
import { CpuMeter, peakRssKb, resetPeak, taggedPids } from './lib/procs.mjs';
import { FLOOR_ACK, FUNCTIONS, commandLine } from './lib/matrix.mjs';
import { median } from './lib/report.mjs';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1';
const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    n: { type: 'string', default: '1e7' },
    fn: { type: 'string', multiple: true },
    input: { type: 'string', multiple: true },
  },
});
const runs = Math.max(1, Number(opts.runs));
const n = Number(opts.n);
const fns = opts.fn ?? ['noop_buffer', 'buffer_input'];
const inputs = opts.input ?? ['range', 'table'];

const snapshot = join(root, 'bench/tmp', `dist-relay-${process.pid}`);
rmSync(snapshot, { recursive: true, force: true });
cpSync(join(root, 'dist'), snapshot, { recursive: true });
process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }));
const CLI = join(snapshot, 'runtime/cli.js');

const configs = [
  { id: 'floor-ack/stdio', argv: [process.execPath, FLOOR_ACK], fns: ['noop_buffer'] },
  { id: 'actors/stdio relay-ack', argv: [process.execPath, CLI, 'serve', '--fixtures'], fns },
  { id: 'actors/stdio plain relay', argv: [process.execPath, CLI, 'serve', '--fixtures'], env: { VGI_ACTORS_RELAY_ACK: '0' }, fns },
  { id: 'actors/launch', argv: [process.execPath, CLI, 'serve', '--fixtures'], launch: true, fns },
].filter((c) => c.fns.some((f) => fns.includes(f)));

async function open(cfg) {
  const tag = `${process.pid}-${cfg.id.replace(/[^a-z0-9]+/gi, '_')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vgir-'));
  const env = { VGI_BENCH_TAG: tag, VGI_ACTORS_STATE_DIR: dir, VGI_ACTORS_HOST_IDLE_TIMEOUT: '120', NODE_OPTIONS: '', ...cfg.env };
  const duck = await openDuck(env);
  const must = async (sql) => { const r = await duck.query(sql); if (!r.ok) throw new Error(`${sql}: ${r.error}`); return r; };
  await must('SET threads = 2');
  await must('SET vgi_worker_pool_idle_limit_seconds = 300');
  const loc = cfg.launch ? `launch:${commandLine(cfg.argv)}` : commandLine(cfg.argv);
  const extra = cfg.launch ? `, launcher_state_dir '${dir}', launcher_idle_timeout 120` : '';
  await must(`ATTACH 'example' AS example (TYPE vgi, LOCATION '${loc.replace(/'/g, "''")}'${extra})`);
  return { cfg, tag, dir, duck, must };
}

const open_ = [];
for (const cfg of configs) open_.push(await open(cfg));
const rows = [];
try {
  for (const input of inputs) {
    const src = input === 'range' ? `range(${n})` : 't';
    const group = [];
    for (const c of open_) {
      if (input === 'table') await c.must(`CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM range(${n})`);
      for (const fn of c.cfg.fns.filter((f) => fns.includes(f))) {
        const warm = await c.duck.query(FUNCTIONS[fn].sql(src));
        if (!warm.ok) throw new Error(`${c.cfg.id} ${fn}: ${warm.error}`);
        const row = { config: c.cfg.id, input, fn, s: [], cpu: [], duck: [], rss: [], load: [] };
        group.push({ c, row });
        rows.push(row);
      }
    }
    for (let i = 0; i < runs; i++) {
      for (const { c, row } of group) {
        for (const pid of taggedPids(c.tag, [c.duck.pid])) resetPeak(pid);
        const meter = new CpuMeter(c.tag, [c.duck.pid]);
        meter.start();
        const r = await c.duck.query(FUNCTIONS[row.fn].sql(src));
        const cpu = meter.stop();
        if (!r.ok) throw new Error(`${c.cfg.id} ${row.fn}: ${r.error}`);
        const got = String(r.rows[0]?.[0]);
        if (got !== FUNCTIONS[row.fn].expect(n)) throw new Error(`${c.cfg.id} ${row.fn}: wrong answer ${got}`);
        row.s.push(r.ms / 1000);
        row.cpu.push(cpu);
        row.duck.push(r.cpuUser + r.cpuSys);
        row.rss.push(Math.max(0, ...taggedPids(c.tag, [c.duck.pid]).map(peakRssKb).filter((x) => x !== null)) / 1024);
        row.load.push(loadavg()[0]);
        process.stderr.write(`${input} ${c.cfg.id} ${row.fn} run ${i + 1}: ${(r.ms / 1000).toFixed(3)} s, DuckDB CPU ${(r.cpuUser + r.cpuSys).toFixed(2)} s (load ${loadavg()[0].toFixed(1)})\n`);
      }
    }
  }
} finally {
  for (const c of open_) {
    await c.duck.close();
    for (const pid of taggedPids(c.tag)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    rmSync(c.dir, { recursive: true, force: true });
  }
}

const floorOf = (r) => rows.find((x) => x.config === 'floor-ack/stdio' && x.input === r.input);
const f = (x) => x.toFixed(3);
const out = ['| config | input | function | median s | range s | worker CPU s (median) | DuckDB CPU s (median) | peak RSS MB (max) | ratio to floor-ack/stdio |', '|---|---|---|---|---|---|---|---|---|'];
for (const r of rows) {
  const fl = r.fn === 'noop_buffer' ? floorOf(r) : null;
  const ratio = fl && fl !== r ? `${(median(r.s) / median(fl.s)).toFixed(2)}×` : '';
  out.push(`| ${r.config} | ${r.input} | ${r.fn} | ${f(median(r.s))} | ${f(Math.min(...r.s))}–${f(Math.max(...r.s))} | ${median(r.cpu).toFixed(2)} | ${median(r.duck).toFixed(2)} | ${Math.max(...r.rss).toFixed(0)} | ${ratio} |`);
}
const loads = rows.flatMap((r) => r.load);
process.stdout.write(`${out.join('\n')}\n\nN = ${n}, ${runs} runs, 1-min load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}\n`);
