// Statistics, ratios and the stdout table of a bench run.
import { FLOOR_OF } from './matrix.mjs';

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
  const t1 = rows.find((r) => r.config === 'group_quantiles/threads=1' && r.seconds);
  const t2 = rows.find((r) => r.config === 'group_quantiles/threads=2' && r.seconds);
  // Parallel finalize of group_quantiles: how much faster the second actor thread makes it.
  if (t1 && t2) { t2.ratio = t1.seconds / t2.seconds; t2.ratioTo = 'speed-up over threads=1'; }
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
