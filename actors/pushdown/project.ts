// Projection pushdown: select output columns by index into the full bind output schema, zero-copy.
import { Data, RecordBatch, Schema, Struct } from 'apache-arrow';

function checkIds(ids: readonly number[], width: number): void {
  for (const id of ids) {
    // 1.0.0 may in theory send -1 for a virtual column (rowid); no DuckDB build was seen doing it for
    // table functions, so fail loudly rather than guess what to emit.
    if (!Number.isInteger(id) || id < 0 || id >= width) {
      throw new RangeError(`projection id ${id} is outside the output schema (${width} columns)`);
    }
  }
}

/** The schema of the projected output: fields `ids` of `schema`, in that order (null: all of them). */
export function projectSchema(schema: Schema, ids: readonly number[] | null): Schema {
  if (ids === null) return schema;
  checkIds(ids, schema.fields.length);
  return new Schema(ids.map((i) => schema.fields[i]), schema.metadata);
}

/**
 * Columns `projectionIds` of `batch` (whose schema is the full output schema), reusing the column Data:
 * no buffer is copied. `projectedSchema` should come from `projectSchema(fullSchema, projectionIds)`, so the
 * fields are exactly the bind types the extension expects. With null ids the batch is returned as is.
 */
export function projectBatch(batch: RecordBatch, projectionIds: readonly number[] | null, projectedSchema: Schema): RecordBatch {
  if (projectionIds === null) return batch;
  checkIds(projectionIds, batch.data.children.length);
  if (projectedSchema.fields.length !== projectionIds.length) {
    throw new RangeError(`projected schema has ${projectedSchema.fields.length} fields for ${projectionIds.length} projection ids`);
  }
  const children = projectionIds.map((i) => batch.data.children[i]);
  const data = new Data(new Struct(projectedSchema.fields), 0, batch.numRows, 0, [undefined, undefined, new Uint8Array(0)], children);
  return new RecordBatch(projectedSchema, data, new Map(batch.metadata));
}
