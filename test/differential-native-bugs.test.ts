// DuckDB bugs the differential test checks around (test/helpers/differential.ts NATIVE_BUGS): the
// rewrite that avoids each, and that DuckDB still has the bug (if it is fixed, this test fails and
// the entry can go).
import t from 'tap';
import { rewriteDistinct } from './helpers/differential.js';
import { openDuck } from './helpers/duckdb.js';

t.test('rewriteDistinct: IS [NOT] DISTINCT FROM a literal, as coalesce', async (t) => {
  t.equal(rewriteDistinct(`WHERE ("c3" >= 'a' OR "c3" IS DISTINCT FROM 'line\nbr''eak'::VARCHAR)`),
    `WHERE ("c3" >= 'a' OR coalesce("c3" <> 'line\nbr''eak'::VARCHAR, true))`);
  t.equal(rewriteDistinct(`"c2" IS NOT DISTINCT FROM '0.5'::DECIMAL(21,9) AND x`), `coalesce("c2" = '0.5'::DECIMAL(21,9), false) AND x`);
  t.equal(rewriteDistinct(`"a""b" IS DISTINCT FROM -3`), `coalesce("a""b" <> -3, true)`);
  t.equal(rewriteDistinct(`"c" IS DISTINCT FROM NULL::INTEGER`), `"c" IS DISTINCT FROM NULL::INTEGER`, 'a NULL literal is left alone');
  t.equal(rewriteDistinct(`"c" = 1`), `"c" = 1`);
});

t.test('DuckDB 1.5.5 drops every row of `p OR c IS DISTINCT FROM x` when c is NULL in every row', async (t) => {
  const duck = await openDuck('v2');
  t.teardown(() => duck.close());
  await duck.run(`CREATE TEMP TABLE t AS SELECT i AS id, NULL::VARCHAR AS c FROM range(0, 100) r(i)`);
  const count = async (where: string): Promise<string> => String((await duck.query(`SELECT count(*) FROM t WHERE ${where}`)).rows[0]![0]);
  const buggy = `"c" >= 'x'::VARCHAR OR "c" IS DISTINCT FROM 'x'::VARCHAR`;
  t.equal(await count(`"c" IS DISTINCT FROM 'x'::VARCHAR`), '100', 'alone, every row (c is NULL)');
  t.equal(await count(buggy), '0', 'in an OR: none (the bug; if this fails, DuckDB fixed it: drop NATIVE_BUGS[0])');
  t.equal(await count(rewriteDistinct(buggy)), '100', 'written with coalesce: every row, the right answer');
});
