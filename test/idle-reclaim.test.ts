// A long-lived worker gives memory back between queries (issue 5: a soak of 1,000 queries ends
// with zero live actors and RSS back near its start). A reduced soak on real DuckDB — queries
// that buffer, fail on purpose, kill their actor thread, hold a large state and use kernel
// threads — then idle: no execution is left, the idle reclaim runs once, kernel threads are
// stopped, replaced threads are gone, and the actor threads' isolates hold no ArrayBuffers and
// a heap near a fresh thread's. The figures are asserted loosely (the soak, `npm run soak`,
// reports the real ones); nothing here depends on timing except waits with long limits.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type RuntimeSnapshot } from '../runtime/runtime.js';
import { openDuck } from './helpers/duckdb.js';
import { unixAttach } from './helpers/locations.js';

const MiB = 2 ** 20;
const IDLE_MS = 300;

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 25_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** OS threads of this process (Linux), or null. */
function osThreads(): number | null {
  if (!existsSync('/proc/self/status')) return null;
  return Number(readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)/m)?.[1] ?? NaN);
}

const fmt = (m: RuntimeSnapshot): string =>
  `actor threads heap ${m.memory.actorThreads.map((x) => `${(x.heapUsed / MiB).toFixed(1)}/${(x.heapTotal / MiB).toFixed(1)}`).join(', ')} MiB, ` +
  `ArrayBuffers ${m.memory.actorThreads.map((x) => (x.arrayBuffers / MiB).toFixed(1)).join(', ')} MiB; kernel threads ${m.memory.kernelThreads}; ` +
  `main heap ${(m.memory.main.heapUsed / MiB).toFixed(1)}/${(m.memory.main.heapTotal / MiB).toFixed(1)} MiB; rss ${(m.memory.rss / MiB).toFixed(0)} MiB`;

t.test('after a burst of queries, an idle runtime ends every execution and reclaims its threads\' memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-reclaim-'));
  const sock = join(dir, 'w.sock');
  const rt = await createRuntime({
    functions: new URL('../functions/fixtures/index.ts', import.meta.url),
    threads: 2, idleReclaimMs: IDLE_MS, log: () => undefined,
  });
  await rt.listen(sock);
  const duck = await openDuck('v2');
  t.teardown(async () => { await duck.close(); await rt.close({ drainMs: 0 }); });
  await duck.run(unixAttach('example', sock));
  t.equal(await duck.queryValue('SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)))'), '10');
  const fresh = await rt.metrics();
  const threads0 = osThreads();
  t.comment(`fresh: ${fmt(fresh)}; OS threads ${threads0}`);

  // The soak's mix, reduced: every kind of query that leaves memory behind.
  const errors = { exception_process: 0, crash_on_combine: 0, crash_on_process: 0 };
  for (let i = 0; i < 16; i++) {
    const n = 20_000 + ((i * 7919) % 280_000);
    t.equal(await duck.queryValue(`SELECT count(*) FROM example.buffer_input((SELECT range AS v, 'x' || range AS s FROM range(${n})))`), String(n));
    if (i % 4 === 0) {
      const v = await duck.queryValue(`SELECT count(*) FROM (SELECT v FROM example.echo_buffering((SELECT range AS v FROM range(200000))) LIMIT 7)`);
      t.equal(v, '7', 'an early LIMIT');
    }
    if (i % 5 === 3) {
      for (const fn of ['exception_process', 'crash_on_combine'] as const) {
        await duck.expectError(`SELECT * FROM example.${fn}((SELECT range AS v FROM range(30000)))`, /Intentional exception/);
        errors[fn]++;
      }
    }
  }
  await duck.expectError(`SELECT * FROM example.crash_on_process((SELECT range AS v FROM range(5000)))`, /actor thread|EOF|died|exit/i);
  errors.crash_on_process++;
  const big = await duck.queryValue('SELECT * FROM example.large_state((SELECT range AS v FROM range(100000)))');
  t.ok(Number(big) >= 32 * MiB, 'a large state was held');
  // Kernel threads start with the first params.runKernel.
  const groups = await duck.queryValue('SELECT count(*) FROM example.group_quantiles((SELECT (range % 1000)::DOUBLE AS x FROM range(300000)))');
  t.ok(Number(groups) > 0, 'group_quantiles ran on kernel threads');
  const busy = await until('the replacement of the crashed thread', () => rt.metrics(), (m) => m.threadsReplaced >= 1);
  t.comment(`after ${busy.executionsStarted} executions (${JSON.stringify(errors)} failed on purpose): ${fmt(busy)}; OS threads ${osThreads()}`);

  // DuckDB sends destructors shortly after a query returns; then the runtime is idle.
  const idle = await until('the idle reclaim', () => rt.metrics(), (m) => m.liveExecutions === 0 && m.idleReclaims >= 1);
  t.comment(`after the idle reclaim: ${fmt(idle)}; OS threads ${osThreads()}`);
  t.equal(idle.liveExecutions, 0, 'no live execution');
  t.equal(idle.bufferedBytes, 0, 'no buffered bytes');
  t.equal(idle.spilledBytes, 0, 'no spilled bytes');
  // group_quantiles started the kernel pool (it is created on the first params.runKernel), so no
  // kernel thread here means the reclaim stopped them.
  t.equal(idle.memory.kernelThreads, 0, 'idle kernel threads were stopped');
  t.equal(idle.memory.actorThreads.length, 2, 'both actor threads are up');
  // Against the fresh runtime's own figures (under tap's TypeScript loader a fresh thread already
  // holds ~60 MiB of heap and ~4.5 MiB of ArrayBuffers). A thread that still referenced the
  // batches of past executions would hold tens of MiB more here.
  for (const [i, th] of idle.memory.actorThreads.entries()) {
    const was = fresh.memory.actorThreads[i]!;
    t.ok(th.arrayBuffers < was.arrayBuffers + 2 * MiB, `actor thread ${i} holds no ArrayBuffers of past executions (${(th.arrayBuffers / MiB).toFixed(1)} MiB, fresh ${(was.arrayBuffers / MiB).toFixed(1)})`);
    t.ok(th.heapTotal < was.heapTotal + 16 * MiB, `actor thread ${i}'s heap is near a fresh thread's (${(th.heapTotal / MiB).toFixed(1)} MiB, fresh ${(was.heapTotal / MiB).toFixed(1)})`);
  }
  t.ok(idle.memory.main.arrayBuffers < fresh.memory.main.arrayBuffers + 4 * MiB, `the main thread holds no ArrayBuffers of past executions (${(idle.memory.main.arrayBuffers / MiB).toFixed(1)} MiB)`);
  if (threads0 !== null) {
    // The replaced actor thread and the stopped kernel threads are gone (libuv's pool may have
    // started meanwhile: 4 threads at most).
    t.ok(osThreads()! <= threads0 + 4, `OS threads back to ${threads0} (+ libuv's pool): ${osThreads()}`);
  }

  // The next query finds everything working, kernels included (a fresh kernel pool).
  const again = await duck.queryValue('SELECT count(*) FROM example.group_quantiles((SELECT (range % 10)::DOUBLE AS x FROM range(50000)))');
  t.ok(Number(again) > 0, 'kernels start again after the reclaim');
  await until('the kernel threads to stop again', () => rt.metrics(), (m) => m.liveExecutions === 0 && m.memory.kernelThreads === 0);
  t.pass('and stop again once idle');
});

t.test('idleReclaimMs: 0 turns the reclaim off', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-reclaim-'));
  const rt = await createRuntime({ functions: new URL('../functions/fixtures/index.ts', import.meta.url), threads: 1, idleReclaimMs: 0, log: () => undefined });
  await rt.listen(join(dir, 'w.sock'));
  t.teardown(() => rt.close({ drainMs: 0 }));
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await rt.metrics()).idleReclaims, 0);
});
