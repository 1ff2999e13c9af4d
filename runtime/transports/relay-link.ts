// Host side of an acknowledging stdio relay (the relay side is relay-ack.ts).
//
// A relay opens two connections to the host: *data* carries DuckDB's bytes both ways, unchanged
// except for a marker before each process request the relay has already answered (one-way: the
// host queues it and writes nothing); *control* carries small messages both ways
// (runtime/wire/relay-control.ts). Control is separate so that host → relay responses stay the
// exact bytes DuckDB reads, and so that a relay can answer `sync` while its data connection is in
// the middle of another exchange (a finalize stream of another query).
//
// What keeps early answers honest:
// - the host decides: it sends `ack` for an execution only after answering one of its process
//   calls itself through the mailbox path (runtime/actors/mailbox.ts, stateId 'execution'), and
//   `revoke` when the execution fails or ends;
// - the relay decides per request and marks it, so host and relay never disagree about which
//   requests get an answer;
// - combine may arrive on another connection (another DuckDB sink process) while chunks the relay
//   already answered are still in its socket. Combine therefore waits for a barrier per relay
//   that acknowledged for the execution: `sync` → the relay's count of one-way requests forwarded
//   so far (which covers everything DuckDB saw answered before it sent combine) → wait until the
//   host has read that many from the data connection. A relay that exits sends its final count
//   first; one that vanished without it fails the combine (chunks may have been lost).
import type { Connection } from '../connection.js';
import type { RuntimeCore } from '../core.js';
import type { EarlyAcker, Mailbox } from '../actors/mailbox.js';
import { encodeControl, type RelayControl } from '../wire/relay-control.js';
import { ProtocolError } from '../wire/message.js';

/** Half-open links by pairing token, per runtime (a process may host several in tests). */
const registries = new WeakMap<RuntimeCore, Map<string, RelayLink>>();

export class RelayLink implements EarlyAcker {
  private data: Connection | null = null;
  private control: Connection | null = null;
  private dataEnded = false;
  private controlEnded = false;
  /** One-way requests read (and queued, or skipped for a failed execution) from the data connection. */
  private received = 0;
  /** The relay's total before it exited, if it said so. */
  private finalCount: number | null = null;
  private readonly announced = new Map<Mailbox, string>();
  /** Every mailbox this link is an acker of (until the execution ends). */
  private readonly touched = new Set<Mailbox>();
  private readonly syncs = new Map<number, (count: number | null) => void>();
  private nextSeq = 1;
  private waiters: (() => void)[] = [];

  private constructor(private readonly token: string, private readonly registry: Map<string, RelayLink>) {}

  /** Handles a control message that arrived on `conn`. Control messages get no response. */
  static onControl(conn: Connection, c: RelayControl): void {
    if (c.op === 'hello') {
      if (conn.relay) throw new ProtocolError('relay hello sent twice on one connection');
      let reg = registries.get(conn.core);
      if (!reg) registries.set(conn.core, (reg = new Map()));
      let link = reg.get(c.token);
      if (!link) reg.set(c.token, (link = new RelayLink(c.token, reg)));
      link.attach(c.role, conn);
      return;
    }
    const link = conn.relay;
    if (!link || link.control !== conn) throw new ProtocolError(`relay message '${c.op}' outside a relay control connection`);
    if (c.op !== 'count') throw new ProtocolError(`relay message '${c.op}' is host → relay only`);
    if (c.seq === 0) {
      link.finalCount = c.count;
    } else {
      link.syncs.get(c.seq)?.(c.count);
      link.syncs.delete(c.seq);
    }
  }

  private attach(role: 'data' | 'control', conn: Connection): void {
    if ((role === 'data' ? this.data : this.control) !== null) throw new ProtocolError(`relay ${role} connection opened twice`);
    if (role === 'data') this.data = conn;
    else this.control = conn;
    conn.relay = this;
    if (this.data && this.control) this.registry.delete(this.token); // paired: the token is spent
  }

  /** True when `conn` is this relay's data connection (where one-way markers are allowed). */
  carriesData(conn: Connection): boolean {
    return this.data === conn;
  }

  /** The host answered a process call of `key` on the data connection early: let the relay do it. */
  announce(key: string, mailbox: Mailbox): void {
    if (!this.control || this.controlEnded || this.dataEnded || this.announced.has(mailbox)) return;
    this.announced.set(mailbox, key);
    this.touched.add(mailbox);
    mailbox.ackers.add(this);
    void this.control.write([encodeControl({ op: 'ack', eid: key, response: mailbox.ackBytes() })]);
  }

  /** `n` one-way process calls were read from the data connection (and queued, or skipped). */
  oneWayDone(n: number): void {
    this.received += n;
    this.wake();
  }

  revoke(mailbox: Mailbox): void {
    const key = this.announced.get(mailbox);
    if (key === undefined) return;
    this.announced.delete(mailbox);
    // Stays an acker of the mailbox: chunks answered before the revoke may still be in flight.
    if (this.control && !this.controlEnded) void this.control.write([encodeControl({ op: 'revoke', eid: key })]);
  }

  release(mailbox: Mailbox): void {
    this.revoke(mailbox);
    this.touched.delete(mailbox);
  }

  /** `conn` (data or control) closed. */
  closed(conn: Connection): void {
    if (conn === this.control) {
      this.controlEnded = true;
      for (const resolve of this.syncs.values()) resolve(null);
      this.syncs.clear();
    }
    if (conn === this.data) this.dataEnded = true;
    if (this.registry.get(this.token) === this) this.registry.delete(this.token);
    this.wake();
    if (this.dataEnded && this.controlEnded && this.complete()) {
      // Nothing of ours is in flight any more: no combine needs to wait for this link.
      for (const m of this.touched) m.ackers.delete(this);
      this.touched.clear();
      this.announced.clear();
    }
  }

  private complete(): boolean {
    return this.finalCount !== null && this.received >= this.finalCount;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The relay's count of one-way requests forwarded so far; null if it can no longer answer. */
  private sync(): Promise<number | null> {
    if (!this.control || this.controlEnded) return Promise.resolve(null);
    const seq = this.nextSeq++;
    const reply = new Promise<number | null>((resolve) => this.syncs.set(seq, resolve));
    void this.control.write([encodeControl({ op: 'sync', seq })]);
    return reply;
  }

  async barrier(): Promise<void> {
    if (!this.dataEnded) {
      const n = await this.sync();
      if (n !== null) {
        await this.until(() => this.received >= n || this.dataEnded);
        if (this.received >= n) return;
      }
      await this.until(() => this.dataEnded);
    }
    // The data connection is closed, so everything it carried has been read.
    if (!this.complete()) {
      throw new Error('vgi-actors: a stdio worker process ended before delivering process calls it had already answered; the execution is incomplete');
    }
  }
}
