// table_buffering_process / _combine / _destructor: the per-chunk hot path. The main thread reads
// only the execution id and where the input batch lies, then moves the request's own ArrayBuffer
// to the actor's thread: the chunk is decoded there and kept there, never copied.
import type { RequestContext } from '../connection.js';
import { requestBlob } from '../connection.js';
import { NestedRow } from '../wire/nested.js';
import { ProtocolError } from '../wire/message.js';
import { stateIdResult, unaryResult, zeroFieldResult } from '../wire/envelope.js';
import { encodeRow } from '../protocol/encode.js';
import { schemaOf } from '../protocol/cache.js';
import type { CombineReply, ProcessReply } from '../../actors/messages.js';
import { executionKey } from '../core.js';

function executionOf(row: NestedRow): { key: string; id: Uint8Array } {
  const id = row.bytes('execution_id');
  if (!id || id.byteLength === 0) throw new ProtocolError('request carries no execution_id');
  return { key: executionKey(id), id };
}

export async function handleProcess(ctx: RequestContext): Promise<void> {
  const blob = requestBlob(ctx.batch);
  const row = NestedRow.parse(blob);
  const { key } = executionOf(row);
  const input = row.bytes('input_batch');
  if (!input) throw new ProtocolError('table_buffering_process request carries no input_batch');
  const batchIndex = row.has('batch_index') ? row.int64('batch_index') : null;
  const thread = ctx.core.pool.route(key);
  const buffer = ctx.batch.bytes.buffer as ArrayBuffer;
  const r = await thread.request(
    { t: 'process', eid: key, buffer, offset: input.byteOffset, length: input.byteLength, batchIndex },
    [buffer],
  );
  ctx.core.metrics.chunks++;
  await ctx.conn.write(unaryResult(stateIdResult((r.value as ProcessReply).stateId), r.logs));
}

export async function handleCombine(ctx: RequestContext): Promise<void> {
  const row = NestedRow.parse(requestBlob(ctx.batch));
  const { key } = executionOf(row);
  const stateIds = (row.binaryList('state_ids') ?? []).map((s) => s.slice());
  const r = await ctx.core.pool.route(key).request({ t: 'combine', eid: key, stateIds });
  const ids = (r.value as CombineReply).finalizeStateIds;
  await ctx.conn.write(unaryResult([encodeRow(schemaOf(ctx.protocol.tables.combineResult), { finalize_state_ids: ids })], r.logs));
}

/** Best effort by protocol: never fails, tolerates an unknown or lost execution. */
export async function handleDestructor(ctx: RequestContext): Promise<void> {
  const row = NestedRow.parse(requestBlob(ctx.batch));
  const { key } = executionOf(row);
  await ctx.core.destroyExecution(key, 'destructor');
  await ctx.conn.write(unaryResult(zeroFieldResult()));
}
