/**
 * Enum members of the `dictionary<int16, utf8>` columns (value = member NAME).
 * Same members in protocol 1.0.0 and 2.0.0 (2.0 spec §5).
 */

/** FunctionInfo.function_type (the extension also accepts lower case). */
export const FUNCTION_TYPE = ['SCALAR', 'TABLE', 'TABLE_BUFFERING', 'AGGREGATE'] as const;
/** BindRequest.function_type. */
export const BIND_FUNCTION_TYPE = ['SCALAR', 'TABLE', 'AGGREGATE'] as const;
export const STABILITY = ['CONSISTENT', 'VOLATILE', 'CONSISTENT_WITHIN_QUERY'] as const;
export const NULL_HANDLING = ['DEFAULT', 'SPECIAL'] as const;
export const ORDER_PRESERVATION = ['PRESERVES_ORDER', 'NO_ORDER_GUARANTEE', 'FIXED_ORDER'] as const;
export const PARTITION_KIND = [
  'NOT_PARTITIONED',
  'SINGLE_VALUE_PARTITIONS',
  'OVERLAPPING_PARTITIONS',
  'DISJOINT_PARTITIONS',
] as const;
export const ORDER_DEPENDENT = ['ORDER_DEPENDENT', 'NOT_ORDER_DEPENDENT'] as const;
export const DISTINCT_DEPENDENT = ['DISTINCT_DEPENDENT', 'NOT_DISTINCT_DEPENDENT'] as const;
export const MACRO_TYPE = ['SCALAR', 'TABLE'] as const;
export const INDEX_CONSTRAINT_TYPE = ['NONE', 'UNIQUE', 'PRIMARY'] as const;
/** InitRequest.phase. */
export const INIT_PHASE = ['INPUT', 'FINALIZE', 'TABLE_BUFFERING', 'TABLE_BUFFERING_FINALIZE'] as const;
export const ORDER_BY_DIRECTION = ['ASC', 'DESC'] as const;
export const ORDER_BY_NULL_ORDER = ['NULLS_FIRST', 'NULLS_LAST'] as const;
/** `type` parameter of catalog_schema_contents_functions / _macros. */
export const SCHEMA_OBJECT_TYPE = [
  'TABLE',
  'VIEW',
  'SCALAR_FUNCTION',
  'TABLE_FUNCTION',
  'AGGREGATE_FUNCTION',
  'SCALAR_MACRO',
  'TABLE_MACRO',
  'INDEX',
] as const;

export type SchemaObjectType = (typeof SCHEMA_OBJECT_TYPE)[number];
export type InitPhase = (typeof INIT_PHASE)[number];
