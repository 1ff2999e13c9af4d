// Declared protocol schemas, per version, against the spec tables
// (vgi-protocol-1.0.md §3–§5, vgi-protocol-2.0.md §3–§4).
import t from 'tap';
import { Type, type Field, type Schema } from 'apache-arrow';
import {
  protocolFor,
  resolveProtocol,
  protocolForMetadata,
  supportedProtocols,
  UnsupportedProtocolVersionError,
  SUPPORTED_PROTOCOL_VERSIONS,
  majorMinorOf,
} from '../runtime/protocol/versions.js';
import { fieldToString, schemaToString, diffSchemas, toArrowSchema, f, NULLABLE } from '../runtime/protocol/spec.js';
import { decodeRow, encodeArgumentsSchema, encodeRow, encodeSchemaMessage } from '../runtime/protocol/encode.js';
import type { FunctionDescription } from '../runtime/protocol/types.js';
import { Schema as ArrowSchema } from 'apache-arrow';

const v1 = protocolFor('1.0.0');
const v2 = protocolFor('2.0.0');

const names = (s: Schema): string[] => s.fields.map((x) => x.name);
const nullables = (s: Schema): string[] => s.fields.filter((x) => x.nullable).map((x) => x.name);
const field = (s: Schema, name: string): Field => {
  const x = s.fields.find((y) => y.name === name);
  if (!x) throw new Error(`no field ${name}`);
  return x;
};
const line = (s: Schema, name: string): string => fieldToString(field(s, name));

t.test('registry', async (t) => {
  t.same(SUPPORTED_PROTOCOL_VERSIONS, ['1.0.0', '2.0.0']);
  t.equal(protocolFor('1.0.0'), v1);
  t.equal(protocolFor('1.0'), v1);
  t.equal(protocolFor('1.0.9'), v1, 'patch ignored');
  t.equal(protocolFor('2.0.0'), v2);
  t.equal(v1.majorMinor, '1.0');
  t.equal(v2.majorMinor, '2.0');
  t.equal(v2.protocolName, 'vgi.v2');
  t.equal(v1.protocolName, null);
  t.equal(majorMinorOf('garbage'), null);
  t.same(supportedProtocols().map((p) => p.version), ['1.0.0', '2.0.0']);
  for (const bad of ['1.3.0', '1.1', '3.0.0', '', 'x']) {
    t.throws(() => protocolFor(bad), UnsupportedProtocolVersionError, bad);
  }
  try {
    protocolFor('1.3.0');
  } catch (e) {
    t.ok(e instanceof UnsupportedProtocolVersionError);
    const err = e as UnsupportedProtocolVersionError;
    t.match(err.message, /1\.0\.0/);
    t.match(err.message, /2\.0\.0/);
    t.match(err.message, /1\.3\.0/);
    t.match(err.message, /protocol_version mismatch/);
    t.equal(err.requested, '1.3.0');
  }
  t.equal(resolveProtocol('2.0.0', 'vgi.v2'), v2);
  t.equal(resolveProtocol(undefined, 'vgi.v2'), v2);
  t.equal(resolveProtocol('1.0.0', undefined), v1);
  t.throws(() => resolveProtocol(undefined, undefined), UnsupportedProtocolVersionError);
  t.throws(() => resolveProtocol(undefined, 'vgi.v9'), UnsupportedProtocolVersionError);
  t.equal(protocolForMetadata(new Map([['vgi_rpc.protocol_version', '1.0.0']])), v1);
});

t.test('FunctionInfo: 31 vs 41 fields', async (t) => {
  const a = v1.schemas.functionInfo;
  const b = v2.schemas.functionInfo;
  t.same(names(a), [
    'comment', 'tags', 'name', 'schema_name', 'function_type', 'arguments', 'output_schema', 'stability',
    'null_handling', 'description', 'examples', 'categories', 'projection_pushdown', 'filter_pushdown',
    'sampling_pushdown', 'late_materialization', 'supported_expression_filters', 'order_preservation',
    'max_workers', 'supports_batch_index', 'partition_kind', 'order_dependent', 'distinct_dependent',
    'supports_window', 'streaming_partitioned', 'has_finalize', 'source_order_dependent',
    'sink_order_dependent', 'requires_input_batch_index', 'required_settings', 'required_secrets',
  ]);
  t.equal(a.fields.length, 31);
  t.same(nullables(a), [
    'comment', 'stability', 'null_handling', 'projection_pushdown', 'filter_pushdown', 'sampling_pushdown',
    'late_materialization', 'order_preservation',
  ]);
  t.same(names(b), [
    'comment', 'tags', 'name', 'schema_path', 'function_type', 'arguments', 'output_schema',
    'parameter_default_values', 'stability', 'null_handling', 'argument_monotonicity', 'description', 'examples',
    'categories', 'projection_pushdown', 'filter_pushdown', 'sampling_pushdown', 'late_materialization',
    'filter_semantic_profiles', 'additional_filter_functions', 'runtime_filter_algorithms',
    'filter_evaluation_contexts', 'order_preservation', 'max_workers', 'supports_batch_index', 'supports_splits',
    'filters_exactly_applied', 'supports_positions', 'split_token_ttl_seconds', 'partition_kind',
    'order_dependent', 'distinct_dependent', 'supports_window', 'streaming_partitioned', 'has_finalize',
    'source_order_dependent', 'sink_order_dependent', 'requires_input_batch_index', 'input_from_args',
    'required_settings', 'required_secrets',
  ]);
  t.equal(b.fields.length, 41);
  t.same(nullables(b), [
    'comment', 'parameter_default_values', 'stability', 'null_handling', 'argument_monotonicity',
    'projection_pushdown', 'filter_pushdown', 'sampling_pushdown', 'late_materialization', 'order_preservation',
    'max_workers', 'split_token_ttl_seconds',
  ]);
  t.equal(line(a, 'max_workers'), 'max_workers: int32 not null');
  t.equal(line(b, 'max_workers'), 'max_workers: int32');
  t.equal(line(a, 'schema_name'), 'schema_name: string not null');
  t.equal(line(b, 'schema_path'), 'schema_path: list<item: string> not null');
  t.equal(line(a, 'tags'), 'tags: map<string, string> not null');
  t.equal(
    line(a, 'function_type'),
    'function_type: dictionary<values=string, indices=int16, ordered=0> not null',
  );
  t.equal(
    line(a, 'examples'),
    'examples: list<item: struct<sql: string not null, description: string not null, expected_output: string>> not null',
  );
  t.equal(
    line(a, 'required_secrets'),
    'required_secrets: list<item: struct<secret_type: string not null, scope: string, secret_name: string>> not null',
  );
  t.equal(
    line(b, 'additional_filter_functions'),
    'additional_filter_functions: list<item: struct<namespace: string not null, name: string not null, version: uint64 not null>> not null',
  );
  t.equal(line(b, 'runtime_filter_algorithms'), line(b, 'additional_filter_functions').replace('additional_filter_functions', 'runtime_filter_algorithms'));
  t.equal(
    line(b, 'filter_evaluation_contexts'),
    'filter_evaluation_contexts: list<item: struct<profile: string not null, provider_fingerprint: string>> not null',
  );
  t.equal(line(b, 'argument_monotonicity'), 'argument_monotonicity: list<item: string>');
  t.equal(line(b, 'split_token_ttl_seconds'), 'split_token_ttl_seconds: int64');
  t.notOk(names(b).includes('supported_expression_filters'));
});

t.test('CatalogAttachResult: 14 vs 17 fields', async (t) => {
  const a = v1.schemas.catalogAttachResult;
  const b = v2.schemas.catalogAttachResult;
  t.same(names(a), [
    'attach_opaque_data', 'supports_transactions', 'supports_time_travel', 'catalog_version_frozen',
    'catalog_version', 'attach_opaque_data_required', 'default_schema', 'settings', 'secret_types', 'comment',
    'tags', 'supports_column_statistics', 'resolved_data_version', 'resolved_implementation_version',
  ]);
  t.same(nullables(a), ['comment', 'resolved_data_version', 'resolved_implementation_version']);
  t.same(names(b), [
    'attach_opaque_data', 'supports_transactions', 'supports_time_travel', 'catalog_version_frozen',
    'catalog_version', 'attach_opaque_data_required', 'default_schema', 'settings', 'secret_types',
    'attach_catalogs', 'comment', 'tags', 'supports_column_statistics', 'global_functions',
    'global_function_prefix', 'resolved_data_version', 'resolved_implementation_version',
  ]);
  t.same(nullables(b), ['comment', 'resolved_data_version', 'resolved_implementation_version']);
  t.equal(line(a, 'settings'), 'settings: list<item: binary> not null');
  t.equal(line(b, 'attach_catalogs'), 'attach_catalogs: list<item: binary> not null');
  t.equal(line(b, 'global_function_prefix'), 'global_function_prefix: string not null');
  t.equal(line(a, 'catalog_version'), 'catalog_version: int64 not null');
});

t.test('SchemaInfo: name vs path', async (t) => {
  const a = v1.schemas.schemaInfo;
  const b = v2.schemas.schemaInfo;
  t.same(names(a), ['comment', 'tags', 'attach_opaque_data', 'name', 'estimated_object_count']);
  t.same(names(b), ['comment', 'tags', 'attach_opaque_data', 'path', 'estimated_object_count']);
  t.equal(line(a, 'name'), 'name: string not null');
  t.equal(line(b, 'path'), 'path: list<item: string> not null');
  for (const s of [a, b]) {
    t.equal(line(s, 'estimated_object_count'), 'estimated_object_count: map<string, int64>');
    t.equal(line(s, 'attach_opaque_data'), 'attach_opaque_data: binary not null');
    t.same(nullables(s), ['comment', 'estimated_object_count']);
  }
});

t.test('BindResponse: opaque_data nullability', async (t) => {
  const want = ['output_schema', 'opaque_data', 'lookup_secret_types', 'lookup_scopes', 'lookup_names'];
  t.same(names(v1.schemas.bindResponse), want);
  t.same(names(v2.schemas.bindResponse), want);
  t.equal(line(v1.schemas.bindResponse, 'opaque_data'), 'opaque_data: binary not null');
  t.equal(line(v2.schemas.bindResponse, 'opaque_data'), 'opaque_data: binary');
  t.equal(line(v2.schemas.bindResponse, 'lookup_names'), 'lookup_names: list<item: string> not null');
});

t.test('InitRequest: 16 vs 19 fields, reordered', async (t) => {
  t.same(names(v1.schemas.initRequest), [
    'bind_call', 'output_schema', 'bind_opaque_data', 'projection_ids', 'pushdown_filters', 'join_keys', 'phase',
    'execution_id', 'init_opaque_data', 'order_by_column_name', 'order_by_direction', 'order_by_null_order',
    'order_by_limit', 'tablesample_percentage', 'tablesample_seed', 'finalize_state_id',
  ]);
  t.same(names(v2.schemas.initRequest), [
    'bind_call', 'output_schema', 'bind_opaque_data', 'projection_ids', 'pushdown_filters', 'join_keys',
    'split_tokens', 'row_limit', 'phase', 'finalize_state_id', 'execution_id', 'init_opaque_data', 'substream_id',
    'order_by_column_name', 'order_by_direction', 'order_by_null_order', 'order_by_limit',
    'tablesample_percentage', 'tablesample_seed',
  ]);
  for (const s of [v1.schemas.initRequest, v2.schemas.initRequest]) {
    t.same(nullables(s), names(s).slice(2), 'all but bind_call/output_schema nullable');
    t.equal(line(s, 'pushdown_filters'), 'pushdown_filters: large_binary');
    t.equal(line(s, 'join_keys'), 'join_keys: list<item: large_binary>');
    t.equal(line(s, 'projection_ids'), 'projection_ids: list<item: int64>');
  }
  t.equal(line(v2.schemas.initRequest, 'split_tokens'), 'split_tokens: list<item: large_binary>');
});

t.test('BindRequest: 11 vs 15 fields', async (t) => {
  const first11 = [
    'function_name', 'arguments', 'function_type', 'input_schema', 'settings', 'secrets', 'attach_opaque_data',
    'transaction_opaque_data', 'resolved_secrets_provided', 'at_unit', 'at_value',
  ];
  t.same(names(v1.schemas.bindRequest), first11);
  t.same(names(v2.schemas.bindRequest), [...first11, 'copy_from', 'copy_to', 'schema_path', 'argument_names']);
  t.same(diffSchemas(new ArrowSchema(v1.schemas.bindRequest.fields), new ArrowSchema(v2.schemas.bindRequest.fields.slice(0, 11))), []);
  t.equal(
    line(v2.schemas.bindRequest, 'copy_from'),
    'copy_from: struct<format: string not null, file_path: string not null, expected_schema: binary not null>',
  );
  t.equal(line(v2.schemas.bindRequest, 'argument_names'), 'argument_names: list<item: string>');
});

t.test('CatalogAttachRequest and buffering requests', async (t) => {
  t.same(names(v1.schemas.catalogAttachRequest), ['name', 'options', 'data_version_spec', 'implementation_version']);
  t.equal(line(v1.schemas.catalogAttachRequest, 'options'), 'options: binary not null');
  t.same(names(v2.schemas.catalogAttachRequest), [
    'name', 'options', 'data_version_spec', 'implementation_version', 'client_capabilities',
  ]);
  t.equal(line(v2.schemas.catalogAttachRequest, 'options'), 'options: binary');
  t.same(names(v2.schemas.clientCapabilities!), ['engine', 'native_formats', 'catalogs', 'can_stream', 'filter_encodings']);
  t.equal(v1.schemas.clientCapabilities, null);

  const p1 = ['function_name', 'execution_id', 'input_batch', 'attach_opaque_data', 'transaction_id', 'batch_index'];
  const c1 = ['function_name', 'execution_id', 'state_ids', 'attach_opaque_data', 'transaction_id'];
  const d1 = ['function_name', 'execution_id', 'attach_opaque_data', 'transaction_id'];
  t.same(names(v1.schemas.processRequest), p1);
  t.same(names(v1.schemas.combineRequest), c1);
  t.same(names(v1.schemas.destructorRequest), d1);
  t.same(names(v2.schemas.processRequest), [...p1, 'schema_path']);
  t.same(names(v2.schemas.combineRequest), [...c1, 'schema_path']);
  t.same(names(v2.schemas.destructorRequest), [...d1, 'schema_path']);
  t.equal(line(v2.schemas.processRequest, 'schema_path'), 'schema_path: list<item: string>');
  t.equal(line(v1.schemas.combineRequest, 'state_ids'), 'state_ids: list<item: binary> not null');
});

t.test('small results', async (t) => {
  for (const p of [v1, v2]) {
    t.equal(schemaToString(p.schemas.items), 'items: list<item: binary> not null');
    t.equal(schemaToString(p.schemas.catalogVersionResult), 'version: int64 not null');
    t.equal(schemaToString(p.schemas.transactionBeginResult), 'transaction_opaque_data: binary');
    t.equal(schemaToString(p.schemas.processResult), 'state_id: binary not null');
    t.equal(schemaToString(p.schemas.combineResult), 'finalize_state_ids: list<item: binary> not null');
    t.equal(p.schemas.destructorResult.fields.length, 0);
    t.equal(
      schemaToString(p.schemas.globalInitResponse),
      'execution_id: binary not null\nopaque_data: binary\nmax_workers: int64 not null',
    );
  }
});

t.test('catalog items', async (t) => {
  t.equal(v1.schemas.tableInfo.fields.length, 24);
  t.equal(v1.schemas.tableInfo.fields[23]!.name, 'required_field_filter_paths');
  t.equal(v2.schemas.tableInfo.fields.length, 21);
  t.equal(line(v2.schemas.tableInfo, 'required_filters'), 'required_filters: list<item: list<item: string>> not null');
  t.equal(line(v2.schemas.tableInfo, 'write_result_modes'), 'write_result_modes: map<string, string> not null');
  t.equal(names(v2.schemas.tableInfo).indexOf('write_result_modes'), names(v2.schemas.tableInfo).indexOf('foreign_key_constraints') + 1);
  for (const gone of ['supports_insert', 'supports_update', 'supports_delete', 'supports_returning']) {
    t.ok(names(v1.schemas.tableInfo).includes(gone));
    t.notOk(names(v2.schemas.tableInfo).includes(gone));
  }
  t.equal(line(v1.schemas.tableInfo, 'unique_constraints'), 'unique_constraints: list<item: list<item: int32>> not null');
  t.equal(line(v1.schemas.tableInfo, 'scan_function'), 'scan_function: binary not null');
  t.equal(line(v2.schemas.tableInfo, 'scan_function'), 'scan_function: binary');

  t.equal(v1.schemas.macroInfo.fields.length, 8);
  t.equal(v2.schemas.macroInfo.fields.length, 9);
  t.equal(line(v1.schemas.macroInfo, 'parameter_default_values'), 'parameter_default_values: binary not null');
  t.equal(line(v2.schemas.macroInfo, 'parameter_default_values'), 'parameter_default_values: binary');
  t.equal(line(v2.schemas.macroInfo, 'arguments_schema'), 'arguments_schema: binary');

  t.same(names(v1.schemas.viewInfo), ['comment', 'tags', 'name', 'schema_name', 'definition', 'column_comments']);
  t.same(names(v2.schemas.viewInfo), ['comment', 'tags', 'name', 'schema_path', 'definition', 'column_comments']);
  t.equal(v1.schemas.indexInfo.fields.length, 9);
  t.equal(v2.schemas.indexInfo.fields[3]!.name, 'schema_path');

  t.equal(
    line(v1.schemas.catalogInfo, 'releases'),
    'releases: list<item: struct<version: string not null, released_at: timestamp[us, tz=UTC] not null, summary: string not null, notes_url: string>> not null',
  );
  const released = (p: typeof v1) => p.schemas.catalogInfo.fields[4]!.type.children[0]!.type.children[1]! as Field;
  t.equal(released(v1).nullable, false);
  t.equal(released(v2).nullable, true);
  t.equal(released(v1).type.typeId, Type.Timestamp);
  t.equal((released(v1).type as unknown as { unit: number }).unit, 2, 'microseconds');
  t.equal((released(v1).type as unknown as { timezone: string }).timezone, 'UTC');

  t.equal(v1.schemas.copyFromFormatInfo, null);
  t.same(names(v2.schemas.copyFromFormatInfo!), [
    'comment', 'tags', 'format_name', 'handler', 'options', 'direction', 'description', 'ordered',
  ]);
});

t.test('outer catalog parameters', async (t) => {
  const p = (v: typeof v1, m: string) => schemaToString(v.paramsSchema(m)!);
  t.equal(
    p(v1, 'catalog_schema_contents_functions'),
    'attach_opaque_data: binary not null\nname: string not null\ntype: dictionary<values=string, indices=int16, ordered=0> not null\ntransaction_opaque_data: binary',
  );
  t.equal(
    p(v2, 'catalog_schema_contents_functions'),
    'attach_opaque_data: binary not null\npath: list<item: string> not null\ntype: dictionary<values=string, indices=int16, ordered=0> not null\ntransaction_opaque_data: binary',
  );
  t.same(names(v1.paramsSchema('catalog_table_get')!), ['attach_opaque_data', 'schema_name', 'name', 'at_unit', 'at_value', 'transaction_opaque_data']);
  t.same(names(v2.paramsSchema('catalog_table_get')!), ['attach_opaque_data', 'schema_path', 'name', 'at_unit', 'at_value', 'transaction_opaque_data']);
  t.same(names(v1.paramsSchema('catalog_view_get')!), ['attach_opaque_data', 'schema_name', 'name', 'transaction_opaque_data']);
  t.same(names(v2.paramsSchema('catalog_view_get')!), ['attach_opaque_data', 'schema_path', 'name', 'transaction_opaque_data']);
  t.same(names(v2.paramsSchema('catalog_schema_contents_tables')!), ['attach_opaque_data', 'path', 'transaction_opaque_data']);
  t.equal(v1.paramsSchema('catalog_copy_from_formats'), undefined);
  t.same(names(v2.paramsSchema('catalog_copy_from_formats')!), ['attach_opaque_data', 'transaction_opaque_data']);
  for (const v of [v1, v2]) {
    t.equal(v.paramsSchema('catalog_catalogs')!.fields.length, 0);
    t.equal(p(v, 'catalog_version'), 'attach_opaque_data: binary not null\ntransaction_opaque_data: binary');
    t.equal(p(v, 'catalog_transaction_commit'), 'attach_opaque_data: binary not null\ntransaction_opaque_data: binary not null');
    for (const m of ['bind', 'init', 'catalog_attach', 'table_buffering_process', 'table_buffering_combine', 'table_buffering_destructor']) {
      t.equal(p(v, m), 'request: binary not null', m);
    }
  }
  // checkSchema: a received v2 params schema against both versions
  const received = toArrowSchema([f.binary('attach_opaque_data'), f.list('path', f.utf8Item()), f.binary('transaction_opaque_data', NULLABLE)]);
  t.same(v2.checkSchema('params:catalog_schema_contents_tables', received), []);
  t.match(v1.checkSchema('params:catalog_schema_contents_tables', received)[0], /\[1\] expected: name: string not null \/ actual: path/);
  t.match(v1.checkSchema('params:catalog_copy_from_formats', received)[0], /declares no schema/);
});

t.test('schemaPathOf', async (t) => {
  t.same(v1.schemaPathOf({ attach_opaque_data: new Uint8Array(), name: 'main' }), ['main']);
  t.same(v1.schemaPathOf({ schema_name: 'main', name: 'tbl' }), ['main']);
  t.same(v2.schemaPathOf({ path: ['main'] }), ['main']);
  t.same(v2.schemaPathOf({ schema_path: ['a', 'b'], name: 'tbl' }), ['a', 'b']);
  t.equal(v2.schemaPathOf({ function_name: 'x' }), null);
  t.equal(v1.schemaPathOf({ function_name: 'x' }), null);
});

const emptySchema = encodeSchemaMessage(new ArrowSchema([]));
const fn = (over: Partial<FunctionDescription> = {}): FunctionDescription => ({
  name: 'echo_buffering',
  schemaName: 'main',
  description: 'echo',
  categories: ['utility', 'buffer'],
  argumentsSchemaBytes: encodeArgumentsSchema([{ name: 'data', kind: 'table' }]),
  outputSchemaBytes: emptySchema,
  ...over,
});

t.test('row builders encode against their own schemas', async (t) => {
  for (const p of [v1, v2]) {
    const infos = [
      fn(),
      fn({ projectionPushdown: true, filterPushdown: true, comment: 'c', tags: { a: 'b' } }),
      fn({ sinkOrderDependent: true, examples: [{ sql: 'select 1', description: 'one' }] }),
      fn({ requiresInputBatchIndex: true, sourceOrderDependent: true }),
    ];
    for (const info of infos) {
      const bytes = p.encodeFunctionInfo(info);
      const { schema, row } = decodeRow(bytes);
      t.same(diffSchemas(p.schemas.functionInfo, schema), [], `${p.version} FunctionInfo schema round trip`);
      t.equal(row['name'], 'echo_buffering');
      t.equal(row['function_type'], 'TABLE_BUFFERING');
      t.equal(row['max_workers'], 1);
      t.equal(row['partition_kind'], 'NOT_PARTITIONED');
      t.same(row['categories'], ['utility', 'buffer']);
      t.equal(row['sink_order_dependent'], info.sinkOrderDependent ?? false);
      t.equal(row['requires_input_batch_index'], info.requiresInputBatchIndex ?? false);
      t.equal(row['source_order_dependent'], info.sourceOrderDependent ?? false);
      t.equal(row['projection_pushdown'], info.projectionPushdown ?? false);
      t.equal(row['filter_pushdown'], info.filterPushdown ?? false);
      if (p === v2) {
        t.same(row['schema_path'], ['main']);
        t.same(row['filter_semantic_profiles'], info.filterPushdown ? ['vgi.duckdb.standard.v1'] : []);
      } else {
        t.equal(row['schema_name'], 'main');
        t.notOk('filter_semantic_profiles' in row);
      }
    }
    t.throws(() => p.functionInfoRow(fn({ sinkOrderDependent: true, requiresInputBatchIndex: true })), /mutually exclusive/);

    const attach = decodeRow(p.encodeCatalogAttachResult({ attachOpaqueData: Uint8Array.of(9, 9) }));
    t.same(diffSchemas(p.schemas.catalogAttachResult, attach.schema), []);
    t.same(attach.row['attach_opaque_data'], Uint8Array.of(9, 9));
    t.equal(attach.row['catalog_version_frozen'], true);
    t.equal(attach.row['catalog_version'], 1n);
    t.equal(attach.row['default_schema'], 'main');
    t.same(attach.row['tags'], new Map());
    if (p === v2) t.equal(attach.row['global_function_prefix'], '');

    const schema = decodeRow(
      p.encodeSchemaInfo({
        name: 'main',
        attachOpaqueData: Uint8Array.of(1),
        estimatedObjectCount: { table: 0, view: 0, table_function: 13 },
      }),
    );
    t.same(diffSchemas(p.schemas.schemaInfo, schema.schema), []);
    t.same(schema.row['estimated_object_count'], new Map([['table', 0n], ['view', 0n], ['table_function', 13n]]));
    t.same(p === v1 ? schema.row['name'] : schema.row['path'], p === v1 ? 'main' : ['main']);

    const bind = decodeRow(p.encodeBindResponse({ outputSchemaBytes: emptySchema }));
    t.same(diffSchemas(p.schemas.bindResponse, bind.schema), []);
    t.same(bind.row['opaque_data'], p === v1 ? new Uint8Array(0) : null);
    t.same(decodeRow(p.encodeBindResponse({ outputSchemaBytes: emptySchema, opaqueData: Uint8Array.of(5) })).row['opaque_data'], Uint8Array.of(5));

    t.same(decodeRow(p.encodeItems([Uint8Array.of(1), Uint8Array.of(2, 3)])).row, { items: [Uint8Array.of(1), Uint8Array.of(2, 3)] });
    t.same(decodeRow(p.encodeItems([])).row, { items: [] });
    t.same(decodeRow(p.encodeCatalogVersion(7)).row, { version: 7n });
    t.same(decodeRow(p.encodeTransactionBegin(null)).row, { transaction_opaque_data: null });
    t.same(decodeRow(p.encodeProcessResult(Uint8Array.of(4))).row, { state_id: Uint8Array.of(4) });
    t.same(decodeRow(p.encodeCombineResult([Uint8Array.of(4), new Uint8Array(0)])).row, {
      finalize_state_ids: [Uint8Array.of(4), new Uint8Array(0)],
    });
    const d = decodeRow(p.encodeDestructorResult());
    t.equal(d.schema.fields.length, 0);
    t.same(d.row, {});
    const header = decodeRow(encodeRow(p.schemas.globalInitResponse, p.globalInitResponseRow({ executionId: Uint8Array.of(1, 2, 3) })));
    t.same(header.row, { execution_id: Uint8Array.of(1, 2, 3), opaque_data: null, max_workers: 1n });
  }
});

t.test('declared dictionary enums validate values', async (t) => {
  t.throws(() => v1.encodeFunctionInfo(fn({ functionType: 'table_buffering' as never })), /not one of/);
  // the encoded dictionary is the whole enum (value resolved through it)
  const row = encodeRow(v1.schemas.initRequest, {
    bind_call: Uint8Array.of(1),
    output_schema: emptySchema,
    phase: 'TABLE_BUFFERING_FINALIZE',
    order_by_direction: null,
  });
  const back = decodeRow(row).row;
  t.equal(back['phase'], 'TABLE_BUFFERING_FINALIZE');
  t.equal(back['order_by_direction'], null);
});
