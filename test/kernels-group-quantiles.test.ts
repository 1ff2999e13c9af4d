// group_quantiles with its sort work on CPU kernels: driven with fake params whose runKernel is
// (a) the real kernel pool (router + piscina threads, as an actor thread uses it) and (b) a plain
// call of the kernel function; both must give exactly the naive reference. Then once through
// real DuckDB and the built worker with 2 threads (launch:), against a SQL reference.
import t, { type Test } from 'tap';
import { Float64, Int32, Int64, type DataType } from 'apache-arrow';
import type { KernelRef, ScalarValue } from '../functions/api.js';
import { BLOCK_VALUES, groupQuantiles, partitionKernel, quantileKernel, splitGroups, KERNELS_PER_RANGE } from '../functions/fixtures/group_quantiles.js';
import * as kernels from '../functions/fixtures/group_quantiles-kernels.js';
import type { BlockInput, QuantileInput } from '../functions/fixtures/group_quantiles-kernels.js';
import { attachWorker } from './helpers/worker.js';
import { driveBuffering, mulberry32, numericBatches, type Num, type RunKernel, groupOf, poolRunKernel } from './helpers/grouped.js';

/** The obvious implementation: Map of groups, comparator sort, Set for distinct. */
function reference(values: (Num | null)[], groups: number): unknown[][] {
  const byGroup = new Map<number, Num[]>();
  for (const v of values) {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
    const g = groupOf(v, groups);
    const list = byGroup.get(g);
    if (list) list.push(v);
    else byGroup.set(g, [v]);
  }
  return [...byGroup.keys()].sort((a, b) => a - b).map((g) => {
    const s = byGroup.get(g)!.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const n = s.length;
    const q = (p: number) => Number(s[Math.max(0, Math.ceil((p * n) / 100) - 1)]!);
    return [BigInt(g), BigInt(n), q(50), q(90), q(99), BigInt(new Set(s).size)];
  });
}

/** process → combine → every finalize stream concurrently (as DuckDB's source threads do). */
async function run(type: DataType, values: (Num | null)[], args: Record<string, ScalarValue>, runKernel: RunKernel): Promise<unknown[][]> {
  const input = numericBatches(type, values);
  return driveBuffering(groupQuantiles, input, input[0]!.schema, { groups: 64n, ...args }, runKernel);
}

const cases: [string, DataType, () => (Num | null)[], number][] = [
  ['INTEGER with negatives and NULLs', new Int32(), () => { const r = mulberry32(42); return Array.from({ length: 30_000 }, () => (r() < 0.05 ? null : Math.floor(r() * 4000) - 2000)); }, 64],
  ['BIGINT beyond 2^53', new Int64(), () => { const r = mulberry32(7); return Array.from({ length: 9_000 }, () => (r() < 0.02 ? null : (1n << 60n) * (r() < 0.5 ? -1n : 1n) + BigInt(Math.floor(r() * 500)))); }, 17],
  ['DOUBLE with NaN/Infinity', new Float64(), () => { const r = mulberry32(99); return Array.from({ length: 12_345 }, (_, i) => (i % 1000 === 0 ? Number.NaN : i % 1001 === 0 ? Number.POSITIVE_INFINITY : Math.round((r() * 300 - 150) * 4) / 4)); }, 10],
  ['one group', new Int32(), () => Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000), 1],
  // More than two partition blocks (BLOCK_VALUES each): groups gather their values from every block.
  [`${(2 * BLOCK_VALUES + 12345).toLocaleString('en')} INTEGERs (three blocks)`, new Int32(), () => { const r = mulberry32(5); return Array.from({ length: 2 * BLOCK_VALUES + 12345 }, () => Math.floor(r() * 100000) - 50000); }, 33],
  ['BIGINT in blocks, negatives', new Int64(), () => { const r = mulberry32(11); return Array.from({ length: BLOCK_VALUES + 7 }, () => BigInt(Math.floor(r() * 2e6) - 1e6) * (r() < 0.01 ? 1n << 40n : 1n)); }, 7],
];

async function matchesReference(t: Test, runKernel: RunKernel): Promise<void> {
  for (const [name, type, make, groups] of cases) {
    const values = make();
    t.same(await run(type, values, { groups: BigInt(groups) }, runKernel), reference(values, groups), name);
  }
}

t.test('via the real kernel pool (2 kernel threads): exactly the naive reference', async (t) => {
  await matchesReference(t, poolRunKernel(t, 2));
});

t.test('via a plain call of the kernel function: exactly the naive reference; pieces are moved', async (t) => {
  const all: { kernel: KernelRef; input: unknown; transfer: readonly ArrayBuffer[] }[] = [];
  const direct = (async (kernel: KernelRef, input: unknown, transfer: readonly ArrayBuffer[] = []) => {
    all.push({ kernel, input, transfer });
    return (kernels as unknown as Record<string, (x: unknown) => unknown>)[kernel.name]!(input);
  }) as RunKernel;
  await matchesReference(t, direct);
  t.ok(all.every((c) => c.kernel === quantileKernel || c.kernel === partitionKernel), 'every call names one of the fixture\'s kernels');
  const blocks = all.filter((c) => c.kernel === partitionKernel).map((c) => c.input as BlockInput);
  t.ok(blocks.length >= cases.length + 3, `blocks are partitioned by kernels (${blocks.length} calls)`);
  t.ok(blocks.every((b) => b.length > 0 && b.length <= BLOCK_VALUES && b.values.length === BLOCK_VALUES), 'full-size blocks, partly filled at most once per execution');
  const calls = all.filter((c) => c.kernel === quantileKernel) as unknown as { input: QuantileInput; transfer: readonly ArrayBuffer[] }[];
  t.ok(calls.length > 0);
  t.ok(calls.every((c) => c.transfer.includes(c.input.values.buffer as ArrayBuffer) && c.transfer.includes(c.input.offsets.buffer as ArrayBuffer)), 'each piece moves its own values and offsets');
  t.ok(calls.every((c) => c.input.values.byteOffset === 0 && c.input.values.buffer.byteLength === c.input.values.byteLength), 'a piece owns its whole buffer (a copy, not a view of the partitioned array)');
  t.ok(calls.length > 8, `ranges are cut into up to ${KERNELS_PER_RANGE} concurrent kernels each (${calls.length} calls)`);
});

t.test('a failing kernel fails the finalize stream with its message', async (t) => {
  const failing = (() => Promise.reject(new Error('kernel exploded'))) as RunKernel;
  await t.rejects(run(new Int32(), [1, 2, 3], {}, failing), /kernel exploded/);
});

t.test('splitGroups: contiguous pieces of about equal size', async (t) => {
  const offsets = Float64Array.from([0, 10, 20, 30, 40, 100, 110, 120, 130]); // 8 groups, group 4 is big
  t.same(splitGroups(offsets, 0, 8, 2), [[0, 4], [4, 8]], 'the cut nearest the middle (40 | 90 beats 100 | 30)');
  t.same(splitGroups(offsets, 0, 8, 1), [[0, 8]]);
  t.same(splitGroups(offsets, 2, 3, 4), [[2, 3]], 'one group cannot be split');
  t.same(splitGroups(offsets, 0, 4, 4), [[0, 1], [1, 2], [2, 3], [3, 4]]);
  for (const pieces of [1, 2, 3, 5, 8]) {
    const s = splitGroups(offsets, 1, 7, pieces);
    t.equal(s[0]![0], 1);
    t.equal(s.at(-1)![1], 7);
    t.ok(s.every(([a, b], i) => b > a && (i === 0 || s[i - 1]![1] === a)), `${pieces} pieces cover [1,7) without gaps`);
  }
});

t.test('real DuckDB + the built worker with 2 threads (launch:): same as a SQL reference', async (t) => {
  const w = await attachWorker('v2', 'launch', { threads: 2 });
  t.teardown(() => w.close());
  const { duck } = w;
  await duck.run(`CREATE TEMP TABLE q AS SELECT CASE WHEN i % 97 = 0 THEN NULL ELSE ((hash(i) % 200001)::BIGINT - 100000) END AS x FROM range(300000) r(i)`);
  // Nearest rank: element ceil(p·n/100) (1-based) of the sorted group, in exact integer arithmetic.
  const reference = `
    WITH v AS (SELECT x, ((x % 64) + 64) % 64 AS g FROM q WHERE x IS NOT NULL),
         s AS (SELECT g, count(*) AS n, count(DISTINCT x) AS d, list_sort(list(x)) AS l FROM v GROUP BY g)
    SELECT g, n, l[greatest(1, (50 * n + 99) // 100)]::DOUBLE AS p50, l[greatest(1, (90 * n + 99) // 100)]::DOUBLE AS p90,
           l[greatest(1, (99 * n + 99) // 100)]::DOUBLE AS p99, d FROM s ORDER BY g`;
  const got = await duck.query('SELECT g, n, p50, p90, p99, distinct_count FROM example.group_quantiles((SELECT x FROM q)) ORDER BY g');
  const want = await duck.query(reference);
  t.equal(got.rows.length, 64);
  t.same(got.rows, want.rows, 'every group matches');
});
