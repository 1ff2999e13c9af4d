// Execution state. Batches are kept exactly as they arrived from the connection (their buffers
// were moved to this thread), so buffering costs no copy. When the thread goes over its share of
// the memory budget (actors/spill.ts), a storage writes its in-memory batches to Arrow IPC files
// and `batches(log)` reads them back lazily, one file at a time, in append order.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { util, type RecordBatch, type Data } from 'apache-arrow';
import type { ExecutionStorage } from '../functions/api.js';
import { currentSpillManager, readSegment, writeSegment, type Spillable, type SpillManager } from './spill.js';

/** Distinct ArrayBuffers a batch's columns point into, with their sizes. */
export function batchBuffers(batch: RecordBatch, into = new Set<ArrayBufferLike>()): Set<ArrayBufferLike> {
  const visit = (d: Data): void => {
    for (const b of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as (ArrayBufferView | undefined)[]) {
      if (b && b.byteLength > 0) into.add(b.buffer);
    }
    for (const c of d.children) visit(c);
    if (d.dictionary) for (const dd of d.dictionary.data) visit(dd);
  };
  visit(batch.data);
  return into;
}

/** Bytes of the views a batch's columns use (not of the buffers behind them). */
function viewBytes(batch: RecordBatch): number {
  let n = 0;
  const visit = (d: Data): void => {
    for (const b of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as (ArrayBufferView | undefined)[]) n += b?.byteLength ?? 0;
    for (const c of d.children) visit(c);
    if (d.dictionary) for (const dd of d.dictionary.data) visit(dd);
  };
  visit(batch.data);
  return n;
}

/** A run of consecutive batches of one log, written to one IPC stream file. */
class Segment {
  constructor(readonly file: string, readonly count: number, readonly bytes: number) {}
}

type Entry = RecordBatch | Segment;

export class MemoryStorage implements ExecutionStorage, Spillable {
  private readonly logs = new Map<string, Entry[]>();
  private readonly kv = new Map<string, unknown>();
  // Count each backing ArrayBuffer once: several batches may share one (e.g. IPC-read tables).
  private readonly held = new Map<ArrayBufferLike, number>();
  private bytes = 0;
  private diskBytes = 0;
  private dir: string | null = null;
  private dirMade = false;
  private seq = 0;
  private readonly spillManager: SpillManager | null;

  /** `spill`: the thread's spill manager (default: the one host.ts configured, if any). */
  constructor(spill: SpillManager | null = currentSpillManager()) {
    this.spillManager = spill;
    spill?.register(this);
  }

  private hold(batch: RecordBatch, delta: 1 | -1): void {
    const before = this.bytes;
    for (const buf of batchBuffers(batch)) {
      const n = (this.held.get(buf) ?? 0) + delta;
      if (n === 0) { this.held.delete(buf); this.bytes -= buf.byteLength; }
      else {
        if (n === 1 && delta === 1) this.bytes += buf.byteLength;
        this.held.set(buf, n);
      }
    }
    this.spillManager?.adjust(this.bytes - before);
  }

  append(log: string, batch: RecordBatch): void {
    let l = this.logs.get(log);
    if (!l) this.logs.set(log, (l = []));
    l.push(batch);
    this.hold(batch, 1);
    this.spillManager?.maybeSpill();
  }

  /**
   * The batches of a log, in append order. Spilled runs are read back one file at a time as the
   * iteration reaches them, so iterating never holds more than one file's batches at once (plus
   * whatever the caller keeps). The log is snapshotted when iteration starts.
   */
  batches(log: string): Iterable<RecordBatch> {
    const entries = this.logs.get(log);
    if (!entries) return [];
    if (!entries.some((e) => e instanceof Segment)) return entries.slice() as RecordBatch[];
    const snapshot = entries.slice();
    return {
      *[Symbol.iterator]() {
        for (const e of snapshot) {
          if (e instanceof Segment) yield* readSegment(e.file);
          else yield e;
        }
      },
    };
  }

  replace(log: string, batches: RecordBatch[]): void {
    for (const b of batches) this.hold(b, 1);
    for (const e of this.logs.get(log) ?? []) this.release(e);
    this.logs.set(log, batches.slice());
    this.spillManager?.maybeSpill();
  }

  private release(e: Entry): void {
    if (e instanceof Segment) {
      rmSync(e.file, { force: true });
      this.diskBytes -= e.bytes;
      if (this.spillManager) this.spillManager.spilledBytes -= e.bytes;
    } else this.hold(e, -1);
  }

  get<T>(key: string): T | undefined { return this.kv.get(key) as T | undefined; }
  set<T>(key: string, value: T): void { this.kv.set(key, value); }

  /** Bytes of buffered Arrow data this execution holds in memory. */
  get bufferedBytes(): number { return this.bytes; }

  /** Bytes of this execution's spill files. */
  get spilledBytes(): number { return this.diskBytes; }

  /** Writes every in-memory batch to spill files (runs of one schema, bounded size). */
  spill(): number {
    const m = this.spillManager;
    if (!m || this.bytes === 0) return 0;
    const before = this.bytes;
    this.dir ??= m.newStorageDir();
    if (!this.dirMade) { m.ensureDir(this.dir); this.dirMade = true; }
    for (const [name, entries] of this.logs) {
      if (!entries.some((e) => !(e instanceof Segment))) continue;
      const out: Entry[] = [];
      let run: RecordBatch[] = [];
      let runBytes = 0;
      const flush = (): void => {
        if (run.length === 0) return;
        const file = join(this.dir!, `${++this.seq}.arrows`);
        const size = this.writeRun(file, run);
        out.push(new Segment(file, run.length, size));
        this.diskBytes += size;
        m.spilledBytes += size;
        for (const b of run) this.hold(b, -1);
        run = [];
        runBytes = 0;
      };
      let i = 0;
      try {
        for (; i < entries.length; i++) {
          const e = entries[i]!;
          if (e instanceof Segment) { flush(); out.push(e); continue; }
          if (run.length > 0 && (runBytes >= m.segmentBytes || !(e.schema === run[0]!.schema || util.compareSchemas(e.schema, run[0]!.schema)))) flush();
          run.push(e);
          runBytes += viewBytes(e);
        }
        flush();
      } catch (err) {
        // Disk full or similar: whatever was not written stays in memory, in order.
        out.push(...run, ...entries.slice(i));
        this.logs.set(name, out);
        throw err;
      }
      this.logs.set(name, out);
    }
    return before - this.bytes;
  }

  private writeRun(file: string, run: RecordBatch[]): number {
    try {
      return writeSegment(file, run);
    } catch (e) {
      rmSync(file, { force: true });
      throw e;
    }
  }

  /** Frees everything, in memory and on disk. Every end of an execution comes through here. */
  clear(): void {
    if (this.spillManager) {
      this.spillManager.adjust(-this.bytes);
      this.spillManager.spilledBytes -= this.diskBytes;
      this.spillManager.unregister(this);
    }
    this.logs.clear();
    this.kv.clear();
    this.held.clear();
    this.bytes = 0;
    this.diskBytes = 0;
    if (this.dir && this.dirMade) rmSync(this.dir, { recursive: true, force: true });
    this.dirMade = false;
  }
}

