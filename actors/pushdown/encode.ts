// Encoders for the filter wire formats, i.e. what DuckDB's vgi extension sends in an InitRequest.
// The runtime never needs these; they exist so tests (and any fake DuckDB) can build byte-exact
// `pushdown_filters` and `join_keys` payloads instead of hand-assembling IPC streams.
import { Data, Field, RecordBatch, Schema, Struct, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';

/** A 1-row column: a Data or Vector of length 1 (or a longer one, of which row 0 is used). */
export type PayloadValue = Data | Vector;

function firstRow(v: PayloadValue): Data {
  const d = v instanceof Data ? v : v.data[0];
  return d.length === 1 ? d : d.slice(0, 1);
}

function oneRowStream(metadata: Map<string, string>, specField: Field, spec: string, columns: [string, PayloadValue][]): Uint8Array {
  const specData = vectorFromArray([spec], new Utf8()).data[0];
  const cols = columns.map(([name, v]) => [name, firstRow(v)] as const);
  const fields = [specField, ...cols.map(([name, d]) => new Field(name, d.type as DataType, true))];
  const children = [specData, ...cols.map(([, d]) => d)];
  const schema = new Schema(fields, metadata);
  const batch = new RecordBatch(schema, new Data(new Struct(fields), 0, 1, 0, undefined, children));
  return tableToIPC(new Table(schema, [batch]), 'stream');
}

/**
 * A `vgi.filters.v2` blob: schema metadata as d91b7c4 writes it, a non-null `filter_spec` utf8 column
 * holding `doc` (an object is JSON-encoded compactly), then `value_0 … value_{n-1}` from `values`.
 */
export function encodeFiltersV2(doc: object | string, values: readonly PayloadValue[] = []): Uint8Array {
  const meta = new Map([
    ['vgi_filter_encoding', 'vgi.filters.v2'],
    ['vgi_filter_version', '2'],
    ['vgi_evaluation_context', 'vgi.none.v1'],
  ]);
  const spec = typeof doc === 'string' ? doc : JSON.stringify(doc);
  return oneRowStream(meta, new Field('filter_spec', new Utf8(), false), spec, values.map((v, i) => [`value_${i}`, v]));
}

/** A protocol 1.0.0 blob: `filter_spec` (field metadata `vgi_filter_version=1`) plus `_val_N` columns. */
export function encodeFiltersV1(filters: readonly object[] | string, values: readonly PayloadValue[] = []): Uint8Array {
  const spec = typeof filters === 'string' ? filters : JSON.stringify(filters);
  const field = new Field('filter_spec', new Utf8(), false, new Map([['vgi_filter_version', '1']]));
  return oneRowStream(new Map(), field, spec, values.map((v, i) => [`_val_${i}`, v]));
}

/** One `join_keys` item: a single-column stream (metadata `vgi_join_keys_version=2`) holding every key. */
export function encodeJoinKeys(columnName: string, keys: PayloadValue): Uint8Array {
  const data = keys instanceof Data ? keys : keys.data[0];
  const field = new Field(columnName, data.type as DataType, true);
  const schema = new Schema([field], new Map([['vgi_join_keys_version', '2']]));
  const batch = new RecordBatch(schema, new Data(new Struct([field]), 0, data.length, 0, undefined, [data]));
  return tableToIPC(new Table(schema, [batch]), 'stream');
}
