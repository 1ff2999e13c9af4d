// stdio transport. DuckDB gives every sink thread its own worker process and runs finalize in
// yet another one, so actors cannot live in the process DuckDB spawned. Each stdio process is a
// byte relay to one per-user *actor host* (the same runtime, on an AF_UNIX socket), started on
// demand by whichever relay first finds it missing. All phases of an execution then meet the
// same actor, whatever process DuckDB used for them (pool false included).
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostMallocEnv } from '../malloc.js';

export interface HostSpec {
  /** The CLI script that serves `--unix`. */
  readonly cli: string;
  /** Arguments that identify what the host serves (module, catalog, threads …). */
  readonly args: readonly string[];
  /** Files whose change must start a fresh host (the build, the user's module). */
  readonly identityFiles: readonly string[];
  readonly idleTimeoutSec: number;
}

export function stateDir(): string {
  const dir = process.env.VGI_ACTORS_STATE_DIR
    ?? (process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'vgi-actors') : join(tmpdir(), `vgi-actors-${process.getuid?.() ?? 'user'}`));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // private: sockets here accept any client that can reach them
  return dir;
}

/** Host identity: argv, working directory and build. A rebuilt worker never meets a stale host. */
export function hostKey(spec: HostSpec): string {
  const stamps = spec.identityFiles.map((f) => { try { const s = statSync(f); return `${f}:${s.mtimeMs}:${s.size}`; } catch { return `${f}:missing`; } });
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('VGI_ACTORS_')).sort();
  return createHash('sha256').update(JSON.stringify({ args: spec.args, cwd: process.cwd(), stamps, env })).digest('hex').slice(0, 16);
}

function connect(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => { s.removeAllListeners('error'); resolve(s); });
    s.once('error', () => { s.destroy(); resolve(null); });
  });
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Starts the host and waits for its `UNIX:<path>` line (the launcher contract). */
function startHost(spec: HostSpec, sock: string, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = openSync(logFile, 'a', 0o600);
    const child = spawn(process.execPath, [spec.cli, ...spec.args, '--unix', sock, '--idle-timeout', String(spec.idleTimeoutSec)], {
      // With glibc's thresholds fixed (runtime/malloc.ts), so the host need not run itself again.
      detached: true, stdio: ['ignore', 'pipe', log], env: { ...process.env, ...hostMallocEnv() },
    });
    closeSync(log);
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('actor host did not start within 60 s')); }, 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(`UNIX:${sock}\n`)) {
        clearTimeout(timer);
        child.stdout!.destroy();
        child.unref();
        resolve();
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`actor host exited during start-up (code ${code}); see ${logFile}`)); });
  });
}

/** The host's socket path for `spec`. */
export function hostSocket(spec: HostSpec): string {
  return join(stateDir(), `${hostKey(spec)}.sock`);
}

/** A connection to the host, starting it when needed. One spawner at a time (O_EXCL lock). */
export async function connectHost(spec: HostSpec): Promise<Socket> {
  const dir = stateDir();
  const key = hostKey(spec);
  const sock = join(dir, `${key}.sock`);
  const lock = join(dir, `${key}.lock`);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const s = await connect(sock);
    if (s) return s;
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch {
      // Someone else is starting the host; take over only if that process is gone.
      let stale = false;
      try {
        const pid = Number(readFileSync(lock, 'utf8'));
        stale = !pid || !alive(pid);
      } catch { /* lock vanished: retry */ }
      if (stale) { try { unlinkSync(lock); } catch { /* raced */ } }
      await new Promise((r) => setTimeout(r, 25));
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (!(await connect(sock).then((c) => { c?.destroy(); return c !== null; }))) {
        await startHost(spec, sock, join(dir, `${key}.log`));
      }
    } finally {
      try { unlinkSync(lock); } catch { /* already removed */ }
    }
  }
  throw new Error(`could not reach the vgi-actors host at ${sock}`);
}

/**
 * Relays stdin/stdout to the host until either side ends. By default the relay answers process
 * calls of executions the host announced itself (relay-ack.ts); VGI_ACTORS_RELAY_ACK=0 makes it
 * a plain byte pipe (also used when the second connection cannot be opened).
 */
export async function relayStdio(spec: HostSpec): Promise<void> {
  const acking = process.env.VGI_ACTORS_RELAY_ACK !== '0';
  // Loaded while we connect: the framing code is the only heavy part of a relay.
  const ackModule = acking ? import('./relay-ack.js') : null;
  const sock = await connectHost(spec);
  sock.setNoDelay?.(true);
  sock.on('error', () => process.exit(1));
  // The host closing the socket (e.g. its actor thread failed hard) must look like a dead worker
  // to DuckDB: close stdout at once.
  sock.on('close', () => process.stdout.end(() => process.exit(0)));
  const control = ackModule ? await connect(hostSocket(spec)) : null;
  if (ackModule && control) {
    const relay = (await ackModule).startAckingRelay(sock, control, process.stdin, process.stdout);
    // Answered calls may still be in our socket buffer: SIGTERM hands them over (and reports the
    // final count) before exiting, instead of the CLI's immediate exit.
    process.removeAllListeners('SIGTERM');
    process.once('SIGTERM', () => {
      relay.stop();
      setTimeout(() => process.exit(0), 2_000);
    });
    return;
  }
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
  process.stdin.on('end', () => sock.end());
}
