// Real DuckDB (both protocol versions) against the fixture worker, over stdio and launch:.
// Every expected answer is DuckDB's own answer to the same query without the worker.
import t from 'tap';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const TYPED = `CREATE TEMP TABLE typed AS SELECT * FROM (VALUES
  (1, 42::TINYINT, (-7)::SMALLINT, 123456::INTEGER, 9223372036854775807::BIGINT, 1.5::FLOAT, (-2.25)::DOUBLE, 12345.678::DECIMAL(18,3), 1.5::DECIMAL(4,1),
   'hello', DATE '2024-01-31', TIMESTAMP '2024-01-31 12:34:56.789', [1, 2, 3], {'a': 1, 'b': 'x'}, true, 'ümlaut ✓'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, (-128)::TINYINT, 32767::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, 'nan'::FLOAT, 'inf'::DOUBLE, (-0.001)::DECIMAL(18,3), 99.9::DECIMAL(4,1),
   '', DATE '1970-01-01', TIMESTAMP '1999-12-31 23:59:59', [], {'a': NULL, 'b': NULL}, false, 'it''s')
) t(id, i8, i16, i32, i64, f32, f64, dec18, dec4, s, d, ts, l, st, b, u)`;

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`${flavour} over ${transport}`, async (t) => {
      const w = await attachWorker(flavour, transport);
      t.teardown(() => w.close());
      const { duck } = w;
      const same = async (viaWorker: string, native: string, msg: string): Promise<void> => {
        const [a, b] = await Promise.all([duck.query(viaWorker), duck.query(native)]);
        t.strictSame(a.rows, b.rows, msg);
        t.ok(a.rows.length > 0 || native.includes('range(0)'), `${msg}: non-empty`);
      };

      await t.test('functions are listed with descriptions', async (t) => {
        const rows = await duck.queryObjects(`SELECT function_name, description FROM duckdb_functions() WHERE database_name = 'example' ORDER BY 1`);
        const names = rows.map((r) => r.function_name);
        for (const n of ['buffer_input', 'echo_buffering', 'sum_all_columns', 'ordered_source', 'large_state']) t.ok(names.includes(n), n);
        t.equal(rows.find((r) => r.function_name === 'buffer_input')?.description, 'Collects all input batches and emits during finalization');
        t.ok(((await duck.query(`SELECT * FROM duckdb_schemas() WHERE database_name = 'example'`)).rows.length) > 0, 'schemas listed');
      });

      await t.test('single chunk keeps input order', async (t) => {
        const r = await duck.query(`SELECT * FROM example.buffer_input((SELECT * FROM (VALUES (5), (4), (3), (2), (1)) v(x)))`);
        t.strictSame(r.rows, [[5], [4], [3], [2], [1]]);
      });

      await t.test('every column type round-trips exactly', async () => {
        await duck.run(TYPED);
        await same(`SELECT * FROM example.buffer_input((SELECT * FROM typed)) ORDER BY id`, `SELECT * FROM typed ORDER BY id`, 'typed rows');
      });

      await t.test('empty input gives no rows', async (t) => {
        const r = await duck.query(`SELECT * FROM example.buffer_input((SELECT * FROM range(0)))`);
        t.equal(r.rows.length, 0);
      });

      await t.test('1e6-row TEMP TABLE over a parallel sink', async () => {
        await duck.run(`SET threads = 2`);
        await duck.run(`CREATE TEMP TABLE big AS SELECT range AS n, range % 7 AS k, 'v' || (range % 100) AS s FROM range(1000000)`);
        await same(
          `SELECT count(*), sum(n), sum(k), count(DISTINCT s), min(n), max(n) FROM example.buffer_input((SELECT * FROM big))`,
          `SELECT count(*), sum(n), sum(k), count(DISTINCT s), min(n), max(n) FROM big`,
          'aggregates over 1e6 rows',
        );
      });

      await t.test('UNION ALL and LATERAL inputs', async () => {
        await duck.run(`CREATE TEMP TABLE u1 AS SELECT range AS v FROM range(100)`);
        await duck.run(`CREATE TEMP TABLE u2 AS SELECT range + 1000 AS v FROM range(100)`);
        await same(
          `SELECT * FROM example.buffer_input((SELECT v FROM u1 UNION ALL SELECT v FROM u2)) ORDER BY v`,
          `SELECT v FROM u1 UNION ALL SELECT v FROM u2 ORDER BY v`,
          'union all',
        );
        await same(
          `SELECT * FROM (VALUES (1), (2)) o(x), LATERAL (SELECT * FROM example.buffer_input((SELECT 100::BIGINT AS v UNION ALL SELECT 200::BIGINT))) b ORDER BY 1, 2`,
          `SELECT * FROM (VALUES (1), (2)) o(x), (SELECT 100::BIGINT AS v UNION ALL SELECT 200::BIGINT) b ORDER BY 1, 2`,
          'lateral',
        );
      });

      await t.test('the next query after all that still passes', async (t) => {
        t.equal(await duck.queryValue(`SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)))`), '10');
      });
    });
  }
}
