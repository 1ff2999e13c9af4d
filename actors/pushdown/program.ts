// The normalized, wire-version-neutral form of pushed-down filters.
//
// Both wire encodings (vgi.filters.v2 from protocol 2.0.0, and the 1.0.0 `filter_spec` array) are parsed
// into this tree, so the evaluator has exactly one input language. The tree keeps Arrow `DataType`s for
// columns and literals because exactness depends on them (decimal scale, timestamp unit, UTF-8 vs
// binary). It is therefore *not* meant to be structured-cloned to another thread: send the blob and parse
// it again there (parsing costs microseconds).
import type { DataType } from 'apache-arrow';

/** `required`: DuckDB removed its own filter, so the worker must apply it exactly or fail.
 *  `advisory`: DuckDB keeps an exact residual filter; applying it is optional but must never drop a TRUE row. */
export type FilterMode = 'required' | 'advisory';

/** Comparison operators. The two `distinct` forms are NULL-aware and never yield NULL. */
export type CompareOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'distinct_from' | 'not_distinct_from';

/** Exact decimal constant: the unscaled integer and its scale (value = unscaled / 10^scale). */
export interface DecimalValue {
  readonly unscaled: bigint;
  readonly scale: number;
}

/**
 * A constant, decoded from its Arrow cell without losing precision:
 * - `number` for ≤32-bit integers, floats, date32 and time32;
 * - `bigint` for 64-bit integers and 64-bit temporal types (timestamp, date64, time64, duration);
 * - `DecimalValue` for decimals; `boolean` for bool;
 * - `string` for utf8 (compared by its UTF-8 bytes), `Uint8Array` for binary and fixed_size_binary;
 * - `null` for a NULL cell.
 */
export type LiteralValue = null | boolean | number | bigint | string | Uint8Array | DecimalValue;

/** Expressions that produce a value (not a truth value). */
export type ValueExpr = ColumnRef | FieldRef | Literal;

/** A top-level column of the *unprojected* output schema (`InitRequest.output_schema`). */
export interface ColumnRef {
  readonly kind: 'column';
  readonly index: number;
  readonly name: string;
  readonly type: DataType;
}

/** A child of a struct-typed expression. NULL when any ancestor struct is NULL. */
export interface FieldRef {
  readonly kind: 'field';
  readonly parent: ColumnRef | FieldRef;
  readonly index: number;
  readonly name: string;
  readonly type: DataType;
}

/** A constant with the Arrow type it arrived with. */
export interface Literal {
  readonly kind: 'literal';
  readonly type: DataType;
  readonly value: LiteralValue;
}

/** Boolean expressions, evaluated with SQL three-valued logic (TRUE / FALSE / NULL). */
export type Predicate =
  | ComparePredicate
  | AndPredicate
  | OrPredicate
  | NotPredicate
  | IsNullPredicate
  | InPredicate
  | StringMatchPredicate
  | BoolValuePredicate;

export interface ComparePredicate {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly left: ValueExpr;
  readonly right: ValueExpr;
}

export interface AndPredicate {
  readonly kind: 'and';
  readonly children: readonly Predicate[];
}

export interface OrPredicate {
  readonly kind: 'or';
  readonly children: readonly Predicate[];
}

export interface NotPredicate {
  readonly kind: 'not';
  readonly child: Predicate;
}

/** `expr IS NULL` (or `IS NOT NULL` when negated). Never NULL itself. */
export interface IsNullPredicate {
  readonly kind: 'is_null';
  readonly expr: ColumnRef | FieldRef;
  readonly negated: boolean;
}

/** `expr [NOT] IN (values…)` with SQL semantics: a NULL element makes a non-match NULL, an empty set is FALSE. */
export interface InPredicate {
  readonly kind: 'in';
  readonly expr: ColumnRef | FieldRef;
  /** The Arrow type of the set elements (the list child / join-key column type). */
  readonly valueType: DataType;
  readonly values: readonly LiteralValue[];
  readonly negated: boolean;
}

/** Byte-exact, case-sensitive `starts_with` / `ends_with` / `contains` on utf8 (an empty needle matches all non-NULL). */
export interface StringMatchPredicate {
  readonly kind: 'string_match';
  readonly fn: 'starts_with' | 'ends_with' | 'contains';
  readonly expr: ColumnRef | FieldRef;
  readonly needle: string | Uint8Array;
}

/** A BOOLEAN column (or struct field) used directly as a predicate: `WHERE flag`. */
export interface BoolValuePredicate {
  readonly kind: 'bool_value';
  readonly expr: ColumnRef | FieldRef;
}

/** One pushed predicate. A row survives only if every predicate of the program is TRUE. */
export interface FilterPredicate {
  /** Wire id (`query:0`, `advisory:1`; `v1:k` for 1.0.0 filters). */
  readonly id: string;
  readonly mode: FilterMode;
  /** Diagnostic only (`query`, `other`, …). */
  readonly source: string;
  readonly expr: Predicate;
}

/** An advisory predicate the evaluator cannot run exactly; DuckDB's residual still applies it. */
export interface SkippedPredicate {
  readonly id: string;
  readonly reason: string;
}

export interface FilterProgram {
  /** Which wire encoding the program came from (diagnostics only). */
  readonly encoding: 'vgi.filters.v2' | 'vgi.filters.v1';
  /** ANDed. Empty means "no filter" (e.g. the Top-N snapshot `predicates: []`). */
  readonly predicates: readonly FilterPredicate[];
  readonly skipped: readonly SkippedPredicate[];
}

/** The blob, JSON or a reference in it is malformed or inconsistent with the output schema. */
export class FilterFormatError extends Error {
  override readonly name = 'FilterFormatError';
}

/** The filter is well-formed but cannot be evaluated exactly here (unknown node, function, type, …).
 *  Raised for required predicates; advisory ones are skipped instead. */
export class UnsupportedFilterError extends Error {
  override readonly name = 'UnsupportedFilterError';
}

export function isDecimalValue(v: LiteralValue): v is DecimalValue {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array);
}

/** Reverses a comparison so `literal op expr` can be evaluated as `expr op' literal`. */
export function flipCompareOp(op: CompareOp): CompareOp {
  switch (op) {
    case 'lt': return 'gt';
    case 'le': return 'ge';
    case 'gt': return 'lt';
    case 'ge': return 'le';
    default: return op; // eq, ne and the distinct forms are symmetric
  }
}

/** Renders a value expression for error messages (`st.g.h`). */
export function describeExpr(e: ValueExpr): string {
  switch (e.kind) {
    case 'column': return e.name;
    case 'field': return `${describeExpr(e.parent)}.${e.name}`;
    case 'literal': return `literal(${e.type})`;
  }
}
