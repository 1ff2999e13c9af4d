// Splits a byte stream (socket or stdin) into IPC messages. Pull-based: the connection asks for
// the next message, so a slow handler makes the kernel push back on DuckDB (no unbounded queue).
import type { Readable } from 'node:stream';
import { parseMessage, ProtocolError, type IpcMessage } from './message.js';

/** End of one IPC stream (the 8-byte EOS marker, or a legacy 4-byte zero length). */
export const EOS = Symbol('EOS');
export type ReadItem = IpcMessage | typeof EOS | null; // null = end of connection

// Limits against absurd lengths: a bad frame must fail the connection, not allocate gigabytes.
const MAX_METADATA = 64 << 20;
const MAX_BODY = 2 ** 31 - 1;

export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly input: Readable) {
    input.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.buffered += c.length;
      // Pause while a whole message is buffered and nobody is reading: backpressure to DuckDB.
      if (this.buffered > 8 << 20 && !this.wake) input.pause();
      this.notify();
    });
    input.on('end', () => { this.ended = true; this.notify(); });
    input.on('close', () => { this.ended = true; this.notify(); });
    input.on('error', (e) => { this.error = e; this.notify(); });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async need(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.error) throw this.error;
      if (this.ended) return false;
      this.input.resume();
      await new Promise<void>((r) => (this.wake = r));
    }
    return true;
  }

  /** Copies `n` bytes starting at `from` out of the chunk list without consuming them. */
  private peek(from: number, n: number, into?: Uint8Array, at = 0): Uint8Array {
    const out = into ?? new Uint8Array(n);
    let skip = from;
    let need = n;
    let pos = at;
    for (const c of this.chunks) {
      if (skip >= c.length) { skip -= c.length; continue; }
      const take = Math.min(c.length - skip, need);
      out.set(c.subarray(skip, skip + take), pos);
      pos += take; need -= take; skip = 0;
      if (need === 0) break;
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) { n -= c.length; this.chunks.shift(); }
      else { this.chunks[0] = c.subarray(n); n = 0; }
    }
  }

  /** The next message, EOS, or null when the peer closed the connection at a message boundary. */
  async next(): Promise<ReadItem> {
    if (!(await this.need(4))) {
      if (this.buffered === 0) return null;
      throw new ProtocolError('connection closed inside a message prefix');
    }
    const head = this.peek(0, 4);
    const first = new DataView(head.buffer).getInt32(0, true);
    let prefix = 4;
    let metaLen = first;
    if (first === -1) {
      if (!(await this.need(8))) throw new ProtocolError('connection closed inside a message prefix');
      metaLen = new DataView(this.peek(4, 4).buffer).getInt32(0, true);
      prefix = 8;
    }
    if (metaLen === 0) { this.consume(prefix); return EOS; }
    if (metaLen < 0 || metaLen > MAX_METADATA) throw new ProtocolError(`invalid IPC metadata length ${metaLen}`);
    if (!(await this.need(prefix + metaLen))) throw new ProtocolError('connection closed inside a message header');
    const meta = this.peek(prefix, metaLen);
    const probe = parseMessage(meta, 0, metaLen);
    if (probe.bodyLength < 0 || probe.bodyLength > MAX_BODY) throw new ProtocolError(`invalid IPC body length ${probe.bodyLength}`);
    const total = prefix + metaLen + probe.bodyLength;
    if (!(await this.need(total))) throw new ProtocolError('connection closed inside a message body');
    // One exact-size ArrayBuffer per message: it can be moved to an actor thread as is, and the
    // body stays 8-byte aligned (prefix + padded metadata are multiples of 8).
    const bytes = new Uint8Array(new ArrayBuffer(total));
    this.peek(0, total, bytes, 0);
    this.consume(total);
    return parseMessage(bytes, prefix, metaLen);
  }

  /** Reads one whole stream: schema, batches, EOS. Returns null on a clean end of connection. */
  async readStream(): Promise<IpcMessage[] | null> {
    const out: IpcMessage[] = [];
    for (;;) {
      const m = await this.next();
      if (m === null) {
        if (out.length === 0) return null;
        throw new ProtocolError('connection closed inside an IPC stream');
      }
      if (m === EOS) return out;
      out.push(m);
    }
  }
}
