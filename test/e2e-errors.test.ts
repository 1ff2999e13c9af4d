// Aggregations, errors, crashes, logs and pooling on real DuckDB. After every failure the next
// query on the same attached worker must pass.
import t from 'tap';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const OK = `SELECT count(*) FROM example.buffer_input((SELECT * FROM range(3000)))`;

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`${flavour} over ${transport}`, async (t) => {
      const w = await attachWorker(flavour, transport);
      t.teardown(() => w.close());
      const { duck } = w;
      const stillServes = async (): Promise<void> => {
        t.equal(await duck.queryValue(OK), '3000', 'the next query passes');
      };

      await t.test('sum_all_columns', async (t) => {
        t.strictSame((await duck.query(`SELECT * FROM example.sum_all_columns((SELECT 1 AS a, 2 AS b))`)).rows, [['1', '2']]);
        t.strictSame((await duck.query(`SELECT * FROM example.sum_all_columns((SELECT * FROM (VALUES (1.5::DECIMAL(4,1)), (2.5), (3.0)) v(x)))`)).rows, [[7]]);
        t.strictSame((await duck.query(`SELECT * FROM example.sum_all_columns((SELECT range AS v, 'x' AS s FROM range(1, 100001)))`)).rows, [['5000050000']]);
        await duck.expectError(`SELECT * FROM example.sum_all_columns((SELECT 'a' AS s))`, 'requires at least one numeric');
        await stillServes();
      });

      await t.test('INFO logs reach duckdb_logs', async (t) => {
        await duck.run(`CALL enable_logging(level := 'debug')`);
        await duck.query(`SELECT * FROM example.sum_all_columns((SELECT * FROM range(5000)), logging := true)`);
        const processed = await duck.queryValue(`SELECT count(*) FROM duckdb_logs WHERE message LIKE '%Processing batch with%' AND message LIKE '%level=INFO%' AND message LIKE '%conn=%'`);
        t.ok(Number(processed) >= 3, `process logs (${processed})`);
        const combined = await duck.queryValue(`SELECT count(*) FROM duckdb_logs WHERE message LIKE '%Combining 1 state_ids%'`);
        t.equal(Number(combined), 1, 'combine log');
        await duck.run(`CALL disable_logging()`);
      });

      await t.test('exceptions reach DuckDB with their message', async () => {
        await duck.expectError(`SELECT * FROM example.exception_process((SELECT * FROM range(10000)))`, 'Intentional exception on batch 2');
        await stillServes();
        t.strictSame((await duck.query(`SELECT * FROM example.exception_process((SELECT * FROM range(10)))`)).rows, [['0']]);
        await duck.expectError(`SELECT * FROM example.exception_finalize((SELECT * FROM range(10)))`, 'Intentional exception during finalize()');
        await stillServes();
        await duck.expectError(`SELECT * FROM example.crash_on_combine((SELECT * FROM range(10)))`, 'Intentional exception during combine()');
        await stillServes();
        await duck.expectError(`SELECT * FROM example.crash_on_finalize((SELECT * FROM range(10)))`, 'Intentional exception during finalize()');
        await stillServes();
      });

      await t.test('crash_on_process fails its query only', async (t) => {
        const msg = await duck.expectError(`SELECT * FROM example.crash_on_process((SELECT * FROM range(10)))`);
        t.match(msg, /actor thread|EOF|died/i, msg);
        await stillServes();
        await stillServes();
      });

      await t.test('large_state buffers at least 32 MiB', async (t) => {
        const r = await duck.query(`SELECT * FROM example.large_state((SELECT range AS v FROM range(100000)))`);
        t.equal(r.rows.length, 1);
        t.ok(Number(r.rows[0]![0]) >= 32 * 1024 * 1024, `total ${r.rows[0]![0]}`);
      });
    });

    t.test(`${flavour} over ${transport} with pool false`, async (t) => {
      const w = await attachWorker(flavour, transport, { pool: false });
      t.teardown(() => w.close());
      await w.duck.run(`SET threads = 4`);
      await w.duck.run(`CREATE TEMP TABLE pf AS SELECT range AS v FROM range(200000)`);
      t.strictSame(
        (await w.duck.query(`SELECT count(*), sum(v) FROM example.buffer_input((SELECT * FROM pf))`)).rows,
        (await w.duck.query(`SELECT count(*), sum(v) FROM pf`)).rows,
      );
      const r = await w.duck.query(`SELECT * FROM example.large_state((SELECT * FROM pf))`);
      t.equal(r.rows.length, 1);
    });
  }
}
