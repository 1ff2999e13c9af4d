// SQL three-valued logic on byte vectors.
//
// Encoding FALSE=0 < NULL=1 < TRUE=2 makes Kleene logic arithmetic: AND is min, OR is max and NOT is
// 2 - x. A row is kept only when every predicate yields TRUE, so FALSE and NULL both drop it.

export const FALSE = 0;
export const NULL = 1;
export const TRUE = 2;

/** Per-row truth values (FALSE / NULL / TRUE). */
export type TriVector = Uint8Array;

export function filled(n: number, v: number): TriVector {
  const out = new Uint8Array(n);
  if (v !== 0) out.fill(v);
  return out;
}

/** acc = acc AND x (in place). */
export function andInto(acc: TriVector, x: TriVector): void {
  for (let i = 0; i < acc.length; i++) if (x[i] < acc[i]) acc[i] = x[i];
}

/** acc = acc OR x (in place). */
export function orInto(acc: TriVector, x: TriVector): void {
  for (let i = 0; i < acc.length; i++) if (x[i] > acc[i]) acc[i] = x[i];
}

/** x = NOT x (in place); NOT NULL stays NULL. */
export function notInPlace(x: TriVector): void {
  for (let i = 0; i < x.length; i++) x[i] = 2 - x[i];
}

/** Sets rows whose input is NULL (valid[i] == 0) to `v`; `valid` null means no NULL rows. */
export function overlayInvalid(out: TriVector, valid: Uint8Array | null, v: number): void {
  if (valid === null) return;
  for (let i = 0; i < out.length; i++) if (valid[i] === 0) out[i] = v;
}
