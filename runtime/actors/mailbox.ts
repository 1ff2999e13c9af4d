// Early acknowledgement of process calls, per execution, on the main thread.
//
// A function that declares `stateId: 'execution'` always answers process with its execution id,
// so the main thread can answer DuckDB as soon as it has read a chunk and queue the chunk to the
// actor, instead of waiting two thread hops for the actor's answer. The mailbox is what keeps
// that honest:
// - bounded: at most MAX_CHUNKS chunks / MAX_BYTES bytes of an execution are queued and not yet
//   processed; past that, the next acknowledgement waits for the actor (DuckDB feels the back
//   pressure exactly as with synchronous calls);
// - failures are kept: the first error of a queued chunk fails the execution's next process call,
//   or its combine at the latest (the actor refuses to combine after a failed chunk);
// - logs a queued process call wrote go out with the execution's next response.
// Under stdio a relay may acknowledge for the host (runtime/transports/relay-link.ts): it registers
// as an EarlyAcker, is told when the execution fails or ends, and combine waits for its barrier.
import { stateIdResult, unaryResult, type WireLog } from '../wire/envelope.js';
import { concat } from '../wire/encode.js';
import type { ChunksDone, SerializedError } from '../../actors/messages.js';

/**
 * Queue bound per execution: what DuckDB may send ahead of the actor. Large enough to ride out
 * a GC pause of the actor's thread (~100 ms ≈ 400 chunks at transport speed), small next to what
 * a buffering function holds anyway.
 */
export const MAX_CHUNKS = 1024;
export const MAX_BYTES = 16 << 20;

/** A stdio relay that acknowledges this execution's process calls itself (relay-link.ts). */
export interface EarlyAcker {
  /** Resolves once every chunk the relay acknowledged has reached this mailbox; rejects if one never will. */
  barrier(): Promise<void>;
  /** The execution failed: stop acknowledging, so the next process call reaches the host and fails. */
  revoke(mailbox: Mailbox): void;
  /** The execution ended (or its thread died): stop acknowledging and drop every reference to it. */
  release(mailbox: Mailbox): void;
}

export class Mailbox {
  chunks = 0;
  bytes = 0;
  error: SerializedError | null = null;
  private logs: WireLog[] = [];
  private waiters: (() => void)[] = [];
  private ack: Uint8Array | null = null;
  private closed = false;
  /** Relays acknowledging for this execution; combine waits for their barriers. */
  readonly ackers = new Set<EarlyAcker>();

  constructor(readonly executionId: Uint8Array) {}

  queued(bytes: number): void {
    this.chunks++;
    this.bytes += bytes;
  }

  get full(): boolean {
    return this.chunks > MAX_CHUNKS || this.bytes > MAX_BYTES;
  }

  done(d: ChunksDone): void {
    this.chunks -= d.chunks;
    this.bytes -= d.bytes;
    for (const l of d.logs) this.logs.push(l);
    if (d.error && !this.error) {
      this.error = d.error;
      for (const a of this.ackers) a.revoke(this);
    }
    if (!this.full || this.error) this.wake();
  }

  /** Resolves when the queue is under its bound again, the execution failed, or its thread died. */
  async room(): Promise<void> {
    while (this.full && !this.error && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The actor is gone (its thread died): nothing will drain the queue any more. */
  close(): void {
    this.closed = true;
    for (const a of this.ackers) a.release(this);
    this.ackers.clear();
    this.wake();
  }

  /** Waits until every chunk a relay acknowledged for this execution has been queued here. */
  async relayBarrier(): Promise<void> {
    if (this.ackers.size > 0) await Promise.all([...this.ackers].map((a) => a.barrier()));
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  takeLogs(): WireLog[] {
    if (this.logs.length === 0) return [];
    const l = this.logs;
    this.logs = [];
    return l;
  }

  /** The process response, identical for every chunk: encoded once, written in one piece. */
  response(): Uint8Array[] {
    const logs = this.takeLogs();
    if (logs.length > 0) return unaryResult(stateIdResult(this.executionId), logs);
    return [this.ackBytes()];
  }

  /** The process response without logs (what a relay answers with). */
  ackBytes(): Uint8Array {
    this.ack ??= concat(unaryResult(stateIdResult(this.executionId)));
    return this.ack;
  }
}
