// Splits a byte stream (socket or stdin) into IPC messages. Pull-based: the connection asks for
// the next message, so a slow handler makes the kernel push back on DuckDB (no unbounded queue).
//
// Hot path (one process request = schema + batch + EOS, ~17 KB, usually one socket read): every
// message that is already buffered is framed synchronously, without a promise per step; the
// flatbuffer header is parsed once per distinct header bytes (DuckDB repeats them chunk after
// chunk) and the message is copied at most once, into its own buffer.
import type { Readable } from 'node:stream';
import { Header, messageOf, ProtocolError, type IpcMessage } from './message.js';
import { RecentByBytes } from './recent.js';

/** End of one IPC stream (the 8-byte EOS marker, or a legacy 4-byte zero length). */
export const EOS = Symbol('EOS');
export type ReadItem = IpcMessage | typeof EOS | null; // null = end of connection

// Limits against absurd lengths: a bad frame must fail the connection, not allocate gigabytes.
const MAX_METADATA = 64 << 20;
const MAX_BODY = 2 ** 31 - 1;

const EOS_LENGTH = 8;

/** Sentinel of `tryNext`: the message is not complete yet. */
const MORE = Symbol('MORE');

export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  /** Headers of recent messages: a request stream's schema and batch headers, and a spare. */
  private readonly headers = new RecentByBytes<Header>(4);

  /**
   * `ownsReads`: every chunk the input emits is a buffer nobody else uses (true of sockets and
   * pipes, whose reads Node allocates one by one), so a stream that fills one may be moved away.
   */
  constructor(private readonly input: Readable, private readonly ownsReads = false) {
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

  /** Waits for more bytes; false when the input ended (or failed: then it throws). */
  private async more(): Promise<boolean> {
    if (this.error) throw this.error;
    if (this.ended) return false;
    this.input.resume();
    await new Promise<void>((r) => (this.wake = r));
    if (this.error) throw this.error;
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
      out.set(take === c.length ? c : c.subarray(skip, skip + take), pos);
      pos += take; need -= take; skip = 0;
      if (need === 0) break;
    }
    return out;
  }

  /** `n` bytes at `from` as a view when one chunk holds them, else as a copy. */
  private view(from: number, n: number): Uint8Array {
    const c = this.chunks[0]!;
    return from + n <= c.length ? c.subarray(from, from + n) : this.peek(from, n);
  }

  private int32At(pos: number): number {
    const c = this.chunks[0]!;
    if (pos + 4 <= c.length) return c.readInt32LE(pos);
    return Buffer.from(this.peek(pos, 4)).readInt32LE(0);
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) { n -= c.length; this.chunks.shift(); }
      else { this.chunks[0] = c.subarray(n); n = 0; }
    }
  }

  /** The next message if it is completely buffered, else MORE. Never waits. */
  private tryNext(): IpcMessage | typeof EOS | typeof MORE {
    if (this.buffered < 4) return MORE;
    const first = this.int32At(0);
    let prefix = 4;
    let metaLen = first;
    if (first === -1) {
      if (this.buffered < 8) return MORE;
      metaLen = this.int32At(4);
      prefix = 8;
    }
    if (metaLen === 0) {
      // Remembered only when the EOS begins its read buffer (see markerBuffer).
      const c = this.chunks[0]!;
      this.eosBuffer = prefix === 8 && c.byteOffset === 0 && c.length >= 8 ? c.buffer : null;
      this.consume(prefix);
      return EOS;
    }
    if (metaLen < 0 || metaLen > MAX_METADATA) throw new ProtocolError(`invalid IPC metadata length ${metaLen}`);
    if (this.buffered < prefix + metaLen) return MORE;
    const header = this.headers.get(this.view(prefix, metaLen), Header.parse);
    const bodyLength = header.bodyLength;
    if (!(bodyLength >= 0 && bodyLength <= MAX_BODY)) throw new ProtocolError(`invalid IPC body length ${bodyLength}`);
    const total = prefix + metaLen + bodyLength;
    if (this.buffered < total) return MORE;
    // A message inside one socket read is a view into it (Node gives every read its own buffer);
    // one that spans reads is copied into a buffer of its own. Either way nothing is copied twice:
    // whoever moves a message to another thread takes it with ownBuffer().
    const c = this.chunks[0]!;
    let bytes: Uint8Array;
    if (total <= c.length) bytes = new Uint8Array(c.buffer, c.byteOffset, total);
    else {
      bytes = new Uint8Array(Buffer.allocUnsafeSlow(total).buffer, 0, total); // not zero-filled: overwritten
      this.peek(0, total, bytes, 0);
    }
    this.consume(total);
    return messageOf(bytes, prefix + metaLen, header);
  }

  /** The end of input: null at a message boundary, else the stream was cut. */
  private atEnd(): null {
    if (this.buffered === 0) return null;
    throw new ProtocolError(this.buffered < 8 ? 'connection closed inside a message prefix' : 'connection closed inside a message');
  }

  /** The next message, EOS, or null when the peer closed the connection at a message boundary. */
  async next(): Promise<ReadItem> {
    for (;;) {
      const m = this.tryNext();
      if (m !== MORE) return m;
      if (!(await this.more())) {
        const again = this.tryNext(); // bytes that arrived together with the end
        if (again !== MORE) return again;
        return this.atEnd();
      }
    }
  }

  /**
   * The read buffer the last stream of `readStream` came in, when it held that stream and nothing
   * else (the usual case: DuckDB writes a request and waits, so one socket read is one request,
   * and Node gives every read an ArrayBuffer of its own), possibly after a one-way marker (an
   * empty stream) at its start. Nobody else refers to it, so a handler may move it to another
   * thread instead of copying the part it needs. Else null.
   */
  lastStreamBuffer: ArrayBuffer | null = null;
  /** The read buffer the last EOS began (its bytes 0–7), if it began one. */
  private eosBuffer: ArrayBufferLike | null = null;
  /**
   * Set when the last stream was empty (a stdio relay's one-way marker) and its EOS began its read
   * buffer: the next stream may then follow it in that buffer and still be moved
   * (runtime/wire/chunk-bundle.ts).
   */
  private markerBuffer: ArrayBufferLike | null = null;

  /** Reads one whole stream: schema, batches, EOS. Returns null on a clean end of connection. */
  async readStream(): Promise<IpcMessage[] | null> {
    const out: IpcMessage[] = [];
    this.lastStreamBuffer = null;
    for (;;) {
      let m = this.tryNext();
      while (m === MORE) {
        if (!(await this.more())) {
          m = this.tryNext();
          if (m === MORE) {
            if (this.atEnd() === null && out.length === 0) return null;
            throw new ProtocolError('connection closed inside an IPC stream');
          }
        } else m = this.tryNext();
      }
      if (m === EOS) {
        this.lastStreamBuffer = this.soleBuffer(out);
        this.markerBuffer = out.length === 0 ? this.eosBuffer : null;
        return out;
      }
      out.push(m);
    }
  }

  /** The buffer that holds exactly these messages (and their EOS), if there is one. */
  private soleBuffer(msgs: readonly IpcMessage[]): ArrayBuffer | null {
    if (!this.ownsReads || msgs.length === 0) return null;
    const b = msgs[0]!.bytes.buffer;
    // At its start, or right after an empty stream that began the buffer (nobody holds that).
    const start = msgs[0]!.bytes.byteOffset;
    if (start !== 0 && !(start === EOS_LENGTH && b === this.markerBuffer)) return null;
    for (const m of msgs) if (m.bytes.buffer !== b) return null;
    // From its first byte to its last: the messages back to back, then the EOS (8 or 4 bytes).
    const last = msgs[msgs.length - 1]!.bytes;
    const tail = b.byteLength - (last.byteOffset + last.byteLength);
    if (tail !== 8 && tail !== 4) return null;
    // Bytes after the EOS (the next request) would still be read from it.
    for (const c of this.chunks) if (c.buffer === b) return null;
    return b as ArrayBuffer;
  }
}
