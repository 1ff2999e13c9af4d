// Projection + filter pushdown on real DuckDB: echo_buffering must return exactly what DuckDB's
// own WHERE returns, including for columns it does not project and for filters it keeps.
import t from 'tap';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const TABLE = `CREATE TEMP TABLE pt AS SELECT
  range AS id,
  CASE WHEN range % 11 = 0 THEN NULL ELSE (range * 37) % 100 END AS b,
  (range % 13)::INTEGER - 6 AS n,
  CASE WHEN range % 17 = 0 THEN NULL ELSE 'k' || (range % 23) END AS s,
  (range % 50) / 4.0 AS d,
  ((range % 400) * 1.25)::DECIMAL(18,3) AS dec,
  DATE '2024-01-01' + (range % 60)::INTEGER AS dt,
  {'f': range % 5, 'g': 's' || (range % 3)} AS st
FROM range(5000)`;

const WHERES = [
  'b = 37', 'b <> 37', 'b > 50', 'b >= 50 AND b < 60', 'n BETWEEN -2 AND 2', 'n = 3',
  's = \'k7\'', 's > \'k5\'', 's LIKE \'k1%\'', 'b IN (37, 74, 11)', 's IN (\'k1\', \'k3\', \'k22\')',
  'b IS NULL', 'b IS NOT NULL AND b > 90', 'd > 5.5', 'dec > 30.5', 'dt > DATE \'2024-02-01\'',
  'st.f = 2', 'b = 37 OR b > 90', 'b > 10 AND n < 0 AND s IS NOT NULL', 'n IN (1, 2, 3)',
];
const SELECTS = ['*', 'id', 'id, s', 's, id'];

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`${flavour} over ${transport}`, async (t) => {
      const w = await attachWorker(flavour, transport);
      t.teardown(() => w.close());
      const { duck } = w;
      await duck.run(TABLE);

      await t.test('projection alone', async (t) => {
        for (const sel of SELECTS) {
          const a = await duck.query(`SELECT ${sel} FROM example.echo_buffering((SELECT * FROM pt)) ORDER BY ALL`);
          const b = await duck.query(`SELECT ${sel} FROM pt ORDER BY ALL`);
          t.strictSame(a.rows, b.rows, `SELECT ${sel}`);
        }
      });

      await t.test('filters equal DuckDB\'s own WHERE', async (t) => {
        for (const where of WHERES) {
          for (const sel of ['*', 'id']) {
            const a = await duck.query(`SELECT ${sel} FROM example.echo_buffering((SELECT * FROM pt)) WHERE ${where} ORDER BY ALL`);
            const b = await duck.query(`SELECT ${sel} FROM pt WHERE ${where} ORDER BY ALL`);
            t.strictSame(a.rows, b.rows, `SELECT ${sel} … WHERE ${where} (${b.rows.length} rows)`);
          }
        }
      });

      await t.test('filter pushdown really reaches the worker', async (t) => {
        const plan = (await duck.query(`EXPLAIN SELECT id FROM example.echo_buffering((SELECT * FROM pt)) WHERE b > 50`)).rows.map((r) => r.join(' ')).join('\n');
        t.match(plan, /b>50|b > 50/, 'the filter is listed on the buffering node');
      });

      await t.test('ORDER BY … LIMIT', async (t) => {
        const a = await duck.query(`SELECT id FROM example.echo_buffering((SELECT * FROM pt)) ORDER BY id LIMIT 5`);
        t.strictSame(a.rows.map((r) => r[0]), ['0', '1', '2', '3', '4']);
      });
    });
  }
}
