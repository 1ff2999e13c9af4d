// Crash isolation on real DuckDB (issue 5 §1): user code that throws, spins, hangs or exhausts its
// thread's heap fails only the executions of its own actor thread, with a message naming the
// cause; the thread is replaced; an execution on the other thread completes meanwhile; the next
// query passes. Also: a dead thread's spill files are removed at once.
//
// The runtime runs in this process (so its metrics are visible) and DuckDB attaches over unix://.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { openDuck, type Duck } from './helpers/duckdb.js';
import { unixAttach } from './helpers/locations.js';

const FIXTURES = new URL('../functions/fixtures/index.ts', import.meta.url);
const DEADLINE_S = 5;
const GOOD = `SELECT count(*) FROM example.buffer_input((SELECT * FROM range(300000)))`;

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serve(t: Test, opts: Parameters<typeof createRuntime>[0]): Promise<{ rt: Runtime; duck: Duck; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-iso-'));
  const rt = await createRuntime({ log: () => undefined, ...opts });
  await rt.listen(join(dir, 'w.sock'));
  const duck = await openDuck('v2');
  t.teardown(async () => { await duck.close(); await rt.close({ drainMs: 0 }); });
  await duck.run(unixAttach('example', join(dir, 'w.sock')));
  return { rt, duck, dir };
}

interface Case {
  readonly name: string;
  readonly call: string;
  readonly error: RegExp;
  /** The thread dies (and is replaced); false for a plain exception. */
  readonly kills: boolean;
  /** The bad call blocks until its deadline: the other execution finishes first. */
  readonly blocks: boolean;
}

const misbehave = (fn: string, how: string, phase: string, after = 0): string =>
  `SELECT count(*) FROM example.${fn}((SELECT * FROM range(20000)), how := '${how}', phase := '${phase}', after := ${after})`;

const CASES: readonly Case[] = [
  { name: 'process throws', call: misbehave('misbehave', 'throw', 'process', 2), error: /intentional exception in process call 3/, kills: false, blocks: false },
  { name: 'process spins', call: misbehave('misbehave', 'spin', 'process', 2), error: new RegExp(`the process call ran past the call deadline of ${DEADLINE_S} s`), kills: true, blocks: true },
  { name: 'a queued (early-acknowledged) process call spins', call: misbehave('misbehave_queued', 'spin', 'process', 2), error: new RegExp(`a queued process call ran past the call deadline of ${DEADLINE_S} s`), kills: true, blocks: true },
  { name: 'combine hangs on a promise that never settles', call: misbehave('misbehave', 'hang', 'combine'), error: new RegExp(`the combine call ran past the call deadline of ${DEADLINE_S} s`), kills: true, blocks: true },
  { name: 'the finalize producer spins', call: misbehave('misbehave', 'spin', 'finalize'), error: new RegExp(`a finalize producer ran past the call deadline of ${DEADLINE_S} s`), kills: true, blocks: true },
  { name: 'combine exhausts its thread heap (resourceLimits)', call: misbehave('misbehave', 'heap', 'combine'), error: /memory limit|out of memory/i, kills: true, blocks: false },
  { name: 'process exits its thread', call: misbehave('misbehave', 'exit', 'process', 1), error: /actor thread \d died \(exit code 137\)/, kills: true, blocks: false },
];

t.test('bad user code fails only its own executions', async (t) => {
  const { rt, duck } = await serve(t, { functions: FIXTURES, threads: 2, callDeadlineMs: DEADLINE_S * 1000, resourceLimits: { maxOldGenerationSizeMb: 128 } });
  t.equal(await duck.queryValue(GOOD), '300000', 'serves before');
  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const { threadsReplaced: before, executionsStarted } = await rt.metrics();
      let settled = false;
      const bad = duck.expectError(c.call, c.error, { conn: 1 }).finally(() => { settled = true; });
      // The bad execution exists (its sink init ran) before the good query starts.
      await until('the bad execution', async () => (await rt.metrics()).executionsStarted > executionsStarted);
      t.equal(await duck.queryValue(GOOD, { conn: 0 }), '300000', 'an execution on the other thread completes');
      if (c.blocks) t.notOk(settled, 'it completed while the bad call was still running');
      const message = await bad;
      t.match(message, c.error, `the bad query fails clearly: ${message.split('\n')[0]}`);
      if (c.kills) await until('the replacement thread', async () => (await rt.metrics()).threadsReplaced === before + 1);
      else t.equal((await rt.metrics()).threadsReplaced, before, 'a thrown error costs no thread');
      t.equal(await duck.queryValue(GOOD, { conn: 1 }), '300000', 'the next query passes');
    });
  }
  // DuckDB sends the destructor of a failed query; nothing stays behind.
  await until('no live executions', async () => (await rt.metrics()).liveExecutions === 0);
  const m = await rt.metrics();
  t.equal(m.bufferedBytes, 0, 'no buffered bytes left');
  t.equal(m.threadsReplaced, CASES.filter((c) => c.kills).length, 'one replacement per killed thread');
});

function filesUnder(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    n += statSync(p).isDirectory() ? filesUnder(p) : 1;
  }
  return n;
}

t.test('a dead thread leaves no spill files behind', async (t) => {
  const spillBase = mkdtempSync(join(tmpdir(), 'vgi-iso-spill-'));
  const { rt, duck } = await serve(t, { functions: FIXTURES, threads: 1, callDeadlineMs: DEADLINE_S * 1000, memoryBudgetBytes: 1 << 20, spillDir: spillBase });
  const root = join(spillBase, readdirSync(spillBase)[0]!);
  // Buffers 500,000 BIGINTs (4 MB, 4× the budget: most is spilled), then hangs in combine.
  const bad = duck.expectError(`SELECT count(*) FROM example.misbehave((SELECT * FROM range(500000)), how := 'hang', phase := 'combine')`, /call deadline/);
  await until('spilled bytes', async () => (await rt.metrics()).spilledBytes > 0);
  const spilled = filesUnder(root);
  t.ok(spilled > 0, `spill files exist while the execution lives (${spilled})`);
  t.match(await bad, /the combine call ran past the call deadline/);
  await until('the replacement thread', async () => (await rt.metrics()).threadsReplaced === 1);
  t.equal(filesUnder(root), 0, 'the dead thread\'s spill files are gone');
  t.equal(await duck.queryValue(`SELECT count(*) FROM example.buffer_input((SELECT * FROM range(500000)))`), '500000', 'the next query (spilling too) passes');
  t.equal(filesUnder(root), 0, 'and its spill files are gone after its destructor');
});
