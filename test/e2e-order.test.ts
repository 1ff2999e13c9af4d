// Ordering contracts on real DuckDB: sink order, batch-index order, source order.
import t from 'tap';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`${flavour} over ${transport}`, async (t) => {
      const w = await attachWorker(flavour, transport);
      t.teardown(() => w.close());
      const { duck } = w;

      await t.test('batch index: 50k-row TEMP TABLE under 4 threads comes back in source order', async (t) => {
        await duck.run(`SET threads = 4`);
        await duck.run(`CREATE TEMP TABLE src AS SELECT range AS id, range * 3 AS v FROM range(50000)`);
        const r = await duck.query(`SELECT id FROM example.batch_index_buffer_input((SELECT * FROM src))`);
        t.equal(r.rows.length, 50000);
        let inOrder = true;
        for (let i = 0; i < r.rows.length; i++) if (r.rows[i]![0] !== String(i)) { inOrder = false; break; }
        t.ok(inOrder, 'rows 0..49999 in order');
      });

      await t.test('sink order: one sink connection, rows in source order', async (t) => {
        await duck.run(`SET threads = 4`);
        await duck.run(`CREATE TEMP TABLE so AS SELECT range AS id FROM range(20000)`);
        await duck.run(`CALL enable_logging(level := 'debug')`);
        const r = await duck.query(`SELECT id FROM example.ordered_buffer_input((SELECT * FROM so))`);
        t.strictSame(r.rows.map((x) => x[0]), Array.from({ length: 20000 }, (_, i) => String(i)));
        const conns = await duck.queryValue(
          `SELECT count(DISTINCT regexp_extract(message, 'conn=([0-9a-f]+)', 1)) FROM duckdb_logs WHERE message LIKE '%table_buffering.process%' AND message LIKE '%ordered_buffer_input%'`,
        );
        t.equal(Number(conns), 1, 'exactly one sink connection');
        await duck.run(`CALL disable_logging()`);
      });

      await t.test('source order: 16 finalize streams drained in combine order', async (t) => {
        for (const threads of [1, 4]) {
          await duck.run(`SET threads = ${threads}`);
          const r = await duck.query(`SELECT v FROM example.ordered_source((SELECT * FROM range(10)))`);
          t.strictSame(r.rows.map((x) => Number(x[0])), Array.from({ length: 16 }, (_, i) => i), `threads=${threads}`);
        }
      });

      await t.test('wide finalize batches are paged by DuckDB', async (t) => {
        for (const n of [2048, 2049, 10000]) {
          const r = await duck.queryObjects(`SELECT count(*) AS c, sum(n) AS s FROM example.buffer_emit_wide(${n}, (SELECT 1))`);
          t.strictSame(r, [{ c: String(n), s: String((n * (n - 1)) / 2) }], `rows=${n}`);
        }
      });
    });
  }
}
