// Relay side of early acknowledgement under stdio (the host side, and why it is safe, is in
// relay-link.ts). Without it every process call crosses two hops (DuckDB → relay → host and
// back); with it, a process call of an execution the host announced costs one pipe round trip:
// the relay answers with the bytes the host gave it and forwards the chunk one-way, in a bundle
// behind a marker (runtime/wire/chunk-bundle.ts), pipelined with the next calls.
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
import { ChunkBundleWriter } from '../wire/chunk-bundle.js';

/** Executions a relay remembers answers for; the oldest is forgotten first (it then just forwards). */
const MAX_EXECUTIONS = 1024;

// Requests answered here are forwarded in bundles: one writev and one wake-up of the host per
// bundle instead of per 2,048-row chunk (in a CPU profile of the relay, the per-request socket
// write was its largest cost, ~60 µs under load), and the host frames and routes one message per
// bundle. A bundle goes out at BATCH_BYTES, after BATCH_DELAY_MS, before any request the host must
// answer, and when the host asks for a count. 256 KiB / 5 ms against 64 KiB / 1 ms: ~5–10% less
// relay CPU per query in interleaved runs, host CPU and wall time within noise (docs/performance.md
// §10). A bundle larger than the socket's kernel buffer (~208 KiB for AF_UNIX) finishes from
// Node's buffer; DuckDB is only held up at MAX_UNSENT.
const BATCH_BYTES = 256 << 10;
const BATCH_DELAY_MS = 5;
/**
 * Bytes the relay may hold for a host that is not reading (on top of the kernel's buffer) before
 * it stops reading DuckDB. Node's own mark (16 KiB) is less than one chunk: pausing there would
 * stall DuckDB at every short hiccup of the host instead of only when it really falls behind.
 */
const MAX_UNSENT = 1 << 20;

/** A process call answered here: the answer, and what the host needs of the request. */
interface Answered { readonly answer: Uint8Array; readonly eid: Uint8Array; readonly input: Uint8Array; readonly batchIndex: bigint | null }

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

  /**
   * What to answer and forward if `m` is a process request batch the host let us answer. Anything
   * odd (a request the host would reject) is left to the host: it reads it and answers the error.
   */
  const answerFor = (m: IpcMessage): Answered | undefined => {
    if (answers.size === 0 || m.metadata.get('vgi_rpc.method') !== 'table_buffering_process') return undefined;
    try {
      const row = NestedRow.parse(requestBlob(m));
      const eid = row.bytes('execution_id');
      const answer = eid ? answers.get(executionKey(eid)) : undefined;
      const input = answer && row.bytes('input_batch');
      if (!eid || !answer || !input) return undefined;
      return { answer, eid, input, batchIndex: row.has('batch_index') ? row.int64('batch_index') : null };
    } catch {
      return undefined;
    }
  };

  /** Answered requests not yet sent, as one chunk bundle (runtime/wire/chunk-bundle.ts). */
  const bundle = new ChunkBundleWriter();
  let outbox: Uint8Array[] = [];
  let timer: NodeJS.Timeout | null = null;

  /** Puts the open bundle, behind its one-way marker, in the outbox (order with other requests kept). */
  const closeBundle = (): void => {
    if (bundle.rows > 0) outbox.push(ONE_WAY_MARKER, ...bundle.take());
  };

  /** Writes everything queued to the host in one syscall. */
  function flush(): void {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    closeBundle();
    if (outbox.length === 0) return;
    const parts = outbox;
    outbox = [];
    data.cork();
    for (const p of parts) data.write(p);
    data.uncork();
  }

  /** Sends a request the host answers, after everything queued before it. */
  const send = (parts: readonly Uint8Array[]): void => {
    closeBundle();
    outbox.push(...parts);
    flush();
  };

  /** Queues a request answered here; a full bundle goes out at once, others within BATCH_DELAY_MS. */
  const forward = (a: Answered): void => {
    bundle.add(a.eid, a.input, a.batchIndex);
    forwarded++;
    if (bundle.bytes >= BATCH_BYTES) flush();
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
    let answer: Answered | undefined;
    for (;;) {
      const m = await reader.next();
      if (stopped) return;
      if (m === null) break;
      if (m === EOS) {
        if (answer !== undefined && held.length === 2) {
          stdout.write(answer.answer); // DuckDB goes on at once; the chunk follows to the host
          forward(answer);
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
