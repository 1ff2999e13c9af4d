// Byte sizes for --memory-budget. Kept apart from spill.ts: the stdio relay (runtime/cli.ts)
// parses flags and must not load apache-arrow.

/** `1234`, `512KB`, `4MB`, `1.5GB` (binary units; `K`/`M`/`G`/`T`, `KiB`… accepted); NaN if malformed. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(text));
  if (!m) return NaN;
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * unit);
}
