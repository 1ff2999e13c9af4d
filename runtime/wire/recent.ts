// What was last computed from a few byte strings, found again by comparing bytes.
//
// DuckDB repeats the same IPC headers on every chunk: the request stream's schema message, the
// request batch's header (its buffer offsets only change with the chunk's byte size), and the
// nested request's schema and batch headers. Parsing and bounds-checking them is most of the
// main thread's per-chunk work besides the socket write (bench/hotpath.mjs). A byte comparison
// (memcmp over a few hundred bytes) finds the earlier result instead; a result is computed once,
// from a private copy of the bytes, so views it keeps never point into a reused or moved buffer.

/** Keys longer than this are never kept: a huge header is rare and not worth holding. */
const MAX_KEY_BYTES = 4096;

export class RecentByBytes<T> {
  private readonly keys: Buffer[] = [];
  private readonly values: T[] = [];
  /** When each slot was last used: a miss replaces the least recently used one, so headers that
   * change every chunk (a varchar chunk's batch header) do not push out those that repeat. */
  private readonly used: number[] = [];
  private clock = 0;

  constructor(private readonly slots: number) {}

  /**
   * The value `make` computed for equal bytes before, else `make(copy of bytes)` (kept unless it
   * throws: nothing is remembered about bytes that failed).
   */
  get(bytes: Uint8Array, make: (own: Uint8Array) => T): T {
    const probe = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keys = this.keys;
    const now = ++this.clock;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.byteLength === probe.byteLength && k.equals(probe)) {
        this.used[i] = now;
        return this.values[i]!;
      }
    }
    const own = Buffer.from(probe); // a copy
    const value = make(own);
    if (own.byteLength <= MAX_KEY_BYTES) {
      let slot = keys.length;
      if (slot >= this.slots) {
        slot = 0;
        for (let i = 1; i < keys.length; i++) if (this.used[i]! < this.used[slot]!) slot = i;
      }
      keys[slot] = own;
      this.values[slot] = value;
      this.used[slot] = now;
    }
    return value;
  }
}
