// Memory budget and spilling: when the batches buffered on one actor thread exceed the thread's
// share of the budget, the largest executions' in-memory batches are written to Arrow IPC stream
// files in a private directory and read back, one file at a time, when their log is iterated.
//
// Layout: <base>/vgi-actors-spill-<uid>/<pid>-<threadId>/e<n>/<seq>.arrows, every directory 0700,
// every file 0600. Only record batches are ever written (never arguments, settings or secrets).
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync, chmodSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { RecordBatchReader, RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export { parseBytes } from './spill-bytes.js';

/** The cgroup (v2, then v1) memory limit of this process, or null when none is set or readable. */
export function cgroupMemoryLimit(): number | null {
  for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = readFileSync(f, 'utf8').trim();
      if (/^\d+$/.test(v)) {
        const n = Number(v);
        if (n > 0 && n < 2 ** 60) return n; // v1 reports "no limit" as a huge number
      }
    } catch { /* not there */ }
  }
  return null;
}

/** Default budget for buffered bytes: half of the machine's memory, or of the cgroup limit if lower. */
export function defaultMemoryBudget(): number {
  const limit = cgroupMemoryLimit();
  return Math.floor(Math.min(totalmem(), limit ?? Infinity) / 2);
}

/** Creates `dir` (mode 0700) or checks an existing one is a real directory we own, then forces 0700. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`spill directory ${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`spill directory ${dir} belongs to uid ${st.uid}, not us`);
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** The per-user spill root: `<base>/vgi-actors-spill-<uid>` (base defaults to os.tmpdir()). */
export function spillRoot(base: string = tmpdir()): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(base, `vgi-actors-spill-${uid}`);
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Creates the spill root (0700) and removes the `<pid>-<thread>` directories of processes that no
 * longer exist (a killed host never cleaned up). Returns the removed directory names.
 */
export function prepareSpillRoot(root: string): string[] {
  ensurePrivateDir(root);
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const m = /^(\d+)-\d+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Removes this process's spill directories (every thread's), e.g. on shutdown. */
export function removeProcessSpillDirs(root: string, pid = process.pid): void {
  let names: string[];
  try { names = readdirSync(root); } catch { return; }
  for (const name of names) if (name.startsWith(`${pid}-`)) rmSync(join(root, name), { recursive: true, force: true });
}

/** The spill directory of one actor thread (configureSpill's choice, named for the main thread). */
export function threadSpillDir(root: string, workerThreadId: number, pid = process.pid): string {
  return join(root, `${pid}-${workerThreadId}`);
}

/** Writes `batches` (one schema) as an IPC stream file only we can read. Returns its size. */
export function writeSegment(file: string, batches: readonly RecordBatch[]): number {
  const bytes = RecordBatchStreamWriter.writeAll(batches as RecordBatch[]).toUint8Array(true);
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    if (process.env.VGI_ACTORS_SPILL_FSYNC === '1') fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return bytes.byteLength;
}

/** Reads a segment back; batches are views into the file's bytes. */
export function readSegment(file: string): RecordBatch[] {
  const reader = RecordBatchReader.from(new Uint8Array(readFileSync(file)));
  return [...reader];
}

/** What the manager needs from a storage. */
export interface Spillable {
  /** In-memory buffered bytes. */
  readonly bufferedBytes: number;
  /** Writes every in-memory batch to disk; returns the in-memory bytes released. */
  spill(): number;
}

export interface SpillOptions {
  /** This thread's share of the memory budget, in bytes. */
  readonly budgetBytes: number;
  /** The directory this thread spills into (created 0700 on first spill, with its parent). */
  readonly dir: string;
  /** Spilling stops once the thread is back under this fraction of its budget (default 0.5). */
  readonly lowWater?: number;
}

/**
 * One per actor thread: watches the in-memory bytes of every storage on the thread and spills
 * the largest executions first when the thread goes over its budget.
 */
export class SpillManager {
  readonly budgetBytes: number;
  readonly dir: string;
  /** Largest segment file (input bytes) written in one piece; bounds what one read-back holds. */
  readonly segmentBytes: number;
  private readonly lowWater: number;
  private readonly members = new Set<Spillable>();
  private inMemory = 0;
  private seq = 0;
  private spilling = false;
  spilledBytes = 0;
  spills = 0;
  lastError: string | null = null;

  constructor(opts: SpillOptions) {
    this.budgetBytes = Math.max(0, Math.floor(opts.budgetBytes));
    this.dir = opts.dir;
    this.lowWater = opts.lowWater ?? 0.5;
    this.segmentBytes = Math.min(16 * MiB, Math.max(256 * KiB, Math.floor(this.budgetBytes / 4)));
  }

  /** The directory of a new storage (not created until it spills). */
  newStorageDir(): string {
    return join(this.dir, `e${++this.seq}`);
  }

  /** Creates a storage's directory, and the thread's and root's before it, all 0700. */
  ensureDir(dir: string): void {
    const parent = join(this.dir, '..');
    ensurePrivateDir(parent);
    ensurePrivateDir(this.dir);
    ensurePrivateDir(dir);
  }

  register(s: Spillable): void { this.members.add(s); }

  unregister(s: Spillable): void { this.members.delete(s); }

  /** A storage's in-memory bytes changed by `delta`. */
  adjust(delta: number): void { this.inMemory += delta; }

  get bufferedBytes(): number { return this.inMemory; }

  /** Spills the largest executions until the thread is back under its low-water mark. */
  maybeSpill(): void {
    if (this.spilling || this.inMemory <= this.budgetBytes) return;
    this.spilling = true;
    try {
      const target = this.budgetBytes * this.lowWater;
      const bySize = [...this.members].sort((a, b) => b.bufferedBytes - a.bufferedBytes);
      for (const s of bySize) {
        if (this.inMemory <= target) break;
        if (s.bufferedBytes === 0) break;
        try {
          s.spill();
          this.spills++;
        } catch (e) {
          // Spilling is best effort: a full disk must not fail the call; the data stays in memory.
          this.lastError = (e as Error).message;
          break;
        }
      }
    } finally {
      this.spilling = false;
    }
  }
}

let threadManager: SpillManager | null = null;

/** Sets this thread's spill manager (host.ts does, from workerData); null turns spilling off. */
export function configureSpill(opts: { budgetBytes?: number; root?: string } | null): SpillManager | null {
  if (!opts || opts.budgetBytes === undefined || !(opts.budgetBytes >= 0) || !opts.root) return (threadManager = null);
  return (threadManager = new SpillManager({ budgetBytes: opts.budgetBytes, dir: threadSpillDir(opts.root, threadId) }));
}

/** This thread's spill manager, if spilling is configured. */
export function currentSpillManager(): SpillManager | null { return threadManager; }
