/**
 * Protocol 2.0.0 (`vgi_rpc.protocol` = `vgi.v2`) — extension binary d91b7c4
 * (haybarn 1.5.5). Layouts: vgi-protocol-2.0.md §3–§4 (measured on the wire
 * and from the extension's own schema-mismatch diffs).
 */
import { f, t, NULLABLE, type FieldSpec, type SchemaSpec } from './spec.js';
import {
  BIND_FUNCTION_TYPE,
  DISTINCT_DEPENDENT,
  FUNCTION_TYPE,
  INDEX_CONSTRAINT_TYPE,
  INIT_PHASE,
  MACRO_TYPE,
  NULL_HANDLING,
  ORDER_BY_DIRECTION,
  ORDER_BY_NULL_ORDER,
  ORDER_DEPENDENT,
  ORDER_PRESERVATION,
  PARTITION_KIND,
  SCHEMA_OBJECT_TYPE,
  STABILITY,
} from './enums.js';
import type {
  BindDescription,
  CatalogAttachDescription,
  FunctionDescription,
  ProtocolDefinition,
  ProtocolTables,
  Row,
  SchemaDescription,
} from './types.js';
import { checkFunctionFlags, tagsMap } from './rows.js';

/** The semantic profile whose presence (with filter_pushdown=true) makes DuckDB push filters. */
export const FILTER_PROFILE_DUCKDB_STANDARD_V1 = 'vgi.duckdb.standard.v1';

const tags = () => f.map('tags', t.utf8, t.utf8);
const attach = () => f.binary('attach_opaque_data');
const txn = () => f.binary('transaction_opaque_data', NULLABLE);
const request = () => f.binary('request');
/** A schema path: `list<utf8>`. */
const path = (name: string, opts?: { nullable?: boolean }): FieldSpec => f.list(name, f.utf8Item(), opts);
/** `struct<namespace utf8, name utf8, version uint64>` (all not null). */
const filterIdentity = () => f.structItem([f.utf8('namespace'), f.utf8('name'), f.uint64('version')]);

// ---------------------------------------------------------------------------
// Results and items
// ---------------------------------------------------------------------------

/** 17 fields (same as 1.3.0). */
export const CatalogAttachResult: SchemaSpec = [
  f.binary('attach_opaque_data'),
  f.bool('supports_transactions'),
  f.bool('supports_time_travel'),
  f.bool('catalog_version_frozen'),
  f.int64('catalog_version'),
  f.bool('attach_opaque_data_required'),
  f.utf8('default_schema'),
  f.list('settings', f.binaryItem()),
  f.list('secret_types', f.binaryItem()),
  f.list('attach_catalogs', f.binaryItem()),
  f.utf8('comment', NULLABLE),
  tags(),
  f.bool('supports_column_statistics'),
  f.list('global_functions', f.binaryItem()),
  f.utf8('global_function_prefix'),
  f.utf8('resolved_data_version', NULLABLE),
  f.utf8('resolved_implementation_version', NULLABLE),
];

/** 6 fields; `releases[].released_at` became nullable. */
export const CatalogInfo: SchemaSpec = [
  f.utf8('name'),
  f.utf8('implementation_version', NULLABLE),
  f.utf8('data_version_spec', NULLABLE),
  f.list('attach_option_specs', f.binaryItem()),
  f.list(
    'releases',
    f.structItem([
      f.utf8('version'),
      f.timestampUsUtc('released_at', NULLABLE),
      f.utf8('summary'),
      f.utf8('notes_url', NULLABLE),
    ]),
  ),
  f.utf8('source_url', NULLABLE),
];

/** 5 fields; `name: utf8` -> `path: list<utf8>`. */
export const SchemaInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.binary('attach_opaque_data'),
  path('path'),
  f.map('estimated_object_count', t.utf8, t.int64, NULLABLE),
];

/** 41 fields. */
export const FunctionInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  path('schema_path'),
  f.dict('function_type', { values: FUNCTION_TYPE }),
  f.binary('arguments'),
  f.binary('output_schema'),
  f.binary('parameter_default_values', NULLABLE),
  f.dict('stability', { nullable: true, values: STABILITY }),
  f.dict('null_handling', { nullable: true, values: NULL_HANDLING }),
  f.list('argument_monotonicity', f.utf8Item(), NULLABLE),
  f.utf8('description'),
  f.list('examples', f.structItem([f.utf8('sql'), f.utf8('description'), f.utf8('expected_output', NULLABLE)])),
  f.list('categories', f.utf8Item()),
  f.bool('projection_pushdown', NULLABLE),
  f.bool('filter_pushdown', NULLABLE),
  f.bool('sampling_pushdown', NULLABLE),
  f.bool('late_materialization', NULLABLE),
  f.list('filter_semantic_profiles', f.utf8Item()),
  f.list('additional_filter_functions', filterIdentity()),
  f.list('runtime_filter_algorithms', filterIdentity()),
  f.list('filter_evaluation_contexts', f.structItem([f.utf8('profile'), f.utf8('provider_fingerprint', NULLABLE)])),
  f.dict('order_preservation', { nullable: true, values: ORDER_PRESERVATION }),
  f.int32('max_workers', NULLABLE),
  f.bool('supports_batch_index'),
  f.bool('supports_splits'),
  f.bool('filters_exactly_applied'),
  f.bool('supports_positions'),
  f.int64('split_token_ttl_seconds', NULLABLE),
  f.dict('partition_kind', { values: PARTITION_KIND }),
  f.dict('order_dependent', { values: ORDER_DEPENDENT }),
  f.dict('distinct_dependent', { values: DISTINCT_DEPENDENT }),
  f.bool('supports_window'),
  f.bool('streaming_partitioned'),
  f.bool('has_finalize'),
  f.bool('source_order_dependent'),
  f.bool('sink_order_dependent'),
  f.bool('requires_input_batch_index'),
  f.bool('input_from_args'),
  f.list('required_settings', f.utf8Item()),
  f.list(
    'required_secrets',
    f.structItem([f.utf8('secret_type'), f.utf8('scope', NULLABLE), f.utf8('secret_name', NULLABLE)]),
  ),
];

/** 9 fields. */
export const MacroInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  path('schema_path'),
  f.dict('macro_type', { values: MACRO_TYPE }),
  f.list('parameters', f.utf8Item()),
  f.binary('parameter_default_values', NULLABLE),
  f.utf8('definition'),
  f.binary('arguments_schema', NULLABLE),
];

/** 6 fields. */
export const ViewInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  path('schema_path'),
  f.utf8('definition'),
  f.map('column_comments', t.utf8, t.utf8),
];

/**
 * 21 fields. Derived from the 2.0 spec §4.5 change list applied to the
 * 1.0 layout (supports_insert/update/delete/returning removed,
 * write_result_modes after foreign_key_constraints, function/cardinality/
 * statistics/bind_result blobs nullable, required_filters last).
 */
export const TableInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  path('schema_path'),
  f.binary('columns'),
  f.list('not_null_constraints', f.int32Item()),
  f.list('unique_constraints', f.listItem(f.int32Item())),
  f.list('check_constraints', f.utf8Item()),
  f.list('primary_key_constraints', f.listItem(f.int32Item())),
  f.list('foreign_key_constraints', f.binaryItem()),
  f.map('write_result_modes', t.utf8, t.utf8),
  f.bool('supports_column_statistics'),
  f.binary('scan_function', NULLABLE),
  f.binary('insert_function', NULLABLE),
  f.binary('update_function', NULLABLE),
  f.binary('delete_function', NULLABLE),
  f.int64('cardinality_estimate', NULLABLE),
  f.int64('cardinality_max', NULLABLE),
  f.binary('column_statistics', NULLABLE),
  f.binary('bind_result', NULLABLE),
  f.list('required_filters', f.listItem(f.utf8Item())),
];

/** 9 fields (from npm @query-farm/vgi 0.36.1 per the 2.0 spec; not exercised). */
export const IndexInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  path('schema_path'),
  f.utf8('table_name'),
  f.utf8('index_type'),
  f.dict('constraint_type', { values: INDEX_CONSTRAINT_TYPE }),
  f.list('expressions', f.utf8Item()),
  f.map('options', t.utf8, t.utf8),
];

/** 8 fields (catalog_copy_from_formats items). */
export const CopyFromFormatInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('format_name'),
  f.utf8('handler'),
  f.binary('options'),
  f.utf8('direction'),
  f.utf8('description'),
  f.bool('ordered'),
];

/** 5 fields; opaque_data became nullable. */
export const BindResponse: SchemaSpec = [
  f.binary('output_schema'),
  f.binary('opaque_data', NULLABLE),
  f.list('lookup_secret_types', f.utf8Item()),
  f.list('lookup_scopes', f.utf8Item()),
  f.list('lookup_names', f.utf8Item()),
];

export const Items: SchemaSpec = [f.list('items', f.binaryItem())];
export const CatalogVersionResult: SchemaSpec = [f.int64('version')];
export const TransactionBeginResult: SchemaSpec = [f.binary('transaction_opaque_data', NULLABLE)];
export const ProcessResult: SchemaSpec = [f.binary('state_id')];
export const CombineResult: SchemaSpec = [f.list('finalize_state_ids', f.binaryItem())];
export const DestructorResult: SchemaSpec = [];
export const GlobalInitResponse: SchemaSpec = [
  f.binary('execution_id'),
  f.binary('opaque_data', NULLABLE),
  f.int64('max_workers'),
];
export const UnaryResult: SchemaSpec = [f.binary('result')];

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/** 5 fields. */
export const CatalogAttachRequest: SchemaSpec = [
  f.utf8('name'),
  f.binary('options', NULLABLE),
  f.utf8('data_version_spec', NULLABLE),
  f.utf8('implementation_version', NULLABLE),
  f.binary('client_capabilities', NULLABLE),
];

/** Inner IPC of CatalogAttachRequest.client_capabilities (all not null). */
export const ClientCapabilities: SchemaSpec = [
  f.utf8('engine'),
  f.list('native_formats', f.utf8Item()),
  f.list('catalogs', f.utf8Item()),
  f.bool('can_stream'),
  f.list('filter_encodings', f.utf8Item()),
];

/** 15 fields (1–11 as in 1.0). */
export const BindRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('arguments'),
  f.dict('function_type', { values: BIND_FUNCTION_TYPE }),
  f.binary('input_schema', NULLABLE),
  f.binary('settings', NULLABLE),
  f.binary('secrets', NULLABLE),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_opaque_data', NULLABLE),
  f.bool('resolved_secrets_provided'),
  f.utf8('at_unit', NULLABLE),
  f.utf8('at_value', NULLABLE),
  f.struct('copy_from', [f.utf8('format'), f.utf8('file_path'), f.binary('expected_schema')], NULLABLE),
  f.struct('copy_to', [f.utf8('format'), f.utf8('file_path')], NULLABLE),
  path('schema_path', NULLABLE),
  path('argument_names', NULLABLE),
];

/** 19 fields, reordered vs 1.0 (finalize_state_id moved to #10). */
export const InitRequest: SchemaSpec = [
  f.binary('bind_call'),
  f.binary('output_schema'),
  f.binary('bind_opaque_data', NULLABLE),
  f.list('projection_ids', f.int64Item(), NULLABLE),
  f.largeBinary('pushdown_filters', NULLABLE),
  f.list('join_keys', f.largeBinaryItem(), NULLABLE),
  f.list('split_tokens', f.largeBinaryItem(), NULLABLE),
  f.int64('row_limit', NULLABLE),
  f.dict('phase', { nullable: true, values: INIT_PHASE }),
  f.binary('finalize_state_id', NULLABLE),
  f.binary('execution_id', NULLABLE),
  f.binary('init_opaque_data', NULLABLE),
  f.binary('substream_id', NULLABLE),
  f.utf8('order_by_column_name', NULLABLE),
  f.dict('order_by_direction', { nullable: true, values: ORDER_BY_DIRECTION }),
  f.dict('order_by_null_order', { nullable: true, values: ORDER_BY_NULL_ORDER }),
  f.int64('order_by_limit', NULLABLE),
  f.float64('tablesample_percentage', NULLABLE),
  f.int64('tablesample_seed', NULLABLE),
];

/** 7 fields. */
export const ProcessRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.binary('input_batch'),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
  f.int64('batch_index', NULLABLE),
  path('schema_path', NULLABLE),
];

/** 6 fields. */
export const CombineRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.list('state_ids', f.binaryItem()),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
  path('schema_path', NULLABLE),
];

/** 5 fields. */
export const DestructorRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
  path('schema_path', NULLABLE),
];

const objectType = () => f.dict('type', { values: SCHEMA_OBJECT_TYPE });

export const MethodParams: ProtocolTables['methodParams'] = {
  catalog_catalogs: [],
  catalog_attach: [request()],
  catalog_detach: [attach()],
  catalog_version: [attach(), txn()],
  catalog_transaction_begin: [attach()],
  catalog_transaction_commit: [attach(), f.binary('transaction_opaque_data')],
  catalog_transaction_rollback: [attach(), f.binary('transaction_opaque_data')],
  catalog_schemas: [attach(), txn()],
  catalog_schema_contents_functions: [attach(), path('path'), objectType(), txn()],
  catalog_schema_contents_macros: [attach(), path('path'), objectType(), txn()],
  catalog_schema_contents_tables: [attach(), path('path'), txn()],
  catalog_schema_contents_views: [attach(), path('path'), txn()],
  catalog_schema_contents_indexes: [attach(), path('path'), txn()],
  catalog_table_get: [
    attach(),
    path('schema_path'),
    f.utf8('name'),
    f.utf8('at_unit', NULLABLE),
    f.utf8('at_value', NULLABLE),
    txn(),
  ],
  catalog_view_get: [attach(), path('schema_path'), f.utf8('name'), txn()],
  catalog_macro_get: [attach(), path('schema_path'), f.utf8('name'), txn()],
  catalog_index_get: [attach(), path('schema_path'), f.utf8('name'), txn()],
  catalog_copy_from_formats: [attach(), txn()],
  bind: [request()],
  init: [request()],
  table_buffering_process: [request()],
  table_buffering_combine: [request()],
  table_buffering_destructor: [request()],
};

export const tables: ProtocolTables = {
  catalogAttachResult: CatalogAttachResult,
  catalogInfo: CatalogInfo,
  schemaInfo: SchemaInfo,
  functionInfo: FunctionInfo,
  macroInfo: MacroInfo,
  viewInfo: ViewInfo,
  tableInfo: TableInfo,
  indexInfo: IndexInfo,
  copyFromFormatInfo: CopyFromFormatInfo,
  bindResponse: BindResponse,
  items: Items,
  catalogVersionResult: CatalogVersionResult,
  transactionBeginResult: TransactionBeginResult,
  processResult: ProcessResult,
  combineResult: CombineResult,
  destructorResult: DestructorResult,
  globalInitResponse: GlobalInitResponse,
  unaryResult: UnaryResult,
  catalogAttachRequest: CatalogAttachRequest,
  clientCapabilities: ClientCapabilities,
  bindRequest: BindRequest,
  initRequest: InitRequest,
  processRequest: ProcessRequest,
  combineRequest: CombineRequest,
  destructorRequest: DestructorRequest,
  methodParams: MethodParams,
};

// ---------------------------------------------------------------------------
// Row builders (neutral description -> 2.0 row)
// ---------------------------------------------------------------------------

function functionInfoRow(fn: FunctionDescription): Row {
  checkFunctionFlags(fn);
  const filterPushdown = fn.filterPushdown ?? false;
  return {
    comment: fn.comment ?? null,
    tags: tagsMap(fn.tags),
    name: fn.name,
    schema_path: [fn.schemaName],
    function_type: fn.functionType ?? 'TABLE_BUFFERING',
    arguments: fn.argumentsSchemaBytes,
    output_schema: fn.outputSchemaBytes,
    parameter_default_values: null,
    stability: null,
    null_handling: null,
    argument_monotonicity: null,
    description: fn.description,
    examples: (fn.examples ?? []).map((e) => ({
      sql: e.sql,
      description: e.description,
      expected_output: e.expectedOutput ?? null,
    })),
    categories: [...(fn.categories ?? [])],
    projection_pushdown: fn.projectionPushdown ?? false,
    filter_pushdown: filterPushdown,
    sampling_pushdown: null,
    late_materialization: null,
    // Without this profile DuckDB 2.0 pushes no filters even with filter_pushdown=true.
    filter_semantic_profiles: filterPushdown ? [FILTER_PROFILE_DUCKDB_STANDARD_V1] : [],
    additional_filter_functions: [],
    runtime_filter_algorithms: [],
    filter_evaluation_contexts: [],
    order_preservation: null,
    max_workers: 1,
    supports_batch_index: false,
    supports_splits: false,
    filters_exactly_applied: false,
    supports_positions: false,
    split_token_ttl_seconds: null,
    partition_kind: 'NOT_PARTITIONED',
    order_dependent: 'NOT_ORDER_DEPENDENT',
    distinct_dependent: 'NOT_DISTINCT_DEPENDENT',
    supports_window: false,
    streaming_partitioned: false,
    has_finalize: true,
    source_order_dependent: fn.sourceOrderDependent ?? false,
    sink_order_dependent: fn.sinkOrderDependent ?? false,
    requires_input_batch_index: fn.requiresInputBatchIndex ?? false,
    input_from_args: false,
    required_settings: [],
    required_secrets: [],
  };
}

function catalogAttachResultRow(d: CatalogAttachDescription): Row {
  return {
    attach_opaque_data: d.attachOpaqueData,
    supports_transactions: d.supportsTransactions ?? false,
    supports_time_travel: d.supportsTimeTravel ?? false,
    catalog_version_frozen: d.catalogVersionFrozen ?? true,
    catalog_version: BigInt(d.catalogVersion ?? 1),
    attach_opaque_data_required: d.attachOpaqueDataRequired ?? true,
    default_schema: d.defaultSchema ?? 'main',
    settings: [...(d.settings ?? [])],
    secret_types: [...(d.secretTypes ?? [])],
    attach_catalogs: [],
    comment: d.comment ?? null,
    tags: tagsMap(d.tags),
    supports_column_statistics: d.supportsColumnStatistics ?? false,
    global_functions: [],
    global_function_prefix: '',
    resolved_data_version: d.resolvedDataVersion ?? null,
    resolved_implementation_version: d.resolvedImplementationVersion ?? null,
  };
}

function schemaInfoRow(s: SchemaDescription): Row {
  return {
    comment: s.comment ?? null,
    tags: tagsMap(s.tags),
    attach_opaque_data: s.attachOpaqueData,
    path: [s.name],
    estimated_object_count: s.estimatedObjectCount
      ? new Map(Object.entries(s.estimatedObjectCount).map(([k, v]) => [k, BigInt(v)]))
      : null,
  };
}

function bindResponseRow(b: BindDescription): Row {
  return {
    output_schema: b.outputSchemaBytes,
    opaque_data: b.opaqueData ?? null,
    lookup_secret_types: [...(b.lookupSecretTypes ?? [])],
    lookup_scopes: [...(b.lookupScopes ?? [])],
    lookup_names: [...(b.lookupNames ?? [])],
  };
}

function schemaPathOf(params: Row): string[] | null {
  const v = params['schema_path'] ?? params['path'];
  if (!Array.isArray(v)) return null;
  return v.map((x) => String(x));
}

export const v2: ProtocolDefinition = {
  version: '2.0.0',
  protocolName: 'vgi.v2',
  tables,
  functionInfoRow,
  catalogAttachResultRow,
  schemaInfoRow,
  bindResponseRow,
  schemaPathOf,
};
