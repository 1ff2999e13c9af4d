// Regression (found by the differential test; fixed in c2c90bd): protocol 1.0.0 filter on the wrong column.
//
// DuckDB 1.5.3's vgi extension sends, for `SELECT c, b … WHERE b = 30` with projection [b, c]:
//   [{"column_name":"c","column_index":1,"type":"constant","op":"eq","value_ref":0}]
// column_index (1) is b's index in the function's output schema; column_name is wrong ("c": the
// name at position 1 of the projected columns). Its own EXPLAIN shows `Filters: c=30` too. The worker
// used to resolve 1.0 filters by column_name (as spec §5.6 said), applied `c = 30` and dropped every
// row: a silently wrong answer (or, when the wrong column had another type, "cannot compare a …
// column with a … constant exactly"). Protocol 2.0.0 (DuckDB 1.5.5) was never affected.
import t from 'tap';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const TABLE = `CREATE TEMP TABLE t3 AS SELECT range::INTEGER AS a, (range * 10)::INTEGER AS b, (range * 100)::INTEGER AS c FROM range(10)`;
const CASES: [string, unknown[][]][] = [
  [`SELECT c, b FROM example.echo_buffering((SELECT * FROM t3)) WHERE b = 30`, [[300, 30]]],
  [`SELECT c FROM example.echo_buffering((SELECT * FROM t3)) WHERE b = 30`, [[300]]],
  [`SELECT c FROM example.echo_buffering((SELECT * FROM t3)) WHERE b >= 80 ORDER BY c`, [[800], [900]]],
];

for (const transport of TRANSPORTS) {
  t.test(`v1 over ${transport}: a pushed filter applies to the column the query names`, async (t) => {
    const w = await attachWorker('v1', transport);
    t.teardown(() => w.close());
    await w.duck.run(TABLE);
    // The identity projection (where name and index agree) was always right.
    t.strictSame((await w.duck.query(`SELECT * FROM example.echo_buffering((SELECT * FROM t3)) WHERE b = 30`)).rows, [[3, 30, 300]], 'SELECT * (control)');
    for (const [sql, want] of CASES) {
      t.strictSame((await w.duck.query(sql.replace('example.echo_buffering((SELECT * FROM t3))', 't3'))).rows, want, `DuckDB alone: ${sql}`);
      t.strictSame((await w.duck.query(sql)).rows, want, sql);
    }
    // A filter column of another type: the mix-up used to surface as an error instead of wrong rows.
    await w.duck.run(`CREATE TEMP TABLE t4 AS SELECT range::INTEGER AS a, 'k' || range AS s, range::DOUBLE AS d FROM range(10)`);
    const sql = `SELECT d, s FROM example.echo_buffering((SELECT * FROM t4)) WHERE s = 'k3'`;
    let rows: unknown[][] | string;
    try {
      rows = (await w.duck.query(sql)).rows;
    } catch (e) {
      rows = (e as Error).message;
    }
    t.strictSame(rows, [[3, 'k3']], sql);
  });
}

t.test('v2 (protocol 2.0.0) gets the same queries right', async (t) => {
  const w = await attachWorker('v2', 'launch');
  t.teardown(() => w.close());
  await w.duck.run(TABLE);
  for (const [sql, want] of CASES) t.strictSame((await w.duck.query(sql)).rows, want, sql);
});
