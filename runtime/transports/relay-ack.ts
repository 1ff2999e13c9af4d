// Relay side of early acknowledgement under stdio (the host side, and why it is safe, is in
// relay-link.ts). Without it every process call crosses two hops (DuckDB → relay → host and
// back); with it, a process call of an execution the host announced costs one pipe round trip:
// the relay answers with the bytes the host gave it and forwards the request one-way, behind a
// marker, pipelined with the next calls.
//
// DuckDB's bytes are framed with the host's own reader (runtime/wire/reader.ts) message by
// message, never a whole stream at a time: init and finalize are exchanges in which DuckDB waits
// for an answer in the middle of its stream. Only a schema message and the batch after it are
// held back, until the next item shows whether they form a process request to answer here (the
// host never answers a lone schema either, so holding it cannot stall DuckDB).
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { EOS, MessageReader } from '../wire/reader.js';
import { MessageHeader, type IpcMessage } from '../wire/message.js';
import { NestedRow } from '../wire/nested.js';
import { executionKey, requestBlob } from '../wire/request.js';
import { concat, EOS_BYTES } from '../wire/encode.js';
import { unaryError } from '../wire/envelope.js';
import { decodeControl, encodeControl, ONE_WAY_MARKER, RELAY_METHOD } from '../wire/relay-control.js';

/** Executions a relay remembers answers for; the oldest is forgotten first (it then just forwards). */
const MAX_EXECUTIONS = 1024;

// Requests answered here are forwarded in batches: one writev and one wake-up of the host per
// batch instead of per 2,048-row chunk (in a CPU profile of the relay, the per-request socket
// write was its largest cost, ~60 µs under load). A batch goes out at BATCH_BYTES, after
// BATCH_DELAY_MS, before any request the host must answer, and when the host asks for a count.
// Batches stay well under the kernel's socket buffer (~208 KiB for AF_UNIX), so a batch normally
// leaves the relay in one write instead of waiting in Node's buffer for the host to read.
const BATCH_BYTES = 64 << 10;
const BATCH_DELAY_MS = 1;
/**
 * Bytes the relay may hold for a host that is not reading (on top of the kernel's buffer) before
 * it stops reading DuckDB. Node's own mark (16 KiB) is less than one chunk: pausing there would
 * stall DuckDB at every short hiccup of the host instead of only when it really falls behind.
 */
const MAX_UNSENT = 1 << 20;

export interface AckingRelay {
  /** Resolves when DuckDB closed stdin and everything was handed to the host. */
  readonly done: Promise<void>;
  /** Stops reading DuckDB and reports the final count (SIGTERM). */
  stop(): void;
  /** True once the host let this relay answer for execution `key` (hex id). */
  answers(key: string): boolean;
}

/**
 * Runs the acknowledging relay over `data` and `control`, two connections to the same host. The
 * host's responses on `data` go to `stdout` byte for byte; the caller handles socket close.
 */
export function startAckingRelay(data: Socket, control: Socket, stdin: Readable, stdout: Writable): AckingRelay {
  const token = randomBytes(16).toString('hex');
  control.write(encodeControl({ op: 'hello', role: 'control', token }));
  data.write(encodeControl({ op: 'hello', role: 'data', token }));
  data.pipe(stdout);

  const answers = new Map<string, Uint8Array>();
  /** One-way requests handed to `data` so far (what `sync` reports). */
  let forwarded = 0;
  let stopped = false;

  let reported = false;
  const reportFinal = (): void => {
    reported = true;
    if (!control.destroyed) control.end(encodeControl({ op: 'count', seq: 0, count: forwarded }));
  };
  // The host dropping control while we still answer would leave its barriers nothing to ask:
  // stop relaying, so that DuckDB sees a dead worker and pending combines fail instead of hang.
  control.on('close', () => { if (!reported) data.destroy(); });
  control.on('error', () => undefined);

  void (async () => {
    const reader = new MessageReader(control);
    for (;;) {
      const req = await reader.readStream().catch(() => null);
      if (req === null) return; // the host went away: the data socket closes too
      const batch = req.find((m) => m.metadata.get('vgi_rpc.method') === RELAY_METHOD);
      if (!batch) continue;
      const c = decodeControl(batch.metadata);
      if (c.op === 'ack') {
        if (answers.size >= MAX_EXECUTIONS) answers.delete(answers.keys().next().value!);
        answers.set(c.eid, c.response);
      } else if (c.op === 'revoke') {
        answers.delete(c.eid);
      } else if (c.op === 'sync') {
        // Synchronous with the forwarding below: every answer DuckDB has seen is counted, and
        // handed to the socket now rather than at the next batch.
        flush();
        control.write(encodeControl({ op: 'count', seq: c.seq, count: forwarded }));
      }
    }
  })().catch(() => control.destroy());

  /** The execution's answer if `m` is a process request batch the host let us answer. */
  const answerFor = (m: IpcMessage): Uint8Array | undefined => {
    if (answers.size === 0 || m.metadata.get('vgi_rpc.method') !== 'table_buffering_process') return undefined;
    try {
      const id = NestedRow.parse(requestBlob(m)).bytes('execution_id');
      return id ? answers.get(executionKey(id)) : undefined;
    } catch {
      return undefined; // the host reads it again and answers with the error
    }
  };

  let outbox: Uint8Array[] = [];
  let outboxBytes = 0;
  let timer: NodeJS.Timeout | null = null;

  /** Writes the batch to the host in one syscall. */
  function flush(): void {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (outbox.length === 0) return;
    const parts = outbox;
    outbox = [];
    outboxBytes = 0;
    data.cork();
    for (const p of parts) data.write(p);
    data.uncork();
  }

  /** Queues parts for the host; `now` sends them (and the batch before them) at once. */
  const send = (parts: readonly Uint8Array[], now = true): void => {
    for (const p of parts) { outbox.push(p); outboxBytes += p.byteLength; }
    if (now || outboxBytes >= BATCH_BYTES) flush();
    else timer ??= setTimeout(flush, BATCH_DELAY_MS);
  };

  const congested = (): Promise<void> => new Promise((resolve) => {
    // Backpressure: DuckDB's pipe fills up while the host is not reading us.
    stdin.pause();
    // 'drain' comes once Node's buffer is empty (write() returned false long before MAX_UNSENT).
    const done = (): void => { data.off('drain', done); data.off('close', done); resolve(); };
    data.on('drain', done);
    data.on('close', done);
  });

  const relay = async (): Promise<void> => {
    const reader = new MessageReader(stdin);
    let held: IpcMessage[] = [];
    let answer: Uint8Array | undefined;
    for (;;) {
      const m = await reader.next();
      if (stopped) return;
      if (m === null) break;
      if (m === EOS) {
        if (answer !== undefined && held.length === 2) {
          stdout.write(answer); // DuckDB goes on at once; the request follows to the host
          send([ONE_WAY_MARKER, held[0]!.bytes, held[1]!.bytes, EOS_BYTES], false);
          forwarded++;
        } else {
          send([...held.map((h) => h.bytes), EOS_BYTES]);
        }
        held = [];
        answer = undefined;
      } else if (held.length === 0 && m.headerType === MessageHeader.Schema) {
        held.push(m);
        continue;
      } else if (held.length === 1 && m.headerType === MessageHeader.RecordBatch && (answer = answerFor(m)) !== undefined) {
        held.push(m);
        continue;
      } else {
        send([...held.map((h) => h.bytes), m.bytes]);
        held = [];
        answer = undefined;
      }
      if (data.writableLength > MAX_UNSENT) await congested();
    }
    send(held.map((h) => h.bytes)); // a stream cut in the middle: the host reports it
  };

  const done = relay().catch((e: unknown) => {
    // Bytes the reader cannot frame: answer as the host would, then end (it closes such connections).
    if (!stopped) stdout.write(concat(unaryError(`vgi-actors: malformed request stream: ${(e as Error).message}`)));
  }).finally(() => {
    if (stopped) return;
    flush();
    reportFinal();
    data.end();
  });

  return {
    done,
    answers: (key) => answers.has(key),
    stop() {
      if (stopped) return;
      stopped = true;
      stdin.pause();
      flush();
      reportFinal();
      data.end();
    },
  };
}
