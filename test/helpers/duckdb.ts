// Test harness: drive a real DuckDB (+ vgi extension) living in a child process.
//
//   const duck = await openDuck('v2');        // or 'v1'
//   const r = await duck.query('SELECT 42 AS x');   // {columns, types, rows, ms}
//   await duck.close();
//
// Each Duck is its own `node duck-child.mjs <flavour>` process, so a DuckDB
// segfault/abort only fails the queries in flight (they reject with the exit
// code/signal and the tail of the child's stderr) instead of killing tap.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { isDeepStrictEqual } from 'node:util';

export type Flavour = 'v2' | 'v1';
export const FLAVOURS: readonly Flavour[] = ['v2', 'v1'];

/** Exact JSON rendering of DuckDB values (see duck-child.mjs). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface QueryResult {
  columns: string[];
  /** DuckDB logical type of each column, e.g. 'DECIMAL(18,3)'. */
  types: string[];
  rows: JsonValue[][];
  rowsChanged: number;
  /** wall time inside the child, milliseconds */
  ms: number;
}

export interface QueryOptions {
  /** Connection number inside the child (default 0). Different connections run concurrently. */
  conn?: number;
  /** 'run' executes without materialising rows. Default 'rows'. */
  mode?: 'rows' | 'run';
  /** Per-query timeout; on expiry the child is killed (its connection is stuck). Default openDuck's queryTimeoutMs. */
  timeoutMs?: number;
}

export interface OpenDuckOptions {
  /** Extra environment for the DuckDB process (QUERY_FARM_TELEMETRY_OPT_OUT=1 is always forced). */
  env?: Record<string, string>;
  /** Working directory of the DuckDB process (and so of stdio workers it spawns). Default process.cwd(). */
  cwd?: string;
  /** Database path; default ':memory:'. */
  path?: string;
  /** Extra DuckDB config passed to DuckDBInstance.create (allow_unsigned_extensions is always set). */
  config?: Record<string, string>;
  /** Set false to skip LOAD of the vgi extension. */
  load?: boolean;
  /** Default per-query timeout in ms (0 = none). Default 120000. */
  queryTimeoutMs?: number;
}

/** DuckDB reported an error for a statement. */
export class DuckQueryError extends Error {
  override name = 'DuckQueryError';
  constructor(
    message: string,
    readonly sql: string,
    readonly flavour: Flavour,
  ) {
    super(message);
  }
}

/** The DuckDB child died / was killed / timed out while a query was pending. */
export class DuckCrashError extends Error {
  override name = 'DuckCrashError';
  constructor(
    message: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Duck {
  readonly flavour: Flavour;
  readonly pid: number;
  /** `SELECT version()` of this DuckDB, e.g. 'v1.5.5'. */
  readonly version: string;
  /** true until the child has exited */
  readonly alive: boolean;
  /** resolves when the child exits (never rejects) */
  readonly exited: Promise<ExitInfo>;
  query(sql: string, opts?: QueryOptions): Promise<QueryResult>;
  /** Same as query(sql, {mode: 'run'}). */
  run(sql: string, opts?: QueryOptions): Promise<QueryResult>;
  /** First column of the first row; rejects if there are no rows. */
  queryValue(sql: string, opts?: QueryOptions): Promise<JsonValue>;
  /** Rows as objects keyed by column name (later duplicate names win). */
  queryObjects(sql: string, opts?: QueryOptions): Promise<Record<string, JsonValue>[]>;
  /**
   * Resolves with DuckDB's error message. Rejects if the query succeeded, if the
   * message does not match `expected` (substring or RegExp), or if the child died.
   */
  expectError(sql: string, expected?: string | RegExp, opts?: QueryOptions): Promise<string>;
  /** Interrupt whatever runs on connection `conn` (default 0). */
  interrupt(conn?: number): Promise<void>;
  /** Send a signal to the child (default SIGKILL). */
  kill(signal?: NodeJS.Signals): void;
  /** Last ~64 KiB of the child's stderr (plus any stray stdout). */
  stderr(): string;
  /** Close the database and wait for the child to exit (SIGKILL after graceMs, default 10 s). Idempotent. */
  close(graceMs?: number): Promise<ExitInfo>;
}

const CHILD = fileURLToPath(new URL('./duck-child.mjs', import.meta.url));
const STDERR_KEEP = 64 * 1024;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* ignore */
      }
    }
  });
}

type Reply =
  | { id: number; ok: true; columns: string[]; types: string[]; rows: JsonValue[][]; rowsChanged?: number; ms: number }
  | { id: number; ok: false; error: string };

interface Pending {
  sql: string;
  resolve: (r: QueryResult) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

function sqlPreview(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? one.slice(0, 200) + '…' : one;
}

export async function openDuck(flavour: Flavour, opts: OpenDuckOptions = {}): Promise<Duck> {
  if (flavour !== 'v2' && flavour !== 'v1') throw new Error(`openDuck: unknown flavour ${String(flavour)}`);
  installExitHook();
  const childOpts = JSON.stringify({ path: opts.path, config: opts.config, load: opts.load });
  const defaultTimeout = opts.queryTimeoutMs ?? 120_000;
  const child = spawn(process.execPath, [CHILD, flavour, childOpts], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, ...(opts.env ?? {}), QUERY_FARM_TELEMETRY_OPT_OUT: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);

  let stderrBuf = '';
  const appendDiag = (s: string) => {
    stderrBuf += s;
    if (stderrBuf.length > STDERR_KEEP * 2) stderrBuf = stderrBuf.slice(-STDERR_KEEP);
  };
  const stderrTail = () => (stderrBuf.length > STDERR_KEEP ? stderrBuf.slice(-STDERR_KEEP) : stderrBuf);

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exitInfo: ExitInfo | null = null;
  let crashReason: string | null = null; // why *we* killed it, if we did

  // --- keep the test process from hanging on an idle, forgotten Duck --------
  const handles = [child.stdin, child.stdout, child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void }>;
  const setRef = (on: boolean) => {
    if (exitInfo) return;
    if (on) child.ref();
    else child.unref();
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  };

  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => appendDiag(d));
  child.stdin!.on('error', () => {
    /* EPIPE after the child died; handled via 'exit' */
  });

  const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  rl.on('line', (line) => {
    let msg: Reply | undefined;
    const at = line.indexOf('{"id":');
    if (at >= 0) {
      try {
        msg = JSON.parse(line.slice(at)) as Reply;
      } catch {
        msg = undefined;
      }
      if (at > 0) appendDiag(`[stray stdout] ${line.slice(0, at)}\n`);
    }
    if (!msg) {
      if (line.trim()) appendDiag(`[stray stdout] ${line}\n`);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return; // e.g. reply to a query that already timed out
    pending.delete(msg.id);
    if (p.timer) clearTimeout(p.timer);
    if (pending.size === 0) setRef(false);
    if (msg.ok) {
      p.resolve({ columns: msg.columns, types: msg.types, rows: msg.rows, rowsChanged: msg.rowsChanged ?? 0, ms: msg.ms });
    } else {
      p.reject(new DuckQueryError(msg.error, p.sql, flavour));
    }
  });

  let resolveExited!: (e: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((r) => (resolveExited = r));

  const failAll = () => {
    const info = exitInfo!;
    const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
    const tail = stderrTail().trimEnd().split('\n').slice(-40).join('\n');
    for (const [id, p] of pending) {
      pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      const why = crashReason ? `${crashReason}; ` : '';
      p.reject(
        new DuckCrashError(
          `DuckDB child (${flavour}, pid ${child.pid}) died with ${how} (${why}query: ${sqlPreview(p.sql)})` +
            (tail ? `\n--- stderr tail ---\n${tail}` : ''),
          info.code,
          info.signal,
          tail,
        ),
      );
    }
  };

  child.on('error', (err) => {
    // spawn failure: synthesize an exit
    appendDiag(`[spawn error] ${err.message}\n`);
    if (!exitInfo) onExit(null, null);
  });
  child.on('exit', (code, signal) => onExit(code, signal));

  function onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (exitInfo) return;
    exitInfo = { code, signal };
    live.delete(child);
    // Give stderr/stdout a moment to drain (the last reply may still be in
    // the pipe), then fail whatever is still pending. Grandchildren (launched
    // workers) may hold the pipes open, so don't wait for 'close' forever.
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      failAll();
      for (const s of [child.stdout, child.stderr, child.stdin]) s?.destroy();
      rl.close();
      resolveExited(exitInfo!);
    };
    child.once('close', finish);
    setTimeout(finish, 250).unref();
  }

  const send = (obj: object): boolean => {
    if (exitInfo || !child.stdin!.writable) return false;
    child.stdin!.write(JSON.stringify(obj) + '\n');
    return true;
  };

  const request = (payload: Record<string, unknown>, sql: string, timeoutMs: number): Promise<QueryResult> =>
    new Promise<QueryResult>((resolve, reject) => {
      if (exitInfo) {
        const how = exitInfo.signal ? `signal ${exitInfo.signal}` : `exit code ${exitInfo.code}`;
        reject(new DuckCrashError(`DuckDB child (${flavour}) already exited with ${how}`, exitInfo.code, exitInfo.signal, stderrTail()));
        return;
      }
      const id = nextId++;
      const p: Pending = { sql, resolve, reject };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          crashReason = crashReason ?? `killed by harness: query timed out after ${timeoutMs} ms: ${sqlPreview(sql)}`;
          child.kill('SIGKILL');
        }, timeoutMs);
      }
      pending.set(id, p);
      setRef(true);
      send({ id, ...payload });
    });

  const query = (sql: string, o: QueryOptions = {}) =>
    request({ sql, mode: o.mode ?? 'rows', conn: o.conn ?? 0 }, sql, o.timeoutMs ?? defaultTimeout);

  let closing: Promise<ExitInfo> | null = null;

  const duck: Duck = {
    flavour,
    pid: child.pid ?? -1,
    version: '',
    get alive() {
      return exitInfo === null;
    },
    exited,
    query,
    run: (sql, o = {}) => query(sql, { ...o, mode: 'run' }),
    async queryValue(sql, o) {
      const r = await query(sql, o);
      if (r.rows.length === 0 || r.columns.length === 0) throw new Error(`queryValue: no rows from: ${sqlPreview(sql)}`);
      return r.rows[0]![0]!;
    },
    async queryObjects(sql, o) {
      return toObjects(await query(sql, o));
    },
    async expectError(sql, expected, o) {
      let r: QueryResult;
      try {
        r = await query(sql, o);
      } catch (e) {
        if (!(e instanceof DuckQueryError)) throw e;
        if (expected !== undefined) {
          const hit = typeof expected === 'string' ? e.message.includes(expected) : expected.test(e.message);
          if (!hit) throw new Error(`expectError: message did not match ${String(expected)}:\n${e.message}`);
        }
        return e.message;
      }
      throw new Error(`expectError: query succeeded (${r.rows.length} rows) but an error was expected: ${sqlPreview(sql)}`);
    },
    async interrupt(conn = 0) {
      await request({ cmd: 'interrupt', conn }, '<interrupt>', 10_000);
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (exitInfo) return;
      setRef(true); // keep the loop alive until 'exit' is observed
      child.kill(signal);
    },
    stderr: stderrTail,
    close(graceMs = 10_000) {
      if (closing) return closing;
      closing = (async () => {
        if (!exitInfo) {
          const timer = setTimeout(() => {
            crashReason = crashReason ?? `killed by harness: close() did not finish within ${graceMs} ms`;
            child.kill('SIGKILL');
          }, graceMs);
          request({ cmd: 'close' }, '<close>', 0).catch(() => {});
          const info = await exited;
          clearTimeout(timer);
          return info;
        }
        return exited;
      })();
      return closing;
    },
  };

  try {
    const v = await duck.queryValue('SELECT version()');
    (duck as { version: string }).version = String(v);
  } catch (e) {
    await duck.close(2000).catch(() => {});
    throw e;
  }
  return duck;
}

/** Open one Duck per flavour in `flavours`, closing all of them if any fails. */
export async function openDucks(flavours: readonly Flavour[] = FLAVOURS, opts?: OpenDuckOptions): Promise<Duck[]> {
  const settled = await Promise.allSettled(flavours.map((f) => openDuck(f, opts)));
  const bad = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
  if (bad) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw bad.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Duck>).value);
}

export function toObjects(r: QueryResult): Record<string, JsonValue>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i] ?? null])));
}

// ------------------------------------------------------------------ helpers

const stateDirs = new Set<string>();
let stateHook = false;

/**
 * A new private (0700) temp directory, removed at process exit. Kept short
 * because a launch: worker socket lives at <dir>/<16 hex>.sock and AF_UNIX
 * paths are limited to 107 bytes.
 */
export function freshStateDir(prefix = 'vgi-st-'): string {
  let base = tmpdir();
  if (base.length > 60) base = '/tmp';
  const dir = mkdtempSync(join(base, prefix));
  chmodSync(dir, 0o700);
  stateDirs.add(dir);
  if (!stateHook) {
    stateHook = true;
    process.on('exit', () => {
      for (const d of stateDirs) {
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {
          /* ignore */
        }
      }
    });
  }
  return dir;
}

/** Quote a string as a SQL string literal: it's → 'it''s'. */
export function sqlString(s: string): string {
  if (s.includes('\0')) throw new Error('sqlString: NUL byte cannot appear in a SQL literal');
  return `'${s.replace(/'/g, "''")}'`;
}

/** Quote a SQL identifier: a"b → "a""b". */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function canonical(v: unknown): string {
  return JSON.stringify(v);
}

/** Sort rows into a canonical order (for order-insensitive comparison). */
export function sortRows<T>(rows: readonly T[]): T[] {
  return rows
    .map((r) => [canonical(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((x) => x[1]);
}

/** Deep equality of row lists; with ordered=false rows are compared as a multiset. */
export function rowsEqual(a: readonly unknown[], b: readonly unknown[], opts: { ordered?: boolean } = {}): boolean {
  if (a.length !== b.length) return false;
  if (opts.ordered ?? true) return isDeepStrictEqual(a, b);
  return isDeepStrictEqual(sortRows(a), sortRows(b));
}

/** The bit of tap's Test we need (keeps this file free of a tap type import). */
export interface StrictSameAsserter {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  strictSame(found: any, wanted: any, message: string): unknown;
}

/**
 * tap-friendly row comparison: `assertRows(t, result.rows, [[1,'a']], {ordered: false})`.
 * Unordered comparison sorts both sides canonically first, so tap's diff stays readable.
 * Uses t.strictSame, so 1 vs '1' (INTEGER vs BIGINT rendering) differs.
 */
export function assertRows(
  t: StrictSameAsserter,
  found: readonly unknown[] | QueryResult,
  wanted: readonly unknown[],
  opts: { ordered?: boolean; message?: string } = {},
): boolean {
  const rows: readonly unknown[] = Array.isArray(found) ? found : (found as QueryResult).rows;
  const ordered = opts.ordered ?? true;
  return !!t.strictSame(ordered ? rows : sortRows(rows), ordered ? wanted : sortRows(wanted), opts.message ?? (ordered ? 'rows match' : 'rows match (any order)'));
}
