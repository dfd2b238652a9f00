/**
 * Two-sample location tests with SciPy 1.10.1's semantics: Student's t-test with pooled variance
 * (`scipy.stats.ttest_ind`) and the Mann–Whitney U test (`scipy.stats.mannwhitneyu`).
 */
import { MlError } from "../core/errors.js";
import { normalSf, numpySum, studentTTwoSided } from "./special.js";

export interface TTestResult {
  readonly statistic: number;
  readonly pvalue: number;
  /** degrees of freedom n1 + n2 − 2 */
  readonly df: number;
}

export type Alternative = "two-sided" | "less" | "greater";

export interface MannWhitneyOptions {
  /** "less": x is stochastically smaller than y (Evidently's `mannw`); default "two-sided" */
  readonly alternative?: Alternative;
  /** "auto" (default): exact when min(n1, n2) ≤ 8 and there are no ties, else asymptotic */
  readonly method?: "auto" | "exact" | "asymptotic";
  /** continuity correction of the asymptotic method; default true */
  readonly continuity?: boolean;
}

export interface MannWhitneyResult {
  /** U of the first sample, U1 = R1 − n1(n1+1)/2 */
  readonly statistic: number;
  readonly pvalue: number;
}

function checkSample(values: ArrayLike<number>, what: string, minLength: number): void {
  if (values.length < minLength) {
    throw new MlError(`${what} needs at least ${minLength} values, got ${values.length}`);
  }
}

/** NumPy mean and SciPy's ddof=1 variance: mean((x−x̄)²)·n/(n−1). */
function meanAndVariance(values: ArrayLike<number>, what: string): [number, number] {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) throw new MlError(`${what}: value at index ${i} is ${values[i]}`);
  }
  const mean = numpySum(values) / n;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    sq[i] = d * d;
  }
  return [mean, (numpySum(sq) / n) * (n / (n - 1))];
}

/**
 * Student's two-sample t-test with equal variances, two-sided (`scipy.stats.ttest_ind(x, y)`):
 * t = (x̄ − ȳ)/√(s²(1/n1 + 1/n2)), s² pooled, df = n1 + n2 − 2, p = 2·P(T > |t|). Both samples
 * constant and equal give NaN, constant and different ±∞ and p = 0, as in SciPy.
 */
export function tTestIndependent(x: ArrayLike<number>, y: ArrayLike<number>): TTestResult {
  checkSample(x, "tTestIndependent: x", 2);
  checkSample(y, "tTestIndependent: y", 2);
  const n1 = x.length;
  const n2 = y.length;
  const [m1, v1] = meanAndVariance(x, "tTestIndependent: x");
  const [m2, v2] = meanAndVariance(y, "tTestIndependent: y");
  const df = n1 + n2 - 2.0;
  const svar = ((n1 - 1) * v1 + (n2 - 1) * v2) / df;
  const denom = Math.sqrt(svar * (1.0 / n1 + 1.0 / n2));
  const statistic = (m1 - m2) / denom;
  return { statistic, pvalue: studentTTwoSided(statistic, df), df };
}

interface RankSummary {
  /** sum of the (average) ranks of x in the pooled sample */
  readonly r1: number;
  /** Σ (t³ − t) over groups of t tied values */
  readonly tieTerm: number;
  readonly hasTies: boolean;
}

/** Ranks x ∪ y by sorting each sample once and merging the runs of equal values. */
function rankSummary(x: ArrayLike<number>, y: ArrayLike<number>): RankSummary {
  const a = Float64Array.from(x).sort();
  const b = Float64Array.from(y).sort();
  let i = 0;
  let j = 0;
  let pos = 0;
  let r1 = 0;
  let tieTerm = 0;
  let hasTies = false;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let cx = 0;
    let cy = 0;
    while (i < a.length && a[i] === v) {
      i++;
      cx++;
    }
    while (j < b.length && b[j] === v) {
      j++;
      cy++;
    }
    const t = cx + cy;
    r1 += cx * (pos + (t + 1) / 2);
    if (t > 1) {
      hasTies = true;
      tieTerm += t * t * t - t;
    }
    pos += t;
  }
  return { r1, tieTerm, hasTies };
}

/**
 * P(U ≤ k) under H0 for sample sizes m, n without ties: the counts of U are the coefficients of
 * the Gaussian binomial Π_{i=1..m} (1 − q^{n+i})/(1 − q^i), built up to degree k (exact integers
 * while C(m+n, m) < 2^53), each divided by C(m+n, m) and summed as SciPy does.
 */
function mwuCdf(k: number, m: number, n: number): number {
  if (k < 0) return 0;
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const degree = Math.min(k, small * large);
  const c = new Float64Array(degree + 1);
  c[0] = 1;
  for (let i = 1; i <= small; i++) {
    // multiply by 1/(1 − q^i), then by (1 − q^(large+i)); both only look at lower degrees
    for (let d = i; d <= degree; d++) c[d]! += c[d - i]!;
    const shift = large + i;
    for (let d = degree; d >= shift; d--) c[d]! -= c[d - shift]!;
  }
  let total = 1;
  for (let i = 1; i <= small; i++) total = (total * (large + i)) / i;
  let cdf = 0;
  for (let d = 0; d <= degree; d++) cdf += c[d]! / total;
  return cdf;
}

/**
 * Mann–Whitney U test as `scipy.stats.mannwhitneyu` (1.10): statistic U1 of x; "greater" uses U1,
 * "less" U2 = n1·n2 − U1, "two-sided" max(U1, U2) with the p-value doubled (clipped to 1).
 * Exact null distribution, or the normal approximation with tie correction
 * σ² = n1·n2/12·((n+1) − Σ(t³−t)/(n(n−1))) and continuity correction. NaN is rejected
 * (SciPy's ValueError); ±∞ are ranked as the extremes (SciPy 1.10 returns NaN for them).
 */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const alternative = options.alternative ?? "two-sided";
  const requested = options.method ?? "auto";
  const continuity = options.continuity ?? true;
  if (alternative !== "two-sided" && alternative !== "less" && alternative !== "greater") {
    throw new MlError(`mannWhitneyU: alternative must be "two-sided", "less" or "greater", got ${String(alternative)}`);
  }
  if (requested !== "auto" && requested !== "exact" && requested !== "asymptotic") {
    throw new MlError(`mannWhitneyU: method must be "auto", "exact" or "asymptotic", got ${String(requested)}`);
  }
  for (const [name, v] of [
    ["x", x],
    ["y", y],
  ] as const) {
    if (v.length === 0) throw new MlError("mannWhitneyU: `x` and `y` must be of nonzero size.");
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i])) throw new MlError(`mannWhitneyU: \`x\` and \`y\` must not contain NaNs (${name}[${i}]).`);
    }
  }
  const n1 = x.length;
  const n2 = y.length;
  const ranks = rankSummary(x, y);
  const u1 = ranks.r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === "greater" ? u1 : alternative === "less" ? u2 : Math.max(u1, u2);
  const factor = alternative === "two-sided" ? 2 : 1;
  const method = requested !== "auto" ? requested : (n1 > 8 && n2 > 8) || ranks.hasTies ? "asymptotic" : "exact";
  let p: number;
  if (method === "exact") {
    // sf(U) = cdf(n1·n2 − U) by symmetry; SciPy truncates U to an integer first
    p = mwuCdf(n1 * n2 - Math.trunc(u), n1, n2);
  } else {
    const mu = (n1 * n2) / 2;
    const n = n1 + n2;
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ranks.tieTerm / (n * (n - 1))));
    let numerator = u - mu;
    if (continuity) numerator -= 0.5;
    p = normalSf(numerator / s);
  }
  p *= factor;
  return { statistic: u1, pvalue: Math.min(Math.max(p, 0), 1) };
}
