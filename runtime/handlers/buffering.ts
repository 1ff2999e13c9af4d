// table_buffering_process / _combine / _destructor: the per-chunk hot path. The main thread reads
// only the execution id and where the input batch lies, then moves the request's own ArrayBuffer
// to the actor's thread: the chunk is decoded there and kept there, never copied.
//
// Functions declaring `stateId: 'execution'` are answered before their actor has run the chunk
// (runtime/actors/mailbox.ts): the answer is the execution id either way, and the queue to the
// actor is bounded. Everything else waits for the actor's answer. Under stdio the relay answers
// such calls itself once told to (runtime/transports/relay-link.ts): those arrive one-way, in
// bundles (queueOneWay).
import type { Connection, RequestContext } from '../connection.js';
import type { BundledChunk } from '../wire/chunk-bundle.js';
import type { ActorThreadHandle } from '../actors/thread-handle.js';
import { executionKey, requestBlob } from '../wire/request.js';
import { NestedRow } from '../wire/nested.js';
import { RecentByBytes } from '../wire/recent.js';
import { ownBuffer, ProtocolError } from '../wire/message.js';
import { stateIdResult, unaryResult, zeroFieldResult } from '../wire/envelope.js';
import { concat } from '../wire/encode.js';
import { encodeRow } from '../protocol/encode.js';
import { schemaOf } from '../protocol/cache.js';
import type { CombineReply, ProcessReply } from '../../actors/messages.js';
import { ActorCallError } from '../actors/pool.js';
import { Mailbox } from '../actors/mailbox.js';

/** Keys of the executions recently called: a chunk's id is found by memcmp, not re-hexed. */
const recentKeys = new RecentByBytes<string>(16);

function executionOf(row: NestedRow): { key: string; id: Uint8Array } {
  const id = row.bytes('execution_id');
  if (!id || id.byteLength === 0) throw new ProtocolError('request carries no execution_id');
  return { key: recentKeys.get(id, executionKey), id };
}

export async function handleProcess(ctx: RequestContext): Promise<void> {
  const blob = requestBlob(ctx.batch);
  const row = NestedRow.parse(blob);
  const execution = executionOf(row);
  const key = execution.key;
  let id = execution.id;
  const input = row.bytes('input_batch');
  if (!input) throw new ProtocolError('table_buffering_process request carries no input_batch');
  const batchIndex = row.has('batch_index') ? row.int64('batch_index') : null;
  const { pool } = ctx.core;
  const thread = pool.route(key);
  const mailbox = pool.mailbox(key, () => {
    const fn = ctx.core.fn(row.string('function_name') ?? '');
    return fn.metadata.stateId === 'execution' ? new Mailbox(id.slice()) : null;
  });
  ctx.core.metrics.chunks++;
  if (mailbox) {
    if (mailbox.error) throw new ActorCallError(mailbox.error, mailbox.takeLogs());
    mailbox.queued(input.byteLength);
    thread.queueChunk(key, input, batchIndex, ctx.buffer);
    if (mailbox.full) {
      thread.flush();
      await mailbox.room();
      pool.route(key); // throws if the actor's thread died meanwhile
      if (mailbox.error) throw new ActorCallError(mailbox.error, mailbox.takeLogs());
    }
    const written = ctx.conn.write(mailbox.response());
    if (thread.due) thread.flush();
    ctx.conn.relay?.announce(key, mailbox);
    await written;
    return;
  }
  // The request's own read buffer when it has one (moved whole: `id` must be copied first),
  // else a copy of its batch message.
  const buffer = ctx.buffer ?? ownBuffer(ctx.batch);
  const offset = ctx.buffer ? input.byteOffset : input.byteOffset - ctx.batch.bytes.byteOffset;
  if (ctx.buffer) id = id.slice();
  const r = await thread.request({ t: 'process', eid: key, buffer, offset, length: input.byteLength, batchIndex }, [buffer]);
  const stateId = (r.value as ProcessReply).stateId;
  // The usual answer (the execution id, no logs) is the same bytes every time: encode it once.
  if (r.logs.length === 0 && sameBytes(stateId, id)) {
    let ack = acks.get(key);
    if (!ack) {
      if (acks.size >= 256) acks.delete(acks.keys().next().value!);
      acks.set(key, (ack = concat(unaryResult(stateIdResult(id)))));
    }
    await ctx.conn.write([ack]);
    return;
  }
  await ctx.conn.write(unaryResult(stateIdResult(stateId), r.logs));
}

/**
 * A bundle of process calls a stdio relay already answered. Each chunk is queued exactly as on the
 * early path, and the same bound applies: a full mailbox stops this connection from reading, which
 * stops the relay from reading DuckDB's pipe (the bundle in hand is queued whole first: its calls
 * were answered). It cannot fail those calls: a failed or lost execution skips its chunks (its
 * combine fails anyway) and tells the relay to stop answering, so that DuckDB's next process call
 * reaches the host and gets the error.
 * `own`: the bundle's buffer, moved to the actor's thread when every chunk goes to the same one.
 */
export async function queueOneWay(conn: Connection, chunks: readonly BundledChunk[], own: ArrayBuffer | null): Promise<void> {
  const { pool, metrics } = conn.core;
  const link = conn.relay!;
  metrics.chunks += chunks.length;
  const targets: ({ key: string; mailbox: Mailbox; thread: ActorThreadHandle } | null)[] = [];
  let thread: ActorThreadHandle | null = null;
  let oneThread = true;
  for (const c of chunks) {
    const key = recentKeys.get(c.eid, executionKey);
    const mailbox = pool.mailbox(key, () => null);
    let t: ActorThreadHandle;
    try {
      t = pool.route(key);
    } catch {
      if (mailbox) link.revoke(mailbox);
      targets.push(null); // unknown or lost: its combine fails with the same reason
      continue;
    }
    // Only executions with a mailbox are ever announced, and an execution never loses its mailbox.
    if (!mailbox) throw new ProtocolError(`one-way process call for ${key}, which is not acknowledged early`);
    if (mailbox.error) { link.revoke(mailbox); targets.push(null); continue; }
    targets.push({ key, mailbox, thread: t });
    if (thread !== null && thread !== t) oneThread = false;
    thread = t;
  }
  const move = oneThread ? own : null;
  for (let i = 0; i < chunks.length; i++) {
    const t = targets[i];
    if (!t) continue;
    t.mailbox.queued(chunks[i]!.input.byteLength);
    t.thread.queueChunk(t.key, chunks[i]!.input, chunks[i]!.batchIndex, move);
  }
  for (const t of targets) {
    if (!t?.mailbox.full) continue;
    t.thread.flush();
    await t.mailbox.room();
  }
  for (const t of targets) if (t?.thread.due) t.thread.flush();
}

/** Encoded process answers of recent synchronous executions (state id = execution id). */
const acks = new Map<string, Uint8Array>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function handleCombine(ctx: RequestContext): Promise<void> {
  const row = NestedRow.parse(requestBlob(ctx.batch));
  const { key } = executionOf(row);
  const stateIds = (row.binaryList('state_ids') ?? []).map((s) => s.slice());
  const mailbox = ctx.core.pool.mailbox(key, () => null);
  let r;
  try {
    // Chunks a stdio relay answered may still be on their way on other connections.
    await mailbox?.relayBarrier();
    r = await ctx.core.pool.route(key).request({ t: 'combine', eid: key, stateIds });
  } catch (e) {
    // Lines logged by queued process calls precede the failure, as they would have without queueing.
    if (mailbox && e instanceof ActorCallError) e.logs.unshift(...mailbox.takeLogs());
    throw e;
  }
  const ids = (r.value as CombineReply).finalizeStateIds;
  const logs = mailbox ? [...mailbox.takeLogs(), ...r.logs] : r.logs;
  await ctx.conn.write(unaryResult([encodeRow(schemaOf(ctx.protocol.tables.combineResult), { finalize_state_ids: ids })], logs));
}

/** Best effort by protocol: never fails, tolerates an unknown or lost execution. */
export async function handleDestructor(ctx: RequestContext): Promise<void> {
  const row = NestedRow.parse(requestBlob(ctx.batch));
  const { key } = executionOf(row);
  await ctx.core.destroyExecution(key, 'destructor');
  await ctx.conn.write(unaryResult(zeroFieldResult()));
}
