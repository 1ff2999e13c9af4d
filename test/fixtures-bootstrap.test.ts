// group_bootstrap: its kernels against plain implementations (the generator against BigInt
// arithmetic, the counting median against sorting each resample), the whole function driven with
// fake params (kernels inline, and on the real kernel pool) against a straightforward reference,
// then real DuckDB (both protocol versions, launch: and stdio) against DuckDB's own count/median
// and the reference on the rows DuckDB holds. No timings here: speed is `npm run bench`.
import t, { type Test } from 'tap';
import { Float64, Int32, Int64, Utf8, type DataType } from 'apache-arrow';
import type { KernelRef, ScalarValue } from '../functions/api.js';
import {
  DEFAULT_RESAMPLES, TASK_DRAWS, bootstrapKernel, groupBootstrap, groupRuns, resampleSlices, sortKernel,
} from '../functions/fixtures/group_bootstrap.js';
import * as kernels from '../functions/fixtures/group_bootstrap-kernels.js';
import { IndexStream, bootstrapMedians, medianOfSorted, mulHigh, quantileCont, seedState, sortGroups } from '../functions/fixtures/group_bootstrap-kernels.js';
import type { BootstrapInput, SortInput } from '../functions/fixtures/group_bootstrap-kernels.js';
import { BLOCK_VALUES } from '../functions/fixtures/grouped-blocks.js';
import { runKernel as inlineKernel } from '../actors/kernels.js';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';
import { driveBuffering, mulberry32, numericBatches, type Num, type RunKernel, groupOf, poolRunKernel } from './helpers/grouped.js';


// ---------------------------------------------------------------------------------------------
// The reference: groups in a Map, every resample materialized and sorted.

const byNumber = (a: number, b: number): number => a - b;

function median(sorted: number[]): number {
  const n = sorted.length;
  const lo = sorted[Math.floor((n - 1) / 2)]!, hi = sorted[Math.floor(n / 2)]!;
  return lo + (hi - lo) * 0.5;
}

function interpolated(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1), i = Math.floor(pos);
  return i + 1 < sorted.length ? sorted[i]! + (sorted[i + 1]! - sorted[i]!) * (pos - i) : sorted[i]!;
}

/** [g, n, median, ci_low, ci_high] per non-empty group, ascending by g. */
function reference(values: (Num | null)[], groups: number, resamples: number): unknown[][] {
  const byGroup = new Map<number, number[]>();
  for (const v of values) {
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
    const g = groupOf(v, groups);
    const list = byGroup.get(g) ?? [];
    list.push(Number(v));
    byGroup.set(g, list);
  }
  return [...byGroup.keys()].sort(byNumber).map((g) => {
    const s = byGroup.get(g)!.sort(byNumber);
    const n = s.length;
    const medians: number[] = [];
    for (let r = 0; r < resamples; r++) {
      const draws = new IndexStream(g, r);
      medians.push(median(Array.from({ length: n }, () => s[draws.index(n)]!).sort(byNumber)));
    }
    medians.sort(byNumber);
    return [BigInt(g), BigInt(n), median(s), interpolated(medians, 0.025), interpolated(medians, 0.975)];
  });
}

// ---------------------------------------------------------------------------------------------
// Kernels

t.test('the generator is xoshiro128** seeded per (group, resample), mapped to [0, n) exactly', async (t) => {
  // The same generator in BigInt arithmetic, and Lemire's rejection written out in 64 bits.
  const M = 0xffffffffn;
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  for (const [g, r, n] of [[0, 0, 10], [5, 123, 156250], [63, 399, 1], [1000, 7, 3_000_000], [2, 2, 4294967295]] as const) {
    const s = [...seedState(g, r)].map(BigInt);
    const next = (): bigint => {
      const out = (rotl((s[1]! * 5n) & M, 7n) * 9n) & M;
      const tt = (s[1]! << 9n) & M;
      s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!; s[2]! ^= tt; s[3] = rotl(s[3]!, 11n);
      return out;
    };
    const want: number[] = [];
    const threshold = (1n << 32n) % BigInt(n);
    while (want.length < 200) {
      const m = next() * BigInt(n);
      if ((m & M) >= threshold) want.push(Number(m >> 32n));
    }
    const got = new IndexStream(g, r);
    t.same(Array.from({ length: 200 }, () => got.index(n)), want, `group ${g} resample ${r}, n = ${n}`);
  }
  const rnd = mulberry32(3);
  for (let i = 0; i < 2000; i++) {
    const x = Math.floor(rnd() * 4294967296), n = 1 + Math.floor(rnd() * 4294967295);
    if (mulHigh(x, n) !== Number((BigInt(x) * BigInt(n)) >> 32n)) { t.fail(`mulHigh(${x}, ${n})`); break; }
  }
  t.not(seedState(1, 0).join(), seedState(0, 1).join(), 'group and resample are not interchangeable');
});

t.test('bootstrapMedians: the counting median equals sorting each resample; runs and slices do not matter', async (t) => {
  const rnd = mulberry32(17);
  const sizes = [1, 2, 3, 4, 10, 0, 101, 1000, 4096];
  // Few distinct values: many ties, so repeats decide the median.
  const groups = sizes.map((n) => Array.from({ length: n }, () => Math.round(rnd() * 40) / 4 - 3).sort(byNumber));
  const want = groups.map((s, i) => Array.from({ length: 25 }, (_, r) => {
    if (s.length === 0) return Number.NaN;
    const d = new IndexStream(10 + i, r);
    return median(Array.from({ length: s.length }, () => s[d.index(s.length)]!).sort(byNumber));
  }));
  const run = (from: number, to: number, first: number, count: number): number[][] => {
    const sorted = Float64Array.from(groups.slice(from, to).flat());
    const offsets = Float64Array.from([0, ...groups.slice(from, to).map((_, i) => groups.slice(from, from + i + 1).flat().length)]);
    const m = bootstrapMedians({ sorted, offsets, firstGroup: 10 + from, first, count }).medians;
    return Array.from({ length: to - from }, (_, i) => [...m.subarray(i * count, (i + 1) * count)]);
  };
  const whole = run(0, groups.length, 0, 25);
  sizes.forEach((n, i) => t.same(whole[i], want[i], `n = ${n} in one run`));
  const alone = sizes.map((_, i) => run(i, i + 1, 0, 25)[0]);
  t.same(alone, want, 'each group alone: the same');
  const sliced = run(0, groups.length, 0, 7).map((a, i) => [...a, ...run(0, groups.length, 7, 1)[i]!, ...run(0, groups.length, 8, 17)[i]!]);
  t.same(sliced, want, 'resamples cut in three slices: the same');
  t.same([...bootstrapMedians({ sorted: Float64Array.of(42), offsets: Float64Array.of(0, 1), firstGroup: 0, first: 0, count: 3 }).medians], [42, 42, 42], 'one value: every resample is that value');
});

t.test('sortGroups: doubles, and 64-bit integers as their nearest doubles, sorted into shared memory', async (t) => {
  const f = Float64Array.of(3, -1.5, 2, 2, 10, 9, 1, 5);
  const out = new Float64Array(new SharedArrayBuffer(8 * 8));
  t.same([...sortGroups({ values: f, offsets: Float64Array.of(0, 5, 5, 8), sorted: out }).medians].map(String), ['2', 'NaN', '5'], 'medians per group, NaN when empty');
  t.same([...out], [-1.5, 2, 2, 3, 10, 1, 5, 9], 'each group sorted in place');
  const big = [(1n << 60n) + 1n, -(1n << 62n) - 3n, 5n, -7n, (1n << 53n) + 1n, -1n];
  const outI = new Float64Array(6);
  t.same([...sortGroups({ values: BigInt64Array.from(big), offsets: Float64Array.of(0, 6), sorted: outI }).medians], [(-1 + 5) / 2]);
  t.same([...outI], big.map(Number).sort(byNumber), 'BigInt64: each value is Number(v)');
  const u = [(1n << 64n) - 1n, 0n, 1n << 63n, 12345678901234567n];
  const outU = new Float64Array(4);
  sortGroups({ values: BigUint64Array.from(u), offsets: Float64Array.of(0, 4), sorted: outU });
  t.same([...outU], u.map(Number).sort(byNumber), 'BigUint64: each value is Number(v)');
  t.throws(() => sortGroups({ values: f, offsets: Float64Array.of(0, 8), sorted: new Float64Array(4) }), /8 values but room for 4/);
});

t.test('median, quantile_cont and the task slices', async (t) => {
  t.equal(medianOfSorted([1, 2, 3]), 2);
  t.equal(medianOfSorted([1, 2, 3, 10]), 2.5);
  t.ok(Number.isNaN(medianOfSorted([])));
  t.equal(quantileCont([10, 20, 30, 40, 50], 0.025), 11);
  t.equal(quantileCont([10, 20, 30, 40, 50], 0.975), 49);
  t.equal(quantileCont([7], 0.975), 7);
  for (const [n, b] of [[1, 1], [156250, 400], [1e7, 400], [10, 1000], [3_000_000, 7]] as const) {
    const s = resampleSlices(n, b);
    t.equal(s[0]![0], 0);
    t.ok(s.every(([first, count], i) => count > 0 && (i === 0 || s[i - 1]![0] + s[i - 1]![1] === first)), `n=${n} B=${b}: contiguous`);
    t.equal(s.at(-1)![0] + s.at(-1)![1], b, `n=${n} B=${b}: covers every resample`);
    t.equal(s.length, Math.min(b, Math.ceil((n * b) / TASK_DRAWS)), `n=${n} B=${b}: as many tasks as TASK_DRAWS draws make`);
    const counts = s.map(([, count]) => count);
    t.ok(Math.max(...counts) - Math.min(...counts) <= 1, `n=${n} B=${b}: even slices`);
  }
  t.equal(resampleSlices(156250, 400).length, 4, '1e7 rows in 64 groups: 4 tasks per group');
  // 10 groups: two big ones stand alone, small neighbours share a run, empty runs are left out.
  const sizes = [0, 100, 50, 200000, 10, 10, 0, 300000, 0, 0];
  const offsets = Float64Array.from([0, ...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
  t.same(groupRuns(offsets, 0, 10, 100), [[0, 3], [3, 4], [4, 7], [7, 8]]);
  t.same(groupRuns(offsets, 0, 10, 1), [[0, 10]], 'one resample: everything in one run');
  t.same(groupRuns(offsets, 8, 10, 100), [], 'no values: no run');
});

// ---------------------------------------------------------------------------------------------
// The function, driven like the runtime drives it




/** process → combine → every finalize stream at once; rows sorted by g. */
async function run(type: DataType, values: (Num | null)[], args: Record<string, ScalarValue>, runKernel: RunKernel): Promise<unknown[][]> {
  const input = numericBatches(type, values, true);
  const schema = input[0]?.schema ?? numericBatches(type, [null], true)[0]!.schema;
  return (await driveBuffering(groupBootstrap, input, schema, args, runKernel)).sort((a, b) => Number(a[0]) - Number(b[0]));
}

const cases: [string, DataType, () => (Num | null)[], number, number][] = [
  ['INTEGER with negatives and NULLs', new Int32(), () => { const r = mulberry32(42); return Array.from({ length: 20_000 }, () => (r() < 0.05 ? null : Math.floor(r() * 4000) - 2000)); }, 64, 30],
  ['DOUBLE with NaN/Infinity, few distinct values', new Float64(), () => { const r = mulberry32(9); return Array.from({ length: 9_000 }, (_, i) => (i % 500 === 0 ? Number.NaN : i % 501 === 0 ? Number.NEGATIVE_INFINITY : Math.round((r() * 60 - 30) * 2) / 2)); }, 10, 40],
  ['BIGINT beyond 2^53', new Int64(), () => { const r = mulberry32(7); return Array.from({ length: 5_000 }, () => (r() < 0.02 ? null : (1n << 60n) * (r() < 0.5 ? -1n : 1n) + BigInt(Math.floor(r() * 500)))); }, 17, 20],
  ['empty and one-value groups (100 groups, values in 3)', new Int32(), () => [5, ...Array.from({ length: 300 }, (_, i) => 200 + (i % 7) * 100), 99, null, 0], 100, 50],
  ['one group, resamples in two tasks', new Float64(), () => { const r = mulberry32(1); return Array.from({ length: 40_000 }, () => Math.floor(r() * 1e6) / 8); }, 1, 500],
  [`${(BLOCK_VALUES + 5000).toLocaleString('en')} INTEGERs (two blocks)`, new Int32(), () => { const r = mulberry32(5); return Array.from({ length: BLOCK_VALUES + 5000 }, () => Math.floor(r() * 100000) - 50000); }, 8, 3],
];

async function matchesReference(t: Test, runKernel: RunKernel): Promise<void> {
  for (const [name, type, make, groups, resamples] of cases) {
    const values = make();
    t.same(await run(type, values, { groups: BigInt(groups), resamples: BigInt(resamples) }, runKernel), reference(values, groups, resamples), name);
  }
}

t.test('inline kernels: exactly the reference; kernels get moved values and shared sorted groups', async (t) => {
  const calls: { kernel: KernelRef; input: unknown; transfer: readonly ArrayBuffer[] }[] = [];
  const spy = (async (kernel: KernelRef, input: unknown, transfer: readonly ArrayBuffer[] = []) => {
    calls.push({ kernel, input, transfer });
    return inlineKernel(kernel, input, transfer);
  }) as RunKernel;
  await matchesReference(t, spy);
  const sorts = calls.filter((c) => c.kernel === sortKernel).map((c) => c as { input: SortInput; transfer: readonly ArrayBuffer[] });
  const boots = calls.filter((c) => c.kernel === bootstrapKernel).map((c) => c.input as BootstrapInput);
  t.ok(sorts.length > 0 && sorts.every((c) => c.input.sorted.buffer instanceof SharedArrayBuffer && c.transfer.length === 1 && c.transfer[0] === c.input.values.buffer), 'sortGroups moves the values and writes to shared memory');
  t.ok(boots.every((b) => b.sorted.buffer instanceof SharedArrayBuffer), 'bootstrap tasks read the shared sorted run');
  t.ok(boots.some((b) => b.first > 0), 'a large group is cut into several bootstrap tasks');
  t.ok(boots.some((b) => b.offsets.length > 2), 'small groups share a task');
  t.equal(calls.length, sorts.length + boots.length + calls.filter((c) => c.kernel.name === 'partitionBlock').length, 'no other kernels');
});

t.test('via the real kernel pool (2 kernel threads): exactly the reference', async (t) => {
  await matchesReference(t, poolRunKernel(t, 2));
});

t.test('row order does not matter; defaults; empty input; bind errors; kernel failures', async (t) => {
  const r = mulberry32(77);
  const values = Array.from({ length: 6000 }, () => Math.floor(r() * 1000));
  const shuffled = values.slice().sort(() => r() - 0.5);
  const a = await run(new Int32(), values, { groups: 4n, resamples: 25n }, inlineKernel);
  t.same(await run(new Int32(), shuffled, { groups: 4n, resamples: 25n }, inlineKernel), a, 'same rows in another order: same result');
  t.same(await run(new Int32(), values.slice(0, 500), {}, inlineKernel), reference(values.slice(0, 500), 64, DEFAULT_RESAMPLES), `defaults: 64 groups, ${DEFAULT_RESAMPLES} resamples`);
  t.same(await run(new Int32(), [], {}, inlineKernel), [], 'empty input: no rows');
  t.same(await run(new Float64(), [null, Number.NaN, Number.POSITIVE_INFINITY], {}, inlineKernel), [], 'only NULL/NaN/Inf: no rows');
  await t.rejects(run(new Int32(), [1], { resamples: 0n }, inlineKernel), /resamples must be between 1 and/);
  await t.rejects(run(new Int32(), [1], { groups: 0n }, inlineKernel), /group_bootstrap: groups must be between/);
  await t.rejects(run(new Int32(), [1], { column: 's' }, inlineKernel), /group_bootstrap: column "s" is Utf8/);
  await t.rejects(run(new Int32(), [1], { column: 'nope' }, inlineKernel), /no input column named "nope"/);
  const failing = (async (k: KernelRef, input: unknown, transfer?: readonly ArrayBuffer[]) => {
    if (k === bootstrapKernel) throw new Error('kernel exploded');
    return inlineKernel(k, input, transfer);
  }) as RunKernel;
  await t.rejects(run(new Int32(), [1, 2, 3], {}, failing), /kernel exploded/);
  t.ok(Object.keys(kernels).includes('bootstrapMedians') && Object.keys(kernels).includes('sortGroups'), 'the kernels are exported by name');
});

// ---------------------------------------------------------------------------------------------
// Real DuckDB

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`real DuckDB ${flavour} over ${transport}, 2 worker threads: DuckDB's count/median and the reference interval`, async (t) => {
      const w = await attachWorker(flavour, transport, { threads: 2 });
      t.teardown(() => w.close());
      const { duck } = w;
      await duck.run('SET threads = 2');
      await duck.run(`CREATE TEMP TABLE q AS SELECT CASE WHEN i % 97 = 0 THEN NULL ELSE ((hash(i) % 20001)::BIGINT - 10000) END AS x FROM range(30000) r(i)`);
      const sql = 'SELECT g, n, median, ci_low, ci_high FROM example.group_bootstrap((SELECT x FROM q), groups := 16) ORDER BY g';
      const got = await duck.query(sql);
      t.same(got.types, ['BIGINT', 'BIGINT', 'DOUBLE', 'DOUBLE', 'DOUBLE']);
      const native = await duck.query(`SELECT ((x % 16) + 16) % 16 AS g, count(*) AS n, median(x::DOUBLE) FROM q WHERE x IS NOT NULL GROUP BY 1 ORDER BY 1`);
      t.same(got.rows.map((r) => r.slice(0, 3)), native.rows, 'n and median per group are DuckDB\'s own');
      const xs = (await duck.query('SELECT x FROM q')).rows.map((r) => (r[0] === null ? null : BigInt(r[0] as string)));
      const want = reference(xs, 16, DEFAULT_RESAMPLES).map((r) => [String(r[0]), String(r[1]), r[2], r[3], r[4]]);
      t.same(got.rows, want, 'every group matches the reference, interval included');
      t.same((await duck.query(sql)).rows, got.rows, 'again: the same bits');
    });
  }
}
