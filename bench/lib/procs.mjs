// Worker processes of one configuration, found by an environment tag every one of them inherits
// (DuckDB → launcher-spawned worker, or DuckDB → sh → stdio relay → actor host). CPU comes from
// /proc/<pid>/stat (utime + stime), peak RSS from VmHWM in /proc/<pid>/status.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clk = 100;
try { clk = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* default */ }

export function taggedPids(tag, exclude = []) {
  const needle = `VGI_BENCH_TAG=${tag}\0`;
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const pid = Number(p);
    if (pid === process.pid || exclude.includes(pid)) continue;
    try { if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(needle)) out.push(pid); } catch { /* gone or not ours */ }
  }
  return out;
}

/** CPU seconds (user + system) of a live process, or null when it is gone. */
export function cpuSeconds(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clk; // fields 14 and 15 of stat
  } catch { return null; }
}

function statusKb(pid, key) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

export const peakRssKb = (pid) => statusKb(pid, 'VmHWM');

/** Resets a process's peak RSS to its current RSS (Linux ≥ 4.0: `echo 5 > clear_refs`). */
export function resetPeak(pid) {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

/** Tracks the CPU of a tagged process group across one timed run, sampling while it runs. */
export class CpuMeter {
  constructor(tag, exclude) { this.tag = tag; this.exclude = exclude; }
  start() {
    this.base = new Map();
    this.last = new Map();
    for (const pid of taggedPids(this.tag, this.exclude)) {
      const c = cpuSeconds(pid);
      if (c !== null) { this.base.set(pid, c); this.last.set(pid, c); }
    }
    // Poll so a process that exits mid-run still counts up to its last sample.
    this.timer = setInterval(() => this.sample(false), 250);
  }
  sample(rescan) {
    const pids = rescan ? taggedPids(this.tag, this.exclude) : [...this.last.keys()];
    for (const pid of pids) {
      const c = cpuSeconds(pid);
      if (c !== null) { this.last.set(pid, c); if (!this.base.has(pid)) this.base.set(pid, 0); }
    }
  }
  stop() {
    clearInterval(this.timer);
    this.sample(true);
    let s = 0;
    for (const [pid, c] of this.last) s += c - (this.base.get(pid) ?? 0);
    return s;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
export function systemCpu() {
  const f = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - f[3] - f[4]) / clk, total: total / clk }; // idle and iowait are not busy
}

/**
 * Waits (at most maxMs) until the machine is less than `maxBusy` (0..1 of all cores) busy for a
 * whole second; returns the last share seen. On a shared machine a run that starts while other
 * work is running measures that work as much as ours.
 */
export async function waitQuiet(maxBusy, maxMs = 120_000, log = () => undefined) {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const a = systemCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const b = systemCpu();
    const busy = (b.busy - a.busy) / Math.max(1e-9, b.total - a.total);
    if (busy < maxBusy) return busy;
    if (Date.now() > deadline) { log(`machine still ${(busy * 100).toFixed(0)}% busy; measuring anyway`); return busy; }
  }
}
