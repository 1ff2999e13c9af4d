// Arrow Schema objects for declared schema specs, built once per spec.
import type { Schema } from 'apache-arrow';
import { toArrowSchema, type SchemaSpec } from './spec.js';

const built = new WeakMap<SchemaSpec, Schema>();

export function schemaOf(spec: SchemaSpec): Schema {
  let s = built.get(spec);
  if (!s) built.set(spec, (s = toArrowSchema(spec)));
  return s;
}
