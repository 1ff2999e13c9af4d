// Proves the DuckDB child-process harness (test/helpers/) works on both
// DuckDB flavours: v2 = DuckDB 1.5.5 + vgi protocol 2, v1 = 1.5.3 + protocol 1.
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FLAVOURS,
  DuckCrashError,
  DuckQueryError,
  assertRows,
  freshStateDir,
  openDuck,
  rowsEqual,
  sqlIdent,
  sqlString,
  type Duck,
  type Flavour,
  type QueryResult,
} from './helpers/duckdb.js';
import {
  MAX_STATE_DIR_BYTES,
  attachSql,
  commandLine,
  detachSql,
  launchAttach,
  nodeCommand,
  shellQuote,
  stdioAttach,
  unixAttach,
} from './helpers/locations.js';

const ARGV_DUMP = fileURLToPath(new URL('./helpers/fixtures/argv-dump.mjs', import.meta.url));
// A query that runs for minutes unless interrupted/killed.
const SLOW_SQL = 'SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3';
const EXPECTED_VERSION: Record<Flavour, string> = { v2: 'v1.5.5', v1: 'v1.5.3' };

const TYPED_SQL = `SELECT
  9223372036854775807::BIGINT AS big,
  -170141183460469231731687303715884105727::HUGEINT AS huge,
  123456789012345.678::DECIMAL(18,3) AS dec,
  -0.001::DECIMAL(18,3) AS dec_small,
  'NaN'::DOUBLE AS nan,
  'inf'::DOUBLE AS inf,
  0.1::DOUBLE AS dbl,
  ${sqlString(`it's "quoted" ü 😀 \\ back`)} AS str,
  DATE '2024-02-29' AS dt,
  TIMESTAMP '2024-02-29 13:14:15.123456' AS ts,
  TIMESTAMPTZ '2024-02-29 13:14:15.5+02' AS tstz,
  '\\xDE\\xAD\\x00a'::BLOB AS bl,
  [1, 2, NULL] AS lst,
  {'a': 1, 'b': [true, NULL]} AS st,
  MAP {'k': 1.5, 'z': NULL} AS mp,
  NULL AS n,
  NULL::VARCHAR AS nv,
  42 AS i,
  true AS b,
  DATE 'infinity' AS dinf`;

const TYPED_EXPECTED = {
  columns: ['big', 'huge', 'dec', 'dec_small', 'nan', 'inf', 'dbl', 'str', 'dt', 'ts', 'tstz', 'bl', 'lst', 'st', 'mp', 'n', 'nv', 'i', 'b', 'dinf'],
  types: [
    'BIGINT', 'HUGEINT', 'DECIMAL(18,3)', 'DECIMAL(18,3)', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'VARCHAR', 'DATE', 'TIMESTAMP',
    'TIMESTAMP WITH TIME ZONE', 'BLOB', 'INTEGER[]', 'STRUCT("a" INTEGER, "b" BOOLEAN[])', 'MAP(VARCHAR, DECIMAL(2,1))',
    'INTEGER', 'VARCHAR', 'INTEGER', 'BOOLEAN', 'DATE',
  ],
  row: [
    '9223372036854775807',
    '-170141183460469231731687303715884105727',
    '123456789012345.678',
    '-0.001',
    'NaN',
    'Infinity',
    0.1,
    `it's "quoted" ü 😀 \\ back`,
    '2024-02-29',
    '2024-02-29 13:14:15.123456',
    '2024-02-29 11:14:15.5+00', // node-api renders TIMESTAMPTZ in UTC regardless of TimeZone
    'dead0061',
    [1, 2, null],
    { a: 1, b: [true, null] },
    [{ key: 'k', value: '1.5' }, { key: 'z', value: null }],
    null,
    null,
    42,
    true,
    'infinity',
  ],
};

function readDump(file: string): Array<{ argv: string[]; marker: string | null }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------- pure helpers
t.test('pure helpers', async (t) => {
  t.equal(sqlString(`it's`), `'it''s'`);
  t.equal(sqlString(''), `''`);
  t.throws(() => sqlString('a\0b'));
  t.equal(sqlIdent('a"b'), '"a""b"');
  t.ok(rowsEqual([[1, 'a'], [2, 'b']], [[1, 'a'], [2, 'b']]));
  t.notOk(rowsEqual([[1, 'a'], [2, 'b']], [[2, 'b'], [1, 'a']], { ordered: true }));
  t.ok(rowsEqual([[1, 'a'], [2, 'b'], [2, 'b']], [[2, 'b'], [1, 'a'], [2, 'b']], { ordered: false }));
  t.notOk(rowsEqual([[1, 'a'], [1, 'a']], [[1, 'a'], [2, 'b']], { ordered: false }), 'multiset, not set');
  t.notOk(rowsEqual([[1]], [['1']]), 'strict: 1 !== "1"');
  assertRows(t, [[2, 'b'], [1, 'a']], [[1, 'a'], [2, 'b']], { ordered: false });
  t.equal(shellQuote('plain/path-1.js'), 'plain/path-1.js');
  t.equal(shellQuote(`it's`), `'it'\\''s'`);
  t.equal(shellQuote(''), `''`);
  t.equal(commandLine(['node', 'a b', '$X']), `node 'a b' '$X'`);
  t.equal(commandLine('node w.js --x'), 'node w.js --x');

  t.equal(
    stdioAttach('example', ['node', '/w.js'], { pool: false }),
    `ATTACH 'example' AS example (TYPE vgi, LOCATION 'node /w.js', pool false)`,
  );
  t.equal(
    launchAttach('example', ['node', '/w.js'], { stateDir: '/tmp/s', idleTimeoutSec: 5 }),
    `ATTACH 'example' AS example (TYPE vgi, LOCATION 'launch:node /w.js', launcher_state_dir '/tmp/s', launcher_idle_timeout 5)`,
  );
  t.equal(
    launchAttach('ex', ['node', `/it's.js`], { stateDir: '/tmp/s', idleTimeoutSec: 0, pool: false, database: 'db' }),
    `ATTACH 'db' AS ex (TYPE vgi, LOCATION 'launch:node ''/it''\\''''s.js''', pool false, launcher_state_dir '/tmp/s', launcher_idle_timeout 0)`,
  );
  t.equal(unixAttach('u', '/tmp/w.sock'), `ATTACH 'u' AS u (TYPE vgi, LOCATION 'unix:///tmp/w.sock')`);
  t.equal(attachSql('my alias', 'x', { a: 1, b: 'c', d: undefined }), `ATTACH 'my alias' AS "my alias" (TYPE vgi, LOCATION 'x', a 1, b 'c')`);
  t.equal(detachSql('example'), 'DETACH IF EXISTS example');
  t.throws(() => launchAttach('x', ['node'], { stateDir: '/tmp/' + 'x'.repeat(MAX_STATE_DIR_BYTES), idleTimeoutSec: 1 }), /too long/);
  t.throws(() => launchAttach('x', ['node'], { stateDir: '/tmp/s', idleTimeoutSec: -1 }), /idleTimeoutSec/);
  t.throws(() => launchAttach('x', ['node'], { stateDir: '' }), /stateDir/);

  const d = freshStateDir();
  t.equal(statSync(d).mode & 0o777, 0o700, 'state dir is private');
  t.ok(Buffer.byteLength(d) <= MAX_STATE_DIR_BYTES, 'state dir short enough for sockets');
  t.not(freshStateDir(), d, 'fresh each time');
});

// ---------------------------------------------------------------- per flavour
const typedResults: Partial<Record<Flavour, QueryResult>> = {};

for (const flavour of FLAVOURS) {
  t.test(`harness on ${flavour}`, async (t) => {
    const duck: Duck = await openDuck(flavour);
    t.teardown(() => duck.close());

    t.test('SELECT 42', async (t) => {
      t.equal(await duck.queryValue('SELECT 42'), 42);
      const r = await duck.query('SELECT 42 AS answer, 42::BIGINT AS big');
      t.strictSame(r.columns, ['answer', 'big']);
      t.strictSame(r.types, ['INTEGER', 'BIGINT']);
      t.strictSame(r.rows, [[42, '42']]);
      t.type(r.ms, 'number');
      t.strictSame(await duck.queryObjects('SELECT 1 AS a, NULL AS b'), [{ a: 1, b: null }]);
      await t.rejects(duck.queryValue('SELECT 1 WHERE false'), /no rows/);
    });

    t.test('typed row round-trips exactly', async (t) => {
      const r = await duck.query(TYPED_SQL);
      typedResults[flavour] = r;
      t.strictSame(r.columns, TYPED_EXPECTED.columns);
      t.strictSame(r.types, TYPED_EXPECTED.types);
      t.equal(r.rows.length, 1);
      const row = r.rows[0]!;
      TYPED_EXPECTED.columns.forEach((c, i) => t.strictSame(row[i], TYPED_EXPECTED.row[i], `${c}`));
      // decimals/bigints survive JSON without rounding
      t.equal(JSON.parse(JSON.stringify(r)).rows[0][1], '-170141183460469231731687303715884105727');
    });

    t.test('version()', async (t) => {
      t.equal(duck.version, EXPECTED_VERSION[flavour]);
      t.equal(await duck.queryValue('SELECT version()'), EXPECTED_VERSION[flavour]);
    });

    t.test('vgi extension is loaded', async (t) => {
      const r = await duck.query(`SELECT extension_name, loaded FROM duckdb_extensions() WHERE extension_name = 'vgi'`);
      t.strictSame(r.rows, [['vgi', true]]);
      const settings = await duck.query(`SELECT name FROM duckdb_settings() WHERE name = 'vgi_worker_pool_max'`);
      t.equal(settings.rows.length, 1, 'vgi settings registered');
    });

    t.test('multi-statement, run mode, connections', async (t) => {
      const r = await duck.run('CREATE TABLE h(a INT, s VARCHAR); INSERT INTO h VALUES (1, \'x\'), (2, NULL)');
      t.equal(r.rowsChanged, 2);
      t.strictSame(r.rows, []);
      assertRows(t, await duck.query('SELECT * FROM h'), [[2, null], [1, 'x']], { ordered: false });
      // a second connection sees the same in-memory database
      t.equal(await duck.queryValue('SELECT count(*) FROM h', { conn: 1 }), '2');
    });

    t.test('expectError', async (t) => {
      const msg = await duck.expectError('SELECT * FROM no_such_table');
      t.match(msg, /Catalog Error: Table with name no_such_table does not exist/);
      t.match(await duck.expectError('SELEC 1', /syntax error/), /Parser Error/);
      await t.rejects(duck.expectError('SELECT 1'), /query succeeded/);
      await t.rejects(duck.expectError('SELECT * FROM nope2', 'something else'), /did not match/);
      const e = await duck.query('SELECT * FROM nope3').catch((x: unknown) => x);
      t.type(e, DuckQueryError);
      t.equal((e as DuckQueryError).sql, 'SELECT * FROM nope3');
      t.equal(await duck.queryValue('SELECT 1'), 1, 'still usable after errors');
    });

    t.test('interrupt a running query; other connections keep working', async (t) => {
      const slow = duck.query(SLOW_SQL);
      t.equal(await duck.queryValue('SELECT 7', { conn: 2 }), 7);
      await new Promise((r) => setTimeout(r, 200));
      await duck.interrupt(0);
      await t.rejects(slow, /INTERRUPT/i);
      t.equal(await duck.queryValue('SELECT 8'), 8);
    });

    t.test('ATTACH option syntax is accepted by the extension', async (t) => {
      const stateDir = freshStateDir();
      const out = join(freshStateDir('vgi-out-'), 'dump.jsonl');
      const tricky = [`it's`, 'a b', '', '$HOME', 'x"y'];

      // launch: -> launcher appends --unix <stateDir>/<hash>.sock --idle-timeout N
      const launchMsg = await duck.expectError(
        launchAttach('lw', nodeCommand(ARGV_DUMP, [out, ...tricky]), { stateDir, idleTimeoutSec: 3 }),
      );
      t.match(launchMsg, /vgi launcher: worker exited before emitting UNIX:<path>/);
      const launched = readDump(out);
      t.equal(launched.length, 1, 'launch worker ran once');
      const argv = launched[0]!.argv;
      t.strictSame(argv.slice(0, tricky.length), tricky, 'launch: argv quoting round-trips');
      t.strictSame(argv.slice(tricky.length, tricky.length + 1), ['--unix']);
      t.match(argv[tricky.length + 1], new RegExp(`^${stateDir}/[0-9a-f]{16}\\.sock$`), 'socket in our state dir');
      t.strictSame(argv.slice(tricky.length + 2), ['--idle-timeout', '3']);

      // stdio: run through /bin/sh -c; env prefix + quoting survive; pool false accepted
      const stdioMsg = await duck.expectError(
        stdioAttach('sw', nodeCommand(ARGV_DUMP, [out, ...tricky]), { pool: false, env: { HARNESS_MARKER: 'm 1' } }),
      );
      // v2: 'VGI worker failed during unary RPC (exit code 1) [worker: …]'; v1: 'RPC response stream EOF (no schema) [worker: …]'
      t.match(stdioMsg, /^IO Error: [\s\S]*\[worker: HARNESS_MARKER='m 1' /);
      const both = readDump(out);
      t.equal(both.length, 2, 'stdio worker ran');
      t.strictSame(both[1]!.argv, tricky, 'stdio argv quoting round-trips (no $HOME expansion)');
      t.equal(both[1]!.marker, 'm 1');

      // the launcher options are recognised (only valid with launch:)
      t.match(
        await duck.expectError(attachSql('x1', 'node /nonexistent.js', { launcher_state_dir: stateDir, launcher_idle_timeout: 5 })),
        /launcher_idle_timeout \/ launcher_state_dir are only valid for `launch:` LOCATIONs/,
      );
      t.match(
        await duck.expectError(attachSql('x2', 'launch:/bin/false', { launcher_idle_timeout: -1 })),
        /launcher_idle_timeout must be >= 0/,
      );
      t.match(await duck.expectError(attachSql('x3', 'launch:/bin/false', { launcher_state_dir: '' })), /launcher_state_dir, if set, must not be empty/);
      // pool is a typed BOOLEAN option
      t.match(await duck.expectError(attachSql('x4', '/bin/false', { pool: 'notabool' })), /Could not convert string 'notabool' to BOOL/);

      const sock = join(stateDir, 'none.sock');
      t.match(await duck.expectError(unixAttach('uw', sock)), new RegExp(`vgi unix socket: connect to ${sock} failed`));
      t.equal(await duck.queryValue(`SELECT count(*) FROM duckdb_databases() WHERE database_name IN ('lw','sw','uw')`), '0');
    });

    t.test('query timeout kills the child instead of hanging', async (t) => {
      const d2 = await openDuck(flavour);
      t.teardown(() => d2.close());
      const e = await d2.query(SLOW_SQL, { timeoutMs: 300 }).catch((x: unknown) => x);
      t.type(e, DuckCrashError);
      t.match((e as Error).message, /timed out after 300 ms/);
      t.equal((e as DuckCrashError).signal, 'SIGKILL');
      t.notOk(d2.alive);
    });
  });
}

t.test('typed row identical on both flavours', async (t) => {
  t.ok(typedResults.v2 && typedResults.v1, 'both flavours produced the typed row');
  t.strictSame(typedResults.v2?.rows, typedResults.v1?.rows);
  t.strictSame(typedResults.v2?.types, typedResults.v1?.types);
});

t.test('a crashing child rejects pending queries (both flavours)', async (t) => {
  for (const flavour of FLAVOURS) {
    for (const signal of ['SIGKILL', 'SIGSEGV'] as const) {
      const duck = await openDuck(flavour);
      const pending = [duck.query(SLOW_SQL), duck.query('SELECT 1'), duck.query('SELECT 2', { conn: 1 })];
      await new Promise((r) => setTimeout(r, 150));
      process.kill(duck.pid, signal);
      const results = await Promise.allSettled(pending);
      // SELECT 2 on conn 1 may have finished before the kill; the others are queued behind SLOW_SQL
      t.equal(results[0]!.status, 'rejected', `${flavour}/${signal}: slow query rejected`);
      t.equal(results[1]!.status, 'rejected', `${flavour}/${signal}: queued query rejected`);
      const err = (results[0] as PromiseRejectedResult).reason as DuckCrashError;
      t.type(err, DuckCrashError);
      t.equal(err.signal, signal);
      t.match(err.message, new RegExp(`died with signal ${signal}`));
      t.strictSame(await duck.exited, { code: null, signal });
      t.notOk(duck.alive);
      await t.rejects(duck.query('SELECT 3'), /already exited/);
      t.strictSame(await duck.close(), { code: null, signal }, 'close after crash is fine');
    }
  }
});

t.test('startup failure rejects openDuck with the child stderr', async (t) => {
  const e = await openDuck('v2', { path: '/nonexistent-dir/x/db.duckdb' }).catch((x: unknown) => x);
  t.type(e, DuckCrashError);
  t.match((e as Error).message, /exit code 3/);
  t.match((e as Error).message, /failed to open DuckDB/);
});

t.test('stray bytes on the child stdout do not break the protocol', async (t) => {
  // preload that writes to fd 1 without a newline, like a native printf would
  const noise = fileURLToPath(new URL('./helpers/fixtures/stdout-noise.cjs', import.meta.url));
  const duck = await openDuck('v2', { env: { NODE_OPTIONS: `--require ${noise}` } });
  t.teardown(() => duck.close());
  t.equal(await duck.queryValue('SELECT 11'), 11);
  t.match(duck.stderr(), /\[stray stdout\] native-noise-without-newline/);
  duck.kill();
  t.strictSame(await duck.exited, { code: null, signal: 'SIGKILL' }, 'kill() + await exited does not hang');
});

t.test('close() is clean and idempotent', async (t) => {
  const duck = await openDuck('v1', { env: { SOME_VAR: 'x' } });
  const [a, b] = await Promise.all([duck.close(), duck.close()]);
  t.strictSame(a, { code: 0, signal: null });
  t.equal(a, b);
  t.notOk(duck.alive);
});
