// Hand-framed floor workers for `npm run bench` (vgi protocol 2.0.0 only, DuckDB 1.5.5).
//
// They answer exactly what a table-buffering function must answer and nothing more, so their
// time is the transport's cost: DuckDB's encoding, the pipe or socket round trips, and framing.
//   ack  — `noop_buffer`: every process call is acknowledged with a precomputed reply; combine
//          returns no finalize id.
//   echo — `buffer_input`: each chunk's raw record-batch message is kept as bytes and written
//          back unchanged at finalize, one message per DuckDB tick.
// The control plane (catalog, bind, init headers) uses apache-arrow: it runs a few times per
// query. The per-chunk path reads the request with a fixed buffer layout and writes a cached
// reply in one write. Built from /work/shared/spec/vgi-protocol-{1.0,2.0}.md, independent of the
// runtime under test.
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { ByteBuffer } from 'flatbuffers';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { encodeRow, decodeRow, schemaMessage, FUNCTION_INFO, unaryStream, errorStream, emptyOutputStream, FIELDS } from './control.mjs';

const EOS = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const CATALOG = 'example';

// ---------------------------------------------------------------- framing
/** Splits a byte stream into IPC messages; calls `onMessage(msg)` or `onMessage(null)` at EOS. */
class Framer {
  constructor(onMessage) { this.buf = Buffer.alloc(0); this.onMessage = onMessage; }
  push(chunk) {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    const b = this.buf;
    for (;;) {
      if (b.length - pos < 8) break;
      let metaLen = b.readInt32LE(pos);
      let prefix = 4;
      if (metaLen === -1) { metaLen = b.readInt32LE(pos + 4); prefix = 8; }
      if (metaLen === 0) { pos += prefix; this.onMessage(null); continue; }
      if (b.length - pos < prefix + metaLen) break;
      const meta = b.subarray(pos + prefix, pos + prefix + metaLen);
      const fb = FbMessage.getRootAsMessage(new ByteBuffer(meta));
      const bodyLen = Number(fb.bodyLength());
      const total = prefix + metaLen + bodyLen;
      if (b.length - pos < total) break;
      this.onMessage({ fb, bytes: b.subarray(pos, pos + total), body: b.subarray(pos + prefix + metaLen, pos + total) });
      pos += total;
    }
    this.buf = pos === b.length ? Buffer.alloc(0) : b.subarray(pos);
  }
}

function batchMetadata(fb) {
  const out = new Map();
  for (let i = 0; i < fb.customMetadataLength(); i++) {
    const kv = fb.customMetadata(i);
    out.set(kv.key(), kv.value());
  }
  return out;
}

/** Cell `row` of a variable-width column whose offsets/data are body buffers `oi`/`oi+1`. */
function varCell(rb, body, oi, row = 0) {
  const ob = rb.buffers(oi), db = rb.buffers(oi + 1);
  const offs = body.subarray(Number(ob.offset()), Number(ob.offset()) + Number(ob.length()));
  const a = offs.readInt32LE(row * 4), e = offs.readInt32LE(row * 4 + 4);
  const start = Number(db.offset());
  return body.subarray(start + a, start + e);
}

/** The `request: binary` cell of a VGI request batch. */
function requestBlob(msg) {
  return varCell(msg.fb.header(new FbRecordBatch()), msg.body, 1);
}

/** Messages of a nested IPC stream, as {fb, bytes, body}. */
function nestedMessages(blob) {
  const out = [];
  new Framer((m) => { if (m) out.push(m); }).push(blob);
  return out;
}

// ---------------------------------------------------------------- per-execution state
const executions = new Map(); // hex eid -> { schema: Buffer, batches: Buffer[], processReply: Buffer }

function processReply(eidHex, eid) {
  let e = executions.get(eidHex);
  if (!e) executions.set(eidHex, (e = { schema: null, batches: [], reply: null }));
  e.reply ??= unaryStream(encodeRow(FIELDS.processResult, { state_id: eid }));
  return e;
}

// ---------------------------------------------------------------- connection
export function serveConnection(input, output, mode) {
  let request = [];
  let state = 'request'; // request | drain | ticks
  let ticks = null; // finalize cursor
  const write = (b) => output.write(b);

  const onMessage = (m) => {
    if (state === 'drain') { if (m === null) state = 'request'; return; }
    if (state === 'ticks') return onTick(m);
    if (m === null) { const r = request; request = []; return dispatch(r); }
    request.push(m);
  };

  const onTick = (m) => {
    if (m === null) { if (!ticks.done) write(EOS); state = 'request'; ticks = null; return; }
    if (m.fb.headerType() !== MessageHeader.RecordBatch || ticks.done) return;
    if (ticks.i < ticks.batches.length) { write(ticks.batches[ticks.i++]); return; }
    ticks.done = true;
    write(EOS);
  };

  const dispatch = (req) => {
    const batch = req.find((m) => m.fb.headerType() === MessageHeader.RecordBatch);
    const meta = batch ? batchMetadata(batch.fb) : new Map();
    const method = meta.get('vgi_rpc.method');
    try {
      if (method === 'table_buffering_process') return onProcess(batch);
      if (method === 'init') return onInit(batch);
      write(control(method, req, batch));
    } catch (e) {
      write(errorStream(`floor: ${e.message}`));
    }
  };

  const onProcess = (batch) => {
    // ProcessRequest (2.0.0): function_name utf8, execution_id binary, input_batch binary, …
    // -> body buffers 0-2, 3-5, 6-8 (validity, offsets, data each).
    const blob = requestBlob(batch);
    const [, inner] = nestedMessages(blob);
    const rb = inner.fb.header(new FbRecordBatch());
    const eid = varCell(rb, inner.body, 4);
    const e = processReply(eid.toString('hex'), eid);
    if (mode === 'echo') {
      const input = nestedMessages(varCell(rb, inner.body, 7));
      e.schema ??= Buffer.from(input[0].bytes);
      for (let i = 1; i < input.length; i++) e.batches.push(Buffer.from(input[i].bytes)); // copy: the socket chunk is not ours
    }
    write(e.reply);
  };

  const onInit = (batch) => {
    const req = decodeRow(requestBlob(batch));
    if (req.phase === 'TABLE_BUFFERING') {
      const eid = req.execution_id ?? randomBytes(16);
      processReply(eid.toString('hex'), eid);
      // Header plus the whole (empty) output stream in one write, then drain DuckDB's input.
      write(Buffer.concat([encodeRow(FIELDS.globalInit, { execution_id: eid, opaque_data: null, max_workers: 1n }), emptyOutputStream()]));
      state = 'drain';
      return;
    }
    if (req.phase === 'TABLE_BUFFERING_FINALIZE') {
      const e = executions.get(Buffer.from(req.execution_id).toString('hex'));
      const header = encodeRow(FIELDS.globalInit, { execution_id: req.execution_id, opaque_data: null, max_workers: 1n });
      if (!e || !e.schema) { write(Buffer.concat([header, emptyOutputStream()])); state = 'drain'; return; }
      write(Buffer.concat([header, e.schema]));
      ticks = { batches: e.batches, i: 0, done: false };
      state = 'ticks';
      return;
    }
    write(errorStream(`floor: unsupported init phase ${req.phase}`));
  };

  const control = (method, req, batch) => {
    switch (method) {
      case 'catalog_attach':
        return unaryStream(encodeRow(FIELDS.catalogAttachResult, {
          attach_opaque_data: Buffer.from('floor'), supports_transactions: false, supports_time_travel: false,
          catalog_version_frozen: true, catalog_version: 1n, attach_opaque_data_required: true, default_schema: 'main',
          settings: [], secret_types: [], attach_catalogs: [], comment: null, tags: new Map(), supports_column_statistics: false,
          global_functions: [], global_function_prefix: '', resolved_data_version: null, resolved_implementation_version: null,
        }));
      case 'catalog_schemas':
        return unaryStream(encodeRow(FIELDS.items, { items: [encodeRow(FIELDS.schemaInfo, {
          comment: null, tags: new Map(), attach_opaque_data: Buffer.from('floor'), path: ['main'],
          estimated_object_count: new Map([['table', 0n], ['view', 0n], ['index', 0n], ['scalar_function', 0n], ['aggregate_function', 0n], ['macro', 0n], ['table_function', 1n]]),
        })] }));
      case 'catalog_schema_contents_functions': {
        const outer = decodeRow(Buffer.concat([...req.map((m) => m.bytes), EOS]));
        const fns = outer.type === 'TABLE_FUNCTION' ? [FUNCTION_INFO(mode === 'echo' ? 'buffer_input' : 'noop_buffer')] : [];
        return unaryStream(encodeRow(FIELDS.items, { items: fns }));
      }
      case 'catalog_version':
        return unaryStream(encodeRow(FIELDS.version, { version: 1n }));
      case 'bind': {
        const r = decodeRow(requestBlob(batch));
        return unaryStream(encodeRow(FIELDS.bindResponse, { output_schema: r.input_schema, opaque_data: null, lookup_secret_types: [], lookup_scopes: [], lookup_names: [] }));
      }
      case 'table_buffering_combine': {
        const r = decodeRow(requestBlob(batch));
        const ids = mode === 'echo' ? [r.execution_id] : [];
        return unaryStream(encodeRow(FIELDS.combineResult, { finalize_state_ids: ids }));
      }
      case 'table_buffering_destructor': {
        const r = decodeRow(requestBlob(batch));
        executions.delete(Buffer.from(r.execution_id).toString('hex'));
        return unaryStream(schemaMessage([], 1));
      }
      default:
        if (method?.startsWith('catalog_')) return unaryStream(encodeRow(FIELDS.items, { items: [] }));
        return errorStream(`floor: unknown method ${method}`, 'method_not_implemented');
    }
  };

  const framer = new Framer(onMessage);
  input.on('data', (c) => framer.push(c));
  return new Promise((resolve) => { input.on('end', resolve); input.on('close', resolve); input.on('error', resolve); });
}

// ---------------------------------------------------------------- entry
export async function main(mode) {
  const argv = process.argv.slice(2);
  const at = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : null; };
  const unix = at('--unix');
  process.stdout.on('error', () => undefined);
  if (!unix) {
    await serveConnection(process.stdin, process.stdout, mode);
    process.exit(0);
  }
  const idleMs = Number(at('--idle-timeout') ?? 0) * 1000;
  let clients = 0, timer = null;
  const arm = () => {
    if (idleMs <= 0 || clients > 0) return;
    clearTimeout(timer);
    timer = setTimeout(() => { if (clients === 0) { try { unlinkSync(unix); } catch { /* gone */ } process.exit(0); } }, idleMs);
  };
  const server = createServer((sock) => {
    clients++;
    clearTimeout(timer);
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    serveConnection(sock, sock, mode).finally(() => { clients--; sock.destroy(); arm(); });
  });
  try { unlinkSync(unix); } catch { /* none */ }
  server.listen(unix, () => { process.stdout.write(`UNIX:${unix}\n`); arm(); });
}
