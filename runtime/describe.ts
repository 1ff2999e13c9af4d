// Turns a user's function definition into the neutral catalog description every protocol
// version renders. Runs on the main thread: it reads declarations only, never calls user code.
import { Schema } from 'apache-arrow';
import type { TableBufferingFunction } from '../functions/api.js';
import type { FunctionDescription } from './protocol/types.js';
import { encodeArgumentsSchema, encodeSchemaMessage } from './protocol/encode.js';

const EMPTY_SCHEMA = encodeSchemaMessage(new Schema([]));
const cache = new WeakMap<TableBufferingFunction, FunctionDescription>();

export function describeFunction(fn: TableBufferingFunction, schemaName: string): FunctionDescription {
  let d = cache.get(fn);
  if (d && d.schemaName === schemaName) return d;
  const m = fn.metadata;
  d = {
    name: fn.name,
    schemaName,
    description: m.description,
    categories: m.categories ?? [],
    argumentsSchemaBytes: encodeArgumentsSchema(fn.argumentSpecs.map((a) => ({ name: a.name, kind: a.kind, type: a.kind === 'table' ? undefined : a.type }))),
    // The output depends on the input: DuckDB takes it from bind, so declare the empty schema.
    outputSchemaBytes: EMPTY_SCHEMA,
    functionType: 'TABLE_BUFFERING',
    projectionPushdown: m.projectionPushdown ?? false,
    filterPushdown: m.filterPushdown ?? false,
    sinkOrderDependent: m.sinkOrderDependent ?? false,
    sourceOrderDependent: m.sourceOrderDependent ?? false,
    requiresInputBatchIndex: m.requiresInputBatchIndex ?? false,
  };
  cache.set(fn, d);
  return d;
}
