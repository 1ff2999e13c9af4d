// glibc malloc settings for the actor host (docs/design.md §5 "Where memory goes").
//
// glibc serves a block of 128 KiB or more with its own mmap, and gives it back on free — until
// the first such block is freed: then it raises its mmap threshold to that block's size (up to
// 32 MiB) and its trim threshold to twice that, so every later batch buffer of a few MiB comes
// from a malloc heap that is never trimmed below 64 MiB of free space, in the main heap and in
// each thread's arena. A 1,000-query soak left ~100 MiB of such free memory resident.
// Setting any threshold variable turns that adjustment off; glibc reads them at process start
// only, so the host is started with them (runtime/cli.ts, runtime/transports/relay.ts).
import { spawn } from 'node:child_process';

/** Fixed thresholds: glibc's defaults, without the dynamic raise. */
export const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: String(128 << 10) };


let glibc: boolean | undefined;
function isGlibc(): boolean {
  if (glibc === undefined) {
    try {
      glibc = process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
    } catch {
      glibc = false;
    }
  }
  return glibc;
}

/**
 * The variables to add to `env` for a host process, or null when none are needed: not glibc,
 * turned off (`VGI_ACTORS_MALLOC_TUNING=0`), or the user set malloc variables of their own.
 */
export function hostMallocEnv(env: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string>> | null {
  if (env.VGI_ACTORS_MALLOC_TUNING === '0') return null;
  if (Object.keys(env).some((k) => k.startsWith('MALLOC_')) || env.GLIBC_TUNABLES?.includes('glibc.malloc.')) return null;
  return isGlibc() ? MALLOC_ENV : null;
}

/**
 * Runs this process's command line again as a child with `add` in its environment, and mirrors
 * it: stdio is shared (the child prints the launcher's discovery line itself), termination
 * signals are passed on, and this process ends as the child ends. Used when DuckDB's launcher
 * (or an operator) started the host without the malloc variables: the ~8 MiB of this process buy
 * back the ~100 MiB glibc would otherwise keep.
 */
export function rerunWith(add: Readonly<Record<string, string>>): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...add } });
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  // SIGUSR2 asks the host for its metrics (runtime/cli.ts); without that file it would end it.
  if (process.env.VGI_ACTORS_METRICS_FILE) signals.push('SIGUSR2');
  for (const s of signals) process.on(s, () => { child.kill(s); });
  child.once('error', (e) => {
    process.stderr.write(`vgi-actors: could not start the host: ${e.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
