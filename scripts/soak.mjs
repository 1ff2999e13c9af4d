#!/usr/bin/env node
// `npm run soak`: the long differential run and a soak of the fixture worker on real DuckDB.
//
//   1. differential: ≥ 1,000 random buffering queries (test/helpers/random-sql.ts) over both DuckDB
//      flavours × stdio/launch:, each compared with DuckDB's own answer (0 differences allowed);
//   2. soak: 1,000 queries on ONE launch: worker (v2) — random differential cases mixed with queries
//      that fail on purpose (exception_process, crash_on_combine, exception_finalize, crash_on_process),
//      early LIMITs and large_state — sampling the worker host's memory (VmRSS, RssAnon, where the
//      anonymous memory lies in /proc/<pid>/smaps, and the host's own figures through
//      VGI_ACTORS_METRICS_FILE + SIGUSR2: each isolate's heap), at the end and again after --idle s;
//   3. in-process: the same mix against `createRuntime` (dist/runtime/runtime.js) listening on a unix
//      socket, attached by a v2 and a v1 DuckDB at once (each DuckDB is a child process: this
//      process holds the runtime, not DuckDB); at the end `rt.metrics()` must show
//      liveExecutions = 0 and bufferedBytes = 0 (an execution leaked by a failed query is a finding).
//
// Exits non-zero on any difference, any unexpected error, or live executions / buffered bytes left.
//
//   --no-build            do not run tsc first
//   --diff N              differential queries in phase 1 (default 1000; 0 skips the phase)
//   --soak N              queries in phase 2 (default 1000)
//   --inproc N            queries in phase 3 (default 1000, split over the two DuckDBs)
//   --idle SEC            idle wait after phases 2 and 3 before memory is measured again (default 25)
//   VGI_DIFF_SEED=<n>     replay a run (printed at the start)
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1'; // LOAD vgi segfaults without it on machines without network
process.env.TS_NODE_TRANSPILE_ONLY = '1'; // the test helpers are TypeScript: load them without type checking
const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer`);
  return n;
};
const DIFF_N = opt('diff', 1000);
const SOAK_N = opt('soak', 1000);
const INPROC_N = opt('inproc', 1000);
const IDLE_S = opt('idle', 25);

if (!argv.includes('--no-build')) {
  const b = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (b.status !== 0) {
    console.log('soak: build failed');
    process.exit(1);
  }
}

// Phase 3 embeds the runtime in this process: set it up as the README tells embedders to (glibc's
// fixed malloc thresholds, runtime/malloc.ts), by running this script again with them.
{
  const { hostMallocEnv } = await import('../dist/runtime/malloc.js');
  const add = hostMallocEnv();
  if (add) {
    const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1), '--no-build'], { stdio: 'inherit', env: { ...process.env, ...add } });
    process.exit(again.status ?? 1);
  }
}

await import('@tapjs/typescript/import'); // ts-node's ESM loader, as tap uses it
const { openDuck, freshStateDir, FLAVOURS, DuckQueryError, DuckCrashError } = await import('../test/helpers/duckdb.ts');
const { attachWorker, workerPids, hostPids, CLI, TRANSPORTS } = await import('../test/helpers/worker.ts');
const { launchAttach, nodeCommand, unixAttach } = await import('../test/helpers/locations.ts');
const { runSeries, runCase, runSeedFromEnv } = await import('../test/helpers/differential.ts');
const { makeCase, Rng, mixSeed } = await import('../test/helpers/random-sql.ts');
const { createRuntime } = await import('../dist/runtime/runtime.js');

const seed = runSeedFromEnv();
const t0 = Date.now();
const log = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${s}`);
const mib = (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(1)} MiB`);
const problems = []; // reasons to exit non-zero
const details = []; // failure messages, printed as they happen and again before the summary
const detail = { push: (m) => { details.push(m); console.log(`\n${m.length > 3000 ? m.slice(0, 3000) + '…' : m}\n`); } };

log(`soak: VGI_DIFF_SEED=${seed}; differential ${DIFF_N}, soak ${SOAK_N}, in-process ${INPROC_N} queries`);

/** VmRSS in kB of a process, or null if it is gone. */
function rssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** /proc/<pid>/status figures in kB (VmRSS, RssAnon, RssFile) and the OS thread count, or null. */
function procStatus(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(st.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), threads: kb('Threads') };
  } catch {
    return null;
  }
}

/**
 * Where a process's anonymous resident memory lies (kB), from /proc/<pid>/smaps:
 * - brk: the main glibc arena ([heap]);
 * - arenas: glibc's per-thread malloc arenas (64 MiB-aligned anonymous reservations of 64 MiB,
 *   a read-write part followed by a PROT_NONE rest): malloc'd memory of threads other than main,
 *   e.g. ArrayBuffer backing stores allocated there;
 * - other: every other anonymous mapping (V8's heap pages, large mmap'd allocations, stacks).
 */
function smapsBreakdown(pid) {
  let text;
  try { text = readFileSync(`/proc/${pid}/smaps`, 'utf8'); } catch { return null; }
  const maps = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const h = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$/);
    if (h) {
      cur = { start: BigInt(`0x${h[1]}`), end: BigInt(`0x${h[2]}`), perms: h[3], inode: h[4], name: h[5], rss: 0 };
      maps.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rss = Number(line.match(/(\d+)/)[1]);
  }
  const ARENA = 64n << 20n;
  const out = { brk: 0, arenas: 0, arenaCount: 0, other: 0 };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.inode !== '0' || (m.name && m.name !== '[heap]')) continue; // file-backed, stack, vdso…
    if (m.name === '[heap]') { out.brk += m.rss; continue; }
    const next = maps[i + 1];
    const whole = m.start % ARENA === 0n && m.perms.startsWith('rw') &&
      ((m.end - m.start === ARENA) || (next && next.start === m.end && next.perms === '---p' && next.end - m.start === ARENA));
    if (whole) { out.arenas += m.rss; out.arenaCount++; } else out.other += m.rss;
  }
  return out;
}

/**
 * Attaching starts the worker from dist/, which other work may be rebuilding right now: retry a few
 * times before giving up on this phase (recorded as a problem).
 */
async function attachWithRetry(attach, label) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attach();
    } catch (e) {
      const msg = String(e?.message ?? e).split('\n')[0];
      if (attempt >= 4) {
        problems.push(`${label}: could not attach the worker: ${msg}`);
        return null;
      }
      log(`  ${label}: attach failed (${msg}); retrying in 30 s`);
      await new Promise((r) => setTimeout(r, 30_000));
    }
  }
}

const rebuilt = []; // differential outcomes set aside because dist/ was rebuilt during them (distRebuildWatcher)

// ---------------------------------------------------------------- 1. differential
const diff = { run: 0, equal: 0, refused: 0, nativeBugs: 0, known: 0, failures: 0, ms: 0, per: [] };
if (DIFF_N > 0) {
  const combos = FLAVOURS.flatMap((flavour) => TRANSPORTS.map((transport) => ({ flavour, transport })));
  const per = Math.ceil(DIFF_N / combos.length);
  for (let ci = 0; ci < combos.length; ci++) {
    const { flavour, transport } = combos[ci];
    const label = `${flavour}/${transport}`;
    log(`differential ${label}: ${per} queries`);
    const w = await attachWithRetry(() => attachWorker(flavour, transport), label);
    if (!w) continue;
    try {
      const s = await runSeries(w.duck, {
        runSeed: seed, comboIndex: ci, count: per, label, flavour,
        caseOptions: { bigWeight: 2 },
        transport,
        onCase: (r, i, setAside) => {
          if (setAside) {
            rebuilt.push(r);
            detail.push(`(set aside: dist/ was rebuilt during this stdio case)\n${r.message}`);
          } else if (!r.ok) detail.push(r.message);
          if ((i + 1) % 50 === 0) log(`  ${label}: ${i + 1}/${per}`);
        },
      });
      const failures = s.failures;
      diff.run += s.run; diff.equal += s.equal; diff.refused += s.refused; diff.nativeBugs += s.nativeBugs; diff.known += s.known.length; diff.failures += failures.length; diff.ms += s.ms;
      diff.per.push(`${label} ${s.run} (${(s.ms / 1000).toFixed(0)} s)`);
      log(`  ${label}: ${s.equal} equal, ${s.refused} refused as documented, ${s.nativeBugs} where DuckDB's own answer is wrong (NATIVE_BUGS), ${s.known.length} from open issues, ${failures.length} differences${s.setAside.length ? ` (+${s.setAside.length} set aside: dist/ rebuilt mid-query)` : ''}`);
    } finally {
      await w.close();
    }
  }
  if (diff.failures > 0) problems.push(`${diff.failures} differential differences`);
  if (diff.known > 0) problems.push(`${diff.known} differential differences from open issues (see their messages)`);
}

// ---------------------------------------------------------------- the soak mix
const BIG = 20_000; // > 2 vectors: exception_process fails on its 2nd process call
const EXPECTED = {
  exception_process: /Intentional exception on batch \d+/,
  crash_on_combine: /Intentional exception during combine\(\)/,
  exception_finalize: /Intentional exception during finalize\(\)/,
  crash_on_process: /actor thread|EOF|died|exit/i,
};

// crash_on_process ends an actor thread: in the in-process phase two DuckDBs share the threads, so
// an execution of the *other* lane on that thread fails too ("actor thread N died"). That is the
// documented behaviour (docs/design.md §1), counted as expected collateral while a crash is recent.
const crashes = { inFlight: 0, lastEnd: 0 };
const crashCollateral = (st, msg) => st.concurrent && /actor thread \d+ died/.test(msg) && (crashes.inFlight > 0 || Date.now() - crashes.lastEnd < 5000);

/**
 * One soak query on `duck` (connection 0), chosen by `r`. Updates `st`:
 * queries, differences, expected (per function), unexpected.
 */
async function soakQuery(duck, r, st, label, flavour) {
  st.queries++;
  const kind = r.weighted([
    [45, 'diff'], [10, 'exception_process'], [8, 'crash_on_combine'], [5, 'exception_finalize'], [1, 'crash_on_process'],
    [12, 'limit'], [10, 'sum'], [8, 'echo'], [1, 'large_state'],
  ]);
  const bad = (msg) => {
    if (crashCollateral(st, msg)) {
      st.expected['collateral of crash_on_process'] = (st.expected['collateral of crash_on_process'] ?? 0) + 1;
      return;
    }
    st.unexpected++;
    detail.push(`${label} #${st.queries} (${kind}): ${msg}`);
  };
  if (kind === 'diff') {
    const c = makeCase(mixSeed(seed, 0x50a4, st.queries, label.length), { bigWeight: 0.3, tableName: 'soak_t' });
    const o = await runCase(duck, c, { label: `VGI_DIFF_SEED=${seed} ${label} soak #${st.queries}`, flavour });
    if (o.kind === 'equal' || o.kind === 'refused') return;
    if (o.kind === 'native-bug') { st.expected["DuckDB's own answer wrong (NATIVE_BUGS)"] = (st.expected["DuckDB's own answer wrong (NATIVE_BUGS)"] ?? 0) + 1; return; }
    if (o.kind === 'worker-error' && crashCollateral(st, o.message)) {
      st.expected['collateral of crash_on_process'] = (st.expected['collateral of crash_on_process'] ?? 0) + 1;
      return;
    }
    st.differences++; // open issues (kind 'known') count too: the soak stays red until they are fixed
    detail.push(o.message);
    return;
  }
  if (kind in EXPECTED) {
    const n = kind === 'exception_process' ? BIG + r.int(BIG) : r.range(1, 5000);
    const sql = `SELECT * FROM example.${kind}((SELECT range AS v, range % 7 AS k FROM range(${n})))`;
    if (kind === 'crash_on_process') crashes.inFlight++;
    try {
      await duck.query(sql, { timeoutMs: 60_000 });
      bad(`expected an error, the query passed: ${sql}`);
    } catch (e) {
      if (e instanceof DuckQueryError && EXPECTED[kind].test(e.message)) st.expected[kind] = (st.expected[kind] ?? 0) + 1;
      else bad(`${e.name}: ${String(e.message).slice(0, 500)} — ${sql}`);
    } finally {
      if (kind === 'crash_on_process') { crashes.inFlight--; crashes.lastEnd = Date.now(); }
    }
    return;
  }
  try {
    if (kind === 'limit') {
      // LIMIT without ORDER BY: DuckDB stops reading the finalize stream early.
      const n = r.pick([5000, 50_000, 200_000]);
      const k = r.pick([1, 7, 2048, 3000]);
      // (DuckDB 1.5.3 segfaults on a batch-index buffering function fed by range(), before any worker
      // call: an extension bug, not the worker's, so v1 leaves batch_index_buffer_input out here.)
      const fn = r.pick(['buffer_input', 'echo_buffering', 'ordered_buffer_input', ...(flavour === 'v1' ? [] : ['batch_index_buffer_input'])]);
      const res = await duck.query(`SELECT v, s FROM example.${fn}((SELECT range AS v, 'x' || range AS s FROM range(${n}))) LIMIT ${k}`);
      const ok = res.rows.length === Math.min(n, k) && res.rows.every(([v, s]) => s === `x${v}`);
      if (!ok) bad(`LIMIT ${k} over ${fn} of ${n} rows returned ${res.rows.length} rows (first ${JSON.stringify(res.rows[0])})`);
    } else if (kind === 'sum') {
      const n = r.pick([1, 2047, 2049, 100_000, 300_000]);
      const res = await duck.query(`SELECT * FROM example.sum_all_columns((SELECT range AS v, (range % 3)::DOUBLE AS d FROM range(${n})))`);
      const want = [[String((BigInt(n) * BigInt(n - 1)) / 2n), Array.from({ length: n }, (_, i) => i % 3).reduce((a, b) => a + b, 0)]];
      if (JSON.stringify(res.rows) !== JSON.stringify(want)) bad(`sum_all_columns over ${n} rows: ${JSON.stringify(res.rows)} ≠ ${JSON.stringify(want)}`);
    } else if (kind === 'echo') {
      const n = r.pick([3000, 40_000, 120_000]);
      const m = r.range(2, 50);
      const res = await duck.query(`SELECT count(*), sum(v) FROM example.echo_buffering((SELECT range AS v, range % ${m} AS k, 'k' || (range % ${m}) AS s FROM range(${n}))) WHERE k = 1 AND s LIKE 'k1%'`);
      let c = 0n, s = 0n;
      for (let v = 1; v < n; v += m) { c++; s += BigInt(v); }
      const want = [[String(c), c === 0n ? null : String(s)]];
      if (JSON.stringify(res.rows) !== JSON.stringify(want)) bad(`echo filter k = 1 (mod ${m}) over ${n} rows: ${JSON.stringify(res.rows)} ≠ ${JSON.stringify(want)}`);
    } else if (kind === 'large_state') {
      const res = await duck.query(`SELECT * FROM example.large_state((SELECT range AS v FROM range(100000)))`);
      if (!(res.rows.length === 1 && Number(res.rows[0][0]) >= 32 * 1024 * 1024)) bad(`large_state returned ${JSON.stringify(res.rows)}`);
    }
  } catch (e) {
    bad(`${e.name}: ${String(e.message).slice(0, 500)}`);
    if (e instanceof DuckCrashError) throw e;
  }
}

const newStats = () => ({ queries: 0, differences: 0, unexpected: 0, expected: {} });
const expectedTotal = (st) => Object.values(st.expected).reduce((a, b) => a + b, 0);
const expectedText = (st) => Object.entries(st.expected).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

// ---------------------------------------------------------------- 2. soak on one launch: worker
const soak = newStats();
const rss = { start: null, end: null, max: 0, pids: new Set(), parent: null };
const mem = { start: null, end: null, idle: null }; // memProbe() of the worker host
let soakMs = 0;
const MiB = (b) => (b === undefined || b === null || Number.isNaN(b) ? 'n/a' : `${(b / 2 ** 20).toFixed(1)}`);

/**
 * The host's memory: /proc status and smaps, and its own metrics (written to `file` on SIGUSR2,
 * runtime/cli.ts). Metrics are null if the host did not answer within 3 s.
 */
async function memProbe(pid, file) {
  const status = procStatus(pid);
  const smaps = smapsBreakdown(pid);
  let metrics = null;
  const before = (() => { try { return statSync(file).mtimeMs; } catch { return 0; } })();
  try {
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 60 && metrics === null; i++) {
      await new Promise((res) => setTimeout(res, 50));
      try {
        if (statSync(file).mtimeMs !== before) metrics = JSON.parse(readFileSync(file, 'utf8'));
      } catch { /* not written yet */ }
    }
  } catch { /* gone */ }
  return { status, smaps, metrics };
}

/** One line per probe: RSS split, isolates' heaps, threads. */
function memLine(p) {
  if (!p?.status) return 'n/a';
  const { status: st, smaps: sm, metrics: m } = p;
  const parts = [`VmRSS ${mib(st.rss)} (anon ${mib(st.anon)}, file ${mib(st.file)})`];
  if (sm) parts.push(`anon: brk ${mib(sm.brk)}, ${sm.arenaCount} malloc arenas ${mib(sm.arenas)}, other ${mib(sm.other)}`);
  if (m?.memory) {
    const x = m.memory;
    parts.push(`main heap ${MiB(x.main.heapUsed)}/${MiB(x.main.heapTotal)} MiB, external ${MiB(x.main.external)} MiB (ArrayBuffers ${MiB(x.main.arrayBuffers)})`);
    parts.push(`actor threads heap ${x.actorThreads.map((t) => `${MiB(t.heapUsed)}/${MiB(t.heapTotal)}`).join(' ')} MiB, ArrayBuffers ${x.actorThreads.map((t) => MiB(t.arrayBuffers)).join(' ')} MiB`);
    parts.push(`kernel threads ${x.kernelThreads}`);
    if (m.idleReclaims !== undefined) parts.push(`idle reclaims ${m.idleReclaims}`);
    parts.push(`threadsReplaced ${m.threadsReplaced}, live executions ${m.liveExecutions}, buffered ${m.bufferedBytes} B`);
  }
  parts.push(`OS threads ${st.threads}`);
  return parts.join('; ');
}

if (SOAK_N > 0) {
  const s0 = Date.now();
  const stateDir = freshStateDir('vgi-soak-');
  const metricsFile = join(stateDir, 'metrics.json');
  const duck = await openDuck('v2', { env: { NODE_OPTIONS: '', VGI_ACTORS_METRICS_FILE: metricsFile } });
  try {
    // A long idle timeout: the same worker process must serve the whole soak.
    const attached = await attachWithRetry(
      () => duck.run(launchAttach('example', nodeCommand(CLI, ['serve', '--fixtures']), { stateDir, idleTimeoutSec: 3600, database: 'example' })),
      'soak v2/launch',
    );
    if (!attached) throw new Error('no worker');
    await duck.query(`SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)))`);
    // The launched process may have re-run itself with glibc's malloc settings (runtime/malloc.ts):
    // then the host is its child, and the parent only waits for it.
    const hostPid = () => hostPids(stateDir)[0];
    const sample = () => {
      const pid = hostPid();
      if (pid === undefined) return null;
      rss.pids.add(pid);
      for (const p of workerPids(stateDir)) if (p !== pid) rss.parent = procStatus(p);
      const kb = rssKb(pid);
      rss.max = Math.max(rss.max, kb ?? 0);
      return kb;
    };
    rss.start = sample();
    mem.start = await memProbe(hostPid(), metricsFile);
    log(`soak: v2 over launch:, worker pid ${[...rss.pids].join(', ')}${rss.parent ? ` (started by its parent, VmRSS ${mib(rss.parent.rss)}, anon ${mib(rss.parent.anon)})` : ''}, ${memLine(mem.start)}`);
    const r = new Rng(mixSeed(seed, 0x50a1));
    for (let i = 0; i < SOAK_N; i++) {
      await soakQuery(duck, r, soak, 'soak v2/launch', 'v2');
      if ((i + 1) % 100 === 0) {
        const v = sample();
        const st = procStatus(hostPid());
        const sm = smapsBreakdown(hostPid());
        log(`  soak ${i + 1}/${SOAK_N}: VmRSS ${mib(v)} (anon ${mib(st?.anon ?? null)}: brk ${mib(sm?.brk ?? null)}, arenas ${mib(sm?.arenas ?? null)}, other ${mib(sm?.other ?? null)}; OS threads ${st?.threads}), ${soak.differences} differences, ${expectedTotal(soak)} expected / ${soak.unexpected} unexpected errors`);
      }
    }
    rss.end = sample();
    mem.end = await memProbe(hostPid(), metricsFile);
    log(`soak: end of queries: ${memLine(mem.end)}`);
    if (IDLE_S > 0) {
      log(`soak: idle ${IDLE_S} s (DuckDB still attached)`);
      await new Promise((res) => setTimeout(res, IDLE_S * 1000));
      mem.idle = await memProbe(hostPid(), metricsFile);
      log(`soak: after idle: ${memLine(mem.idle)}`);
    }
  } catch (e) {
    problems.push(`soak aborted: ${e.message}`);
  } finally {
    await duck.close();
    for (const pid of workerPids(stateDir)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  }
  soakMs = Date.now() - s0;
  if (soak.differences) problems.push(`${soak.differences} differences in the soak`);
  if (soak.unexpected) problems.push(`${soak.unexpected} unexpected errors in the soak`);
  if (rss.pids.size > 1) problems.push(`the launch: worker was restarted during the soak (pids ${[...rss.pids].join(', ')})`);
  const liveEnd = (mem.idle ?? mem.end)?.metrics?.liveExecutions;
  if (liveEnd !== undefined && liveEnd !== 0) problems.push(`LEAK: the launch: worker has ${liveEnd} live executions after the soak`);
  // Issue 5: RSS back near its start once idle (the idle reclaim needs 10 + 6 s; docs/design.md §5).
  const idleKb = mem.idle?.status?.rss;
  if (IDLE_S >= 20 && idleKb && rss.start && idleKb > rss.start + 32 * 1024) {
    problems.push(`the launch: worker's VmRSS is not back near its start after ${IDLE_S} s idle: ${mib(rss.start)} → ${mib(idleKb)}`);
  }
}

// ---------------------------------------------------------------- 3. in-process runtime over unix://
const inproc = { ...newStats(), concurrent: true }; // two DuckDBs share the actor threads
let metricsEnd = null;
let metricsClosed = null;
let inprocMs = 0;
const selfRss = { start: 0, end: 0 };
const selfMem = { start: null, end: null, idle: null, closed: null }; // this process: memProbe-like, with rt.metrics()
const selfProbe = (metrics) => ({ status: procStatus(process.pid), smaps: smapsBreakdown(process.pid), metrics });
if (INPROC_N > 0) {
  const s0 = Date.now();
  const runtimeLog = [];
  const rt = await createRuntime({
    functions: new URL('../dist/functions/fixtures/index.js', import.meta.url),
    threads: 2,
    log: (line) => { runtimeLog.push(line); if (runtimeLog.length > 200) runtimeLog.shift(); },
  });
  const sock = join(freshStateDir('vgi-soak-'), 'rt.sock');
  await rt.listen(sock);
  const ducks = await Promise.all(['v2', 'v1'].map((f) => openDuck(f)));
  try {
    await Promise.all(ducks.map((d) => d.run(unixAttach('example', sock)))); // the runtime is in this process: no rebuild race
    selfRss.start = process.memoryUsage().rss;
    selfMem.start = selfProbe(await rt.metrics());
    log(`in-process: runtime on unix://${sock}, v2 + v1 attached; metrics ${JSON.stringify(await rt.metrics())}`);
    let done = 0;
    const lanes = await Promise.allSettled(ducks.map(async (d, k) => {
      const r = new Rng(mixSeed(seed, 0x1a, k));
      const n = Math.ceil(INPROC_N / ducks.length);
      for (let i = 0; i < n; i++) {
        await soakQuery(d, r, inproc, `in-process ${d.flavour}/unix`, d.flavour);
        if (++done % 100 === 0) {
          const m = await rt.metrics();
          log(`  in-process ${done}/${INPROC_N}: live executions ${m.liveExecutions}, buffered ${m.bufferedBytes} B, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
        }
      }
    }));
    for (const l of lanes) if (l.status === 'rejected') problems.push(`in-process lane aborted: ${l.reason?.message ?? l.reason}`);
    selfRss.end = process.memoryUsage().rss;
    selfMem.end = selfProbe(await rt.metrics());
    // DuckDB may send destructors a little after a query returns: give it a moment, DuckDBs still attached.
    const deadline = Date.now() + 15_000;
    for (;;) {
      metricsEnd = await rt.metrics();
      if ((metricsEnd.liveExecutions === 0 && metricsEnd.bufferedBytes === 0) || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 250));
    }
  } catch (e) {
    problems.push(`in-process phase aborted: ${e.message}`);
  } finally {
    await Promise.all(ducks.map((d) => d.close()));
  }
  // After the DuckDBs are gone: does closing their connections release what was left?
  await new Promise((res) => setTimeout(res, 2000));
  metricsClosed = await rt.metrics();
  if (IDLE_S > 0) {
    log(`in-process: idle ${IDLE_S} s`);
    await new Promise((res) => setTimeout(res, Math.max(0, IDLE_S * 1000 - 2000)));
    selfMem.idle = selfProbe(await rt.metrics());
  }
  await rt.close({ drainMs: 5000 });
  await new Promise((res) => setTimeout(res, 1000));
  selfMem.closed = selfProbe(null);
  inprocMs = Date.now() - s0;
  if (inproc.differences) problems.push(`${inproc.differences} differences in the in-process phase`);
  if (inproc.unexpected) problems.push(`${inproc.unexpected} unexpected errors in the in-process phase`);
  if (!metricsEnd || metricsEnd.liveExecutions !== 0 || metricsEnd.bufferedBytes !== 0) {
    problems.push(
      `LEAK: ${metricsEnd?.liveExecutions} live executions / ${metricsEnd?.bufferedBytes} buffered bytes 15 s after the last query ` +
        `(after the DuckDBs closed: ${metricsClosed.liveExecutions} / ${metricsClosed.bufferedBytes})`,
    );
  }
  if (runtimeLog.length) detail.push(`runtime log (last ${Math.min(runtimeLog.length, 20)} lines):\n${runtimeLog.slice(-20).join('\n')}`);
}

// ---------------------------------------------------------------- summary
for (const d of details.slice(0, 40)) console.log(`\n${d.length > 6000 ? d.slice(0, 6000) + '…' : d}`);
if (details.length > 40) console.log(`\n… ${details.length - 40} more`);
const sec = (ms) => `${(ms / 1000).toFixed(0)} s`;
console.log('\n=== soak figures ===');
console.log(`seed                  VGI_DIFF_SEED=${seed}`);
if (DIFF_N > 0) {
  console.log(`differential          ${diff.run} queries (${diff.per.join(', ')}): ${diff.equal} equal, ${diff.refused} refused as documented, ${diff.nativeBugs} with DuckDB's own answer wrong, ${diff.known} from open issues, ${diff.failures} other differences — ${sec(diff.ms)}`);
  if (rebuilt.length) console.log(`  set aside            ${rebuilt.length} stdio cases failed with "unknown execution_id" while dist/ was being rebuilt by other work (a relay started after a rebuild reaches a new host)`);
}
if (SOAK_N > 0) {
  console.log(`soak v2/launch:       ${soak.queries} queries, ${soak.differences} differences, errors expected ${expectedTotal(soak)} (${expectedText(soak)}), unexpected ${soak.unexpected} — ${sec(soakMs)}`);
  console.log(`  worker host VmRSS   start ${mib(rss.start)}, end ${mib(rss.end)}, max ${mib(rss.max)}${mem.idle ? `, after ${IDLE_S} s idle ${mib(mem.idle.status?.rss ?? null)}` : ''} (pids ${[...rss.pids].join(', ')})`);
  if (rss.parent) console.log(`  launched parent     VmRSS ${mib(rss.parent.rss)} (anon ${mib(rss.parent.anon)}, file ${mib(rss.parent.file)}): the process DuckDB started, which re-ran itself as the host with glibc's malloc settings`);
  console.log(`  at start            ${memLine(mem.start)}`);
  console.log(`  end of queries      ${memLine(mem.end)}`);
  if (mem.idle) console.log(`  after ${String(IDLE_S).padEnd(3)} s idle     ${memLine(mem.idle)}`);
}
if (INPROC_N > 0) {
  console.log(`in-process unix://    ${inproc.queries} queries (v2 + v1), ${inproc.differences} differences, errors expected ${expectedTotal(inproc)} (${expectedText(inproc)}), unexpected ${inproc.unexpected} — ${sec(inprocMs)}`);
  console.log(`  live actors end     liveExecutions ${metricsEnd?.liveExecutions}, bufferedBytes ${metricsEnd?.bufferedBytes} (after DuckDBs closed: ${metricsClosed?.liveExecutions} / ${metricsClosed?.bufferedBytes})`);
  console.log(`  executions          started ${metricsEnd?.executionsStarted}, ended ${metricsEnd?.executionsEnded}; connections ${metricsEnd?.connections}, requests ${metricsEnd?.requests}, finalize streams ${metricsEnd?.finalizeStreams}`);
  console.log(`  runtime process RSS start ${mib(selfRss.start / 1024)}, end ${mib(selfRss.end / 1024)} (this process: the runtime, tap's TypeScript loader and the test helpers; each DuckDB is a child process)`);
  console.log(`  at start            ${memLine(selfMem.start)}`);
  console.log(`  end of queries      ${memLine(selfMem.end)}`);
  if (selfMem.idle) console.log(`  after ${String(IDLE_S).padEnd(3)} s idle     ${memLine(selfMem.idle)}`);
  console.log(`  after rt.close()    ${memLine(selfMem.closed)}`);
}
console.log(`wall                  ${sec(Date.now() - t0)}`);
if (problems.length) {
  console.log(`\nSOAK FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nSOAK PASSED');
process.exit(0);
