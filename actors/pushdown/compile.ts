// Turns a Predicate tree into a closure that evaluates it on a full-width RecordBatch, column at a time.
//
// Compiling validates everything that can be known before data arrives (types, constant coercions), so an
// unsupported *required* predicate fails at init, not halfway through the finalize stream. The closures
// keep per-batch work to typed-array loops: no row objects, no `batch.get(i)`.
import { Type } from 'apache-arrow';
import type { Data, RecordBatch, Vector } from 'apache-arrow';
import { andValidity, validityBytes } from './bits.js';
import { physOf, prepareLiteral, valueTypeOf } from './coerce.js';
import { compareKernel, type ValueKernel } from './compare.js';
import { inKernel, stringMatchKernel } from './membership.js';
import {
  describeExpr, flipCompareOp, UnsupportedFilterError,
  type ColumnRef, type ComparePredicate, type FieldRef, type Predicate,
} from './program.js';
import { andInto, FALSE, filled, notInPlace, NULL, orInto, overlayInvalid, TRUE, type TriVector } from './tristate.js';

/** Evaluates one predicate on a batch whose schema is the full, unprojected output schema. */
export type Evaluator = (batch: RecordBatch) => TriVector;

/** A resolved column or struct field: its Data and the validity inherited from NULL ancestor structs. */
interface View {
  readonly data: Data;
  readonly valid: Uint8Array | null;
}

function compileRef(ref: ColumnRef | FieldRef): (batch: RecordBatch) => View {
  if (ref.kind === 'column') {
    return (batch) => {
      const data = batch.data.children[ref.index] as Data | undefined;
      if (data === undefined || data.typeId !== ref.type.typeId) {
        throw new Error(`pushdown: batch column ${ref.index} is not ${ref.name}: ${ref.type} (schema mismatch)`);
      }
      return { data, valid: validityBytes(data) };
    };
  }
  const parent = compileRef(ref.parent);
  return (batch) => {
    const p = parent(batch);
    const data = p.data.children[ref.index];
    // A NULL parent struct makes the field NULL whatever the child holds (spec §9.1).
    return { data, valid: andValidity(p.valid, validityBytes(data)) };
  };
}

/**
 * Runs a value kernel on a view and returns its TRUE/FALSE output plus the row validity. For dictionary
 * columns the kernel runs once over the dictionary values (cached while the dictionary object is reused,
 * as it is for ENUMs) and the per-entry results are gathered through the indices; NULL dictionary
 * entries count as NULL rows.
 */
function makeRunner(kernel: ValueKernel | null): (view: View) => { out: Uint8Array; valid: Uint8Array | null } {
  let lastDict: Vector | undefined;
  let dictOut = new Uint8Array(0);
  let dictValid: Uint8Array | null = null;
  return (view) => {
    const { data } = view;
    const n = data.length;
    if (data.typeId !== Type.Dictionary) {
      const out = new Uint8Array(n);
      kernel?.(data, out);
      return { out, valid: view.valid };
    }
    const dict = data.dictionary as Vector;
    if (dict !== lastDict) {
      const chunks = dict.data as Data[];
      dictOut = new Uint8Array(dict.length);
      dictValid = null;
      let base = 0;
      for (const chunk of chunks) {
        kernel?.(chunk, dictOut.subarray(base, base + chunk.length));
        const v = validityBytes(chunk);
        if (v !== null) (dictValid ??= new Uint8Array(dict.length).fill(1)).set(v, base);
        base += chunk.length;
      }
      lastDict = dict;
    }
    const idx = data.values as ArrayLike<number | bigint>;
    const big = idx instanceof BigInt64Array || idx instanceof BigUint64Array;
    const out = new Uint8Array(n);
    let valid = view.valid;
    if (dictValid !== null) valid = valid === null ? new Uint8Array(n).fill(1) : valid.slice();
    for (let i = 0; i < n; i++) {
      const k = big ? Number(idx[i]) : (idx[i] as number);
      out[i] = dictOut[k];
      if (dictValid !== null) valid![i] &= dictValid[k];
    }
    return { out, valid };
  };
}

function compileCompare(p: ComparePredicate): Evaluator {
  let { left, right, op } = p;
  if (left.kind === 'literal' && right.kind !== 'literal') {
    [left, right] = [right, left];
    op = flipCompareOp(op);
  }
  if (left.kind === 'literal' || right.kind !== 'literal') {
    throw new UnsupportedFilterError('only comparisons between a column (or struct field) and a constant are supported');
  }
  const ref = left;
  const view = compileRef(ref);
  const lit = prepareLiteral(ref.type, right.type, right.value);
  if (lit.kind === 'null') {
    // x op NULL is NULL; the NULL-aware forms degrade to null tests.
    if (op === 'distinct_from' || op === 'not_distinct_from') {
      return compileIsNull(ref, op === 'distinct_from');
    }
    return (batch) => filled(batch.numRows, NULL);
  }
  const run = makeRunner(compareKernel(physOf(valueTypeOf(ref.type)), lit, op));
  const nullResult = op === 'distinct_from' ? TRUE : op === 'not_distinct_from' ? FALSE : NULL;
  return (batch) => {
    const { out, valid } = run(view(batch));
    overlayInvalid(out, valid, nullResult);
    return out;
  };
}

function compileIsNull(ref: ColumnRef | FieldRef, negated: boolean): Evaluator {
  const view = compileRef(ref);
  const run = makeRunner(null);
  const [ifNull, ifValid] = negated ? [FALSE, TRUE] : [TRUE, FALSE];
  return (batch) => {
    const { out, valid } = run(view(batch));
    out.fill(ifValid);
    overlayInvalid(out, valid, ifNull);
    return out;
  };
}

/** Rejects value types the byte-oriented kernels cannot handle, naming the expression. */
function requireBytes(ref: ColumnRef | FieldRef, what: string): void {
  const phys = physOf(valueTypeOf(ref.type));
  if (phys.kind !== 'bytes') throw new UnsupportedFilterError(`${what} needs a utf8/binary column, ${describeExpr(ref)} is ${ref.type}`);
}

export function compilePredicate(p: Predicate): Evaluator {
  switch (p.kind) {
    case 'compare':
      return compileCompare(p);
    case 'and':
    case 'or': {
      const kids = p.children.map(compilePredicate);
      if (kids.length === 0) return (batch) => filled(batch.numRows, p.kind === 'and' ? TRUE : FALSE);
      const combine = p.kind === 'and' ? andInto : orInto;
      return (batch) => {
        const acc = kids[0](batch);
        for (let k = 1; k < kids.length; k++) combine(acc, kids[k](batch));
        return acc;
      };
    }
    case 'not': {
      const child = compilePredicate(p.child);
      return (batch) => {
        const r = child(batch);
        notInPlace(r);
        return r;
      };
    }
    case 'is_null':
      return compileIsNull(p.expr, p.negated);
    case 'in': {
      const view = compileRef(p.expr);
      const set = inKernel(p.expr.type, p.valueType, p.values);
      const run = makeRunner(set.kernel);
      return (batch) => {
        const { out, valid } = run(view(batch));
        // Not found + NULL in the set → NULL; NULL input → NULL, except that an empty set is FALSE.
        if (set.hasNull) for (let i = 0; i < out.length; i++) if (out[i] === FALSE) out[i] = NULL;
        overlayInvalid(out, valid, set.empty ? FALSE : NULL);
        if (p.negated) notInPlace(out);
        return out;
      };
    }
    case 'string_match': {
      requireBytes(p.expr, p.fn);
      const view = compileRef(p.expr);
      const needle = typeof p.needle === 'string' ? new TextEncoder().encode(p.needle) : p.needle;
      const run = makeRunner(stringMatchKernel(p.fn, needle));
      return (batch) => {
        const { out, valid } = run(view(batch));
        overlayInvalid(out, valid, NULL);
        return out;
      };
    }
    case 'bool_value': {
      const phys = physOf(valueTypeOf(p.expr.type));
      if (phys.kind !== 'bool') throw new UnsupportedFilterError(`${describeExpr(p.expr)} is ${p.expr.type}, not BOOLEAN`);
      const view = compileRef(p.expr);
      const run = makeRunner(compareKernel(phys, { kind: 'bool', v: true }, 'eq'));
      return (batch) => {
        const { out, valid } = run(view(batch));
        overlayInvalid(out, valid, NULL);
        return out;
      };
    }
  }
}
