// Protocol 2.0.0 request bodies for hand-driven executions (tests that play DuckDB's part to
// reach paths DuckDB does not take on its own: a cancel tick, a chunk of the wrong schema).
import { RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { protocolFor } from '../../runtime/protocol/versions.js';
import { encodeRow, encodeSchemaMessage } from '../../runtime/protocol/encode.js';

const v2 = protocolFor('2.0.0');

/** Encodes one row of `table`; fields not given are null. */
function row(table: keyof typeof v2.schemas, given: Record<string, unknown>): Uint8Array {
  const schema = v2.schemas[table] as Schema;
  const r: Record<string, unknown> = { ...given };
  for (const f of schema.fields) if (!(f.name in r)) r[f.name] = null;
  return encodeRow(schema, r);
}

export function bindCall(fn: string, inputSchema: Schema): Uint8Array {
  return row('bindRequest', {
    function_name: fn, arguments: new Uint8Array(0), function_type: 'TABLE', input_schema: encodeSchemaMessage(inputSchema),
    resolved_secrets_provided: false, schema_path: ['main'],
  });
}

/** Sink init (executionId null: the primary, which mints the execution) or finalize init. */
export function initRequest(fn: string, inputSchema: Schema, outputSchema: Schema, phase: 'TABLE_BUFFERING' | 'TABLE_BUFFERING_FINALIZE', executionId: Uint8Array | null = null, finalizeStateId: Uint8Array | null = null): Uint8Array {
  return row('initRequest', {
    bind_call: bindCall(fn, inputSchema), output_schema: encodeSchemaMessage(outputSchema), phase, execution_id: executionId, finalize_state_id: finalizeStateId,
  });
}

export function processRequest(fn: string, executionId: Uint8Array, batch: RecordBatch): Uint8Array {
  const input = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  return row('processRequest', { function_name: fn, execution_id: executionId, input_batch: input, schema_path: ['main'] });
}

export function combineRequest(fn: string, executionId: Uint8Array, stateIds: Uint8Array[]): Uint8Array {
  return row('combineRequest', { function_name: fn, execution_id: executionId, state_ids: stateIds, schema_path: ['main'] });
}

export function destructorRequest(fn: string, executionId: Uint8Array): Uint8Array {
  return row('destructorRequest', { function_name: fn, execution_id: executionId, schema_path: ['main'] });
}
