#!/usr/bin/env node
// `npm test`: build, run every tap test, print the plain summary line CI reads.
// Sets what the tests need itself, so it works in a fresh shell.
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.QUERY_FARM_TELEMETRY_OPT_OUT = '1'; // without it LOAD vgi segfaults (no network here)
// Private actor-host state for this run: stdio workers started by tests never meet a stale host.
const state = mkdtempSync(join(tmpdir(), 'vgi-actors-test-'));
process.env.VGI_ACTORS_STATE_DIR = process.env.VGI_ACTORS_STATE_DIR ?? state;
process.env.VGI_ACTORS_HOST_IDLE_TIMEOUT = process.env.VGI_ACTORS_HOST_IDLE_TIMEOUT ?? '5';

const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const args = ['node_modules/tap/dist/esm/run.mjs', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (c) => { out += c; process.stdout.write(c); });
child.on('close', (code) => {
  const m = [...out.matchAll(/^# \{ (total: .*) \}$/gm)].pop();
  const counts = {};
  if (m) for (const kv of m[1].split(', ')) { const [k, v] = kv.split(': '); counts[k] = Number(v); }
  const passed = counts.pass ?? 0;
  let failed = counts.fail ?? 0;
  if (code !== 0 && failed === 0) {
    console.log(`tap exited with code ${code} without failing assertions (coverage or a crashed test file)`);
    failed = 1;
  }
  rmSync(state, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed, ${(counts.skip ?? 0) + (counts.todo ?? 0)} skipped`);
  process.exit(code ?? 1);
});
