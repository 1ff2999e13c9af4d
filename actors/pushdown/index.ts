// Exact filter + projection pushdown for table-buffering finalize output.
//
// Typical use, once per finalize stream:
//   const program = parseFilters({ protocolMajor, filters, joinKeys }, fullSchema);   // at init; may throw
//   const outSchema = projectSchema(fullSchema, projectionIds);
//   for each produced batch: emit(applyPushdown(batch, program, projectionIds, outSchema));
import type { RecordBatch, Schema } from 'apache-arrow';
import { evaluateFilters } from './evaluate.js';
import { parseFiltersV1 } from './parse-v1.js';
import { parseFiltersV2 } from './parse-v2.js';
import type { FilterProgram } from './program.js';
import { projectBatch } from './project.js';
import { takeRows } from './take.js';

export * from './program.js';
export { parseFiltersV1 } from './parse-v1.js';
export { parseFiltersV2 } from './parse-v2.js';
export { compileProgram, evaluateFilters } from './evaluate.js';
export { takeData, takeRows } from './take.js';
export { projectBatch, projectSchema } from './project.js';

/** The InitRequest fields that carry filters, plus the protocol they were spoken in. */
export interface PushdownFiltersInput {
  /** 1 for protocol 1.0.0 (`filter_spec` array, `_val_N`), 2 or more for `vgi.filters.v2`. */
  readonly protocolMajor: number;
  /** `InitRequest.pushdown_filters`, or null when nothing was pushed. */
  readonly filters: Uint8Array | null;
  /** `InitRequest.join_keys`, or null. */
  readonly joinKeys: readonly Uint8Array[] | null;
}

/**
 * Parses the pushed filters with the parser matching the protocol version; null when none were pushed.
 * `outputSchema` is the full, unprojected bind output schema.
 * @throws FilterFormatError | UnsupportedFilterError (see the parsers); either must fail the query
 */
export function parseFilters(input: PushdownFiltersInput, outputSchema: Schema): FilterProgram | null {
  if (input.filters === null) return null;
  return input.protocolMajor <= 1
    ? parseFiltersV1(input.filters, input.joinKeys, outputSchema)
    : parseFiltersV2(input.filters, input.joinKeys, outputSchema);
}

/**
 * Filters and projects one finalize batch. `batch` has the full output schema; the result has
 * `projectedSchema` (from `projectSchema`). Filters are evaluated on the full-width batch, because
 * predicates address columns by bind index. The projection is then taken first (zero-copy) so the
 * gather only copies columns that are emitted; when every row passes nothing is copied at all.
 * The result may have 0 rows.
 */
export function applyPushdown(
  batch: RecordBatch,
  program: FilterProgram | null,
  projectionIds: readonly number[] | null,
  projectedSchema: Schema,
): RecordBatch {
  const selection = evaluateFilters(program, batch);
  const projected = projectBatch(batch, projectionIds, projectedSchema);
  return selection === null ? projected : takeRows(projected, selection);
}
