// The actor host runs with glibc's malloc thresholds fixed (runtime/malloc.ts, docs/design.md §5):
// otherwise glibc keeps the batch buffers queries freed. A host started without them re-runs
// itself as its child with them; the parent mirrors the child's life.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostMallocEnv, MALLOC_ENV } from '../runtime/malloc.js';
import { CLI } from './helpers/worker.js';

const glibc = process.platform === 'linux' && Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

t.test('which environments get the malloc settings', async (t) => {
  t.equal(hostMallocEnv({}), glibc ? MALLOC_ENV : null, glibc ? 'glibc: the fixed thresholds' : 'not glibc: nothing');
  t.equal(hostMallocEnv({ VGI_ACTORS_MALLOC_TUNING: '0' }), null, 'turned off');
  t.equal(hostMallocEnv({ MALLOC_ARENA_MAX: '2' }), null, "the user's own malloc variables are left alone");
  t.equal(hostMallocEnv({ MALLOC_TRIM_THRESHOLD_: '1048576' }), null, 'so is a threshold of their own (and a host that already has one)');
  t.equal(hostMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536' }), null, 'and glibc tunables');
});

/** Children of `pid` (Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]) === pid) out.push(Number(p));
    } catch { /* exited */ }
  }
  return out;
}

t.test('a host started without them serves as its own child, with them', { skip: glibc ? false : 'glibc only' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-malloc-'));
  const sock = join(dir, 'w.sock');
  const env = { ...process.env, NODE_OPTIONS: '' };
  for (const k of Object.keys(env)) if (k.startsWith('MALLOC_') || k === 'VGI_ACTORS_MALLOC_TUNING') delete env[k];
  const parent = spawn(process.execPath, [CLI, 'serve', '--fixtures', '--unix', sock, '--idle-timeout', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  t.teardown(() => { parent.kill('SIGKILL'); });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    parent.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve(); });
    parent.once('exit', (code) => reject(new Error(`exited early (${code})`)));
  });
  t.equal(out, `UNIX:${sock}\n`, 'the discovery line reaches the launcher, once');
  const kids = childrenOf(parent.pid!);
  t.equal(kids.length, 1, 'one child serves');
  const environ = readFileSync(`/proc/${kids[0]}/environ`, 'utf8').split('\0');
  t.ok(environ.includes(`MALLOC_TRIM_THRESHOLD_=${MALLOC_ENV.MALLOC_TRIM_THRESHOLD_}`), 'with the malloc settings');
  t.notOk(readFileSync(`/proc/${parent.pid}/environ`, 'utf8').includes('MALLOC_TRIM_THRESHOLD_'), 'the parent has none (it only waits)');
  parent.kill('SIGTERM');
  const [code] = await once(parent, 'exit');
  t.equal(code, 0, 'SIGTERM is passed on and the parent exits as the child does');
  t.notOk(existsSync(`/proc/${kids[0]}`) && !readFileSync(`/proc/${kids[0]}/stat`, 'utf8').includes(') Z'), 'the child is gone');
  t.notOk(existsSync(sock), 'and its socket removed');
});
