// Two ends of one AF_UNIX connection, closed at the end of the test: for reader tests that need
// real socket reads (Node gives every read an ArrayBuffer of its own; a PassThrough does not).
import type { Test } from 'tap';
import { createServer, Socket, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function socketPair(t: Test): Promise<{ client: Socket; server: Socket }> {
  const dir = mkdtempSync(join(tmpdir(), 'vgi-pair-'));
  const path = join(dir, 's.sock');
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const srv: Server = createServer(accepted);
  await new Promise<void>((r) => srv.listen(path, r));
  const client = new Socket();
  await new Promise<void>((r) => client.connect(path, r));
  const server = await got;
  t.teardown(() => { client.destroy(); server.destroy(); srv.close(); rmSync(dir, { recursive: true, force: true }); });
  return { client, server };
}
