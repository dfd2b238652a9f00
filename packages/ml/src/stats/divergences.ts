/**
 * Distances and divergences between two distributions over the same bins (PSI, Kullback–Leibler,
 * Jensen–Shannon, Hellinger, total variation) with SciPy's semantics, and the Evidently and NannyML
 * drift scores built from them (docs drift-methods §1.6 and §2).
 */
import { MlError } from "../core/errors.js";
import {
  evidentlyBinning,
  histogramBinEdges,
  histogramCounts,
  nannymlBinningCategorical,
  nannymlBinningContinuous,
  type ColumnKind,
} from "./binning.js";
import { alignedValueCounts } from "./categorical.js";
import { numpySum } from "./special.js";

function checkPair(p: ArrayLike<number>, q: ArrayLike<number>, what: string): void {
  if (p.length !== q.length) {
    throw new MlError(`${what}: the distributions have ${p.length} and ${q.length} bins`);
  }
  if (p.length === 0) throw new MlError(`${what}: no bins`);
  for (const [name, v] of [
    ["p", p],
    ["q", q],
  ] as const) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!(x >= 0) || x === Infinity) {
        throw new MlError(`${what}: ${name}[${i}] = ${x} is not a finite non-negative weight`);
      }
    }
  }
}

/** v / Σv (NumPy's sum order); MlError when Σv is 0. */
function normalized(v: ArrayLike<number>, what: string): Float64Array {
  const total = numpySum(v);
  if (!(total > 0)) throw new MlError(`${what}: the weights sum to ${total}`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / total;
  return out;
}

/** scipy.special.rel_entr: x·ln(x/y) for x, y > 0; 0 for x = 0, y ≥ 0; ∞ otherwise. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * Population stability index Σ (p_i − q_i)·ln(p_i/q_i), not renormalised (Evidently's `psi`).
 * A bin with exactly one zero share gives ∞; callers zero-fill first, as Evidently does.
 */
export function psi(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q, "psi");
  const terms = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const a = p[i]!;
    const b = q[i]!;
    terms[i] = a === b ? 0 : (a - b) * Math.log(a / b);
  }
  return numpySum(terms);
}

/** Kullback–Leibler divergence KL(p‖q) = Σ p̂·ln(p̂/q̂) of the renormalised vectors (`scipy.stats.entropy(p, q)`). */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q, "klDivergence");
  const pn = normalized(p, "klDivergence: p");
  const qn = normalized(q, "klDivergence: q");
  for (let i = 0; i < pn.length; i++) pn[i] = relEntr(pn[i]!, qn[i]!);
  return numpySum(pn);
}

/**
 * Jensen–Shannon distance, `scipy.spatial.distance.jensenshannon(p, q, base)`: p, q renormalised,
 * m = (p+q)/2, √((KL(p‖m) + KL(q‖m)) / 2), divided by ln(base) inside the root when `base` is given
 * (natural log otherwise: at most √ln2 ≈ 0.8326; base 2: at most 1). Where rounding makes the sum
 * of the two divergences slightly negative (SciPy then returns NaN) the distance is 0.
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  checkPair(p, q, "jensenShannon");
  if (base !== undefined && !(base > 0 && base !== 1)) {
    throw new MlError(`jensenShannon: base ${base} is not a positive number other than 1`);
  }
  const pn = normalized(p, "jensenShannon: p");
  const qn = normalized(q, "jensenShannon: q");
  const left = new Float64Array(pn.length);
  const right = new Float64Array(pn.length);
  for (let i = 0; i < pn.length; i++) {
    const m = (pn[i]! + qn[i]!) / 2.0;
    left[i] = relEntr(pn[i]!, m);
    right[i] = relEntr(qn[i]!, m);
  }
  let js = numpySum(left) + numpySum(right);
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(Math.max(js, 0) / 2.0);
}

/**
 * Evidently's categorical Hellinger distance √(1 − clip(Σ√(p_k·q_k), 0, 1)) of two share vectors
 * over the same categories (summed left to right).
 */
export function hellingerCategorical(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q, "hellingerCategorical");
  let bc = 0.0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt(p[i]! * q[i]!);
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/** The distinct values of ref∪cur, ascending. */
function distinctUnion(ref: ArrayLike<number>, cur: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(ref).sort();
  const b = Float64Array.from(cur).sort();
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let count = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (count === 0 || v !== out[count - 1]) out[count++] = v;
  }
  return out.subarray(0, count);
}

/** `numpy.histogram(values, edges, density=True)[0]`: count / bin width / in-range total. */
function density(values: ArrayLike<number>, edges: Float64Array): Float64Array {
  const counts = histogramCounts(values, edges);
  const total = numpySum(counts);
  for (let i = 0; i < counts.length; i++) counts[i] = counts[i]! / (edges[i + 1]! - edges[i]!) / total;
  return counts;
}

/**
 * Evidently's numeric Hellinger distance: Sturges edges computed on the DISTINCT values of
 * ref∪cur, density histograms h1, h2, BC = Σ √(h1·h2)·binwidth, distance √(1 − clip(BC, 0, 1)).
 * Values must be finite.
 */
export function hellingerNumeric(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  if (ref.length === 0 || cur.length === 0) throw new MlError("hellingerNumeric: empty sample");
  for (const [name, v] of [
    ["reference", ref],
    ["current", cur],
  ] as const) {
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new MlError(`hellingerNumeric: ${name}[${i}] is ${v[i]}`);
    }
  }
  const edges = histogramBinEdges(distinctUnion(ref, cur), "sturges");
  const h1 = density(ref, edges);
  const h2 = density(cur, edges);
  const binWidth = (edges[edges.length - 1]! - edges[0]!) / (edges.length - 1);
  let bc = 0.0;
  for (let i = 0; i < h1.length; i++) bc += Math.sqrt(h1[i]! * h2[i]!) * binWidth;
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/** Total variation distance ½·Σ|p̂ − q̂| of the renormalised vectors (counts or shares). */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q, "totalVariation");
  const pn = normalized(p, "totalVariation: p");
  const qn = normalized(q, "totalVariation: q");
  for (let i = 0; i < pn.length; i++) pn[i] = Math.abs(pn[i]! - qn[i]!);
  return 0.5 * numpySum(pn);
}

/** Evidently's `psi` score: PSI of the zero-filled Evidently binning. */
export function psiEvidently(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): number {
  const b = evidentlyBinning(ref, cur, kind);
  return psi(b.refPctFilled, b.curPctFilled);
}

/** Evidently's `kl_div` score: `entropy(ref, cur)` of the zero-filled Evidently binning. */
export function klEvidently(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): number {
  const b = evidentlyBinning(ref, cur, kind);
  return klDivergence(b.refPctFilled, b.curPctFilled);
}

/** Evidently's `jensenshannon` score: natural-log JS distance of the (unfilled) Evidently binning. */
export function jensenShannonEvidently(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): number {
  const b = evidentlyBinning(ref, cur, kind);
  return jensenShannon(b.refPct, b.curPct);
}

/**
 * Evidently's `hellinger` score: categorical shares over ref∪cur values for "cat"; for "num" always
 * the density-histogram version (`hellingerNumeric`), whatever the number of distinct values.
 */
export function hellingerEvidently(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): number {
  if (kind === "num") return hellingerNumeric(ref, cur);
  if (ref.length === 0 || cur.length === 0) throw new MlError("hellingerEvidently: empty sample");
  const counts = alignedValueCounts(ref, cur);
  const p = new Float64Array(counts.keys.length);
  const q = new Float64Array(counts.keys.length);
  for (let i = 0; i < p.length; i++) {
    p[i] = counts.refCounts[i]! / ref.length;
    q[i] = counts.curCounts[i]! / cur.length;
  }
  return hellingerCategorical(p, q);
}

/** NannyML's `jensen_shannon` drift value: base-2 JS distance on NannyML's reference-fitted bins. */
export function nannymlJensenShannon(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: ColumnKind): number {
  const b = kind === "num" ? nannymlBinningContinuous(ref, cur) : nannymlBinningCategorical(ref, cur);
  return jensenShannon(b.refPct, b.curPct, 2);
}
