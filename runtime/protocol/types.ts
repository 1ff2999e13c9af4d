/**
 * Shapes shared by every protocol version file (v1.ts, v2.ts, …).
 *
 * A version file exports one {@link ProtocolDefinition}: its schema tables
 * (plain data) plus the few row builders whose output differs by version.
 * Adding a version = add a table file + register it in versions.ts.
 */
import type { SchemaSpec } from './spec.js';

/** Names of the method-parameter layouts a version may declare. */
export type MethodName =
  | 'catalog_catalogs'
  | 'catalog_attach'
  | 'catalog_detach'
  | 'catalog_version'
  | 'catalog_transaction_begin'
  | 'catalog_transaction_commit'
  | 'catalog_transaction_rollback'
  | 'catalog_schemas'
  | 'catalog_schema_contents_functions'
  | 'catalog_schema_contents_macros'
  | 'catalog_schema_contents_tables'
  | 'catalog_schema_contents_views'
  | 'catalog_schema_contents_indexes'
  | 'catalog_table_get'
  | 'catalog_view_get'
  | 'catalog_macro_get'
  | 'catalog_index_get'
  | 'catalog_copy_from_formats'
  | 'bind'
  | 'init'
  | 'table_buffering_process'
  | 'table_buffering_combine'
  | 'table_buffering_destructor';

/** Every schema a protocol version declares, as plain data. */
export interface ProtocolTables {
  // ---- results and catalog items (compared by exact schema equality) ----
  readonly catalogAttachResult: SchemaSpec;
  readonly catalogInfo: SchemaSpec;
  readonly schemaInfo: SchemaSpec;
  readonly functionInfo: SchemaSpec;
  readonly macroInfo: SchemaSpec;
  readonly viewInfo: SchemaSpec;
  readonly tableInfo: SchemaSpec;
  readonly indexInfo: SchemaSpec;
  /** `catalog_copy_from_formats` items; null where the method does not exist. */
  readonly copyFromFormatInfo: SchemaSpec | null;
  readonly bindResponse: SchemaSpec;
  /** `{items: list<binary>}` wrapper of every catalog list result. */
  readonly items: SchemaSpec;
  /** `catalog_version` result `{version: int64}`. */
  readonly catalogVersionResult: SchemaSpec;
  /** `catalog_transaction_begin` result `{transaction_opaque_data: binary?}`. */
  readonly transactionBeginResult: SchemaSpec;
  readonly processResult: SchemaSpec;
  readonly combineResult: SchemaSpec;
  /** Zero fields. */
  readonly destructorResult: SchemaSpec;
  /** init header (read by name, not validated by the extension). */
  readonly globalInitResponse: SchemaSpec;
  /** Outer unary envelope `{result: binary}`. */
  readonly unaryResult: SchemaSpec;

  // ---- requests (for reading / consistency checks) ----
  readonly catalogAttachRequest: SchemaSpec;
  /** Inner IPC of CatalogAttachRequest.client_capabilities; null where absent. */
  readonly clientCapabilities: SchemaSpec | null;
  readonly bindRequest: SchemaSpec;
  readonly initRequest: SchemaSpec;
  readonly processRequest: SchemaSpec;
  readonly combineRequest: SchemaSpec;
  readonly destructorRequest: SchemaSpec;
  /** Outer parameter columns per method name (only the methods this version has). */
  readonly methodParams: Readonly<Partial<Record<MethodName, SchemaSpec>>>;
}

export type Row = Record<string, unknown>;

/** Neutral description of a function, independent of protocol version. */
export interface FunctionDescription {
  readonly name: string;
  readonly schemaName: string;
  readonly description: string;
  readonly categories?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** Serialized arguments schema (see encodeArgumentsSchema). */
  readonly argumentsSchemaBytes: Uint8Array;
  /** Serialized output schema (the empty schema when it depends on the input). */
  readonly outputSchemaBytes: Uint8Array;
  /** Default `TABLE_BUFFERING`. */
  readonly functionType?: 'TABLE_BUFFERING' | 'TABLE';
  readonly projectionPushdown?: boolean;
  readonly filterPushdown?: boolean;
  readonly sinkOrderDependent?: boolean;
  readonly sourceOrderDependent?: boolean;
  readonly requiresInputBatchIndex?: boolean;
  readonly comment?: string | null;
  readonly examples?: readonly { sql: string; description: string; expectedOutput?: string | null }[];
}

/** Neutral description of a catalog_attach answer. Defaults are the minimal values of the 1.0 spec §3.3. */
export interface CatalogAttachDescription {
  readonly attachOpaqueData: Uint8Array;
  readonly supportsTransactions?: boolean; // false
  readonly supportsTimeTravel?: boolean; // false
  readonly catalogVersionFrozen?: boolean; // true
  readonly catalogVersion?: number | bigint; // 1
  readonly attachOpaqueDataRequired?: boolean; // true
  readonly defaultSchema?: string; // 'main'
  readonly settings?: readonly Uint8Array[]; // []
  readonly secretTypes?: readonly Uint8Array[]; // []
  readonly comment?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly supportsColumnStatistics?: boolean; // false
  readonly resolvedDataVersion?: string | null;
  readonly resolvedImplementationVersion?: string | null;
}

/** Neutral description of one schema of the catalog. */
export interface SchemaDescription {
  readonly name: string;
  readonly attachOpaqueData: Uint8Array;
  readonly comment?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  /** Keys `table`, `view`, `index`, `scalar_function`, `aggregate_function`, `table_function`, `macro`; null = unknown. */
  readonly estimatedObjectCount?: Readonly<Record<string, number | bigint>> | null;
}

/** Neutral description of a bind answer. */
export interface BindDescription {
  readonly outputSchemaBytes: Uint8Array;
  /** Absent/null = none (1.0 sends empty bytes, 2.0 sends null). */
  readonly opaqueData?: Uint8Array | null;
  readonly lookupSecretTypes?: readonly string[];
  readonly lookupScopes?: readonly string[];
  readonly lookupNames?: readonly string[];
}

/** The version-specific part: tables + builders. */
export interface ProtocolDefinition {
  /** Full version string, e.g. `1.0.0`. */
  readonly version: string;
  /** Value of `vgi_rpc.protocol` on requests (2.0: `vgi.v2`); null when not sent. */
  readonly protocolName: string | null;
  readonly tables: ProtocolTables;
  functionInfoRow(fn: FunctionDescription): Row;
  catalogAttachResultRow(d: CatalogAttachDescription): Row;
  schemaInfoRow(s: SchemaDescription): Row;
  bindResponseRow(b: BindDescription): Row;
  /**
   * The schema path named by a decoded catalog-method parameter row or a
   * decoded request (1.0: `schema_name`/`name`; 2.0: `schema_path`/`path`).
   * Returns null when the row names no schema.
   */
  schemaPathOf(params: Row): string[] | null;
}
