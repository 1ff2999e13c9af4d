// Statistics, ratios and the stdout table of a bench run.
import { FLOOR_OF, SPEEDUP_TARGET } from './matrix.mjs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const CHUNK_ROWS = 2048;
export const BYTES_PER_ROW = 8; // one BIGINT column

/** Fills the derived columns of a finished row. */
export function summarize(row) {
  const secs = row.runs.map((r) => r.s);
  if (secs.length === 0) return row;
  row.seconds = median(secs);
  row.min = Math.min(...secs);
  row.max = Math.max(...secs);
  row.rowsPerSec = row.n / row.seconds;
  row.mbPerSec = (row.n * BYTES_PER_ROW) / 1e6 / row.seconds;
  row.usPerChunk = (row.seconds * 1e6) / Math.ceil(row.n / CHUNK_ROWS);
  row.workerCpu = row.worker === 'duckdb' ? null : median(row.runs.map((r) => r.workerCpu));
  row.duckCpu = median(row.runs.map((r) => r.duckCpu));
  return row;
}

/** Ratio of each vgi-actors row to its floor (same input and N; same transport if measured, else launch). */
export function addRatios(rows) {
  const find = (worker, transport, r) => rows.find((x) => x.worker === worker && x.transport === transport && x.input === r.input && x.n === r.n && x.seconds);
  for (const r of rows) {
    if (r.worker !== 'actors' || !FLOOR_OF[r.fn] || !r.seconds) continue;
    const f = find(FLOOR_OF[r.fn], r.transport, r) ?? find(FLOOR_OF[r.fn], 'launch', r);
    if (f) { r.ratio = r.seconds / f.seconds; r.ratioTo = `${f.worker}/${f.transport}`; }
  }
  // One query on every core: how much faster the second thread makes the same query.
  for (const s of speedups(rows)) {
    s.t2.ratio = s.ratio;
    s.t2.ratioTo = `speed-up over threads=1${s.target ? ` (target ≥ ${s.target}×: ${s.met ? 'met' : 'NOT met'})` : ''}`;
  }
}

/** threads=1 vs threads=2 pairs of the SPEEDUP_TARGET functions (same input and N). */
export function speedups(rows) {
  const out = [];
  for (const [fn, target] of Object.entries(SPEEDUP_TARGET)) {
    for (const t1 of rows.filter((r) => r.config === `${fn}/threads=1` && r.seconds)) {
      const t2 = rows.find((r) => r.config === `${fn}/threads=2` && r.input === t1.input && r.n === t1.n && r.seconds);
      if (!t2) continue;
      const ratio = t1.seconds / t2.seconds;
      out.push({ fn, t1, t2, ratio, target, met: target ? ratio >= target : null });
    }
  }
  return out;
}

/** One line per speed-up pair: medians, ranges, ratio and the ratio's spread over the runs. */
export function speedupLines(rows) {
  return speedups(rows).map(({ fn, t1, t2, ratio, target, met }) => {
    const loads = [...t1.runs, ...t2.runs].map((r) => r.load);
    const other = (row) => row.runs.map((r) => (r.other === undefined ? '?' : Math.round(r.other * 100))).join(',');
    return `${fn} (${t1.input}, N=${fmtN(t1.n)}): threads=1 ${f2(t1.seconds)} s (${f2(t1.min)}–${f2(t1.max)}), threads=2 ${f2(t2.seconds)} s (${f2(t2.min)}–${f2(t2.max)}), `
      + `${t1.runs.length}+${t2.runs.length} runs: speed-up ${ratio.toFixed(2)}× (worst ${f2(t1.min / t2.max)}×, best ${f2(t1.max / t2.min)}×)`
      + `${target ? `, target ≥ ${target}×: ${met ? 'met' : 'NOT met'}` : ''}; 1-min load ${f2(Math.min(...loads), 1)}–${f2(Math.max(...loads), 1)}; `
      + `other processes' share of the machine per run (%): threads=1 ${other(t1)}, threads=2 ${other(t2)}`;
  });
}

const fmtN = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}e6`.replace('10e6', '1e7') : String(n));
const f2 = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

export function table(rows) {
  const head = ['config', 'input', 'N', 'function', 'median s', 'range s', 'Mrows/s', 'MB/s', 'µs/chunk', 'worker CPU s', 'DuckDB CPU s', 'worker peak RSS MB', 'ratio'];
  const lines = rows.map((r) => r.error
    ? [r.config, r.input, fmtN(r.n), r.fn, 'ERROR', r.error.slice(0, 60), '', '', '', '', '', '', '']
    : [r.config, r.input, fmtN(r.n), r.fn, f2(r.seconds, 3), `${f2(r.min)}–${f2(r.max)}`, f2(r.rowsPerSec / 1e6, 1), f2(r.mbPerSec, 0),
      f2(r.usPerChunk, 0), f2(r.workerCpu), f2(r.duckCpu), r.peakRssKb ? (r.peakRssKb / 1024).toFixed(0) : '-',
      r.ratio ? `${r.ratio.toFixed(2)}× ${r.ratioTo}` : '']);
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)];
  return md.join('\n');
}
