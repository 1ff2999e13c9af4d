// AF_UNIX listener for `launch:` and `unix://`. Every accepted socket is an independent
// connection served concurrently. Idle shutdown follows the launcher contract: no client for
// `idleTimeoutSec` → stop listening, remove the socket file, report idle.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';

export interface UnixListenOptions {
  /** 0 or undefined = never idle out. */
  readonly idleTimeoutSec?: number;
  /** Called once when the listener closed for idleness. */
  readonly onIdle?: () => void;
}

export interface UnixListener {
  readonly path: string;
  close(): Promise<void>;
}

/** True when something accepts connections on `path`. */
export function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Removes a socket file left by a dead worker; refuses to touch a live one or a non-socket. */
async function clearStale(path: string): Promise<void> {
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  if (await probe(path)) throw new Error(`another worker is already listening on ${path}`);
  try { unlinkSync(path); } catch { /* raced with its owner's cleanup */ }
}

export async function listenUnix(
  path: string,
  onConnection: (s: Socket) => Promise<void>,
  liveExecutions: () => number,
  opts: UnixListenOptions = {},
): Promise<UnixListener> {
  await clearStale(path);
  const sockets = new Set<Socket>();
  let idleTimer: NodeJS.Timeout | null = null;
  let closed = false;
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    disarm();
    sock.on('error', () => undefined); // a dropped peer is a normal end of connection
    void onConnection(sock).finally(() => {
      sockets.delete(sock);
      sock.destroy();
      arm();
    });
  });

  const idleMs = (opts.idleTimeoutSec ?? 0) * 1000;
  function disarm(): void { if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; } }
  function arm(): void {
    if (idleMs <= 0 || closed || sockets.size > 0) return;
    disarm();
    idleTimer = setTimeout(() => {
      // Executions still buffered wait for their finalize connections (stdio relays and pooled
      // DuckDB workers come and go between a query's phases); the TTL sweep ends abandoned ones.
      if (sockets.size > 0) return;
      if (liveExecutions() > 0) return arm();
      void close().then(() => opts.onIdle?.());
    }, idleMs);
    idleTimer.unref();
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    disarm();
    await new Promise<void>((r) => server.close(() => r()));
    try { unlinkSync(path); } catch { /* already gone */ }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  arm();
  return { path, close };
}
