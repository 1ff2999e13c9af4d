// The `request: binary` cell of a VGI method's request batch. Lives apart from connection.ts so
// that the stdio relay (runtime/transports/relay-ack.ts) can find a process call's execution id
// and key with the same code the host uses, without importing the handlers.
import { ProtocolError, recordBatchHeader, bodyBuffer, type IpcMessage } from './message.js';

/** The single `request: binary` cell of a VGI method's request batch (a view, no copy). */
export function requestBlob(batch: IpcMessage): Uint8Array {
  const rb = recordBatchHeader(batch);
  if (Number(rb.length()) !== 1) throw new ProtocolError('request batch must have exactly one row');
  const offs = bodyBuffer(batch, rb, 1);
  if (offs.byteLength < 8) throw new ProtocolError('request column is not binary');
  const dv = new DataView(offs.buffer, offs.byteOffset, 8);
  const a = dv.getInt32(0, true);
  const b = dv.getInt32(4, true);
  const data = bodyBuffer(batch, rb, 2);
  if (a < 0 || b < a || b > data.byteLength) throw new ProtocolError('request cell offsets out of range');
  return data.subarray(a, b);
}

/** The routing key of an execution id (hex): the host's routes and the relay's answers use it. */
export function executionKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}
