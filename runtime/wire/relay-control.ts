// Messages between a stdio relay and the actor host that DuckDB never sends (see
// runtime/transports/relay-ack.ts for the relay, relay-link.ts for the host). Each one is a tiny
// IPC request stream — empty schema, one zero-row batch whose custom metadata carries the fields,
// EOS — so both sides read them with the ordinary MessageReader and the host dispatches them like
// any request (method RELAY_METHOD). A client that never sends one sees the plain protocol.
import { batchMessage, binarySchemaMessage, concat, EOS_BYTES } from './encode.js';
import { ProtocolError } from './message.js';

export const RELAY_METHOD = '__vgi_actors_relay__';

/**
 * Sent by the relay on its data connection right before a process request it has already
 * answered: the host must queue that request and write nothing. A lone EOS is an empty IPC
 * stream, which DuckDB never sends as a request, and it costs the host no parsing.
 */
export const ONE_WAY_MARKER = EOS_BYTES;

export type RelayControl =
  /** relay → host, first message on each of its two connections (paired by token). */
  | { readonly op: 'hello'; readonly role: 'data' | 'control'; readonly token: string }
  /** host → relay: answer process calls of execution `eid` with `response` from now on. */
  | { readonly op: 'ack'; readonly eid: string; readonly response: Uint8Array }
  /** host → relay: stop answering for `eid` (it failed or ended). */
  | { readonly op: 'revoke'; readonly eid: string }
  /** host → relay: how many one-way requests have you forwarded so far? */
  | { readonly op: 'sync'; readonly seq: number }
  /** relay → host: the answer to `sync` (seq > 0), or the final total before the relay exits (seq 0). */
  | { readonly op: 'count'; readonly seq: number; readonly count: number };

const KEY = 'vgi_actors.relay';
const EMPTY_SCHEMA = binarySchemaMessage([], false);

export function encodeControl(c: RelayControl): Uint8Array {
  const meta = new Map<string, string>([['vgi_rpc.method', RELAY_METHOD], [KEY, c.op]]);
  switch (c.op) {
    case 'hello': meta.set(`${KEY}.role`, c.role).set(`${KEY}.token`, c.token); break;
    case 'ack': meta.set(`${KEY}.eid`, c.eid).set(`${KEY}.response`, Buffer.from(c.response.buffer, c.response.byteOffset, c.response.byteLength).toString('base64')); break;
    case 'revoke': meta.set(`${KEY}.eid`, c.eid); break;
    case 'sync': meta.set(`${KEY}.seq`, String(c.seq)); break;
    case 'count': meta.set(`${KEY}.seq`, String(c.seq)).set(`${KEY}.count`, String(c.count)); break;
  }
  return concat([EMPTY_SCHEMA, ...batchMessage(0, [], [], meta), EOS_BYTES]);
}

function field(meta: ReadonlyMap<string, string>, name: string): string {
  const v = meta.get(`${KEY}.${name}`);
  if (v === undefined) throw new ProtocolError(`relay control message lacks ${name}`);
  return v;
}

function count(meta: ReadonlyMap<string, string>, name: string): number {
  const n = Number(field(meta, name));
  if (!Number.isSafeInteger(n) || n < 0) throw new ProtocolError(`relay control message has a bad ${name}`);
  return n;
}

/** The control message carried by a batch's custom metadata; throws ProtocolError if malformed. */
export function decodeControl(meta: ReadonlyMap<string, string>): RelayControl {
  const op = meta.get(KEY);
  switch (op) {
    case 'hello': {
      const role = field(meta, 'role');
      if (role !== 'data' && role !== 'control') throw new ProtocolError(`unknown relay role ${role}`);
      return { op, role, token: field(meta, 'token') };
    }
    case 'ack': return { op, eid: field(meta, 'eid'), response: new Uint8Array(Buffer.from(field(meta, 'response'), 'base64')) };
    case 'revoke': return { op, eid: field(meta, 'eid') };
    case 'sync': return { op, seq: count(meta, 'seq') };
    case 'count': return { op, seq: count(meta, 'seq'), count: count(meta, 'count') };
    default: throw new ProtocolError(`unknown relay control message ${String(op)}`);
  }
}
