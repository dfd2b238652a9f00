/**
 * Epps–Singleton two-sample test as SciPy 1.10 `scipy.stats.epps_singleton_2samp(x, y, t=(0.4, 0.8))`
 * (Epps & Singleton 1986, "An omnibus test for the two-sample problem using the empirical characteristic
 * function", J. Stat. Comput. Simul. 26): the empirical characteristic functions of both samples are
 * compared at t/σ with σ = IQR(x ∪ y)/2, by a quadratic form in the pseudo-inverse of the pooled
 * covariance of (cos tX, sin tX); W is asymptotically χ² with rank(covariance) degrees of freedom
 * (4 unless the data are degenerate, e.g. only a few distinct values).
 */
import { MlError } from "../core/errors.js";
import { symmetricEigen } from "../core/eigen.js";
import { dense } from "../core/matrix.js";
import { chi2Sf } from "./special.js";

export interface EppsSingletonResult {
  readonly statistic: number;
  readonly pvalue: number;
  /**
   * Degrees of freedom: rank of the estimated covariance. Below 4 SciPy warns "Estimated covariance matrix
   * does not have full rank … the test might not be consistent".
   */
  readonly rank: number;
}

const T = [0.4, 0.8];

/**
 * Epps–Singleton test of `x` against `y` (each at least 5 finite values; NaN and ±Infinity are
 * rejected, as SciPy rejects non-finite input). Throws when the pooled interquartile range is 0.
 * Includes SciPy's small-sample correction when max(n_x, n_y) < 25.
 */
export function eppsSingleton(x: ArrayLike<number>, y: ArrayLike<number>): EppsSingletonResult {
  const nx = x.length;
  const ny = y.length;
  if (nx < 5 || ny < 5) {
    throw new MlError(`eppsSingleton: x and y need at least 5 elements each (sizes ${nx} and ${ny})`);
  }
  for (const [values, name] of [
    [x, "x"],
    [y, "y"],
  ] as const) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new MlError(`eppsSingleton: ${name} must not contain non-finite values`);
    }
  }
  const n = nx + ny;
  const pooled = new Float64Array(n);
  for (let i = 0; i < nx; i++) pooled[i] = x[i] as number;
  for (let i = 0; i < ny; i++) pooled[nx + i] = y[i] as number;
  pooled.sort();
  const sigma = (percentile(pooled, 75) - percentile(pooled, 25)) / 2;
  if (!(sigma > 0)) {
    throw new MlError("eppsSingleton: the interquartile range of the pooled sample is 0 (t cannot be rescaled)");
  }
  const ts = [(T[0] as number) / sigma, (T[1] as number) / sigma];

  const fx = features(x, ts);
  const fy = features(y, ts);
  const covariance = new Float64Array(16);
  for (let i = 0; i < 16; i++) covariance[i] = (n / nx) * (fx.cov[i] as number) + (n / ny) * (fy.cov[i] as number);
  const diff = fx.mean.map((m, i) => m - (fy.mean[i] as number));

  // pseudo-inverse quadratic form: eigenvalues below 1e-15·max are treated as zero (numpy.linalg.pinv)
  const eigen = symmetricEigen(dense(4, 4, covariance));
  const values = eigen.values;
  const vectors = eigen.vectors.data;
  let maxAbs = 0;
  for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  const cutoff = 1e-15 * maxAbs;
  let rank = 0;
  let quad = 0;
  for (let e = 0; e < 4; e++) {
    const lambda = values[e] as number;
    if (!(Math.abs(lambda) > cutoff)) continue;
    rank++;
    let proj = 0;
    for (let i = 0; i < 4; i++) proj += (vectors[i * 4 + e] as number) * (diff[i] as number);
    quad += (proj * proj) / lambda;
  }
  let w = n * quad;
  if (Math.max(nx, ny) < 25) {
    const corr = 1.0 / (1.0 + Math.pow(n, -0.45) + 10.1 * (Math.pow(nx, -1.7) + Math.pow(ny, -1.7)));
    w = corr * w;
  }
  return { statistic: w, pvalue: chi2Sf(w, rank), rank };
}

/** `numpy.percentile(sorted, q)` with linear interpolation (NumPy 1.24's formula and rounding). */
function percentile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const quantile = q / 100;
  const index = n * quantile + (1 + quantile * (1 - 1 - 1)) - 1;
  const lo = Math.floor(index);
  const gamma = index - lo;
  const a = sorted[Math.min(Math.max(lo, 0), n - 1)] as number;
  const b = sorted[Math.min(lo + 1, n - 1)] as number;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Mean and biased (1/n) covariance of g(x) = (cos t₀x, cos t₁x, sin t₀x, sin t₁x), two passes. */
function features(x: ArrayLike<number>, ts: readonly number[]): { mean: number[]; cov: Float64Array } {
  const n = x.length;
  const g = new Float64Array(4 * n);
  const t0 = ts[0] as number;
  const t1 = ts[1] as number;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const a = t0 * v;
    const b = t1 * v;
    g[i * 4] = Math.cos(a);
    g[i * 4 + 1] = Math.cos(b);
    g[i * 4 + 2] = Math.sin(a);
    g[i * 4 + 3] = Math.sin(b);
  }
  const mean = [0, 0, 0, 0].map((_, c) => {
    let total = 0;
    let block = 0;
    for (let i = 0; i < n; i++) {
      block += g[i * 4 + c] as number;
      if ((i & 255) === 255) {
        total += block;
        block = 0;
      }
    }
    return (total + block) / n;
  });
  const cov = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = r; c < 4; c++) {
      let total = 0;
      let block = 0;
      const mr = mean[r] as number;
      const mc = mean[c] as number;
      for (let i = 0; i < n; i++) {
        block += ((g[i * 4 + r] as number) - mr) * ((g[i * 4 + c] as number) - mc);
        if ((i & 255) === 255) {
          total += block;
          block = 0;
        }
      }
      cov[r * 4 + c] = cov[c * 4 + r] = (total + block) / n;
    }
  }
  return { mean, cov };
}
