/**
 * k-sample Anderson–Darling test as SciPy 1.10 `scipy.stats.anderson_ksamp(samples, midrank=True)`
 * (Scholz & Stephens 1987, "K-Sample Anderson-Darling Tests", JASA 82: the mid-rank statistic A²_akN
 * of eq. 7 for data with ties, standardised by its exact variance; the significance level is
 * interpolated from the Table 2 critical values with a quadratic in log(α) and capped to [0.001, 0.25]).
 */
import { MlError } from "../core/errors.js";
import { sortedNoNaN } from "./sorted.js";

export interface AndersonKSampleResult {
  /** The standardised statistic (A²_akN − (k−1)) / σ_N; can be negative. */
  readonly statistic: number;
  /**
   * Approximate significance level, interpolated from the critical values and capped to [0.001, 0.25]
   * (SciPy warns "p-value capped/floored" at the caps; see `capped`).
   */
  readonly pvalue: number;
  /** `upper` when the true p-value is larger than 0.25, `lower` when smaller than 0.001. */
  readonly capped: "upper" | "lower" | null;
  /** Critical values for the significance levels 25%, 10%, 5%, 2.5%, 1%, 0.5%, 0.1%. */
  readonly criticalValues: readonly number[];
}

/** The significance levels of {@link AndersonKSampleResult.criticalValues}. */
export const ANDERSON_SIGNIFICANCE_LEVELS: readonly number[] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

// Scholz & Stephens (1987) Table 2 interpolation coefficients: critical = b0 + b1/√m + b2/m, m = k − 1
const B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/**
 * Anderson–Darling test that k ≥ 2 samples come from the same distribution (mid-rank version, as
 * `scipy.stats.anderson_ksamp(samples)`). Needs non-empty samples, no NaN and at least two distinct
 * values overall. Sorts copies; see {@link andersonKSampleFromSorted}.
 */
export function andersonKSample(samples: readonly ArrayLike<number>[]): AndersonKSampleResult {
  checkSamples(samples.map((s) => s.length));
  return andersonKSampleFromSorted(samples.map((s, i) => sortedNoNaN(s, `andersonKSample: sample ${i}`)));
}

/** {@link andersonKSample} of samples already sorted ascending (one k-way merge pass). */
export function andersonKSampleFromSorted(sorted: readonly Float64Array[]): AndersonKSampleResult {
  const sizes = sorted.map((s) => s.length);
  checkSamples(sizes);
  const a2kn = midrankStatistic(sorted);
  const k = sorted.length;
  let bigN = 0;
  for (const n of sizes) bigN += n;

  // exact variance of A²_akN under H0 (Scholz & Stephens eq. 4); sums in NumPy's order
  let hSum = 0;
  for (const n of sizes) hSum += 1 / n;
  let cum = 0;
  let g = 0;
  let gBlock = 0;
  for (let i = bigN - 1, idx = 0; i > 1; i--, idx++) {
    cum += 1 / i; // cumsum of 1/(N−1), 1/(N−2), …, 1/2
    gBlock += cum / (idx + 2);
    if ((idx & 255) === 255) {
      g += gBlock;
      gBlock = 0;
    }
  }
  g += gBlock;
  const h = cum + 1;
  const a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * hSum;
  const b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * hSum - 8 * h + 4 * g - 6;
  const c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * hSum + 4 * h;
  const d = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmaSq =
    (a * (bigN * bigN * bigN) + b * (bigN * bigN) + c * bigN + d) / ((bigN - 1.0) * (bigN - 2.0) * (bigN - 3.0));
  const m = k - 1;
  const statistic = (a2kn - m) / Math.sqrt(sigmaSq);

  const critical = B0.map((b0, i) => b0 + (B1[i] as number) / Math.sqrt(m) + (B2[i] as number) / m);
  const lo = Math.min(...critical);
  const hi = Math.max(...critical);
  let pvalue: number;
  let capped: "upper" | "lower" | null = null;
  if (statistic < lo) {
    pvalue = 0.25;
    capped = "upper";
  } else if (statistic > hi) {
    pvalue = 0.001;
    capped = "lower";
  } else {
    const coef = quadraticFit(
      critical,
      ANDERSON_SIGNIFICANCE_LEVELS.map((s) => Math.log(s)),
    );
    pvalue = Math.exp((coef[0] * statistic + coef[1]) * statistic + coef[2]);
  }
  return { statistic, pvalue, capped, criticalValues: critical };
}

function checkSamples(sizes: readonly number[]): void {
  if (sizes.length < 2) throw new MlError(`andersonKSample needs at least two samples, got ${sizes.length}`);
  const empty = sizes.indexOf(0);
  if (empty >= 0) throw new MlError(`andersonKSample: sample ${empty} is empty`);
}

/**
 * A²_akN (Scholz & Stephens eq. 7) with mid-ranks:
 * (N−1)/N · Σ_i 1/n_i Σ_j l_j/N · (N·M_ij − n_i·B_j)² / (B_j(N − B_j) − N·l_j/4)
 * over the distinct pooled values z_j with multiplicity l_j, B_j = #{< z_j} + l_j/2 and
 * M_ij = #{sample i ≤ z_j} − #{sample i = z_j}/2. One k-way merge of the sorted samples.
 */
function midrankStatistic(sorted: readonly Float64Array[]): number {
  const k = sorted.length;
  const sizes = sorted.map((s) => s.length);
  let bigN = 0;
  for (const n of sizes) bigN += n;
  const pos = new Int32Array(k);
  const sums = new Float64Array(k);
  const blocks = new Float64Array(k);
  const eq = new Int32Array(k);
  let below = 0; // #{pooled < z}
  let distinct = 0;
  for (;;) {
    let z = Infinity;
    let any = false;
    for (let s = 0; s < k; s++) {
      const arr = sorted[s] as Float64Array;
      const p = pos[s] as number;
      if (p < arr.length) {
        const v = arr[p] as number;
        if (Number.isNaN(v)) throw new MlError("andersonKSample: the samples contain NaN");
        if (!any || v < z) z = v;
        any = true;
      }
    }
    if (!any) break;
    let lj = 0;
    for (let s = 0; s < k; s++) {
      const arr = sorted[s] as Float64Array;
      let p = pos[s] as number;
      const p0 = p;
      while (p < arr.length && arr[p] === z) p++;
      if (p < arr.length && !((arr[p] as number) > z)) {
        throw new MlError("andersonKSample: the samples contain NaN or are not sorted ascending");
      }
      pos[s] = p;
      eq[s] = p - p0;
      lj += p - p0;
    }
    distinct++;
    const bj = below + lj / 2;
    const denom = bj * (bigN - bj) - (bigN * lj) / 4;
    for (let s = 0; s < k; s++) {
      const mij = (pos[s] as number) - (eq[s] as number) / 2;
      const dev = bigN * mij - bj * (sizes[s] as number);
      blocks[s] = (blocks[s] as number) + ((lj / bigN) * (dev * dev)) / denom;
      if ((distinct & 255) === 0) {
        sums[s] = (sums[s] as number) + (blocks[s] as number);
        blocks[s] = 0;
      }
    }
    below += lj;
  }
  if (distinct < 2) throw new MlError("andersonKSample needs more than one distinct observation");
  let a2 = 0;
  for (let s = 0; s < k; s++) a2 += ((sums[s] as number) + (blocks[s] as number)) / (sizes[s] as number);
  return a2 * ((bigN - 1.0) / bigN);
}

/**
 * Least-squares quadratic c0·x² + c1·x + c2 through the points (x_i, y_i) (`numpy.polyfit(x, y, 2)`):
 * Householder QR of the column-scaled Vandermonde matrix (row-major, rows × 3).
 */
function quadraticFit(xs: readonly number[], ys: readonly number[]): [number, number, number] {
  const rows = xs.length;
  const a = new Float64Array(rows * 3);
  xs.forEach((x, i) => a.set([x * x, x, 1], i * 3));
  const scale = new Float64Array(3);
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (a[i * 3 + c] as number) ** 2;
    scale[c] = Math.sqrt(s);
    for (let i = 0; i < rows; i++) a[i * 3 + c] = (a[i * 3 + c] as number) / Math.sqrt(s);
  }
  const y = Float64Array.from(ys);
  const v = new Float64Array(rows);
  for (let j = 0; j < 3; j++) {
    // Householder reflection I − 2vvᵀ/vᵀv zeroing column j below the diagonal
    let norm = 0;
    for (let i = j; i < rows; i++) norm += (a[i * 3 + j] as number) ** 2;
    norm = Math.sqrt(norm);
    const diag = a[j * 3 + j] as number;
    const alpha = diag > 0 ? -norm : norm;
    v.fill(0);
    for (let i = j; i < rows; i++) v[i] = a[i * 3 + j] as number;
    v[j] = diag - alpha;
    let vv = 0;
    for (let i = j; i < rows; i++) vv += (v[i] as number) ** 2;
    if (vv === 0) continue;
    const reflect = (get: (i: number) => number, set: (i: number, x: number) => void): void => {
      let dot = 0;
      for (let i = j; i < rows; i++) dot += (v[i] as number) * get(i);
      const f = (2 * dot) / vv;
      for (let i = j; i < rows; i++) set(i, get(i) - f * (v[i] as number));
    };
    for (let c = j; c < 3; c++) {
      reflect(
        (i) => a[i * 3 + c] as number,
        (i, x) => (a[i * 3 + c] = x),
      );
    }
    reflect(
      (i) => y[i] as number,
      (i, x) => (y[i] = x),
    );
  }
  // back substitution R·c = Qᵀy, then undo the column scaling
  const coef = new Float64Array(3);
  for (let j = 2; j >= 0; j--) {
    let s = y[j] as number;
    for (let c = j + 1; c < 3; c++) s -= (a[j * 3 + c] as number) * (coef[c] as number);
    coef[j] = s / (a[j * 3 + j] as number);
  }
  return [
    (coef[0] as number) / (scale[0] as number),
    (coef[1] as number) / (scale[1] as number),
    (coef[2] as number) / (scale[2] as number),
  ];
}
