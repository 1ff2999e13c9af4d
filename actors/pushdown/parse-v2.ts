// Parser for `vgi.filters.v2` (protocol 2.0.0), as specified in shared/spec/vgi-filters-v2.md.
//
// Grammar accepted: everything DuckDB 1.5.5 + vgi d91b7c4 was seen to send (comparison, column_ref,
// field_ref, literal, and, or, in with literal/external sets) plus the SDK-only nodes that can be
// evaluated exactly without a session context (not, is_null, the distinct ops, negated in, and the
// starts_with/ends_with/contains calls). cast, arithmetic, negate, other calls and runtime filters are
// UnsupportedFilterError: fatal in a required predicate, skipped in an advisory one.
import { DataType, Type } from 'apache-arrow';
import type { Schema, Struct } from 'apache-arrow';
import { readCell, readListCell } from './literal.js';
import {
  arr, bool, buildProgram, obj, parseJson, readFilterBlob, readJoinKeyColumn, specText, str, uint,
  type Candidate, type FilterPayload, type Json,
} from './parse-common.js';
import {
  FilterFormatError, UnsupportedFilterError,
  type ColumnRef, type CompareOp, type FieldRef, type FilterMode, type FilterProgram, type Literal, type Predicate, type ValueExpr,
} from './program.js';

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'distinct_from', 'not_distinct_from']);
const STRING_CALLS: ReadonlySet<string> = new Set(['starts_with', 'ends_with', 'contains']);
const MAX_DEPTH = 64; // the SDK's limit; also keeps recursion bounded on hostile input

interface Ctx {
  readonly payload: FilterPayload;
  readonly joinKeys: readonly Uint8Array[] | null;
  readonly schema: Schema;
}

function columnRef(n: Json, ctx: Ctx, where: string): ColumnRef {
  const index = uint(n, 'column_index', where);
  const name = str(n, 'column_name', where);
  const field = ctx.schema.fields[index];
  // The index is authoritative; the name proves both sides agree on the unprojected bind schema.
  if (field === undefined) throw new FilterFormatError(`${where}: column_index ${index} is outside the output schema (${ctx.schema.fields.length} columns)`);
  if (field.name !== name) throw new FilterFormatError(`${where}: column ${index} is "${field.name}", filter says "${name}"`);
  return { kind: 'column', index, name, type: field.type as DataType };
}

function refNode(n: Json, ctx: Ctx, where: string, depth: number): ColumnRef | FieldRef {
  const e = valueNode(n, ctx, where, depth);
  if (e.kind === 'literal') throw new UnsupportedFilterError(`${where}: expected a column or struct field, got a literal`);
  return e;
}

function literalNode(n: Json, ctx: Ctx, where: string): Literal {
  const ref = uint(n, 'value_ref', where);
  const col = ctx.payload.column(`value_${ref}`);
  if (col === undefined) throw new FilterFormatError(`${where}: payload column value_${ref} is missing`);
  return { kind: 'literal', type: col.type, value: readCell(col.data, 0) };
}

function valueNode(n: Json, ctx: Ctx, where: string, depth: number): ValueExpr {
  if (depth > MAX_DEPTH) throw new FilterFormatError(`${where}: expression nested deeper than ${MAX_DEPTH}`);
  const node = str(n, 'node', where);
  switch (node) {
    case 'column_ref':
      return columnRef(n, ctx, where);
    case 'literal':
      return literalNode(n, ctx, where);
    case 'field_ref': {
      const parent = refNode(obj(n.expression, `${where}.expression`), ctx, `${where}.expression`, depth + 1);
      const index = uint(n, 'field_index', where);
      const name = str(n, 'field_name', where);
      if (parent.type.typeId !== Type.Struct) throw new FilterFormatError(`${where}: field_ref on non-struct ${parent.type}`);
      const child = (parent.type as Struct).children[index];
      if (child === undefined || child.name !== name) {
        throw new FilterFormatError(`${where}: struct ${parent.name} has no field ${index} named "${name}"`);
      }
      return { kind: 'field', parent, index, name, type: child.type as DataType };
    }
    default:
      // cast, arithmetic, negate, call-as-value and anything newer.
      throw new UnsupportedFilterError(`${where}: value node "${node}" is not supported`);
  }
}

function inNode(n: Json, ctx: Ctx, where: string, depth: number): Predicate {
  const expr = refNode(obj(n.expression, `${where}.expression`), ctx, `${where}.expression`, depth + 1);
  const negated = bool(n, 'negated', where);
  const set = obj(n.set, `${where}.set`);
  const kind = str(set, 'kind', `${where}.set`);
  if (kind === 'literal') {
    const ref = uint(set, 'value_ref', `${where}.set`);
    const col = ctx.payload.column(`value_${ref}`);
    if (col === undefined) throw new FilterFormatError(`${where}: payload column value_${ref} is missing`);
    const list = readListCell(col.data, 0);
    if (list === null) throw new FilterFormatError(`${where}: IN list payload value_${ref} must not be NULL`);
    return { kind: 'in', expr, valueType: list.valueType, values: list.values, negated };
  }
  if (kind === 'external') {
    const b = uint(set, 'batch_index', `${where}.set`);
    const c = uint(set, 'column_index', `${where}.set`);
    const name = str(set, 'column_name', `${where}.set`);
    const stream = ctx.joinKeys?.[b];
    if (stream === undefined) throw new FilterFormatError(`${where}: join_keys[${b}] is missing`);
    const keys = readJoinKeyColumn(stream, c, `join_keys[${b}]`);
    if (keys.name !== name) throw new FilterFormatError(`${where}: join_keys[${b}] column ${c} is "${keys.name}", filter says "${name}"`);
    return { kind: 'in', expr, valueType: keys.type, values: keys.values, negated };
  }
  throw new UnsupportedFilterError(`${where}: IN set kind "${kind}" is not supported`);
}

function callNode(n: Json, ctx: Ctx, where: string, depth: number): Predicate {
  const fn = n.function;
  if (typeof fn !== 'string' || !STRING_CALLS.has(fn)) {
    throw new UnsupportedFilterError(`${where}: function ${JSON.stringify(fn)} is not supported`);
  }
  if (n.options !== undefined && Object.keys(obj(n.options, `${where}.options`)).length > 0) {
    throw new UnsupportedFilterError(`${where}: options on ${fn} are not supported`);
  }
  const args = arr(n, 'arguments', where);
  if (args.length !== 2) throw new FilterFormatError(`${where}: ${fn} takes 2 arguments, got ${args.length}`);
  const expr = refNode(obj(args[0], `${where}.arguments[0]`), ctx, `${where}.arguments[0]`, depth + 1);
  const needle = valueNode(obj(args[1], `${where}.arguments[1]`), ctx, `${where}.arguments[1]`, depth + 1);
  if (needle.kind !== 'literal') throw new UnsupportedFilterError(`${where}: ${fn} needs a constant second argument`);
  if (needle.value === null) {
    // starts_with(x, NULL) is NULL for every row: an always-NULL comparison expresses exactly that.
    return { kind: 'compare', op: 'eq', left: expr, right: needle };
  }
  if (typeof needle.value !== 'string' && !(needle.value instanceof Uint8Array)) {
    throw new UnsupportedFilterError(`${where}: ${fn} needs a utf8 constant, got ${needle.type}`);
  }
  return { kind: 'string_match', fn: fn as 'starts_with' | 'ends_with' | 'contains', expr, needle: needle.value };
}

function boolNode(n: Json, ctx: Ctx, where: string, depth: number): Predicate {
  if (depth > MAX_DEPTH) throw new FilterFormatError(`${where}: expression nested deeper than ${MAX_DEPTH}`);
  const node = str(n, 'node', where);
  const child = (x: unknown, i: number | string) => boolNode(obj(x, `${where}.${i}`), ctx, `${where}.${i}`, depth + 1);
  switch (node) {
    case 'comparison': {
      const op = str(n, 'op', where);
      if (!COMPARE_OPS.has(op)) throw new UnsupportedFilterError(`${where}: comparison op "${op}" is not supported`);
      const left = valueNode(obj(n.left, `${where}.left`), ctx, `${where}.left`, depth + 1);
      const right = valueNode(obj(n.right, `${where}.right`), ctx, `${where}.right`, depth + 1);
      return { kind: 'compare', op: op as CompareOp, left, right };
    }
    case 'and':
    case 'or': {
      const kids = arr(n, 'children', where);
      if (kids.length === 0) throw new FilterFormatError(`${where}: "${node}" needs children`);
      return { kind: node, children: kids.map((k, i) => child(k, `children[${i}]`)) };
    }
    case 'not':
      return { kind: 'not', child: child(n.expression, 'expression') };
    case 'is_null':
      return { kind: 'is_null', expr: refNode(obj(n.expression, `${where}.expression`), ctx, `${where}.expression`, depth + 1), negated: bool(n, 'negated', where) };
    case 'in':
      return inNode(n, ctx, where, depth);
    case 'call':
      return callNode(n, ctx, where, depth);
    case 'column_ref':
    case 'field_ref':
      return { kind: 'bool_value', expr: refNode(n, ctx, where, depth) };
    default:
      // literal as a root, cast, arithmetic, negate, runtime_filter, and node kinds newer than this parser.
      throw new UnsupportedFilterError(`${where}: node "${node}" is not supported`);
  }
}

function checkMetadata(meta: Map<string, string>): void {
  const enc = meta.get('vgi_filter_encoding');
  if (enc !== undefined && enc !== 'vgi.filters.v2') throw new FilterFormatError(`unexpected vgi_filter_encoding "${enc}"`);
  const ver = meta.get('vgi_filter_version');
  if (ver !== undefined && ver !== '2') throw new FilterFormatError(`unexpected vgi_filter_version "${ver}"`);
}

/**
 * Parses an `InitRequest.pushdown_filters` blob of protocol 2.0.0.
 * @param blob the IPC stream (schema + one row + EOS)
 * @param joinKeys `InitRequest.join_keys` (one IPC stream per external IN set), or null
 * @param outputSchema the full, unprojected bind output schema (`InitRequest.output_schema`)
 * @throws FilterFormatError on a malformed blob or a reference that does not match `outputSchema`
 * @throws UnsupportedFilterError when a required predicate cannot be evaluated exactly
 */
export function parseFiltersV2(blob: Uint8Array, joinKeys: readonly Uint8Array[] | null, outputSchema: Schema): FilterProgram {
  const payload = readFilterBlob(blob);
  checkMetadata(payload.schema.metadata);
  const doc = obj(parseJson(specText(payload)), 'filter_spec');
  const encoding = str(doc, 'encoding', 'filter_spec');
  if (encoding !== 'vgi.filters.v2') throw new FilterFormatError(`filter_spec encoding "${encoding}" is not vgi.filters.v2`);
  const semantics = str(doc, 'semantics', 'filter_spec');
  if (semantics !== 'vgi.duckdb.standard.v1') throw new UnsupportedFilterError(`filter semantics "${semantics}" are not supported`);
  const kind = str(doc, 'kind', 'filter_spec');
  if (kind !== 'snapshot') throw new FilterFormatError(`filter_spec kind "${kind}": only snapshots arrive at init`);
  const ctx: Ctx = { payload, joinKeys, schema: outputSchema };
  const candidates: Candidate[] = arr(doc, 'predicates', 'filter_spec').map((x, k) => {
    const where = `predicates[${k}]`;
    const p = obj(x, where);
    const id = str(p, 'id', where);
    const mode = str(p, 'mode', where);
    if (mode !== 'required' && mode !== 'advisory') throw new FilterFormatError(`${where}: unknown mode "${mode}"`);
    const source = typeof p.source === 'string' ? p.source : '';
    const expression = obj(p.expression, `${where}.expression`);
    return { id, mode: mode as FilterMode, source, build: () => boolNode(expression, ctx, `${id}`, 0) };
  });
  return buildProgram('vgi.filters.v2', candidates);
}
