// Builders for `ATTACH ... (TYPE vgi, LOCATION ...)` statements.
//
// Verified against both vgi builds (1.5.5/protocol 2 and 1.5.3/protocol 1):
//
//   ATTACH 'name' AS alias (TYPE vgi, LOCATION '<cmd>', pool false)
//   ATTACH 'name' AS alias (TYPE vgi, LOCATION 'launch:<argv>',
//                           launcher_state_dir '/dir', launcher_idle_timeout 5)
//   ATTACH 'name' AS alias (TYPE vgi, LOCATION 'unix:///abs/path.sock')
//
// * stdio LOCATION '<cmd>' is run via `/bin/sh -c '<cmd>'` (so $VARS expand and
//   `K=v cmd` works); the worker speaks vgi on its stdin/stdout.
// * launch:<argv> is NOT run through a shell. The extension splits it itself
//   with POSIX-like rules ('single', "double" with \-escapes, bare \-escapes,
//   '' gives an empty arg) and execs argv directly, appending
//   `--unix <launcher_state_dir>/<16 hex>.sock --idle-timeout <n>`. The worker
//   must then print `UNIX:<path>` on stdout.
// * launcher_state_dir / launcher_idle_timeout are only accepted with a
//   launch: LOCATION (Binder Error otherwise); launcher_idle_timeout must be
//   an integer >= 0 (0 = never idle out); launcher_state_dir must be non-empty,
//   a directory owned by the current user, and short: the socket path
//   (<dir>/<16 hex>.sock) must fit in 107 bytes.
// * pool is a BOOLEAN option (`pool 'x'` fails to cast), pool_timeout INT64.
// * Unknown option names are NOT rejected before the worker is contacted.
//
// POSIX single-quote quoting (shellQuote) is valid for both sh and launch:.

import { resolve as resolvePath } from 'node:path';
import { sqlIdent, sqlString } from './duckdb.js';

/** A command line: a ready string (used verbatim) or an argv array (quoted). */
export type Command = string | readonly string[];

export type AttachOptionValue = string | number | boolean | undefined;

export interface CommonAttachOptions {
  /** The database name in `ATTACH '<database>' AS alias`; default: the alias. */
  database?: string;
  /** `pool false` disables reusing pooled workers for this catalog. Omitted if undefined. */
  pool?: boolean;
  /** `pool_timeout <n>` (seconds). Omitted if undefined. */
  poolTimeout?: number;
  /** Further raw options, e.g. {worker_debug: true}. Undefined values are skipped. */
  extra?: Record<string, AttachOptionValue>;
}

export interface StdioAttachOptions extends CommonAttachOptions {
  /** Environment assignments prefixed to the shell command (`K='v' node …`). */
  env?: Record<string, string>;
}

export interface LaunchAttachOptions extends CommonAttachOptions {
  /** Private per-test directory (see freshStateDir()). Required. */
  stateDir: string;
  /** Seconds before an idle launched worker exits; keep it short in tests. Default 5. */
  idleTimeoutSec?: number;
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting of one argument; also understood by the launch: argv parser. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('shellQuote: NUL byte in argument');
  if (arg !== '' && SAFE_ARG.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Render a Command as one command-line string. */
export function commandLine(cmd: Command): string {
  if (typeof cmd === 'string') return cmd;
  if (cmd.length === 0) throw new Error('commandLine: empty argv');
  return cmd.map(shellQuote).join(' ');
}

/** argv for running a JS/TS entry point with this Node: [execPath, ...nodeArgs, script, ...args]. */
export function nodeCommand(script: string, args: readonly string[] = [], nodeArgs: readonly string[] = []): string[] {
  return [process.execPath, ...nodeArgs, resolvePath(script), ...args];
}

function optionValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`ATTACH option value must be finite, got ${v}`);
    return String(v);
  }
  return sqlString(v);
}

const OPTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Generic builder: ATTACH '<database>' AS <alias> (TYPE vgi, LOCATION '<location>', k v, …). */
export function attachSql(alias: string, location: string, options: Record<string, AttachOptionValue> = {}, database = alias): string {
  const parts = ['TYPE vgi', `LOCATION ${sqlString(location)}`];
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (!OPTION_NAME.test(k)) throw new Error(`attachSql: bad option name ${JSON.stringify(k)}`);
    parts.push(`${k} ${optionValue(v)}`);
  }
  const aliasSql = OPTION_NAME.test(alias) ? alias : sqlIdent(alias);
  return `ATTACH ${sqlString(database)} AS ${aliasSql} (${parts.join(', ')})`;
}

export function detachSql(alias: string, ifExists = true): string {
  const aliasSql = OPTION_NAME.test(alias) ? alias : sqlIdent(alias);
  return `DETACH ${ifExists ? 'IF EXISTS ' : ''}${aliasSql}`;
}

function commonOptions(o: CommonAttachOptions): Record<string, AttachOptionValue> {
  return { pool: o.pool, pool_timeout: o.poolTimeout, ...(o.extra ?? {}) };
}

/** stdio transport: DuckDB runs the command via /bin/sh -c and talks over its stdin/stdout. */
export function stdioLocation(command: Command, env: Record<string, string> = {}): string {
  const prefix = Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`stdioLocation: bad env name ${k}`);
      return `${k}=${shellQuote(v)} `;
    })
    .join('');
  return prefix + commandLine(command);
}

export function stdioAttach(alias: string, command: Command, opts: StdioAttachOptions = {}): string {
  return attachSql(alias, stdioLocation(command, opts.env), commonOptions(opts), opts.database);
}

/** launch: transport (argv exec'd directly by the extension's launcher, no shell). */
export function launchLocation(command: Command): string {
  const line = commandLine(command);
  if (!line.trim()) throw new Error('launchLocation: empty command');
  return `launch:${line}`;
}

/** Longest launcher_state_dir whose socket path (<dir>/<16 hex>.sock) fits in sun_path. */
export const MAX_STATE_DIR_BYTES = 107 - '/0123456789abcdef.sock'.length;

export function launchAttach(alias: string, command: Command, opts: LaunchAttachOptions): string {
  const { stateDir } = opts;
  const idle = opts.idleTimeoutSec ?? 5;
  if (!stateDir) throw new Error('launchAttach: stateDir is required (use freshStateDir())');
  if (Buffer.byteLength(stateDir) > MAX_STATE_DIR_BYTES) {
    throw new Error(`launchAttach: stateDir too long for an AF_UNIX socket path (${Buffer.byteLength(stateDir)} > ${MAX_STATE_DIR_BYTES} bytes): ${stateDir}`);
  }
  if (!Number.isInteger(idle) || idle < 0) throw new Error(`launchAttach: idleTimeoutSec must be an integer >= 0, got ${idle}`);
  return attachSql(
    alias,
    launchLocation(command),
    { ...commonOptions(opts), launcher_state_dir: stateDir, launcher_idle_timeout: idle },
    opts.database,
  );
}

/** unix:// transport: connect to an already-listening worker socket. */
export function unixLocation(socketPath: string): string {
  return `unix://${resolvePath(socketPath)}`;
}

export function unixAttach(alias: string, socketPath: string, opts: CommonAttachOptions = {}): string {
  return attachSql(alias, unixLocation(socketPath), commonOptions(opts), opts.database);
}
