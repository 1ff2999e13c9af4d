// Pieces shared by the v1 and v2 parsers: reading the IPC payloads, strict JSON field access, and turning
// candidate predicates into a validated FilterProgram.
import { tableFromIPC } from 'apache-arrow';
import type { Data, DataType, Schema, Table } from 'apache-arrow';
import { compilePredicate } from './compile.js';
import { readAll, readCell } from './literal.js';
import {
  FilterFormatError, UnsupportedFilterError,
  type FilterMode, type FilterPredicate, type FilterProgram, type LiteralValue, type Predicate, type SkippedPredicate,
} from './program.js';

/** The 1-row payload batch of a filter blob, with columns addressed by exact name. */
export interface FilterPayload {
  readonly schema: Schema;
  /** The column named `name` (its Data; the payload is row 0) and its type, or undefined when absent. */
  column(name: string): { readonly data: Data; readonly type: DataType } | undefined;
}

function readIpc(bytes: Uint8Array, what: string): Table {
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new FilterFormatError(`${what} is not a readable Arrow IPC stream: ${(e as Error).message}`);
  }
}

export function readFilterBlob(blob: Uint8Array): FilterPayload {
  const table = readIpc(blob, 'pushdown_filters');
  const batch = table.batches.find((b) => b.numRows > 0);
  if (batch === undefined) throw new FilterFormatError('pushdown_filters holds no row');
  const { schema } = table;
  return {
    schema,
    column(name) {
      const hits = schema.fields.flatMap((f, i) => (f.name === name ? [i] : []));
      if (hits.length === 0) return undefined;
      if (hits.length > 1) throw new FilterFormatError(`pushdown_filters has ${hits.length} columns named ${name}`);
      const data = batch.data.children[hits[0]];
      return { data, type: schema.fields[hits[0]].type as DataType };
    },
  };
}

/** All values of column `index` of a join-keys IPC stream (every batch), with its field name and type. */
export function readJoinKeyColumn(stream: Uint8Array, index: number, what: string): { name: string; type: DataType; values: LiteralValue[] } {
  const table = readIpc(stream, what);
  const field = table.schema.fields[index];
  if (field === undefined) throw new FilterFormatError(`${what} has no column ${index}`);
  const values: LiteralValue[] = [];
  for (const b of table.batches) values.push(...readAll(b.data.children[index]));
  return { name: field.name, type: field.type as DataType, values };
}

/** Names of every column in a join-keys stream (v1 matches streams by column name). */
export function joinKeyNames(stream: Uint8Array, what: string): string[] {
  return readIpc(stream, what).schema.fields.map((f) => f.name);
}

/** The `filter_spec` JSON text (row 0 of a non-null utf8 column). */
export function specText(payload: FilterPayload): string {
  const col = payload.column('filter_spec');
  if (col === undefined) throw new FilterFormatError('pushdown_filters has no filter_spec column');
  const v = readCell(col.data, 0);
  if (typeof v !== 'string') throw new FilterFormatError('filter_spec must be a non-null utf8 string');
  return v;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FilterFormatError(`filter_spec is not valid JSON: ${(e as Error).message}`);
  }
}

// ---- strict accessors: a missing or mistyped key is a protocol violation, reported with its location ----

export type Json = Record<string, unknown>;

export function obj(x: unknown, where: string): Json {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new FilterFormatError(`${where}: expected an object`);
  return x as Json;
}

export function str(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new FilterFormatError(`${where}: "${key}" must be a string`);
  return v;
}

export function uint(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FilterFormatError(`${where}: "${key}" must be an unsigned integer`);
  return v;
}

export function arr(o: Json, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new FilterFormatError(`${where}: "${key}" must be an array`);
  return v;
}

export function bool(o: Json, key: string, where: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new FilterFormatError(`${where}: "${key}" must be a boolean`);
  return v;
}

/** A predicate as read from the wire; `build` may throw UnsupportedFilterError. */
export interface Candidate {
  readonly id: string;
  readonly mode: FilterMode;
  readonly source: string;
  build(): Predicate;
}

/**
 * Builds and compiles every candidate. Unsupported advisory predicates are recorded in `skipped`
 * (DuckDB's residual filter still applies them); an unsupported required predicate fails the whole
 * program, because skipping it would return wrong rows.
 */
export function buildProgram(encoding: FilterProgram['encoding'], candidates: readonly Candidate[]): FilterProgram {
  const predicates: FilterPredicate[] = [];
  const skipped: SkippedPredicate[] = [];
  for (const c of candidates) {
    try {
      const expr = c.build();
      compilePredicate(expr); // validate now so failures surface at init, not mid-stream
      predicates.push({ id: c.id, mode: c.mode, source: c.source, expr });
    } catch (e) {
      if (!(e instanceof UnsupportedFilterError)) throw e;
      if (c.mode === 'advisory') skipped.push({ id: c.id, reason: e.message });
      else throw new UnsupportedFilterError(`required filter ${c.id} cannot be applied exactly: ${e.message}`);
    }
  }
  return { encoding, predicates, skipped };
}
