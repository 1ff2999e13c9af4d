// bind: the user's onBind decides the output schema. It is user code, so it runs on an actor
// thread (any one: bind has no execution yet); the main thread only wraps the answer.
import type { RequestContext } from '../connection.js';
import { requestBlob } from '../wire/request.js';
import { unaryResult } from '../wire/envelope.js';
import { decodeRow, encodeRow } from '../protocol/encode.js';
import { schemaOf } from '../protocol/cache.js';
import type { BindReply } from '../../actors/messages.js';

export function bytesOrNull(v: unknown): Uint8Array | null {
  return v instanceof Uint8Array && v.byteLength > 0 ? v : null;
}

export async function handleBind(ctx: RequestContext): Promise<void> {
  const req = decodeRow(requestBlob(ctx.batch)).row;
  const name = String(req.function_name);
  ctx.core.fn(name); // unknown functions fail here with a clear message
  await ctx.core.pool.whenLive();
  const r = await ctx.core.pool.any().request({
    t: 'bind',
    functionName: name,
    inputSchema: bytesOrNull(req.input_schema),
    arguments: bytesOrNull(req.arguments),
    settings: bytesOrNull(req.settings),
  });
  const row = ctx.protocol.bindResponseRow({ outputSchemaBytes: (r.value as BindReply).outputSchema });
  await ctx.conn.write(unaryResult([encodeRow(schemaOf(ctx.protocol.tables.bindResponse), row)], r.logs));
}
