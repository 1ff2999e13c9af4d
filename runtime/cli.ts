#!/usr/bin/env node
// vgi-actors serve [--fixtures | <module>] [--unix PATH --idle-timeout SEC] [--threads N]
//                  [--catalog NAME] [--schema NAME] [--execution-ttl SEC]
//                  [--memory-budget BYTES|NNMB|NNGB] [--spill-dir DIR]
//                  [--call-deadline SEC] [--thread-heap-mb MB] [--idle-reclaim SEC]
// Without --unix the process serves stdio by relaying to the per-user actor host.
// Unknown flags are ignored (the launcher and DuckDB's tests append their own).
import { fileURLToPath } from 'node:url';
import { realpathSync, renameSync, writeFileSync } from 'node:fs';
import { relayStdio } from './transports/relay.js';
import { moduleUrl } from '../functions/load.js';
import { parseBytes } from '../actors/spill-bytes.js';
import { hostMallocEnv, rerunWith } from './malloc.js';

interface Cli {
  command: string | null;
  module: string | null;
  fixtures: boolean;
  unix: string | null;
  idleTimeout: number;
  threads: number | undefined;
  catalog: string | undefined;
  schema: string | undefined;
  executionTtlSec: number | undefined;
  memoryBudget: string | undefined;
  spillDir: string | undefined;
  callDeadlineSec: number | undefined;
  threadHeapMb: number | undefined;
  idleReclaimSec: number | undefined;
}

const VALUE_FLAGS = new Set(['--unix', '--idle-timeout', '--threads', '--catalog', '--schema', '--execution-ttl', '--memory-budget', '--spill-dir', '--call-deadline', '--thread-heap-mb', '--idle-reclaim']);

export function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { command: null, module: null, fixtures: false, unix: null, idleTimeout: 0, threads: undefined, catalog: undefined, schema: undefined, executionTtlSec: undefined, memoryBudget: undefined, spillDir: undefined, callDeadlineSec: undefined, threadHeapMb: undefined, idleReclaimSec: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (VALUE_FLAGS.has(flag)) {
      const v = value();
      if (flag === '--unix') cli.unix = v;
      else if (flag === '--idle-timeout') cli.idleTimeout = Number(v) || 0;
      else if (flag === '--threads') cli.threads = Math.max(1, Number(v) || 1);
      else if (flag === '--catalog') cli.catalog = v;
      else if (flag === '--execution-ttl') cli.executionTtlSec = Math.max(0, Number(v) || 0);
      else if (flag === '--memory-budget') cli.memoryBudget = v;
      else if (flag === '--spill-dir') cli.spillDir = v;
      else if (flag === '--call-deadline') cli.callDeadlineSec = nonNegative(v, flag);
      else if (flag === '--thread-heap-mb') cli.threadHeapMb = nonNegative(v, flag) || undefined;
      else if (flag === '--idle-reclaim') cli.idleReclaimSec = nonNegative(v, flag);
      else cli.schema = v;
    } else if (flag === '--fixtures') cli.fixtures = true;
    else if (flag.startsWith('-')) continue; // unknown flags are tolerated
    else if (cli.command === null) cli.command = a;
    else if (cli.module === null) cli.module = a;
  }
  return cli;
}

/** A number ≥ 0, or undefined (the default) with a warning when malformed. */
function nonNegative(text: string, flag: string): number | undefined {
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n) && n >= 0) return n;
  process.stderr.write(`vgi-actors: ignoring malformed ${flag} ${JSON.stringify(text)}\n`);
  return undefined;
}

/** --memory-budget: bytes, NNKB/NNMB/NNGB, or `off`/`inf` (never spill); malformed = default. */
export function memoryBudgetBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^(off|inf|infinity|none)$/i.test(text.trim())) return Infinity;
  const n = parseBytes(text);
  if (Number.isNaN(n)) { process.stderr.write(`vgi-actors: ignoring malformed --memory-budget ${JSON.stringify(text)}\n`); return undefined; }
  return n;
}

const here = fileURLToPath(import.meta.url);
const fixturesModule = new URL('../functions/fixtures/index.js', import.meta.url).href;

function usage(): never {
  process.stderr.write('usage: vgi-actors serve (--fixtures | <module>) [--unix PATH --idle-timeout SEC] [--threads N] [--catalog NAME]\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.command !== 'serve' || (!cli.fixtures && !cli.module)) usage();
  const functions = cli.fixtures ? fixturesModule : moduleUrl(cli.module!);
  // stdout may carry Arrow IPC (stdio) or the launcher's discovery line: never log there.
  process.stdout.on('error', () => undefined);

  if (cli.unix === null) {
    const args = ['serve', ...(cli.fixtures ? ['--fixtures'] : [fileURLToPath(functions)])];
    if (cli.threads) args.push('--threads', String(cli.threads));
    if (cli.catalog) args.push('--catalog', cli.catalog);
    if (cli.schema) args.push('--schema', cli.schema);
    if (cli.executionTtlSec !== undefined) args.push('--execution-ttl', String(cli.executionTtlSec));
    if (cli.memoryBudget !== undefined) args.push('--memory-budget', cli.memoryBudget);
    if (cli.spillDir !== undefined) args.push('--spill-dir', cli.spillDir);
    if (cli.callDeadlineSec !== undefined) args.push('--call-deadline', String(cli.callDeadlineSec));
    if (cli.threadHeapMb !== undefined) args.push('--thread-heap-mb', String(cli.threadHeapMb));
    if (cli.idleReclaimSec !== undefined) args.push('--idle-reclaim', String(cli.idleReclaimSec));
    const identityFiles = [here, fileURLToPath(functions)];
    const idle = Number(process.env.VGI_ACTORS_HOST_IDLE_TIMEOUT ?? 30);
    process.on('SIGTERM', () => process.exit(0));
    await relayStdio({ cli: here, args, identityFiles, idleTimeoutSec: idle });
    return;
  }

  // glibc keeps freed batch buffers unless its thresholds are fixed at start-up (runtime/malloc.ts):
  // a host started without them (by DuckDB's launcher, or by hand) runs itself again with them
  // (not under an inspector: the debugger stays attached to the process that serves).
  const malloc = process.execArgv.some((a) => a.startsWith('--inspect')) ? null : hostMallocEnv();
  if (malloc) {
    rerunWith(malloc);
    return;
  }

  // Imported only here: a stdio relay must start fast (DuckDB 1.5.3 spawns fresh sink processes
  // for every query) and never loads apache-arrow or the user's code.
  const { createRuntime } = await import('./runtime.js');
  const rt = await createRuntime({
    functions, threads: cli.threads, catalog: cli.catalog, schema: cli.schema,
    executionTtlMs: cli.executionTtlSec === undefined ? undefined : cli.executionTtlSec * 1000,
    memoryBudgetBytes: memoryBudgetBytes(cli.memoryBudget), spillDir: cli.spillDir,
    callDeadlineMs: cli.callDeadlineSec === undefined ? undefined : cli.callDeadlineSec * 1000,
    resourceLimits: cli.threadHeapMb ? { maxOldGenerationSizeMb: cli.threadHeapMb } : undefined,
    idleReclaimMs: cli.idleReclaimSec === undefined ? undefined : cli.idleReclaimSec * 1000,
  });
  const path = cli.unix;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await rt.close({ drainMs: 10_000 });
    process.exit(code);
  };
  await rt.listen(path, { idleTimeoutSec: cli.idleTimeout, onIdle: () => void stop(0) });
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  // Diagnostics: `kill -USR2 <pid>` writes rt.metrics() as JSON to $VGI_ACTORS_METRICS_FILE.
  const metricsFile = process.env.VGI_ACTORS_METRICS_FILE;
  if (metricsFile) {
    process.on('SIGUSR2', () => {
      rt.metrics().then((m) => {
        writeFileSync(`${metricsFile}.tmp`, JSON.stringify({ pid: process.pid, at: Date.now(), ...m }));
        renameSync(`${metricsFile}.tmp`, metricsFile); // readers never see half a file
      }).catch((e: unknown) => process.stderr.write(`vgi-actors: metrics to ${metricsFile}: ${(e as Error).message}\n`));
    });
  }
  // The launcher contract: exactly one discovery line, then never write to stdout again.
  process.stdout.write(`UNIX:${path}\n`);
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === here) {
  main().catch((e: unknown) => {
    process.stderr.write(`vgi-actors: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
