// In-memory execution state. Batches are kept exactly as they arrived from the connection (their
// buffers were moved to this thread), so buffering costs no copy.
import type { RecordBatch, Data } from 'apache-arrow';
import type { ExecutionStorage } from '../functions/api.js';

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

export class MemoryStorage implements ExecutionStorage {
  private readonly logs = new Map<string, RecordBatch[]>();
  private readonly kv = new Map<string, unknown>();
  // Count each backing ArrayBuffer once: several batches may share one (e.g. IPC-read tables).
  private readonly held = new Map<ArrayBufferLike, number>();
  private bytes = 0;

  private hold(batch: RecordBatch, delta: 1 | -1): void {
    for (const buf of batchBuffers(batch)) {
      const n = (this.held.get(buf) ?? 0) + delta;
      if (n === 0) { this.held.delete(buf); this.bytes -= buf.byteLength; }
      else {
        if (n === 1 && delta === 1) this.bytes += buf.byteLength;
        this.held.set(buf, n);
      }
    }
  }

  append(log: string, batch: RecordBatch): void {
    let l = this.logs.get(log);
    if (!l) this.logs.set(log, (l = []));
    l.push(batch);
    this.hold(batch, 1);
  }

  batches(log: string): readonly RecordBatch[] {
    return this.logs.get(log) ?? [];
  }

  replace(log: string, batches: RecordBatch[]): void {
    for (const b of batches) this.hold(b, 1);
    for (const b of this.logs.get(log) ?? []) this.hold(b, -1);
    this.logs.set(log, batches);
  }

  get<T>(key: string): T | undefined { return this.kv.get(key) as T | undefined; }
  set<T>(key: string, value: T): void { this.kv.set(key, value); }

  get bufferedBytes(): number { return this.bytes; }

  clear(): void {
    this.logs.clear();
    this.kv.clear();
    this.held.clear();
    this.bytes = 0;
  }
}
