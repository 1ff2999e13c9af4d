// The bench matrix: configurations (one DuckDB process each) and the rows they run.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const FLOOR_ACK = `${root}bench/floor-ack.mjs`;
export const FLOOR_ECHO = `${root}bench/floor-echo.mjs`;

const q = (s) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
export const commandLine = (argv) => argv.map(q).join(' ');

const sum = (n) => (BigInt(n) * BigInt(n - 1)) / 2n;

/** SQL and expected first cell of each benchmarked function over a source relation. */
export const FUNCTIONS = {
  buffer_input: { sql: (src) => `SELECT count(*) FROM example.buffer_input((SELECT * FROM ${src}))`, expect: (n) => String(n) },
  sum_all_columns: { sql: (src) => `SELECT * FROM example.sum_all_columns((SELECT * FROM ${src}))`, expect: (n) => String(sum(n)) },
  noop_buffer: { sql: (src) => `SELECT count(*) FROM example.noop_buffer((SELECT * FROM ${src}))`, expect: () => '0' },
  group_quantiles: { sql: (src) => `SELECT count(*) FROM example.group_quantiles((SELECT * FROM ${src}))`, expect: () => '64' },
  // CPU-heavy on purpose (default 400 bootstrap resamples per group): compute ≫ ingest.
  group_bootstrap: { sql: (src) => `SELECT count(*) FROM example.group_bootstrap((SELECT * FROM ${src}))`, expect: () => '64' },
  // DuckDB alone, same answers; MATERIALIZED makes it buffer the input like the operator does.
  'ref:count': { sql: (src) => `WITH d AS MATERIALIZED (SELECT * FROM ${src}) SELECT count(*) FROM d`, expect: (n) => String(n) },
  'ref:sum': { sql: (src) => `WITH d AS MATERIALIZED (SELECT * FROM ${src}) SELECT sum(range) FROM d`, expect: (n) => String(sum(n)) },
};

/** Functions measured with `--threads 1` and `--threads 2` (configs `<fn>/threads=1|2`); the
 * ratio column shows threads=1 / threads=2, against the issue's target where it sets one. */
export const SPEEDUP_TARGET = { group_quantiles: null, group_bootstrap: 1.8 };

/** Which floor row is the denominator of a function's ratio. */
export const FLOOR_OF = { buffer_input: 'floor-echo', sum_all_columns: 'floor-ack', noop_buffer: 'floor-ack' };

/** `cli`: the vgi-actors CLI to run (a private snapshot of dist/, see scripts/bench.mjs). */
export function configurations({ quick, cli }) {
  const ACTORS_CLI = cli;
  const ns = quick ? [1e6] : [1e6, 1e7];
  const gqN = quick ? [1e6] : [1e7];
  const inputs = ['range', 'table'];
  const fns = ['buffer_input', 'sum_all_columns', 'noop_buffer'];
  return [
    { id: 'floor-echo/launch', worker: 'floor-echo', transport: 'launch', argv: [process.execPath, FLOOR_ECHO], inputs, ns, fns: ['buffer_input'] },
    { id: 'floor-ack/launch', worker: 'floor-ack', transport: 'launch', argv: [process.execPath, FLOOR_ACK], inputs, ns, fns: ['noop_buffer'] },
    { id: 'floor-ack/stdio', worker: 'floor-ack', transport: 'stdio', argv: [process.execPath, FLOOR_ACK], inputs, ns, fns: ['noop_buffer'] },
    { id: 'actors/launch', worker: 'actors', transport: 'launch', argv: [process.execPath, ACTORS_CLI, 'serve', '--fixtures'], inputs, ns, fns },
    { id: 'actors/stdio', worker: 'actors', transport: 'stdio', argv: [process.execPath, ACTORS_CLI, 'serve', '--fixtures'], inputs, ns, fns },
    // Protocol 1.0.0 (DuckDB 1.5.3). The floors speak 2.0.0 only, so these rows have no ratio.
    { id: 'actors/launch (DuckDB 1.5.3)', worker: 'actors-v1', duck: 'v1', transport: 'launch', argv: [process.execPath, ACTORS_CLI, 'serve', '--fixtures'], inputs, ns: ns.slice(-1), fns },
    { id: 'actors/stdio (DuckDB 1.5.3)', worker: 'actors-v1', duck: 'v1', transport: 'stdio', argv: [process.execPath, ACTORS_CLI, 'serve', '--fixtures'], inputs, ns: ns.slice(-1), fns },
    { id: 'duckdb/reference', worker: 'duckdb', transport: '-', argv: null, inputs, ns, fns: ['ref:count', 'ref:sum'] },
    // One query on every core: the same function with one and two actor + kernel threads.
    ...Object.keys(SPEEDUP_TARGET).flatMap((fn) => [1, 2].map((n) => (
      { id: `${fn}/threads=${n}`, worker: 'actors', transport: 'launch', argv: [process.execPath, ACTORS_CLI, 'serve', '--fixtures', '--threads', String(n)], inputs: ['table'], ns: gqN, fns: [fn] }))),
  ];
}
