// The worker as an operator runs it (`--unix PATH`): one process serves a protocol 1.0.0 DuckDB
// and a protocol 2.0.0 DuckDB at the same time; SIGTERM drains and removes the socket; an idle
// worker exits by itself.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { freshStateDir, openDuck } from './helpers/duckdb.js';
import { launchAttach, nodeCommand, unixAttach } from './helpers/locations.js';
import { CLI, hostPids, workerPids } from './helpers/worker.js';

function startWorker(sock: string, idle = 0): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--fixtures', '--unix', sock, '--idle-timeout', String(idle), '--some-unknown-flag'], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' },
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (lines.some((l) => l.startsWith('UNIX:'))) resolve({ child, lines });
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

t.test('one unix:// worker serves DuckDB 1.5.3 (1.0.0) and 1.5.5 (2.0.0) at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-ux-'));
  const sock = join(dir, 'w.sock');
  const { child, lines } = await startWorker(sock);
  t.strictSame(lines, [`UNIX:${sock}`], 'exactly one discovery line');
  const [d2, d1] = await Promise.all([openDuck('v2'), openDuck('v1')]);
  t.teardown(async () => { await Promise.all([d1.close(), d2.close()]); child.kill('SIGKILL'); });
  await Promise.all([d2.run(unixAttach('example', sock)), d1.run(unixAttach('example', sock))]);
  for (const d of [d1, d2]) {
    await d.run(`SET threads = 2`);
    await d.run(`CREATE TEMP TABLE src AS SELECT range AS v, range % 10 AS k FROM range(300000)`);
  }
  const q = `SELECT count(*), sum(v), sum(k) FROM example.buffer_input((SELECT * FROM src))`;
  const native = `SELECT count(*), sum(v), sum(k) FROM src`;
  // Interleave queries from both versions on the same worker process.
  const results = await Promise.all([d1.query(q), d2.query(q), d1.query(native), d2.query(native), d1.query(q), d2.query(q)]);
  t.strictSame(results[0]!.rows, results[2]!.rows, '1.0.0 result exact');
  t.strictSame(results[1]!.rows, results[3]!.rows, '2.0.0 result exact');
  t.strictSame(results[4]!.rows, results[2]!.rows);
  t.strictSame(results[5]!.rows, results[3]!.rows);
  const s1 = await d1.query(`SELECT * FROM example.sum_all_columns((SELECT * FROM src))`);
  const s2 = await d2.query(`SELECT * FROM example.sum_all_columns((SELECT * FROM src))`);
  t.strictSame(s1.rows, s2.rows, 'both versions agree');

  // SIGTERM: drain, exit 0, remove the socket.
  await Promise.all([d1.close(), d2.close()]);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'clean exit on SIGTERM');
  t.notOk(existsSync(sock), 'socket removed');
});

t.test('an idle worker exits and removes its socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-ux-'));
  const sock = join(dir, 'w.sock');
  // DuckDB first: the worker's idle clock starts when it listens.
  const d = await openDuck('v2');
  const { child } = await startWorker(sock, 3);
  await d.run(unixAttach('example', sock));
  t.equal(await d.queryValue(`SELECT count(*) FROM example.buffer_input((SELECT * FROM range(10)))`), '10');
  await d.close();
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  t.notOk(existsSync(sock));
});

t.test('one launch: worker serves a 1.0.0 DuckDB and a 2.0.0 DuckDB at once', async (t) => {
  // The launcher keys its worker on argv, cwd and VGI_RPC_* variables only, so both DuckDBs reach
  // the same process when they share LOCATION and launcher_state_dir.
  const stateDir = freshStateDir();
  const [d2, d1] = await Promise.all([openDuck('v2', { env: { NODE_OPTIONS: '' } }), openDuck('v1', { env: { NODE_OPTIONS: '' } })]);
  t.teardown(async () => {
    await Promise.all([d1.close(), d2.close()]);
    for (const pid of workerPids(stateDir)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  });
  const attach = launchAttach('example', nodeCommand(CLI, ['serve', '--fixtures']), { stateDir, idleTimeoutSec: 3 });
  await d2.run(attach);
  await d1.run(attach);
  t.equal(hostPids(stateDir).length, 1, 'a single launched worker process');
  const q = `SELECT count(*), sum(range) FROM example.buffer_input((SELECT * FROM range(200000)))`;
  const [a, b, c, d] = await Promise.all([d1.query(q), d2.query(q), d1.query(q), d2.query(q)]);
  for (const r of [a, b, c, d]) t.strictSame(r.rows, [['200000', '19999900000']]);
  t.equal(hostPids(stateDir).length, 1, 'still one worker after concurrent queries from both versions');
});
