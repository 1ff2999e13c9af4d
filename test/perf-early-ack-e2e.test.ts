// Early acknowledgement against real DuckDB (both protocol versions, both transports): rows are
// exact; a process failure, a broken stateId declaration and a dead actor thread still reach
// DuckDB (at a later process call or at combine) with a clear message; logs written by queued
// process calls still reach duckdb_logs; the next query passes.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { FLAVOURS } from './helpers/duckdb.js';
import { attachWorker, TRANSPORTS } from './helpers/worker.js';

const MODULE = fileURLToPath(new URL('./helpers/fixtures/perf-early-ack-functions.mjs', import.meta.url));

for (const flavour of FLAVOURS) {
  for (const transport of TRANSPORTS) {
    t.test(`${flavour} over ${transport}`, async (t) => {
      const w = await attachWorker(flavour, transport, { module: MODULE });
      t.teardown(() => w.close());
      const { duck } = w;
      const ok = async (): Promise<void> => {
        t.strictSame((await duck.query(`SELECT count(*), sum(range) FROM example.early_keep((SELECT * FROM range(100000)))`)).rows, [['100000', '4999950000']], 'early_keep: exact rows');
      };

      await ok();
      await duck.run(`SET threads = 4`);
      await duck.run(`CREATE TEMP TABLE big AS SELECT range AS n, range % 7 AS k FROM range(300000)`);
      t.strictSame((await duck.query(`SELECT count(*), sum(n), sum(k) FROM example.early_keep((SELECT * FROM big))`)).rows,
        (await duck.query(`SELECT count(*), sum(n), sum(k) FROM big`)).rows, 'parallel sink: exact rows');

      await duck.expectError(`SELECT count(*) FROM example.early_fail((SELECT * FROM range(100000)))`, 'Intentional early failure on chunk 3');
      await ok();
      // Three chunks: the failing one is the last, so only combine can report it.
      await duck.expectError(`SELECT count(*) FROM example.early_fail((SELECT * FROM range(5000)))`, 'Intentional early failure on chunk 3');
      await ok();
      await duck.expectError(`SELECT count(*) FROM example.early_wrong_id((SELECT * FROM range(10)))`, /declares stateId 'execution'/);
      await duck.expectError(`SELECT count(*) FROM example.early_crash((SELECT * FROM range(100000)))`, /actor thread \d+ died|was lost/);
      await ok();

      await duck.run(`CALL enable_logging(level := 'debug')`);
      t.equal(await duck.queryValue(`SELECT count(*) FROM example.early_log((SELECT * FROM range(10000)))`), '10000');
      const logged = await duck.queryValue(`SELECT count(*) FROM duckdb_logs WHERE message LIKE '%early chunk of%' AND message LIKE '%level=INFO%'`);
      t.equal(Number(logged), 5, 'one log line per chunk (5 chunks), sent with later responses');
      await duck.run(`CALL disable_logging()`);
    });
  }
}
