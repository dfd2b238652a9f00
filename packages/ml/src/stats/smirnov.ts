/**
 * The one-sided Kolmogorov–Smirnov (Smirnov) distribution, `scipy.special.smirnov` of SciPy 1.10, by the
 * Smirnov / Birnbaum–Tingey sum whose terms are evaluated as binomial probabilities with Loader's
 * saddle-point expansion (~1e-14 relative for every n, no double-double arithmetic needed), sampled
 * instead of summed term by term for large n. Used by the two-sided finite-n distribution in
 * `kolmogorov.ts` (2·smirnov in the tails); `logBinomial` also serves the exact one-sided KS p-values.
 */
import { MlError } from "../core/errors.js";

const LOG_2PI = Math.log(2 * Math.PI);
const LN_SQRT_2PI = 0.5 * LOG_2PI;
/** log(2⁻¹⁰⁷⁵): below this exp() is 0 (Cephes `MINLOG`). */
const MINLOG = -745.1332191019412;

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** Stirling-series remainder log(k!) − [(k+½)log k − k + ½log 2π] for k = 1…15 (15! is exact in a double). */
const STIRLERR_SMALL: Float64Array = (() => {
  const out = new Float64Array(16);
  let factorial = 1;
  for (let k = 1; k <= 15; k++) {
    factorial *= k; // exact up to 15! < 2^53
    out[k] = Math.log(factorial) - (k + 0.5) * Math.log(k) + k - LN_SQRT_2PI;
  }
  return out;
})();

/** Stirling's-series error term of log(k!) for an integer k ≥ 1 (Loader 2000). */
function stirlerr(k: number): number {
  if (k <= 15) return STIRLERR_SMALL[k] as number;
  const k2 = 1 / (k * k);
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (k > 500) return (s0 - s1 * k2) / k;
  if (k > 80) return (s0 - (s1 - s2 * k2) * k2) / k;
  if (k > 35) return (s0 - (s1 - (s2 - s3 * k2) * k2) * k2) / k;
  return (s0 - (s1 - (s2 - (s3 - s4 * k2) * k2) * k2) * k2) / k;
}

/**
 * log C(n, k) for integers 0 ≤ k ≤ n via Stirling's series with Loader's error terms (the ±n, ±k terms
 * cancel exactly; relative error of C ≈ n·log(n)·ε).
 * @internal
 */
export function logBinomial(n: number, k: number): number {
  if (k === 0 || k === n) return 0;
  const w = n - k;
  return (
    stirlerr(n) -
    stirlerr(k) -
    stirlerr(w) -
    LN_SQRT_2PI +
    (n + 0.5) * Math.log(n) -
    (k + 0.5) * Math.log(k) -
    (w + 0.5) * Math.log(w)
  );
}

/**
 * The deviance term a·log(a/m) + m − a of Loader's binomial density, given d = a − m exactly:
 * a series in v = d/(a+m) when a ≈ m (no cancellation), the direct formula otherwise.
 */
function bd0(a: number, m: number, d: number): number {
  if (Math.abs(d) < 0.1 * (a + m)) {
    let v = d / (a + m);
    let s = d * v;
    let ej = 2 * a * v;
    v = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return a * Math.log(a / m) + m - a;
}

/** Splits a double into two halves of 26 bits (Veltkamp), for an exact product. */
function split(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const hi = c - (c - a);
  return [hi, a - hi];
}

/** hi + lo = a·b exactly (Dekker). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const err = al * bl - (p - ah * bh - al * bh - ah * bl);
  return [p, err];
}

/**
 * P(D_n⁺ > x), the one-sided Kolmogorov–Smirnov (Smirnov) survival function, as
 * `scipy.special.smirnov(n, x)`:
 * sf = x · Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v)  (Birnbaum & Tingey 1951),
 * with SciPy's closed forms for x ≤ 1/n and x ≥ 1 − 1/n, 0 once −2nx² < log(2⁻¹⁰⁷⁵), and its
 * approximation exp(−(6nx+1)²/(18n)) for n > 10⁶.
 */
export function smirnovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1) throw new MlError(`smirnovSf: n must be a positive integer, got ${n}`);
  if (!(x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its fractional part, exactly
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxFloor = Math.floor(nxHi);
  let alpha = nxHi - nxFloor + nxLo;
  if (alpha < 0) {
    nxFloor -= 1;
    alpha += 1;
  } else if (alpha >= 1) {
    nxFloor += 1;
    alpha -= 1;
  }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    // x ≤ 1/n: cdf = x (1+x)^(n−1)
    return 1 - x * Math.exp((n - 1) * Math.log1p(x));
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxFloor >= n - 1) return Math.pow(1 - x, n); // 1 − x is exact here (x ≥ ½)
  if (n > 1_000_000) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // The terms are binomial probabilities b(v; n, p_v)/p_v with p_v = x + v/n (Loader's saddle-point
  // formula for b). They are unimodal in v with the mode near n(½ − x), so the sum starts there and walks
  // outwards until the rest cannot reach the last bit. Terms are scaled by the first one (no subnormals).
  const vmax = n - nxFloor - 1;
  const stirN = stirlerr(n);
  const nx = nxHi + nxLo;
  const logTerm = (v: number): number => {
    if (v === 0) return n * Math.log1p(-x) - Math.log(x); // (1 − x)^n / x
    const np = v + nxHi + nxLo; // n·p_v
    const nq = n - v - nxHi - nxLo; // n·(1 − p_v)
    const w = n - v;
    const lc = stirN - stirlerr(v) - stirlerr(w) - bd0(v, np, -nx) - bd0(w, nq, nx);
    return lc - 0.5 * (LOG_2PI + Math.log((v * w) / n)) + Math.log(n / np);
  };
  const start = Math.min(vmax, Math.max(0, Math.round(n * (0.5 - x))));
  const scale = logTerm(start);
  /** step·Σ_k f(start + k·step) over [lo, hi], walking outwards until the rest cannot reach the last bit. */
  const sampledSum = (step: number, lo: number, hi: number): number => {
    let total = 0;
    let block = 0;
    let count = 0;
    for (let dir = 1; dir >= -1; dir -= 2) {
      let prev = Infinity;
      for (let v = dir === 1 ? start : start - step; v >= lo && v <= hi; v += dir * step) {
        const t = Math.exp(logTerm(v) - scale);
        block += t;
        if (++count === 256) {
          total += block;
          block = 0;
          count = 0;
        }
        const remaining = (dir === 1 ? hi - v : v - lo) / step;
        if (t <= prev && t * remaining < 1e-17 * (total + block)) break;
        prev = t;
      }
    }
    return (total + block) * step;
  };
  const sum =
    (n >= SMOOTH_SUM_MIN_N ? smoothSum(logTerm, scale, start, vmax, sampledSum) : undefined) ?? sampledSum(1, 0, vmax);
  return clip01(Math.exp(scale + Math.log(x * sum)));
}

/** From this n on, {@link smirnovSf} tries the sampled sum of {@link smoothSum}. */
const SMOOTH_SUM_MIN_N = 20_000;

/**
 * For large n the Smirnov sum Σ_v f(v) has O(n) significant terms, but f = exp(L) extends to a smooth,
 * log-concave function of real v whose significant part lies far from the singularities of L (v = 0,
 * v = n(1−x)). For such a function the unit-step sum and the trapezoidal sum with step h both equal
 * ∫ f dv up to ~exp(−2π²σ²/h²) (Poisson summation; σ = 1/√(−L'') the local width), so the sum can be
 * sampled every h ≈ σ/4 points: a few hundred evaluations instead of ~n, error far below 1e-16.
 * Returns undefined (the caller sums every term) when the conditions cannot be checked: mass within 60
 * e-folds of the peak near either end, L not concave at the probe points, or h < 4.
 */
function smoothSum(
  logTerm: (v: number) => number,
  scale: number,
  start: number,
  vmax: number,
  sampledSum: (step: number, lo: number, hi: number) => number,
): number | undefined {
  const cut = -60;
  const below = (v: number): boolean => logTerm(v) - scale < cut;
  if (!below(0) || !below(vmax) || below(start)) return undefined;
  // edges of the significant region by bisection (L is unimodal)
  let a = 0;
  let b = start;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (below(mid)) a = mid;
    else b = mid;
  }
  const vLo = a;
  a = start;
  b = vmax;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (below(mid)) b = mid;
    else a = mid;
  }
  const vHi = b;
  const margin = Math.min(vLo, vmax - vHi);
  // smallest local width over the region, from second differences at five probe points
  let sigma = Infinity;
  for (const v of [vLo, (vLo + start) / 2, start, (start + vHi) / 2, vHi]) {
    const c = Math.round(v);
    const delta = Math.max(1, Math.floor(Math.min(margin, c, vmax - c) / 10));
    const curvature = -(logTerm(c + delta) - 2 * logTerm(c) + logTerm(c - delta)) / (delta * delta);
    if (!(curvature > 0)) return undefined;
    sigma = Math.min(sigma, 1 / Math.sqrt(curvature));
  }
  const step = Math.floor(Math.min(sigma / 4, margin / 40));
  if (step < 4) return undefined;
  return sampledSum(step, 16, vmax - 16);
}
