// Parser for the protocol 1.0.0 `filter_spec` encoding (vgi-protocol-1.0.md §5.6).
//
// The document is a JSON array of DuckDB TableFilters, one per column, all ANDed. Constants live in
// `_val_N` columns. In 1.0 DuckDB removes every pushed filter from its plan, so every predicate is
// *required*: anything this parser cannot evaluate exactly is an UnsupportedFilterError.
//
// Columns are resolved by `column_index`, an index into the unprojected output schema. The spec
// (§5.6, §11) suggested `column_name`, but DuckDB 1.5.3 was measured sending the wrong name when
// the projection drops or reorders columns: for `SELECT c, b … WHERE b = 30` it sends
// column_index 1 (b) with column_name "c" (test/e2e-regress-v1-filter-column.test.ts, found by the
// differential test). The name is used only when the index is missing or out of range.
import { Type } from 'apache-arrow';
import type { DataType, Schema, Struct } from 'apache-arrow';
import { readCell, readListCell } from './literal.js';
import {
  arr, buildProgram, joinKeyNames, obj, parseJson, readFilterBlob, readJoinKeyColumn, specText, str, uint,
  type Candidate, type FilterPayload, type Json,
} from './parse-common.js';
import {
  FilterFormatError, UnsupportedFilterError,
  type ColumnRef, type CompareOp, type FieldRef, type FilterProgram, type Literal, type LiteralValue, type Predicate, type ValueExpr,
} from './program.js';

const OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
/** DuckDB scalar functions in `expression` filters that map onto exact byte-level kernels. */
const STRING_FUNCTIONS: Readonly<Record<string, 'starts_with' | 'ends_with' | 'contains'>> = {
  prefix: 'starts_with', starts_with: 'starts_with', suffix: 'ends_with', ends_with: 'ends_with', contains: 'contains',
};
const MAX_DEPTH = 64;

interface Ctx {
  readonly payload: FilterPayload;
  readonly joinKeys: readonly Uint8Array[] | null;
  readonly schema: Schema;
  /** join_keys filters in the document, and how many have been built so far (document order). */
  readonly joinKeyFilters: number;
  nextJoinKey: number;
}

/** Counts `join_keys` filter objects, depth first, in document order. */
function countJoinKeyFilters(x: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || x === null || typeof x !== 'object') return 0;
  if (Array.isArray(x)) return x.reduce((n: number, y) => n + countJoinKeyFilters(y, depth + 1), 0);
  const o = x as Record<string, unknown>;
  let n = o.type === 'join_keys' ? 1 : 0;
  for (const k of ['children', 'child_filter']) if (k in o) n += countJoinKeyFilters(o[k], depth + 1);
  return n;
}

function resolveColumn(f: Json, ctx: Ctx, where: string): ColumnRef {
  const name = str(f, 'column_name', where);
  const hint = typeof f.column_index === 'number' ? f.column_index : -1;
  const fields = ctx.schema.fields;
  let index = hint >= 0 && hint < fields.length ? hint : -1;
  if (index < 0) index = fields.findIndex((x) => x.name === name);
  if (index < 0) throw new FilterFormatError(`${where}: no output column named "${name}"`);
  return { kind: 'column', index, name: fields[index].name, type: fields[index].type as DataType };
}

function literal(ref: number, ctx: Ctx, where: string): Literal {
  const col = ctx.payload.column(`_val_${ref}`);
  if (col === undefined) throw new FilterFormatError(`${where}: payload column _val_${ref} is missing`);
  return { kind: 'literal', type: col.type, value: readCell(col.data, 0) };
}

/** The join-key stream holding a column named `name` (1.0 matches by name, not position). */
function joinKeyValues(name: string, ctx: Ctx, where: string): { type: DataType; values: LiteralValue[] } {
  const streams = ctx.joinKeys ?? [];
  // DuckDB 1.5.3 labels keys_column (and the stream) with the wrong name once the projection drops
  // or reorders columns (test/e2e-regress-v1-join-keys.test.ts), but it appends one stream per
  // join_keys filter in filter order: when the counts agree, pair them by position.
  const ordinal = ctx.nextJoinKey++;
  if (streams.length === ctx.joinKeyFilters && ordinal < streams.length) {
    const keys = readJoinKeyColumn(streams[ordinal]!, 0, `join_keys[${ordinal}]`);
    return { type: keys.type, values: keys.values };
  }
  for (let b = 0; b < streams.length; b++) {
    const c = joinKeyNames(streams[b], `join_keys[${b}]`).indexOf(name);
    if (c >= 0) {
      const keys = readJoinKeyColumn(streams[b], c, `join_keys[${b}]`);
      return { type: keys.type, values: keys.values };
    }
  }
  throw new FilterFormatError(`${where}: no join_keys stream has a column named "${name}"`);
}

/** One TableFilter applied to `target` (the column, or a struct field for `struct` child filters). */
function filterNode(f: Json, target: ColumnRef | FieldRef, ctx: Ctx, where: string, depth: number): Predicate {
  if (depth > MAX_DEPTH) throw new FilterFormatError(`${where}: filter nested deeper than ${MAX_DEPTH}`);
  const type = str(f, 'type', where);
  switch (type) {
    case 'constant': {
      const op = str(f, 'op', where);
      if (!OPS.has(op)) throw new UnsupportedFilterError(`${where}: comparison op "${op}" is not supported`);
      return { kind: 'compare', op: op as CompareOp, left: target, right: literal(uint(f, 'value_ref', where), ctx, where) };
    }
    case 'is_null':
    case 'is_not_null':
      return { kind: 'is_null', expr: target, negated: type === 'is_not_null' };
    case 'in': {
      const ref = uint(f, 'value_ref', where);
      const col = ctx.payload.column(`_val_${ref}`);
      if (col === undefined) throw new FilterFormatError(`${where}: payload column _val_${ref} is missing`);
      const list = readListCell(col.data, 0);
      if (list === null) throw new FilterFormatError(`${where}: IN list _val_${ref} must not be NULL`);
      return { kind: 'in', expr: target, valueType: list.valueType, values: list.values, negated: false };
    }
    case 'join_keys': {
      const keys = joinKeyValues(str(f, 'keys_column', where), ctx, where);
      return { kind: 'in', expr: target, valueType: keys.type, values: keys.values, negated: false };
    }
    case 'and':
    case 'or': {
      const kids = arr(f, 'children', where);
      if (kids.length === 0) throw new FilterFormatError(`${where}: "${type}" needs children`);
      // DuckDB conjunction filters apply every child to the same column as the parent.
      return { kind: type, children: kids.map((k, i) => filterNode(obj(k, `${where}.children[${i}]`), target, ctx, `${where}.children[${i}]`, depth + 1)) };
    }
    case 'struct': {
      const index = uint(f, 'child_index', where);
      const name = str(f, 'child_name', where);
      if (target.type.typeId !== Type.Struct) throw new FilterFormatError(`${where}: struct filter on non-struct ${target.type}`);
      const child = (target.type as Struct).children[index];
      if (child === undefined || child.name !== name) throw new FilterFormatError(`${where}: struct has no field ${index} named "${name}"`);
      const field: FieldRef = { kind: 'field', parent: target, index, name, type: child.type as DataType };
      return filterNode(obj(f.child_filter, `${where}.child_filter`), field, ctx, `${where}.child_filter`, depth + 1);
    }
    case 'expression':
      return exprBool(obj(f.expr, `${where}.expr`), target, ctx, `${where}.expr`, depth + 1);
    default:
      throw new UnsupportedFilterError(`${where}: filter type "${type}" is not supported`);
  }
}

/** Value positions of an expression tree: in 1.0 every column_ref names the filter's own column. */
function exprValue(e: Json, target: ColumnRef | FieldRef, ctx: Ctx, where: string): ValueExpr {
  const t = str(e, 'expr_type', where);
  if (t === 'column_ref') return target;
  if (t === 'constant') return literal(uint(e, 'value_ref', where), ctx, where);
  throw new UnsupportedFilterError(`${where}: expression "${t}" as a value is not supported`);
}

function exprBool(e: Json, target: ColumnRef | FieldRef, ctx: Ctx, where: string, depth: number): Predicate {
  if (depth > MAX_DEPTH) throw new FilterFormatError(`${where}: expression nested deeper than ${MAX_DEPTH}`);
  const t = str(e, 'expr_type', where);
  switch (t) {
    case 'comparison': {
      const op = str(e, 'op', where);
      if (!OPS.has(op)) throw new UnsupportedFilterError(`${where}: comparison op "${op}" is not supported`);
      return {
        kind: 'compare', op: op as CompareOp,
        left: exprValue(obj(e.left, `${where}.left`), target, ctx, `${where}.left`),
        right: exprValue(obj(e.right, `${where}.right`), target, ctx, `${where}.right`),
      };
    }
    case 'conjunction': {
      const ct = str(e, 'conjunction_type', where);
      if (ct !== 'and' && ct !== 'or') throw new UnsupportedFilterError(`${where}: conjunction "${ct}" is not supported`);
      const kids = arr(e, 'children', where).map((k, i) => exprBool(obj(k, `${where}.children[${i}]`), target, ctx, `${where}.children[${i}]`, depth + 1));
      return { kind: ct, children: kids };
    }
    case 'function': {
      const name = str(e, 'function_name', where);
      const fn = STRING_FUNCTIONS[name];
      const args = arr(e, 'children', where);
      if (fn === undefined || args.length !== 2) throw new UnsupportedFilterError(`${where}: function "${name}" is not supported`);
      const hay = exprValue(obj(args[0], `${where}.children[0]`), target, ctx, where);
      const needle = exprValue(obj(args[1], `${where}.children[1]`), target, ctx, where);
      if (hay.kind === 'literal' || needle.kind !== 'literal') throw new UnsupportedFilterError(`${where}: ${name} needs (column, constant)`);
      if (needle.value === null) return { kind: 'compare', op: 'eq', left: hay, right: needle }; // NULL for every row
      if (typeof needle.value !== 'string' && !(needle.value instanceof Uint8Array)) {
        throw new UnsupportedFilterError(`${where}: ${name} needs a string constant`);
      }
      return { kind: 'string_match', fn, expr: hay, needle: needle.value };
    }
    default:
      throw new UnsupportedFilterError(`${where}: expression "${t}" is not supported`);
  }
}

/**
 * Parses an `InitRequest.pushdown_filters` blob of protocol 1.0.0.
 * @param blob the IPC stream: `filter_spec` (JSON array) plus `_val_N` constant columns
 * @param joinKeys `InitRequest.join_keys`: one single-column IPC stream per large IN filter, or null
 * @param outputSchema the full, unprojected output schema; columns are matched by column_index
 * @throws FilterFormatError on a malformed blob or an unknown column
 * @throws UnsupportedFilterError when a filter cannot be evaluated exactly (all 1.0 filters are required)
 */
export function parseFiltersV1(blob: Uint8Array, joinKeys: readonly Uint8Array[] | null, outputSchema: Schema): FilterProgram {
  const payload = readFilterBlob(blob);
  const version = payload.schema.fields.find((f) => f.name === 'filter_spec')?.metadata.get('vgi_filter_version');
  if (version !== undefined && version !== '1') throw new FilterFormatError(`unexpected vgi_filter_version "${version}"`);
  const doc = parseJson(specText(payload));
  if (!Array.isArray(doc)) throw new FilterFormatError('filter_spec must be a JSON array');
  const ctx: Ctx = { payload, joinKeys, schema: outputSchema, joinKeyFilters: countJoinKeyFilters(doc), nextJoinKey: 0 };
  const candidates: Candidate[] = doc.map((x, k) => {
    const where = `filter[${k}]`;
    const f = obj(x, where);
    return { id: `v1:${k}`, mode: 'required', source: 'query', build: () => filterNode(f, resolveColumn(f, ctx, where), ctx, where, 0) };
  });
  return buildProgram('vgi.filters.v1', candidates);
}
