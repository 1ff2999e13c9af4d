// init: the stream method. Phase TABLE_BUFFERING creates (primary) or joins (secondary) an
// execution's actor; phase TABLE_BUFFERING_FINALIZE streams one finalize state id from the actor.
import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../connection.js';
import { executionKey, requestBlob } from '../wire/request.js';
import { EOS_BYTES } from '../wire/encode.js';
import { binarySchemaMessage } from '../wire/encode.js';
import { EOS } from '../wire/reader.js';
import { ProtocolError } from '../wire/message.js';
import { decodeRow, encodeRow } from '../protocol/encode.js';
import { schemaOf } from '../protocol/cache.js';
import { bytesOrNull } from './bind.js';
import { streamFinalize } from './finalize.js';
import type { InitContext, PushdownInput } from '../../actors/messages.js';

const EMPTY_OUTPUT = [binarySchemaMessage([], false), EOS_BYTES];

export interface InitRequestView {
  readonly phase: string | null;
  readonly executionId: Uint8Array | null;
  readonly finalizeStateId: Uint8Array | null;
  readonly init: InitContext;
  readonly pushdown: PushdownInput;
}

/** Reads InitRequest by field name: 1.0 and 2.0 order the fields differently. */
export function readInitRequest(blob: Uint8Array, protocolMajor: number): InitRequestView {
  const req = decodeRow(blob).row;
  const bindCall = bytesOrNull(req.bind_call);
  if (!bindCall) throw new ProtocolError('init request carries no bind_call');
  const bind = decodeRow(bindCall).row;
  const outputSchema = bytesOrNull(req.output_schema);
  if (!outputSchema) throw new ProtocolError('init request carries no output_schema');
  const ids = req.projection_ids as (bigint | number)[] | null | undefined;
  const joinKeys = req.join_keys as Uint8Array[] | null | undefined;
  return {
    phase: (req.phase as string | null) ?? null,
    executionId: bytesOrNull(req.execution_id),
    finalizeStateId: req.finalize_state_id instanceof Uint8Array ? req.finalize_state_id : null,
    init: {
      functionName: String(bind.function_name),
      inputSchema: bytesOrNull(bind.input_schema),
      outputSchema,
      arguments: bytesOrNull(bind.arguments),
      settings: bytesOrNull(bind.settings),
      attachOpaqueData: bytesOrNull(bind.attach_opaque_data),
    },
    pushdown: {
      protocolMajor,
      projectionIds: ids ? ids.map((x) => Number(x)) : null,
      filters: bytesOrNull(req.pushdown_filters),
      joinKeys: joinKeys ? [...joinKeys] : null,
    },
  };
}

function header(ctx: RequestContext, executionId: Uint8Array): Uint8Array {
  return encodeRow(schemaOf(ctx.protocol.tables.globalInitResponse), { execution_id: executionId, opaque_data: null, max_workers: 1n });
}

/** Reads the client's side of the exchange until its EOS (DuckDB sends schema + EOS at once). */
async function drainInput(ctx: RequestContext): Promise<boolean> {
  for (;;) {
    const m = await ctx.conn.reader.next();
    if (m === null) return false;
    if (m === EOS) return true;
  }
}

export async function handleInit(ctx: RequestContext): Promise<void> {
  const major = Number(ctx.protocol.version.split('.')[0]);
  const view = readInitRequest(requestBlob(ctx.batch), major);
  const { core } = ctx;
  core.fn(view.init.functionName);
  if (view.phase === 'TABLE_BUFFERING') {
    let id = view.executionId;
    if (id === null) {
      // Primary sink init: mint the id and create the actor before answering, because other
      // sink threads start sending process calls as soon as DuckDB reads this header.
      id = randomBytes(16);
      const key = executionKey(id);
      await core.pool.whenLive();
      const thread = core.pool.place(key);
      try {
        await thread.request({ t: 'create', eid: key, executionId: id, init: view.init });
      } catch (e) {
        core.pool.forget(key);
        throw e;
      }
      core.metrics.executionsStarted++;
    } else {
      core.pool.route(executionKey(id)); // secondary: the execution must exist here
    }
    await ctx.conn.write([header(ctx, id)]);
    if (!(await drainInput(ctx))) return;
    await ctx.conn.write(EMPTY_OUTPUT);
    return;
  }
  if (view.phase === 'TABLE_BUFFERING_FINALIZE') {
    if (!view.executionId) throw new ProtocolError('finalize init carries no execution_id');
    const key = executionKey(view.executionId);
    const thread = core.pool.route(key);
    return streamFinalize(ctx, thread, key, view, header(ctx, view.executionId));
  }
  throw new ProtocolError(`vgi-actors serves table-buffering functions only; init phase ${view.phase} is not supported`);
}
