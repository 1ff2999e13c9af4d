// Spawns bench/lib/duck-runner.mjs and sends it SQL.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./duck-runner.mjs', import.meta.url));

export async function openDuck(env) {
  const child = spawn(process.execPath, [RUNNER], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr = (stderr + c).slice(-8192); });
  const pending = new Map();
  let nextId = 1;
  let readyResolve, readyReject;
  const ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    if (m.ready) return readyResolve(m.pid);
    const p = pending.get(m.id);
    if (p) { pending.delete(m.id); p(m); }
  });
  const exited = new Promise((res) => child.once('exit', (code, sig) => {
    const err = `duck-runner exited (${code ?? sig}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`;
    readyReject(new Error(err));
    for (const p of pending.values()) p({ ok: false, error: err, ms: 0 });
    pending.clear();
    res();
  }));
  const pid = await ready;
  return {
    pid,
    query(sql) {
      return new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, sql })}\n`);
      });
    },
    async close() {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}
