/** Small helpers shared by the per-version row builders. */
import type { FunctionDescription } from './types.js';

/** A tags/`map<utf8,utf8>` value from a plain record. */
export function tagsMap(tags: Readonly<Record<string, string>> | undefined): Map<string, string> {
  return new Map(Object.entries(tags ?? {}));
}

/** Rejects flag combinations the extension refuses (1.0 spec §3.5). */
export function checkFunctionFlags(fn: FunctionDescription): void {
  if (fn.requiresInputBatchIndex && fn.sinkOrderDependent) {
    throw new Error(
      `function ${fn.name}: requires_input_batch_index and sink_order_dependent are mutually exclusive`,
    );
  }
}
