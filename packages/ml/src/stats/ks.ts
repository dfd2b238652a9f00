/**
 * Two-sample Kolmogorov–Smirnov test with the semantics of SciPy 1.10 `scipy.stats.ks_2samp`
 * (see docs "drift-methods" §3.1): D from the right-continuous ECDFs at every pooled value, `auto` →
 * exact if max(n1, n2) ≤ 10 000, the exact p-value on the rounded lattice statistic, and the asymptotic
 * two-sided p-value from the finite-n Kolmogorov distribution `kstwo.sf(D, round(n1·n2/(n1+n2)))`.
 */
import { MlError } from "../core/errors.js";
import { kolmogorovSf } from "./kolmogorov.js";
import { logBinomial } from "./smirnov.js";
import { sortedNoNaN } from "./sorted.js";

export type KsMethod = "auto" | "exact" | "asymp";
export type KsAlternative = "two-sided" | "less" | "greater";

export interface KsOptions {
  /** `auto` (default): `exact` when max(n1, n2) ≤ 10 000, else `asymp`. */
  readonly method?: KsMethod;
  /**
   * `two-sided` (default); `greater`: D⁺ = max(F_x − F_y) (the alternative that F_x > F_y somewhere);
   * `less`: D⁻ = max(F_y − F_x).
   */
  readonly alternative?: KsAlternative;
}

export interface KsResult {
  /** D (for the exact method rounded to the lattice value h/lcm(n1, n2), as SciPy does). */
  readonly statistic: number;
  readonly pvalue: number;
  /** The method actually used: `exact` falls back to `asymp` when the exact computation fails. */
  readonly method: "exact" | "asymp";
}

const MAX_AUTO_N = 10_000;
const INT32_MAX = 2 ** 31 - 1;

/**
 * Two-sample Kolmogorov–Smirnov test of `x` and `y` (as `scipy.stats.ks_2samp(x, y, alternative, method)`).
 * NaN is rejected with an `MlError` (drop missing values first); ±Infinity are ordinary values.
 * Sorts copies of both samples; use {@link ksFromSorted} to reuse sorted columns.
 */
export function ksTwoSample(x: ArrayLike<number>, y: ArrayLike<number>, options: KsOptions = {}): KsResult {
  checkOptions(options);
  if (x.length === 0 || y.length === 0) throw new MlError(emptyMessage(x.length, y.length));
  return ksFromSorted(sortedNoNaN(x, "ksTwoSample: x"), sortedNoNaN(y, "ksTwoSample: y"), options);
}

/**
 * {@link ksTwoSample} on samples already sorted ascending (e.g. by `sortedFinite`): one merge pass, no
 * copy and no sort. Unsorted input or NaN throws an `MlError` (checked during the merge, at no extra pass).
 */
export function ksFromSorted(sx: Float64Array, sy: Float64Array, options: KsOptions = {}): KsResult {
  checkOptions(options);
  const n1 = sx.length;
  const n2 = sy.length;
  if (n1 === 0 || n2 === 0) throw new MlError(emptyMessage(n1, n2));
  const alternative = options.alternative ?? "two-sided";
  let method = options.method ?? "auto";

  const [maxDiff, minDiff] = ecdfExtremes(sx, sy);
  const maxS = maxDiff;
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  let d = alternative === "less" || (alternative === "two-sided" && minS > maxS) ? minS : maxS;

  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  if (method === "auto") method = Math.max(n1, n2) <= MAX_AUTO_N ? "exact" : "asymp";
  else if (method === "exact" && n1g >= INT32_MAX / n2g) method = "asymp"; // lcm too large

  if (method === "exact") {
    const lcm = n1g * n2;
    const h = roundHalfEven(d * lcm);
    d = (h * 1.0) / lcm;
    const prob = h === 0 ? 1 : exactProbability(n1, n2, g, h, alternative);
    if (prob >= 0 && prob <= 1) return { statistic: d, pvalue: prob, method: "exact" };
    // overflow or an invalid result: SciPy warns and falls back to the asymptotic p-value (with the rounded D)
  }

  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  let prob: number;
  if (alternative === "two-sided") {
    const nEff = roundHalfEven(en);
    prob = nEff >= 1 ? kolmogorovSf(nEff, d) : NaN;
  } else {
    // Hodges (1958) eq. 5.3; m is the larger sample
    const z = Math.sqrt(en) * d;
    prob = Math.exp(-2 * (z * z) - (2 * z * (m + 2 * n)) / Math.sqrt(m * n * (m + n)) / 3.0);
  }
  return { statistic: d, pvalue: Number.isNaN(prob) ? NaN : Math.min(Math.max(prob, 0), 1), method: "asymp" };
}

function checkOptions(options: KsOptions): void {
  const { method, alternative } = options;
  if (method !== undefined && method !== "auto" && method !== "exact" && method !== "asymp") {
    throw new MlError(`ks: unknown method "${String(method)}" (expected auto, exact or asymp)`);
  }
  if (alternative !== undefined && alternative !== "two-sided" && alternative !== "less" && alternative !== "greater") {
    throw new MlError(`ks: unknown alternative "${String(alternative)}" (expected two-sided, less or greater)`);
  }
}

function emptyMessage(n1: number, n2: number): string {
  return `ks: both samples must be non-empty (sizes ${n1} and ${n2})`;
}

/**
 * [max, min] of F_x(z) − F_y(z) over the pooled values z, merging the sorted samples. The difference at
 * the largest pooled value is exactly 0, so both extremes start at 0; once one sample is exhausted the
 * remaining differences move monotonically towards that 0 and cannot change the extremes, so the merge
 * stops there (after checking the rest is sorted).
 */
function ecdfExtremes(x: Float64Array, y: Float64Array): [number, number] {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let max = 0;
  let min = 0;
  while (i < n1 && j < n2) {
    const a = x[i] as number;
    const b = y[j] as number;
    const z = a <= b ? a : b;
    if (Number.isNaN(z)) throw new MlError("ks: the samples contain NaN");
    while (i < n1 && x[i] === z) i++;
    while (j < n2 && y[j] === z) j++;
    if ((i < n1 && (x[i] as number) < z) || (j < n2 && (y[j] as number) < z)) {
      throw new MlError("ks: the samples passed to ksFromSorted are not sorted ascending");
    }
    const diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  }
  checkTail(x, i);
  checkTail(y, j);
  return [max, min];
}

function checkTail(values: Float64Array, from: number): void {
  for (let k = Math.max(from, 1); k < values.length; k++) {
    if (!((values[k] as number) >= (values[k - 1] as number))) {
      throw new MlError(
        Number.isNaN(values[k]) || Number.isNaN(values[k - 1])
          ? "ks: the samples contain NaN"
          : "ks: the samples passed to ksFromSorted are not sorted ascending",
      );
    }
  }
  if (values.length > 0 && Number.isNaN(values[0])) throw new MlError("ks: the samples contain NaN");
}

function gcd(a: number, b: number): number {
  let p = a;
  let q = b;
  while (q !== 0) [p, q] = [q, p % q];
  return p;
}

/** `numpy.round`: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** P(D ≥ h/lcm) by SciPy's exact algorithms; NaN or ±Infinity when they over/underflow. */
function exactProbability(n1: number, n2: number, g: number, h: number, alternative: KsAlternative): number {
  if (alternative === "two-sided") {
    return n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
  }
  if (n1 === n2) {
    // binom(2n, n−h)/binom(2n, n) as a product
    let p = 1;
    for (let j = 0; j < h; j++) p *= (n1 - j) / (n1 + j + 1.0);
    return p;
  }
  const total = binomial(n1 + n2, n1);
  if (!Number.isFinite(total)) return NaN;
  const paths = countPathsOutside(n1, n2, g, h);
  if (!Number.isFinite(paths) || paths > total) return NaN;
  return paths / total;
}

/**
 * n1 = n2 = n: P(max |F_x − F_y| ≥ h/n) = 2 Σ_{k≥1} (−1)^(k−1) C(2n, n−kh)/C(2n, n), evaluated as
 * 2·A_0(1 − A_1(1 − A_2(…))) with A_k the ratio of consecutive terms (no cancellation, no overflow; the
 * result may be subnormal, as SciPy's).
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    const kh = k * h;
    for (let j = 0; j < h; j++) p1 = ((n - kh - j) * p1) / (n + kh + j + 1);
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

/**
 * n1 ≠ n2: the share of monotone lattice paths from (0,0) to (m,n) that leave the band
 * |x/m − y/n| < h/lcm (Hodges' inside method, in Viehmann's (2021) recursion that carries the share of
 * paths already outside instead of path counts: every value stays in [0, 1]). One column of the band at a
 * time: O(m·(band width)) time, O(n) memory.
 */
function probOutsideBand(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const a = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  a.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1.0;
    let val = minj === 0 ? 0.0 : 1.0;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((a[jj + shift] as number) * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) a.fill(1, curlen, curlen + (lastlen - curlen));
  }
  return a[maxj - minj - 1] as number;
}

/**
 * One-sided n1 ≠ n2: the number of lattice paths that reach the line x/m − y/n = h/lcm (Hodges' outside
 * method, SciPy's `_count_paths_outside_method`).
 */
function countPathsOutside(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  const lxj = n + Math.floor((mg - h) / mg);
  if (lxj <= 0) return binomial(m + n, n);
  const xj = new Float64Array(lxj);
  for (let j = 0; j < lxj; j++) xj[j] = Math.floor((h + mg * j + ng - 1) / ng);
  const b = new Float64Array(lxj);
  b[0] = 1;
  for (let j = 1; j < lxj; j++) {
    const xjj = xj[j] as number;
    let bj = binomial(xjj + j, j);
    for (let i = 0; i < j; i++) bj -= binomial(xjj - (xj[i] as number) + j - i, j - i) * (b[i] as number);
    b[j] = bj;
  }
  let paths = 0;
  for (let j = 0; j < lxj; j++) paths += (b[j] as number) * binomial(m - (xj[j] as number) + (n - j), n - j);
  return paths;
}

/** C(n, k) for integers 0 ≤ k ≤ n: SciPy's product formula for min(k, n−k) < 20, else exp(log C). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  if (kk < 20) {
    let num = 1;
    let den = 1;
    for (let i = 1; i <= kk; i++) {
      num *= i + n - kk;
      den *= i;
      if (Math.abs(num) > 1e50) {
        num /= den;
        den = 1;
      }
    }
    return num / den;
  }
  return Math.exp(logBinomial(n, kk));
}
