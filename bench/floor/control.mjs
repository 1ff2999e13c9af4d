// Control-plane encoding for the floor workers (a few calls per query): protocol 2.0.0 result
// and item layouts (vgi-protocol-2.0.md §4), encoded with apache-arrow.
import {
  Binary, Bool, Dictionary, Field, Int16, Int32, Int64, List, Map_, Null, RecordBatch, RecordBatchStreamWriter,
  Schema, Struct, Uint64, Utf8, makeData, tableFromIPC, vectorFromArray, Table, tableToIPC,
} from 'apache-arrow';

const nn = (name, type) => new Field(name, type, false);
const nl = (name, type) => new Field(name, type, true);
const list = (t) => new List(new Field('item', t, true));
const dict = () => new Dictionary(new Utf8(), new Int16());
const strMap = () => new Map_(new Field('entries', new Struct([nn('key', new Utf8()), nl('value', new Utf8())]), false), false);
const identity = () => new Struct([nn('namespace', new Utf8()), nn('name', new Utf8()), nn('version', new Uint64())]);

export const FIELDS = {
  catalogAttachResult: [
    nn('attach_opaque_data', new Binary()), nn('supports_transactions', new Bool()), nn('supports_time_travel', new Bool()),
    nn('catalog_version_frozen', new Bool()), nn('catalog_version', new Int64()), nn('attach_opaque_data_required', new Bool()),
    nn('default_schema', new Utf8()), nn('settings', list(new Binary())), nn('secret_types', list(new Binary())),
    nn('attach_catalogs', list(new Binary())), nl('comment', new Utf8()), nn('tags', strMap()),
    nn('supports_column_statistics', new Bool()), nn('global_functions', list(new Binary())), nn('global_function_prefix', new Utf8()),
    nl('resolved_data_version', new Utf8()), nl('resolved_implementation_version', new Utf8()),
  ],
  schemaInfo: [
    nl('comment', new Utf8()), nn('tags', strMap()), nn('attach_opaque_data', new Binary()), nn('path', list(new Utf8())),
    nl('estimated_object_count', new Map_(new Field('entries', new Struct([nn('key', new Utf8()), nl('value', new Int64())]), false), false)),
  ],
  functionInfo: [
    nl('comment', new Utf8()), nn('tags', strMap()), nn('name', new Utf8()), nn('schema_path', list(new Utf8())),
    nn('function_type', dict()), nn('arguments', new Binary()), nn('output_schema', new Binary()),
    nl('parameter_default_values', new Binary()), nl('stability', dict()), nl('null_handling', dict()),
    nl('argument_monotonicity', list(new Utf8())), nn('description', new Utf8()),
    nn('examples', list(new Struct([nn('sql', new Utf8()), nn('description', new Utf8()), nl('expected_output', new Utf8())]))),
    nn('categories', list(new Utf8())), nl('projection_pushdown', new Bool()), nl('filter_pushdown', new Bool()),
    nl('sampling_pushdown', new Bool()), nl('late_materialization', new Bool()), nn('filter_semantic_profiles', list(new Utf8())),
    nn('additional_filter_functions', list(identity())), nn('runtime_filter_algorithms', list(identity())),
    nn('filter_evaluation_contexts', list(new Struct([nn('profile', new Utf8()), nl('provider_fingerprint', new Utf8())]))),
    nl('order_preservation', dict()), nl('max_workers', new Int32()), nn('supports_batch_index', new Bool()),
    nn('supports_splits', new Bool()), nn('filters_exactly_applied', new Bool()), nn('supports_positions', new Bool()),
    nl('split_token_ttl_seconds', new Int64()), nn('partition_kind', dict()), nn('order_dependent', dict()),
    nn('distinct_dependent', dict()), nn('supports_window', new Bool()), nn('streaming_partitioned', new Bool()),
    nn('has_finalize', new Bool()), nn('source_order_dependent', new Bool()), nn('sink_order_dependent', new Bool()),
    nn('requires_input_batch_index', new Bool()), nn('input_from_args', new Bool()), nn('required_settings', list(new Utf8())),
    nn('required_secrets', list(new Struct([nn('secret_type', new Utf8()), nl('scope', new Utf8()), nl('secret_name', new Utf8())]))),
  ],
  bindResponse: [
    nn('output_schema', new Binary()), nl('opaque_data', new Binary()), nn('lookup_secret_types', list(new Utf8())),
    nn('lookup_scopes', list(new Utf8())), nn('lookup_names', list(new Utf8())),
  ],
  items: [nn('items', list(new Binary()))],
  version: [nn('version', new Int64())],
  processResult: [nn('state_id', new Binary())],
  combineResult: [nn('finalize_state_ids', list(new Binary()))],
  globalInit: [nn('execution_id', new Binary()), nl('opaque_data', new Binary()), nn('max_workers', new Int64())],
  result: [nl('result', new Binary())],
};

function writeStream(batches, schema) {
  const w = new RecordBatchStreamWriter();
  w.reset(undefined, schema);
  for (const b of batches) w.write(b);
  w.finish();
  return Buffer.from(w.toUint8Array(true));
}

/** One-row IPC stream (schema + batch + EOS) of `fields` holding `row`. */
export function encodeRow(fields, row) {
  const schema = new Schema(fields);
  const children = fields.map((f) => vectorFromArray([row[f.name] ?? null], f.type).data[0]);
  const data = makeData({ type: new Struct(fields), length: 1, nullCount: 0, children });
  return writeStream([new RecordBatch(schema, data)], schema);
}

/** A zero-field stream with `rows` rows (the destructor's inner result). */
export function schemaMessage(fields, rows) {
  const schema = new Schema(fields);
  return writeStream([new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: [] }))], schema);
}

export function unaryStream(inner) {
  return encodeRow(FIELDS.result, { result: inner });
}

export function errorStream(message, kind) {
  const schema = new Schema([]);
  const meta = new Map([['vgi_rpc.log_level', 'EXCEPTION'], ['vgi_rpc.log_message', message]]);
  if (kind) meta.set('vgi_rpc.error_kind', kind);
  const data = makeData({ type: new Struct([]), length: 0, nullCount: 0, children: [] });
  return writeStream([new RecordBatch(schema, data, meta)], schema);
}

export function emptyOutputStream() {
  return writeStream([], new Schema([]));
}

/** Row 0 of a one-batch IPC stream as a plain object (dictionaries resolved, binary as Buffer). */
export function decodeRow(bytes) {
  const t = tableFromIPC(Buffer.from(bytes));
  const out = {};
  for (const f of t.schema.fields) {
    const v = t.getChild(f.name)?.get(0);
    out[f.name] = v instanceof Uint8Array ? Buffer.from(v) : v ?? null;
  }
  return out;
}

/** FunctionInfo item of a table-buffering function `name(data TABLE)`. */
export function FUNCTION_INFO(name) {
  const args = tableToIPC(new Table(new Schema([new Field('data', new Null(), true, new Map([['vgi_type', 'table']]))])), 'stream');
  const empty = tableToIPC(new Table(new Schema([])), 'stream');
  return encodeRow(FIELDS.functionInfo, {
    comment: null, tags: new Map(), name, schema_path: ['main'], function_type: 'TABLE_BUFFERING',
    arguments: args, output_schema: empty, parameter_default_values: null, stability: null, null_handling: null,
    argument_monotonicity: null, description: `floor: ${name}`, examples: [], categories: ['benchmark'],
    projection_pushdown: null, filter_pushdown: null, sampling_pushdown: null, late_materialization: null,
    filter_semantic_profiles: [], additional_filter_functions: [], runtime_filter_algorithms: [], filter_evaluation_contexts: [],
    order_preservation: null, max_workers: null, supports_batch_index: false, supports_splits: false,
    filters_exactly_applied: false, supports_positions: false, split_token_ttl_seconds: null,
    partition_kind: 'NOT_PARTITIONED', order_dependent: 'NOT_ORDER_DEPENDENT', distinct_dependent: 'NOT_DISTINCT_DEPENDENT',
    supports_window: false, streaming_partitioned: false, has_finalize: true, source_order_dependent: false,
    sink_order_dependent: false, requires_input_batch_index: false, input_from_args: false, required_settings: [], required_secrets: [],
  });
}
