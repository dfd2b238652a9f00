/**
 * Histograms exactly as NumPy 1.24 builds them (`histogram_bin_edges` with the "sturges" and "doane"
 * rules, `histogram` with explicit edges), and the two binnings that drift scores are computed on:
 * Evidently's `get_binned_data` (PSI, KL, Jensen–Shannon) and NannyML's reference-fitted bins with a
 * leftover bin (Jensen–Shannon). Reference: docs drift-methods §1.5 and §2.
 */
import { MlError } from "../core/errors.js";
import { alignedValueCounts } from "./categorical.js";
import { numpySum } from "./special.js";

export type BinRule = "sturges" | "doane";

/** How a column is treated: numeric values or category codes. */
export type ColumnKind = "num" | "cat";

/** Evidently's binned percentages (`get_binned_data`), before and after its zero fill. */
export interface EvidentlyBinning {
  /** "sturges": Sturges edges on ref∪cur; "values": one bin per distinct value of ref∪cur. */
  readonly mode: "sturges" | "values";
  readonly edges: Float64Array | null;
  readonly keys: Float64Array | null;
  readonly refPct: Float64Array;
  readonly curPct: Float64Array;
  /** zeros replaced by min(non-zero)/1e6 if that minimum is ≤ 1e-4, else by 1e-4 (per vector) */
  readonly refPctFilled: Float64Array;
  readonly curPctFilled: Float64Array;
}

/** NannyML's binning: bins fitted on the reference, plus a leftover bin for current mass outside them. */
export interface NannymlBinning {
  /** bin edges (continuous) or null */
  readonly edges: Float64Array | null;
  /** reference categories (categorical) or null */
  readonly keys: Float64Array | null;
  /** shares per bin; when `leftover` > 0 a last bin is appended (0 here, `leftover` in curPct) */
  readonly refPct: Float64Array;
  readonly curPct: Float64Array;
  /** 1 − Σ current shares when positive (then appended as an extra bin), else 0 */
  readonly leftover: number;
}

/** Evidently bins a numeric column only if its reference has more distinct values than this. */
const EVIDENTLY_MAX_VALUE_BINS = 20;

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new MlError(`${what}: value at index ${i} is ${values[i]}; drop NaN and ±Infinity first`);
    }
  }
}

function checkNotEmpty(values: ArrayLike<number>, what: string): void {
  if (values.length === 0) throw new MlError(`${what} is empty`);
}

/** numpy.linspace(start, stop, num) with endpoint: start + i·step, the last edge exactly `stop`. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** NumPy's equal-width edges for a bin width chosen from the data (0 width → one bin). */
function equalWidthEdges(min: number, max: number, width: number): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const bins = width ? Math.ceil((last - first) / width) : 1;
  return linspace(first, last, bins + 1);
}

/** Sturges edges of a sample from its size, minimum and maximum only. */
function sturgesEdges(n: number, min: number, max: number): Float64Array {
  if (n === 0) return linspace(0, 1, 2);
  return equalWidthEdges(min, max, (max - min) / (Math.log2(n) + 1.0));
}

function minMax(values: ArrayLike<number>, what: string): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (Number.isNaN(v)) {
      throw new MlError(`${what}: autodetected range of [NaN, NaN] is not finite (NaN at index ${i})`);
    }
  }
  if (values.length > 0 && !(Number.isFinite(min) && Number.isFinite(max))) {
    throw new MlError(`${what}: autodetected range of [${min}, ${max}] is not finite`);
  }
  return [min, max];
}

/** Doane's bin width as NumPy computes it (population σ, g1 = mean(((x−μ)/σ)³)); 0 if undefined. */
function doaneWidth(values: ArrayLike<number>, min: number, max: number): number {
  const n = values.length;
  if (n <= 2) return 0;
  const sg1 = Math.sqrt((6.0 * (n - 2)) / ((n + 1.0) * (n + 3)));
  const mean = numpySum(values) / n;
  const buf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    buf[i] = d * d;
  }
  const sigma = Math.sqrt(numpySum(buf) / n);
  if (!(sigma > 0.0)) return 0;
  for (let i = 0; i < n; i++) {
    const t = (values[i]! - mean) / sigma;
    buf[i] = t * t * t;
  }
  const g1 = numpySum(buf) / n;
  return (max - min) / (1.0 + Math.log2(n) + Math.log2(1.0 + Math.abs(g1) / sg1));
}

/**
 * `numpy.histogram_bin_edges(values, bins=rule)`: equal-width edges over [min, max] (widened to
 * [v−0.5, v+0.5] when all values are equal; [0, 1] when empty) with the bin count
 * ceil(range/width) of the Sturges or Doane width, placed by `linspace`.
 */
export function histogramBinEdges(values: ArrayLike<number>, rule: BinRule): Float64Array {
  const [min, max] = minMax(values, "histogramBinEdges");
  if (values.length === 0) return linspace(0, 1, 2);
  if (rule === "sturges") return sturgesEdges(values.length, min, max);
  if (rule === "doane") return equalWidthEdges(min, max, doaneWidth(values, min, max));
  throw new MlError(`histogramBinEdges: unknown rule ${String(rule)}`);
}

/**
 * `numpy.histogram(values, bins=edges)[0]`: bin i counts edges[i] ≤ x < edges[i+1], the last bin
 * also x = edges[last]; values outside [edges[0], edges[last]] and NaN are not counted. Edges must be
 * finite and non-decreasing.
 */
export function histogramCounts(values: ArrayLike<number>, edges: ArrayLike<number>): Float64Array {
  const nb = edges.length - 1;
  if (nb < 1) throw new MlError(`histogramCounts: need at least 2 edges, got ${edges.length}`);
  for (let i = 0; i <= nb; i++) {
    if (!Number.isFinite(edges[i])) throw new MlError(`histogramCounts: edge ${i} is ${edges[i]}`);
    if (i > 0 && edges[i]! < edges[i - 1]!) {
      throw new MlError("histogramCounts: `bins` must increase monotonically");
    }
  }
  const counts = new Float64Array(nb);
  const e0 = edges[0]!;
  const eLast = edges[nb]!;
  const span = eLast - e0;
  const norm = span > 0 ? nb / span : 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!(x >= e0 && x <= eLast)) continue;
    // first guess from the uniform-width formula, then exact correction against the edges
    let k = Math.floor((x - e0) * norm);
    if (k > nb - 1) k = nb - 1;
    if (k < 0) k = 0;
    while (k > 0 && x < edges[k]!) k--;
    while (k < nb - 1 && x >= edges[k + 1]!) k++;
    counts[k]!++;
  }
  return counts;
}

/** Whether `values` has more than `limit` distinct values (stops at the first one too many). */
function hasMoreDistinctThan(values: ArrayLike<number>, limit: number): boolean {
  const seen = new Float64Array(limit);
  let count = 0;
  outer: for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    for (let j = 0; j < count; j++) if (seen[j] === v) continue outer;
    if (count === limit) return true;
    seen[count++] = v;
  }
  return false;
}

function divide(counts: Float64Array, n: number): Float64Array {
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i]! / n;
  return out;
}

/** Evidently's zero fill: zeros become min(non-zero)/1e6 when that minimum is ≤ 1e-4, else 1e-4. */
function fillZeros(pct: Float64Array, what: string): Float64Array {
  let min = Infinity;
  for (let i = 0; i < pct.length; i++) if (pct[i] !== 0 && pct[i]! < min) min = pct[i]!;
  if (min === Infinity) throw new MlError(`${what}: every bin is empty, nothing to fill zeros from`);
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  const out = Float64Array.from(pct);
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = fill;
  return out;
}

/**
 * Evidently's `get_binned_data` (legacy stattests/utils.py, pandas engine): a numeric column whose
 * reference has more than 20 distinct values gets Sturges edges computed on ref∪cur and
 * `histogram` shares; otherwise (and for categories) one bin per distinct value of ref∪cur
 * (ascending), count/len. Filled variants apply Evidently's zero fill to each vector separately
 * (PSI and KL use them, Jensen–Shannon does not). Values must be finite (Evidently drops NaN/±inf).
 */
export function evidentlyBinning(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): EvidentlyBinning {
  checkNotEmpty(ref, "evidentlyBinning: reference");
  checkNotEmpty(cur, "evidentlyBinning: current");
  checkFinite(ref, "evidentlyBinning: reference");
  checkFinite(cur, "evidentlyBinning: current");
  let refPct: Float64Array;
  let curPct: Float64Array;
  let edges: Float64Array | null = null;
  let keys: Float64Array | null = null;
  if (kind === "num" && hasMoreDistinctThan(ref, EVIDENTLY_MAX_VALUE_BINS)) {
    const [rMin, rMax] = minMax(ref, "evidentlyBinning");
    const [cMin, cMax] = minMax(cur, "evidentlyBinning");
    edges = sturgesEdges(ref.length + cur.length, Math.min(rMin, cMin), Math.max(rMax, cMax));
    refPct = divide(histogramCounts(ref, edges), ref.length);
    curPct = divide(histogramCounts(cur, edges), cur.length);
  } else if (kind === "num" || kind === "cat") {
    const counts = alignedValueCounts(ref, cur);
    keys = counts.keys;
    refPct = divide(counts.refCounts, ref.length);
    curPct = divide(counts.curCounts, cur.length);
  } else {
    throw new MlError(`evidentlyBinning: unknown column kind ${String(kind)}`);
  }
  return {
    mode: edges ? "sturges" : "values",
    edges,
    keys,
    refPct,
    curPct,
    refPctFilled: fillZeros(refPct, "evidentlyBinning: reference"),
    curPctFilled: fillZeros(curPct, "evidentlyBinning: current"),
  };
}

/** NannyML: leftover = 1 − Σq; when positive, append it to q and a 0 to p. */
function withLeftover(
  edges: Float64Array | null,
  keys: Float64Array | null,
  refPct: Float64Array,
  curPct: Float64Array,
): NannymlBinning {
  const leftover = 1 - numpySum(curPct);
  if (!(leftover > 0)) return { edges, keys, refPct, curPct, leftover: 0 };
  const p = new Float64Array(refPct.length + 1);
  p.set(refPct);
  const q = new Float64Array(curPct.length + 1);
  q.set(curPct);
  q[curPct.length] = leftover;
  return { edges, keys, refPct: p, curPct: q, leftover };
}

/**
 * NannyML's continuous binning (JensenShannonDistance): Doane edges fitted on the reference,
 * shares of reference and current per bin, plus a leftover bin holding current mass outside the
 * reference range.
 */
export function nannymlBinningContinuous(ref: ArrayLike<number>, cur: ArrayLike<number>): NannymlBinning {
  checkNotEmpty(ref, "nannymlBinningContinuous: reference");
  checkNotEmpty(cur, "nannymlBinningContinuous: current");
  checkFinite(ref, "nannymlBinningContinuous: reference");
  checkFinite(cur, "nannymlBinningContinuous: current");
  const edges = histogramBinEdges(ref, "doane");
  const refPct = divide(histogramCounts(ref, edges), ref.length);
  const curPct = divide(histogramCounts(cur, edges), cur.length);
  return withLeftover(edges, null, refPct, curPct);
}

/**
 * NannyML's categorical binning: the reference's categories (ascending), shares of each in
 * reference and current; categories unseen in the reference go to the leftover bin.
 */
export function nannymlBinningCategorical(ref: ArrayLike<number>, cur: ArrayLike<number>): NannymlBinning {
  checkNotEmpty(ref, "nannymlBinningCategorical: reference");
  checkNotEmpty(cur, "nannymlBinningCategorical: current");
  const counts = alignedValueCounts(ref, cur);
  let k = 0;
  for (let i = 0; i < counts.keys.length; i++) if (counts.refCounts[i]! > 0) k++;
  const keys = new Float64Array(k);
  const refPct = new Float64Array(k);
  const curPct = new Float64Array(k);
  let j = 0;
  for (let i = 0; i < counts.keys.length; i++) {
    if (counts.refCounts[i]! > 0) {
      keys[j] = counts.keys[i]!;
      refPct[j] = counts.refCounts[i]! / ref.length;
      curPct[j++] = counts.curCounts[i]! / cur.length;
    }
  }
  return withLeftover(null, keys, refPct, curPct);
}
