// Regression (found by the soak's differential run after c2c90bd; fixed in d1d96bf): protocol 1.0.0 IN lists on the wrong keys.
//
// DuckDB 1.5.3 pushes IN lists as `join_keys` filters. For
//   SELECT c FROM example.echo_buffering((SELECT * FROM t3)) WHERE b IN (10, 30, 70) AND c IN (100, 700, 900)
// (projection [b, c]) it sends
//   [{"column_name":"c","column_index":1,"type":"join_keys","keys_column":"c"},
//    {"column_name":"c","column_index":2,"type":"join_keys","keys_column":"c"}]
// column_index is right (c2c90bd resolves the column by it), but keys_column carries the same wrong
// name as column_name, and actors/pushdown/parse-v1.ts used to pick the key stream by that name: both
// filters got the first stream, so `c IN (10, 30, 70)` was applied and every row dropped. DuckDB
// alone answers [[100], [700]]. When the two columns had different types the query failed instead:
// "required filter v1:2 cannot be applied exactly: cannot compare a Timestamp<MILLISECOND> column
// with a Float64 constant exactly" (seen in the soak). SELECT * (identity projection) was right;
// protocol 2.0.0 was never affected.
import t from 'tap';
import { attachWorker } from './helpers/worker.js';

const TABLE = `CREATE TEMP TABLE t3 AS SELECT range::INTEGER AS a, (range * 10)::INTEGER AS b, (range * 100)::INTEGER AS c FROM range(10)`;
const WHERE = `WHERE b IN (10, 30, 70) AND c IN (100, 700, 900)`;

t.test('v1 over launch: two IN lists each filter their own column', async (t) => {
  const w = await attachWorker('v1', 'launch');
  t.teardown(() => w.close());
  const { duck } = w;
  await duck.run(TABLE);
  t.strictSame((await duck.query(`SELECT c FROM t3 ${WHERE} ORDER BY c`)).rows, [[100], [700]], 'DuckDB alone');
  t.strictSame((await duck.query(`SELECT * FROM example.echo_buffering((SELECT * FROM t3)) ${WHERE} ORDER BY c`)).rows, [[1, 10, 100], [7, 70, 700]], 'SELECT * (control)');
  t.strictSame((await duck.query(`SELECT c FROM example.echo_buffering((SELECT * FROM t3)) ${WHERE} ORDER BY c`)).rows, [[100], [700]], `SELECT c … ${WHERE}`);

  // Different column types: the mix-up used to fail the query.
  await duck.run(`CREATE TEMP TABLE t6 AS SELECT range AS id, (range % 3)::DOUBLE AS d, TIMESTAMP_MS '2023-04-11 08:33:36.883' + INTERVAL (range) SECOND AS ts FROM range(10)`);
  const sql = `SELECT ts FROM example.echo_buffering((SELECT * FROM t6)) WHERE ts IN ('2023-04-11 08:33:36.883'::TIMESTAMP_MS, '2023-04-11 08:33:37.883'::TIMESTAMP_MS) AND d IN (1.0::DOUBLE, 2.0::DOUBLE)`;
  let rows: unknown[][] | string;
  try {
    rows = (await duck.query(sql)).rows;
  } catch (e) {
    rows = (e as Error).message.split('\n')[0]!;
  }
  t.strictSame(rows, [['2023-04-11 08:33:37.883']], sql);
});

t.test('v2 (protocol 2.0.0) gets the same query right', async (t) => {
  const w = await attachWorker('v2', 'launch');
  t.teardown(() => w.close());
  await w.duck.run(TABLE);
  t.strictSame((await w.duck.query(`SELECT c FROM example.echo_buffering((SELECT * FROM t3)) ${WHERE} ORDER BY c`)).rows, [[100], [700]]);
});
