// Attaches the vgi-actors fixture worker (the built CLI in dist/) to a real DuckDB, over stdio
// or launch:, each with private state so no test meets another test's (or a stale build's) host.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freshStateDir, openDuck, type Duck, type Flavour } from './duckdb.js';
import { launchAttach, nodeCommand, stdioAttach } from './locations.js';

export const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url));
export type Transport = 'stdio' | 'launch';
export const TRANSPORTS: readonly Transport[] = ['stdio', 'launch'];

export interface WorkerOptions {
  readonly pool?: boolean;
  readonly threads?: number;
  /** Extra CLI arguments for the worker. */
  readonly args?: readonly string[];
  /** Function module instead of the fixtures. */
  readonly module?: string;
}

export interface Attached {
  readonly duck: Duck;
  readonly flavour: Flavour;
  readonly transport: Transport;
  readonly stateDir: string;
  close(): Promise<void>;
}

/** Processes whose command line mentions `dir` (the hosts and launched workers of a test). */
export function workerPids(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) out.push(Number(p));
    } catch { /* exited */ }
  }
  return out;
}

/** The parent pid of `pid`, or -1 if it is gone. */
function parentPid(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return -1;
  }
}

/**
 * The actor hosts among workerPids(dir): a host started without glibc's malloc settings re-runs
 * itself as its own child (runtime/malloc.ts), and the parent, which only waits for it, is left out.
 */
export function hostPids(dir: string): number[] {
  const pids = workerPids(dir);
  const parents = new Set(pids.map(parentPid));
  return pids.filter((p) => !parents.has(p));
}

export async function attachWorker(flavour: Flavour, transport: Transport, opts: WorkerOptions = {}): Promise<Attached> {
  const stateDir = freshStateDir();
  const args = ['serve', ...(opts.module ? [opts.module] : ['--fixtures']), ...(opts.threads ? ['--threads', String(opts.threads)] : []), ...(opts.args ?? [])];
  const duck = await openDuck(flavour, {
    // tap's coverage hooks must not ride into the workers DuckDB spawns.
    env: { NODE_OPTIONS: '', VGI_ACTORS_STATE_DIR: stateDir, VGI_ACTORS_HOST_IDLE_TIMEOUT: '2' },
  });
  const sql = transport === 'stdio'
    ? stdioAttach('example', nodeCommand(CLI, args), { pool: opts.pool, database: 'example' })
    : launchAttach('example', nodeCommand(CLI, args), { stateDir, idleTimeoutSec: 2, pool: opts.pool, database: 'example' });
  try {
    await duck.run(sql);
  } catch (e) {
    await duck.close();
    throw e;
  }
  return {
    duck, flavour, transport, stateDir,
    async close() {
      await duck.close();
      // Hosts idle out by themselves; a test that left executions behind must not leak them.
      for (const pid of workerPids(stateDir)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
    },
  };
}
