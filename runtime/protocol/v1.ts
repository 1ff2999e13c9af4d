/**
 * Protocol 1.0.0 — extension Query-farm/vgi @ 15fe529 (haybarn 1.5.3).
 *
 * Layouts: vgi-protocol-1.0.md §2–§5, checked field by field against
 * `src/generated/vgi_protocol_schemas.hpp` and the request builders
 * (`src/vgi_rpc_types.cpp`, `src/vgi_table_buffering_builders.cpp`) at 15fe529.
 */
import { f, t, NULLABLE, type SchemaSpec } from './spec.js';
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

const tags = () => f.map('tags', t.utf8, t.utf8);
const attach = () => f.binary('attach_opaque_data');
const txn = () => f.binary('transaction_opaque_data', NULLABLE);
const request = () => f.binary('request');

// ---------------------------------------------------------------------------
// Results and items
// ---------------------------------------------------------------------------

/** 14 fields. */
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
  f.utf8('comment', NULLABLE),
  tags(),
  f.bool('supports_column_statistics'),
  f.utf8('resolved_data_version', NULLABLE),
  f.utf8('resolved_implementation_version', NULLABLE),
];

/** 6 fields (catalog_catalogs items). */
export const CatalogInfo: SchemaSpec = [
  f.utf8('name'),
  f.utf8('implementation_version', NULLABLE),
  f.utf8('data_version_spec', NULLABLE),
  f.list('attach_option_specs', f.binaryItem()),
  f.list(
    'releases',
    f.structItem([
      f.utf8('version'),
      f.timestampUsUtc('released_at'),
      f.utf8('summary'),
      f.utf8('notes_url', NULLABLE),
    ]),
  ),
  f.utf8('source_url', NULLABLE),
];

/** 5 fields. */
export const SchemaInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.binary('attach_opaque_data'),
  f.utf8('name'),
  f.map('estimated_object_count', t.utf8, t.int64, NULLABLE),
];

/** 31 fields. */
export const FunctionInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  f.utf8('schema_name'),
  f.dict('function_type', { values: FUNCTION_TYPE }),
  f.binary('arguments'),
  f.binary('output_schema'),
  f.dict('stability', { nullable: true, values: STABILITY }),
  f.dict('null_handling', { nullable: true, values: NULL_HANDLING }),
  f.utf8('description'),
  f.list('examples', f.structItem([f.utf8('sql'), f.utf8('description'), f.utf8('expected_output', NULLABLE)])),
  f.list('categories', f.utf8Item()),
  f.bool('projection_pushdown', NULLABLE),
  f.bool('filter_pushdown', NULLABLE),
  f.bool('sampling_pushdown', NULLABLE),
  f.bool('late_materialization', NULLABLE),
  f.list('supported_expression_filters', f.utf8Item()),
  f.dict('order_preservation', { nullable: true, values: ORDER_PRESERVATION }),
  f.int32('max_workers'), // declared NOT NULL at 15fe529
  f.bool('supports_batch_index'),
  f.dict('partition_kind', { values: PARTITION_KIND }),
  f.dict('order_dependent', { values: ORDER_DEPENDENT }),
  f.dict('distinct_dependent', { values: DISTINCT_DEPENDENT }),
  f.bool('supports_window'),
  f.bool('streaming_partitioned'),
  f.bool('has_finalize'),
  f.bool('source_order_dependent'),
  f.bool('sink_order_dependent'),
  f.bool('requires_input_batch_index'),
  f.list('required_settings', f.utf8Item()),
  f.list(
    'required_secrets',
    f.structItem([f.utf8('secret_type'), f.utf8('scope', NULLABLE), f.utf8('secret_name', NULLABLE)]),
  ),
];

/** 8 fields. */
export const MacroInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  f.utf8('schema_name'),
  f.dict('macro_type', { values: MACRO_TYPE }),
  f.list('parameters', f.utf8Item()),
  f.binary('parameter_default_values'),
  f.utf8('definition'),
];

/** 6 fields. */
export const ViewInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  f.utf8('schema_name'),
  f.utf8('definition'),
  f.map('column_comments', t.utf8, t.utf8),
];

/** 24 fields (`TableInfoSchema()` at 15fe529). */
export const TableInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  f.utf8('schema_name'),
  f.binary('columns'),
  f.list('not_null_constraints', f.int32Item()),
  f.list('unique_constraints', f.listItem(f.int32Item())),
  f.list('check_constraints', f.utf8Item()),
  f.list('primary_key_constraints', f.listItem(f.int32Item())),
  f.list('foreign_key_constraints', f.binaryItem()),
  f.bool('supports_insert'),
  f.bool('supports_update'),
  f.bool('supports_delete'),
  f.bool('supports_returning'),
  f.bool('supports_column_statistics'),
  f.binary('scan_function'),
  f.binary('insert_function'),
  f.binary('update_function'),
  f.binary('delete_function'),
  f.int64('cardinality_estimate'),
  f.int64('cardinality_max'),
  f.binary('column_statistics'),
  f.binary('bind_result'),
  f.list('required_field_filter_paths', f.utf8Item()),
];

/** 9 fields (`IndexInfoSchema()` at 15fe529). */
export const IndexInfo: SchemaSpec = [
  f.utf8('comment', NULLABLE),
  tags(),
  f.utf8('name'),
  f.utf8('schema_name'),
  f.utf8('table_name'),
  f.utf8('index_type'),
  f.dict('constraint_type', { values: INDEX_CONSTRAINT_TYPE }),
  f.list('expressions', f.utf8Item()),
  f.map('options', t.utf8, t.utf8),
];

/** 5 fields; opaque_data NOT NULL in 1.0. */
export const BindResponse: SchemaSpec = [
  f.binary('output_schema'),
  f.binary('opaque_data'),
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

/** 4 fields; `options` is declared NOT NULL but sent as null without extra ATTACH options. */
export const CatalogAttachRequest: SchemaSpec = [
  f.utf8('name'),
  f.binary('options'),
  f.utf8('data_version_spec', NULLABLE),
  f.utf8('implementation_version', NULLABLE),
];

/** 11 fields. */
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
];

/** 16 fields. */
export const InitRequest: SchemaSpec = [
  f.binary('bind_call'),
  f.binary('output_schema'),
  f.binary('bind_opaque_data', NULLABLE),
  f.list('projection_ids', f.int64Item(), NULLABLE),
  f.largeBinary('pushdown_filters', NULLABLE),
  f.list('join_keys', f.largeBinaryItem(), NULLABLE),
  f.dict('phase', { nullable: true, values: INIT_PHASE }),
  f.binary('execution_id', NULLABLE),
  f.binary('init_opaque_data', NULLABLE),
  f.utf8('order_by_column_name', NULLABLE),
  f.dict('order_by_direction', { nullable: true, values: ORDER_BY_DIRECTION }),
  f.dict('order_by_null_order', { nullable: true, values: ORDER_BY_NULL_ORDER }),
  f.int64('order_by_limit', NULLABLE),
  f.float64('tablesample_percentage', NULLABLE),
  f.int64('tablesample_seed', NULLABLE),
  f.binary('finalize_state_id', NULLABLE),
];

/** 6 fields. */
export const ProcessRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.binary('input_batch'),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
  f.int64('batch_index', NULLABLE),
];

/** 5 fields. */
export const CombineRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.list('state_ids', f.binaryItem()),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
];

/** 4 fields. */
export const DestructorRequest: SchemaSpec = [
  f.utf8('function_name'),
  f.binary('execution_id'),
  f.binary('attach_opaque_data', NULLABLE),
  f.binary('transaction_id', NULLABLE),
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
  catalog_schema_contents_functions: [attach(), f.utf8('name'), objectType(), txn()],
  catalog_schema_contents_macros: [attach(), f.utf8('name'), objectType(), txn()],
  catalog_schema_contents_tables: [attach(), f.utf8('name'), txn()],
  catalog_schema_contents_views: [attach(), f.utf8('name'), txn()],
  catalog_schema_contents_indexes: [attach(), f.utf8('name'), txn()],
  catalog_table_get: [
    attach(),
    f.utf8('schema_name'),
    f.utf8('name'),
    f.utf8('at_unit', NULLABLE),
    f.utf8('at_value', NULLABLE),
    txn(),
  ],
  catalog_view_get: [attach(), f.utf8('schema_name'), f.utf8('name'), txn()],
  catalog_macro_get: [attach(), f.utf8('schema_name'), f.utf8('name'), txn()],
  catalog_index_get: [attach(), f.utf8('schema_name'), f.utf8('name'), txn()],
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
  copyFromFormatInfo: null,
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
  clientCapabilities: null,
  bindRequest: BindRequest,
  initRequest: InitRequest,
  processRequest: ProcessRequest,
  combineRequest: CombineRequest,
  destructorRequest: DestructorRequest,
  methodParams: MethodParams,
};

// ---------------------------------------------------------------------------
// Row builders (neutral description -> 1.0 row)
// ---------------------------------------------------------------------------

function functionInfoRow(fn: FunctionDescription): Row {
  checkFunctionFlags(fn);
  return {
    comment: fn.comment ?? null,
    tags: tagsMap(fn.tags),
    name: fn.name,
    schema_name: fn.schemaName,
    function_type: fn.functionType ?? 'TABLE_BUFFERING',
    arguments: fn.argumentsSchemaBytes,
    output_schema: fn.outputSchemaBytes,
    stability: null,
    null_handling: null,
    description: fn.description,
    examples: (fn.examples ?? []).map((e) => ({
      sql: e.sql,
      description: e.description,
      expected_output: e.expectedOutput ?? null,
    })),
    categories: [...(fn.categories ?? [])],
    projection_pushdown: fn.projectionPushdown ?? false,
    filter_pushdown: fn.filterPushdown ?? false,
    sampling_pushdown: null,
    late_materialization: null,
    supported_expression_filters: [],
    order_preservation: null,
    max_workers: 1, // non-null column: send a value (spec §11)
    supports_batch_index: false,
    partition_kind: 'NOT_PARTITIONED',
    order_dependent: 'NOT_ORDER_DEPENDENT',
    distinct_dependent: 'NOT_DISTINCT_DEPENDENT',
    supports_window: false,
    streaming_partitioned: false,
    has_finalize: true,
    source_order_dependent: fn.sourceOrderDependent ?? false,
    sink_order_dependent: fn.sinkOrderDependent ?? false,
    requires_input_batch_index: fn.requiresInputBatchIndex ?? false,
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
    comment: d.comment ?? null,
    tags: tagsMap(d.tags),
    supports_column_statistics: d.supportsColumnStatistics ?? false,
    resolved_data_version: d.resolvedDataVersion ?? null,
    resolved_implementation_version: d.resolvedImplementationVersion ?? null,
  };
}

function schemaInfoRow(s: SchemaDescription): Row {
  return {
    comment: s.comment ?? null,
    tags: tagsMap(s.tags),
    attach_opaque_data: s.attachOpaqueData,
    name: s.name,
    estimated_object_count: s.estimatedObjectCount
      ? new Map(Object.entries(s.estimatedObjectCount).map(([k, v]) => [k, BigInt(v)]))
      : null,
  };
}

function bindResponseRow(b: BindDescription): Row {
  return {
    output_schema: b.outputSchemaBytes,
    opaque_data: b.opaqueData ?? new Uint8Array(0), // NOT NULL in 1.0: empty = none
    lookup_secret_types: [...(b.lookupSecretTypes ?? [])],
    lookup_scopes: [...(b.lookupScopes ?? [])],
    lookup_names: [...(b.lookupNames ?? [])],
  };
}

function schemaPathOf(params: Row): string[] | null {
  const v = params['schema_name'] ?? params['name'];
  return typeof v === 'string' ? [v] : null;
}

export const v1: ProtocolDefinition = {
  version: '1.0.0',
  protocolName: null,
  tables,
  functionInfoRow,
  catalogAttachResultRow,
  schemaInfoRow,
  bindResponseRow,
  schemaPathOf,
};
