// Runs a FilterProgram on a batch and returns which rows survive.
import type { RecordBatch } from 'apache-arrow';
import { compilePredicate, type Evaluator } from './compile.js';
import type { FilterProgram } from './program.js';
import { TRUE } from './tristate.js';

// Programs are plain data (see program.ts); their compiled closures live here, built on first use.
// Parsers compile eagerly to validate, so in practice this cache is warm from init onwards.
const compiled = new WeakMap<FilterProgram, readonly Evaluator[]>();

/** Compiles (and caches) every predicate of `program`. Throws UnsupportedFilterError like the parsers do. */
export function compileProgram(program: FilterProgram): readonly Evaluator[] {
  let evs = compiled.get(program);
  if (evs === undefined) {
    evs = program.predicates.map((p) => compilePredicate(p.expr));
    compiled.set(program, evs);
  }
  return evs;
}

/**
 * The rows of `batch` for which every predicate is TRUE (NULL and FALSE both drop a row), as ascending
 * row indices; `null` when every row survives, so callers can skip copying. `batch` must have the full,
 * unprojected output schema, because predicates address columns by their bind index.
 */
export function evaluateFilters(program: FilterProgram | null, batch: RecordBatch): Uint32Array | null {
  if (program === null || program.predicates.length === 0) return null;
  const n = batch.numRows;
  if (n === 0) return null;
  const evs = compileProgram(program);
  // Single pass over the predicates: the first result becomes the running "all TRUE so far" mask.
  let keep: Uint8Array | null = null;
  let kept = n;
  for (const ev of evs) {
    const r = ev(batch);
    kept = 0;
    if (keep === null) {
      keep = r;
      for (let i = 0; i < n; i++) if (r[i] === TRUE) kept++;
    } else {
      for (let i = 0; i < n; i++) {
        if (keep[i] === TRUE && r[i] !== TRUE) keep[i] = 0;
        if (keep[i] === TRUE) kept++;
      }
    }
    if (kept === 0) return new Uint32Array(0);
  }
  if (kept === n) return null;
  const sel = new Uint32Array(kept);
  for (let i = 0, j = 0; i < n; i++) if (keep![i] === TRUE) sel[j++] = i;
  return sel;
}
