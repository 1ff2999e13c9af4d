#!/usr/bin/env node
// `node bench/socket-hop.mjs [--mb 85] [--runs 3]`
//
// The least CPU one process hop can cost: a child writes MB megabytes in 256 KiB pieces to an
// AF_UNIX socket (as a stdio relay writes its chunk bundles) and this process reads and drops them
// (as the actor host must at the least, before any framing, routing or actor work). A two-sink
// `noop_buffer` query over a 1e7-row TEMP TABLE forwards ~85 MB this way. docs/performance.md §11.
import { createServer, createConnection } from 'node:net';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const cpu = (since) => { const c = process.cpuUsage(since); return (c.user + c.system) / 1e6; };

if (process.argv[2] === '--writer') {
  const [, , , path, mb] = process.argv;
  const sock = createConnection(path, async () => {
    const piece = Buffer.alloc(256 << 10, 7);
    const c0 = process.cpuUsage();
    for (let sent = 0; sent < Number(mb) * 2 ** 20; sent += piece.length) {
      if (!sock.write(piece)) await new Promise((r) => sock.once('drain', r));
    }
    sock.end(() => process.send(cpu(c0)));
  });
} else {
  const { values: opts } = parseArgs({ options: { mb: { type: 'string', default: '85' }, runs: { type: 'string', default: '3' } } });
  const dir = mkdtempSync(join(tmpdir(), 'vgi-hop-'));
  const path = join(dir, 'hop.sock');
  const once = () => new Promise((resolve) => {
    let readerCpu = null, writerCpu = null, bytes = 0;
    const done = () => { if (writerCpu !== null && readerCpu !== null) { server.close(); resolve({ readerCpu, writerCpu, bytes }); } };
    const server = createServer((sock) => {
      const c0 = process.cpuUsage();
      sock.on('data', (b) => { bytes += b.length; });
      sock.on('end', () => { readerCpu = cpu(c0); done(); });
    }).listen(path, () => {
      fork(fileURLToPath(import.meta.url), ['--writer', path, opts.mb]).on('message', (c) => { writerCpu = c; done(); });
    });
  });
  try {
    for (let i = 0; i < Number(opts.runs); i++) {
      const r = await once();
      console.log(`${(r.bytes / 2 ** 20).toFixed(0)} MB through one AF_UNIX hop: writer ${r.writerCpu.toFixed(3)} CPU-s, reader ${r.readerCpu.toFixed(3)} CPU-s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
