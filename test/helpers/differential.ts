// Runs random differential cases (random-sql.ts) on an attached DuckDB and compares the worker's
// answer with DuckDB's own answer to the same query. Shared by test/e2e-differential.test.ts and
// scripts/soak.mjs.
import { statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckCrashError, DuckQueryError, sortRows, type Duck, type JsonValue, type QueryResult } from './duckdb.js';
import { makeCase, mixSeed, type CaseOptions, type DiffCase } from './random-sql.js';

/**
 * equal: same answer. refused: the worker refused a filter it cannot apply exactly, for a documented
 * reason outside the runtime (see REFUSALS). native-bug: DuckDB's own answer is wrong (NATIVE_BUGS):
 * the worker gave the answer of an equivalent native query that avoids the bug. known: a difference explained by an open, reported bug
 * (KNOWN_ISSUES; each has a regression test). The rest are failures.
 */
export type OutcomeKind = 'equal' | 'refused' | 'native-bug' | 'known' | 'diff' | 'worker-error' | 'native-error' | 'crash';

export interface KnownIssue {
  readonly id: string;
  readonly summary: string;
  /** the minimal regression test (its assertions are `todo` while the bug is open) */
  readonly test: string;
}

/**
 * Open bugs found by this test, each with a regression test whose assertions are `todo`: a failing
 * case that `matches` is reported as kind 'known' (todo in the test, still a failure in the soak).
 * Remove an entry when its fix lands, so that a recurrence fails again. Fixed so far:
 * v1-filter-column-name and thread-replacement (c2c90bd), v1-join-keys-name (d1d96bf).
 */
export const KNOWN_ISSUES: readonly (KnownIssue & {
  /** `starAgrees`: the same filters with SELECT * gave DuckDB's answer (null: not tried) */
  matches(c: DiffCase, flavour: string | undefined, starAgrees: boolean | null): boolean;
})[] = [];

function knownIssueOf(c: DiffCase, flavour: string | undefined, starAgrees: boolean | null): KnownIssue | null {
  return KNOWN_ISSUES.find((k) => k.matches(c, flavour, starAgrees)) ?? null;
}

/** Worker errors that are the correct reaction to what DuckDB sent (a required filter it cannot evaluate exactly). */
export const REFUSALS: readonly { readonly flavour: string; readonly re: RegExp; readonly why: string }[] = [
  {
    flavour: 'v1',
    re: /cannot be applied exactly: .*comparison op "unknown" is not supported/,
    why: 'DuckDB 1.5.3 serializes IS [NOT] DISTINCT FROM inside an OR filter as op "unknown"; 1.0 filters are required, so the worker must refuse',
  },
];

/**
 * DuckDB bugs that make the native side of a case wrong. `rewrite` gives an equivalent native query
 * that avoids the bug (the same query when it does not apply); a case whose worker answer differs
 * from DuckDB's but equals the rewritten query's is kind 'native-bug', not a difference.
 */
export const NATIVE_BUGS: readonly { readonly id: string; readonly why: string; rewrite(sql: string): string }[] = [
  {
    id: 'duckdb-1.5.5-distinct-or-all-null',
    why: "DuckDB 1.5.5 returns no rows for `p OR c IS DISTINCT FROM x` when c is NULL in every row of the table " +
      "(its statistics prune the OR; `c IS DISTINCT FROM x` alone keeps them all). Checked against the same " +
      'filter written as coalesce(c <> x, true), which DuckDB answers right (test/differential-native-bugs.test.ts)',
    rewrite: rewriteDistinct,
  },
];

/** `c IS [NOT] DISTINCT FROM <literal>` as coalesce(c <> lit, true) / coalesce(c = lit, false): the same for a non-NULL literal. */
export function rewriteDistinct(sql: string): string {
  return sql.replace(/("(?:[^"]|"")+") IS (NOT )?DISTINCT FROM ('(?:[^']|'')*'::[A-Z_]+(?:\(\d+(?:,\d+)?\))?|-?\d+(?:\.\d+)?)/g,
    (_m, col: string, not: string | undefined, lit: string) => (not ? `coalesce(${col} = ${lit}, false)` : `coalesce(${col} <> ${lit}, true)`));
}

export interface CaseOutcome {
  readonly kind: OutcomeKind;
  readonly ok: boolean;
  readonly c: DiffCase;
  /** one line: function, rows, shape, threads */
  readonly title: string;
  /** empty when ok; otherwise the diff, the seed and the SQL */
  readonly message: string;
  readonly ms: number;
  readonly resultRows: number;
  /** time of the native query and of the query through the worker */
  readonly nativeMs?: number;
  readonly workerMs?: number;
  /** kind 'known': the open issue that explains it */
  readonly known?: KnownIssue;
}

const threadsOf = new WeakMap<Duck, number>();

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function caseTitle(c: DiffCase): string {
  return `${c.fn} ${c.table.rows} rows ${c.table.columns.length} cols ${c.input.shape} threads=${c.threads}${c.ordered ? ' ordered' : ''}`;
}

/** The whole case as a SQL script (for a replay in any DuckDB with the worker attached as `example`). */
export function caseScript(c: DiffCase, header: string): string {
  return [
    `-- ${header}`,
    `-- replay the generator alone with VGI_DIFF_CASE=${c.seed}`,
    `SET threads = ${c.threads};`,
    ...c.input.setup.map((s) => `${s};`),
    '-- through the worker:',
    `${c.worker};`,
    '-- DuckDB alone:',
    `${c.native};`,
    ...c.input.teardown.map((s) => `${s};`),
    '',
  ].join('\n');
}

/** Multiset difference a − b of canonical row strings. */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = counts.get(x) ?? 0;
    if (n > 0) counts.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

function rowsDiff(got: readonly JsonValue[][], want: readonly JsonValue[][], ordered: boolean): string | null {
  const g = got.map((r) => JSON.stringify(r));
  const w = want.map((r) => JSON.stringify(r));
  if (ordered) {
    if (g.length === w.length && g.every((x, i) => x === w[i])) return null;
    const at = g.findIndex((x, i) => x !== w[i]);
    const first = at < 0 ? Math.min(g.length, w.length) : at;
    return (
      `ordered rows differ: worker ${g.length} rows, native ${w.length} rows; first difference at row ${first}\n` +
      `  worker: ${clip(g[first] ?? '<none>', 400)}\n  native: ${clip(w[first] ?? '<none>', 400)}`
    );
  }
  const gs = sortRows(g);
  const ws = sortRows(w);
  if (gs.length === ws.length && gs.every((x, i) => x === ws[i])) return null;
  const onlyG = minus(gs, ws);
  const onlyW = minus(ws, gs);
  return (
    `rows differ: worker ${g.length} rows, native ${w.length} rows; ${onlyG.length} only via the worker, ${onlyW.length} only native\n` +
    onlyG.slice(0, 5).map((x) => `  + worker: ${clip(x, 400)}`).join('\n') +
    (onlyG.length ? '\n' : '') +
    onlyW.slice(0, 5).map((x) => `  - native: ${clip(x, 400)}`).join('\n')
  );
}

/** sum_all_columns' expected answer from the native sums: int64-wrapped integers, doubles as they are, no row for empty input. */
function expectedSums(c: DiffCase, native: QueryResult): JsonValue[][] {
  const row = native.rows[0]!;
  const n = row[row.length - 1];
  if (n === '0' || n === 0) return []; // DuckDB never calls the worker for an empty input
  return [
    c.sums!.map((s, j) => {
      const v = row[j]!;
      return s.kind === 'int' ? BigInt.asIntN(64, BigInt(v as string)).toString() : v;
    }),
  ];
}

/**
 * For a failing case: do the same filters with the identity projection (`SELECT *`) agree? Tells
 * projection-dependent pushdown bugs from filter bugs. null: not applicable or the variant failed.
 */
async function triage(duck: Duck, c: DiffCase): Promise<{ text: string; starAgrees: boolean | null }> {
  if (!c.starVariant || !duck.alive || /^SELECT (f\.)?\* FROM/.test(c.worker)) return { text: '', starAgrees: null };
  try {
    for (const s of c.input.setup) await duck.run(s);
    const w = await duck.query(c.starVariant.worker);
    const n = await duck.query(c.starVariant.native);
    const agrees = rowsDiff(w.rows, n.rows, false) === null;
    return {
      text: agrees ? '\ntriage: the same filters with SELECT * agree (look at projection + pushdown)' : '\ntriage: the same filters with SELECT * differ too (look at the filters)',
      starAgrees: agrees,
    };
  } catch (e) {
    return { text: `\ntriage: SELECT * variant failed: ${clip(String((e as Error).message), 300)}`, starAgrees: null };
  } finally {
    if (duck.alive) for (const s of c.input.teardown) await duck.run(s).catch(() => undefined);
  }
}

async function setThreads(duck: Duck, n: number): Promise<void> {
  if (threadsOf.get(duck) === n) return;
  await duck.run(`SET threads = ${n}`);
  threadsOf.set(duck, n);
}

export interface RunOptions {
  /** printed with every failure, e.g. 'VGI_DIFF_SEED=123 v2/launch #17' */
  readonly label: string;
  /** 'v1' | 'v2': selects the REFUSALS that apply */
  readonly flavour?: string;
  readonly timeoutMs?: number;
  /** write failing cases to this directory (default: the OS temp dir) */
  readonly dumpDir?: string;
}

export async function runCase(duck: Duck, c: DiffCase, o: RunOptions): Promise<CaseOutcome> {
  const t0 = Date.now();
  const title = caseTitle(c);
  const timeoutMs = o.timeoutMs ?? 120_000;
  const fail = (kind: OutcomeKind, what: string, known: KnownIssue | null = null): CaseOutcome => {
    if (known) {
      what = `known issue ${known.id} (${known.test}): ${known.summary}\n${what}`;
      kind = 'known';
    }
    const script = `${what.split('\n').map((l) => `-- ${l}`).join('\n')}\n${caseScript(c, `${o.label}: ${title}`)}`;
    let file = '';
    try {
      file = join(o.dumpDir ?? tmpdir(), `vgi-diff-${c.seed}.sql`);
      writeFileSync(file, script);
    } catch {
      file = '';
    }
    const message =
      `${kind} — ${o.label} case ${c.seed}: ${title}\n${what}\n` +
      `--- SQL (${file ? `full script: ${file}` : 'not saved'}) ---\n` +
      `SET threads = ${c.threads};\n` +
      c.input.setup.map((s) => `${clip(s, 3000)};\n`).join('') +
      `-- worker: ${clip(c.worker, 4000)}\n-- native: ${clip(c.native, 4000)}`;
    return { kind, ok: false, c, title, message, ms: Date.now() - t0, resultRows: 0, ...(known ? { known } : {}) };
  };

  let native: QueryResult;
  let got: QueryResult;
  const alternatives: { bug: (typeof NATIVE_BUGS)[number]; result: QueryResult }[] = [];
  try {
    await setThreads(duck, c.threads);
    for (const s of c.input.setup) await duck.run(s, { timeoutMs });
    try {
      native = await duck.query(c.native, { timeoutMs });
    } catch (e) {
      if (e instanceof DuckQueryError) return fail('native-error', `DuckDB rejected the native query (a generator bug): ${e.message}`);
      throw e;
    }
    for (const bug of NATIVE_BUGS) {
      const sql = bug.rewrite(c.native);
      if (sql === c.native) continue;
      // A literal the rewrite does not understand (an ENUM's type list) makes bad SQL: no alternative then.
      try { alternatives.push({ bug, result: await duck.query(sql, { timeoutMs }) }); } catch (e) { if (!(e instanceof DuckQueryError)) throw e; }
    }
    try {
      got = await duck.query(c.worker, { timeoutMs });
    } catch (e) {
      if (!(e instanceof DuckQueryError)) throw e;
      const refusal = REFUSALS.find((x) => x.flavour === o.flavour && x.re.test(e.message));
      if (refusal) return { kind: 'refused', ok: true, c, title, message: `${refusal.why}: ${clip(e.message, 300)}`, ms: Date.now() - t0, resultRows: 0 };
      const tr = await triage(duck, c);
      return fail('worker-error', `the query through the worker failed, natively it returned ${native.rows.length} rows:\n${clip(e.message, 2000)}${tr.text}`, knownIssueOf(c, o.flavour, tr.starAgrees));
    }
  } catch (e) {
    if (e instanceof DuckCrashError) return fail('crash', clip(e.message, 3000));
    throw e;
  } finally {
    if (duck.alive) for (const s of c.input.teardown) await duck.run(s).catch(() => undefined);
  }

  const problems: string[] = [];
  const want = c.sums ? expectedSums(c, native) : native.rows;
  const d = rowsDiff(got.rows, want, c.ordered);
  if (d) problems.push(d);
  // Types: sum_all_columns' are BIGINT/DOUBLE by its contract; otherwise DuckDB's own, after the Arrow
  // mapping (HUGEINT → DECIMAL(38,0); UUID/ENUM are read as VARCHAR by the native query already).
  const wantTypes = c.sums ? c.types! : c.digest ? native.types : native.types.map((t) => (t === 'HUGEINT' ? 'DECIMAL(38,0)' : t));
  if (want.length > 0 && JSON.stringify(got.types) !== JSON.stringify(wantTypes)) {
    problems.push(`types differ:\n  worker: ${got.types.join(', ')}\n  expect: ${wantTypes.join(', ')}`);
  }
  if (c.sums && got.rows.length > 0 && JSON.stringify(got.columns) !== JSON.stringify(c.sums.map((s) => s.name))) {
    problems.push(`column names differ: ${JSON.stringify(got.columns)} vs ${JSON.stringify(c.sums.map((s) => s.name))}`);
  }
  if (problems.length) {
    // DuckDB's own answer may be the wrong one: the worker must then match the bug-free formulation.
    for (const a of alternatives) {
      const alt = c.sums ? expectedSums(c, a.result) : a.result.rows;
      if (rowsDiff(a.result.rows, native.rows, c.ordered) && !rowsDiff(got.rows, alt, c.ordered)) {
        return { kind: 'native-bug', ok: true, c, title, message: `${a.bug.id}: ${a.bug.why}`, ms: Date.now() - t0, resultRows: got.rows.length };
      }
    }
    const tr = await triage(duck, c);
    return fail('diff', `${problems.join('\n')}${tr.text}`, knownIssueOf(c, o.flavour, tr.starAgrees));
  }
  return { kind: 'equal', ok: true, c, title, message: '', ms: Date.now() - t0, resultRows: got.rows.length, nativeMs: native.ms, workerMs: got.ms };
}

export interface Combo {
  readonly flavour: string;
  readonly transport: string;
}

/** The seed of case `i` of a combo: stable for a given run seed, so any case can be replayed alone. */
export function caseSeed(runSeed: number, comboIndex: number, i: number): number {
  return mixSeed(runSeed, comboIndex, i);
}

export function runSeedFromEnv(): number {
  const env = process.env.VGI_DIFF_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new Error(`VGI_DIFF_SEED must be a non-negative integer, got ${env}`);
    return n >>> 0;
  }
  return (Date.now() ^ (process.pid << 12)) >>> 0;
}

/**
 * Other work may rebuild dist/ while tests run. Under stdio every DuckDB process is a relay to an actor
 * host named after (among others) the mtimes of the CLI and the function module, so a relay started
 * after a rebuild reaches a new host that never saw the running execution: "unknown execution_id …
 * (init never ran on this worker …)". Returns a check, called after each case, that recognises that.
 */
export function distRebuildWatcher(files = ['dist/runtime/cli.js', 'dist/functions/fixtures/index.js'].map((f) => new URL(`../../${f}`, import.meta.url))): (r: CaseOutcome, transport: string) => boolean {
  const stamp = (): string => files.map((f) => { try { return String(statSync(f).mtimeMs); } catch { return '0'; } }).join(',');
  let last = stamp();
  return (r, transport) => {
    const now = stamp();
    const rebuilt = now !== last;
    last = now;
    return rebuilt && transport === 'stdio' && r.kind === 'worker-error' && /unknown execution_id/.test(r.message);
  };
}

export interface SeriesStats {
  run: number;
  equal: number;
  refused: number;
  /** cases where DuckDB's own answer was wrong and the worker's right (NATIVE_BUGS) */
  nativeBugs: number;
  /** stdio cases that failed because dist/ was rebuilt during them (distRebuildWatcher); not in failures */
  setAside: CaseOutcome[];
  /** differences explained by an open issue (KNOWN_ISSUES); not in failures */
  known: CaseOutcome[];
  failures: CaseOutcome[];
  byFn: Record<string, number>;
  ms: number;
}

/**
 * Runs `count` cases of one combo in sequence. VGI_DIFF_CASE=<case seed> runs that one case instead.
 * Stops early after a crash of the DuckDB child (nothing after it could run).
 */
export async function runSeries(
  duck: Duck,
  o: {
    runSeed: number; comboIndex: number; count: number; label: string; flavour?: string; transport?: string;
    caseOptions?: CaseOptions; onCase?: (r: CaseOutcome, i: number, setAside: boolean) => void;
  },
): Promise<SeriesStats> {
  const t0 = Date.now();
  const only = process.env.VGI_DIFF_CASE;
  const seeds = only ? [Number(only) >>> 0] : Array.from({ length: o.count }, (_, i) => caseSeed(o.runSeed, o.comboIndex, i));
  const stats: SeriesStats = { run: 0, equal: 0, refused: 0, nativeBugs: 0, setAside: [], known: [], failures: [], byFn: {}, ms: 0 };
  const rebuiltDuring = distRebuildWatcher();
  for (let i = 0; i < seeds.length; i++) {
    const c = makeCase(seeds[i]!, { ...o.caseOptions, tableName: `dt_${i}` });
    const r = await runCase(duck, c, { label: `VGI_DIFF_SEED=${o.runSeed} ${o.label} #${i}`, flavour: o.flavour });
    stats.run++;
    stats.byFn[c.fn] = (stats.byFn[c.fn] ?? 0) + 1;
    const setAside = rebuiltDuring(r, o.transport ?? '');
    if (r.kind === 'equal') stats.equal++;
    else if (r.kind === 'refused') stats.refused++;
    else if (r.kind === 'native-bug') stats.nativeBugs++;
    else if (setAside) stats.setAside.push(r);
    else if (r.kind === 'known') stats.known.push(r);
    else stats.failures.push(r);
    o.onCase?.(r, i, setAside);
    if (r.kind === 'crash' || !duck.alive) break;
  }
  stats.ms = Date.now() - t0;
  return stats;
}
