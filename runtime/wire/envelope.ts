// vgi-rpc envelopes: a unary response is one IPC stream `result: binary` whose single row holds
// the inner result stream; logs and errors are zero-row batches carrying vgi_rpc.* metadata.
import { batchMessage, binaryCell, binarySchemaMessage, emptyBinaryBatch, EOS_BYTES } from './encode.js';

export type WireLogLevel = 'EXCEPTION' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
export interface WireLog { readonly level: WireLogLevel; readonly message: string; readonly extra?: Readonly<Record<string, string>> }

export function logMetadata(log: WireLog, errorKind?: string): Map<string, string> {
  const m = new Map<string, string>([['vgi_rpc.log_level', log.level], ['vgi_rpc.log_message', log.message]]);
  if (log.extra) m.set('vgi_rpc.log_extra', JSON.stringify(log.extra));
  if (errorKind) m.set('vgi_rpc.error_kind', errorKind);
  return m;
}

const RESULT_SCHEMA = binarySchemaMessage(['result'], true);
const EMPTY_SCHEMA = binarySchemaMessage([], false);
const STATE_ID_SCHEMA = binarySchemaMessage(['state_id'], false);

/** The inner result of table_buffering_process: `{state_id: binary not null}`. */
export function stateIdResult(stateId: Uint8Array): Uint8Array[] {
  const cell = binaryCell(stateId);
  return [STATE_ID_SCHEMA, ...batchMessage(1, [cell.node], cell.buffers), EOS_BYTES];
}

/** A unary value response wrapping `inner` (an IPC stream given as parts). */
export function unaryResult(inner: readonly Uint8Array[], logs: readonly WireLog[] = []): Uint8Array[] {
  let n = 0;
  for (const p of inner) n += p.byteLength;
  const value = new Uint8Array(n);
  let o = 0;
  for (const p of inner) { value.set(p, o); o += p.byteLength; }
  const cell = binaryCell(value);
  const out: Uint8Array[] = [RESULT_SCHEMA];
  for (const l of logs) out.push(...emptyBinaryBatch(1, logMetadata(l)));
  out.push(...batchMessage(1, [cell.node], cell.buffers), EOS_BYTES);
  return out;
}

/** An error response: empty schema, logs, one EXCEPTION batch, EOS. */
export function unaryError(message: string, opts: { logs?: readonly WireLog[]; errorKind?: string; extra?: Record<string, string> } = {}): Uint8Array[] {
  const out: Uint8Array[] = [EMPTY_SCHEMA];
  for (const l of opts.logs ?? []) out.push(...emptyBinaryBatch(0, logMetadata(l)));
  out.push(...emptyBinaryBatch(0, logMetadata({ level: 'EXCEPTION', message, extra: opts.extra }, opts.errorKind)), EOS_BYTES);
  return out;
}

/** A void response (an empty-schema stream with one zero-row batch). */
export function unaryVoid(): Uint8Array[] {
  return [EMPTY_SCHEMA, ...batchMessage(0, [], []), EOS_BYTES];
}

/** `__transport_options__`: shared memory stays off. */
export function transportOptionsReply(): Uint8Array[] {
  return [EMPTY_SCHEMA, ...batchMessage(0, [], [], new Map([['vgi_rpc.transport.shm', 'false']])), EOS_BYTES];
}

/** Inner zero-field result (table_buffering_destructor). */
export function zeroFieldResult(): Uint8Array[] {
  return [EMPTY_SCHEMA, ...batchMessage(1, [], []), EOS_BYTES];
}
