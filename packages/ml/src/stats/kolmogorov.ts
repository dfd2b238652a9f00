/**
 * Kolmogorov–Smirnov distributions, reproducing SciPy 1.10:
 *
 * - {@link kolmogorovSf} / {@link kolmogorovCdf}: the two-sided one-sample statistic D_n for a finite
 *   sample size n (`scipy.stats.kstwo`). Algorithm selection of Simard & L'Ecuyer (2011), "Computing the
 *   Two-Sided Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11): Ruben–Gambino closed forms at
 *   the ends of the support, 2·(one-sided Smirnov tail) where the two one-sided events cannot overlap
 *   (d ≥ ½) or their overlap is negligible, Durbin's matrix (Marsaglia–Tsang–Wang 2003) for small n·d²,
 *   Pomeranz's recursion (1974) for n ≤ 140, and the Pelz–Good (1976) asymptotic series otherwise.
 *   The thresholds are SciPy's, so the asymptotic branches are truncated exactly where SciPy's are.
 * - {@link kolmogorovLimitSf}: Kolmogorov's limiting distribution of √n·D_n (`scipy.stats.kstwobign`,
 *   `scipy.special.kolmogorov`), from the two Jacobi-theta series.
 *
 * The one-sided distribution (`scipy.special.smirnov`) is in `smirnov.ts`.
 */
import { MlError } from "../core/errors.js";
import { smirnovSf } from "./smirnov.js";

const PI2 = Math.PI * Math.PI;
const PI4 = PI2 * PI2;
const PI6 = PI4 * PI2;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const E128 = 2 ** 128;
const EM128 = 2 ** -128;

// ---------------------------------------------------------------------------------------------
// Limiting distribution

/** The theta-series switch point of `scipy.special.kolmogorov`. */
const KOLMOG_CUTOVER = 0.82;
/** Below this x, exp(−π²/(8x²)) < 2⁻¹⁰⁷⁵: the CDF is 0. */
const KOLMOG_TINY = Math.PI / Math.sqrt(746 * 8);

/** [cdf, sf] of Kolmogorov's limiting distribution at x. */
function kolmogorovLimit(x: number): [number, number] {
  if (Number.isNaN(x)) return [NaN, NaN];
  if (x <= KOLMOG_TINY) return [0, 1];
  let cdf: number;
  let sf: number;
  if (x <= KOLMOG_CUTOVER) {
    // cdf = √(2π)/x · Σ_{k≥1} exp(−(2k−1)²π²/(8x²)) = w·u·(1 + u⁸ + u²⁴ + u⁴⁸), u = exp(−π²/(8x²))
    const w = SQRT2PI / x;
    const logu8 = -PI2 / (x * x);
    const u = Math.exp(logu8 / 8);
    if (u === 0) {
      cdf = Math.exp(logu8 / 8 + Math.log(w));
    } else {
      const u8 = Math.exp(logu8);
      let p = 1;
      p = 1 + Math.pow(u8, 3) * p;
      p = 1 + u8 * u8 * p;
      p = 1 + u8 * p;
      cdf = w * u * p;
    }
    sf = 1 - cdf;
  } else {
    // sf = 2 Σ_{k≥1} (−1)^(k−1) exp(−2k²x²) = 2v(1 − v³(1 − v⁵(1 − v⁷))), v = exp(−2x²)
    const v = Math.exp(-2 * x * x);
    const v3 = Math.pow(v, 3);
    let p = 1;
    p = 1 - v3 * v3 * v * p;
    p = 1 - v3 * v * v * p;
    p = 1 - v3 * p;
    sf = 2 * v * p;
    cdf = 1 - sf;
  }
  return [clip01(cdf), clip01(sf)];
}

/** P(K > z) for Kolmogorov's limiting distribution K of √n·D_n (`scipy.stats.kstwobign.sf`). */
export function kolmogorovLimitSf(z: number): number {
  return kolmogorovLimit(z)[1];
}

/** P(K ≤ z) for Kolmogorov's limiting distribution (`scipy.stats.kstwobign.cdf`). */
export function kolmogorovLimitCdf(z: number): number {
  return kolmogorovLimit(z)[0];
}

// ---------------------------------------------------------------------------------------------
// Finite-n two-sided distribution

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** x·2^e without intermediate overflow or underflow of 2^e. */
function ldexp(x: number, e: number): number {
  let r = x;
  let k = e;
  while (k > 1000) {
    r *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    r *= 2 ** -1000;
    k += 1000;
  }
  return r * 2 ** k;
}

/** log(n!/nⁿ) from Stirling's series (n > 140). */
function logFactorialOverPower(n: number): number {
  // B_2j / (2j(2j−1)) for j = 8 … 1
  const coeffs = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];
  const rn = 1 / n;
  const r2 = rn / n;
  let poly = 0;
  for (const c of coeffs) poly = poly * r2 + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** m×m row-major product a·b (bᵀ copied for unit-stride dot products, 2×2 register blocks). */
function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const bt = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) bt[j * m + i] = b[i * m + j] as number;
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i += 2) {
    const i0 = i * m;
    const i1 = Math.min(i + 1, m - 1) * m; // odd m: the last row is computed twice
    for (let j = 0; j < m; j += 2) {
      const j1 = Math.min(j + 1, m - 1);
      const b0 = j * m;
      const b1 = j1 * m;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let k = 0; k < m; k++) {
        const x0 = a[i0 + k] as number;
        const x1 = a[i1 + k] as number;
        const y0 = bt[b0 + k] as number;
        const y1 = bt[b1 + k] as number;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      c[i0 + j] = s00;
      c[i0 + j1] = s01;
      c[i1 + j] = s10;
      c[i1 + j1] = s11;
    }
  }
  return c;
}

/** P(D_n ≤ d) by Durbin's matrix algorithm in the Marsaglia–Tsang–Wang form: (n!/nⁿ)·(Hⁿ)_{kk}. */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // v[j] = (1 − h^(j+1))/(j+1)!, w[j] = 1/j!
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - Math.pow(h, j)) * fac;
  }
  const tt = Math.pow(Math.max(2 * h - 1, 0), m) - 2 * Math.pow(h, m);
  v[m - 1] = (1 + tt) * fac;
  let hm: Float64Array = new Float64Array(m * m);
  for (let c = 1; c < m; c++) for (let r = c - 1; r < m; r++) hm[r * m + c] = w[r - c + 1] as number;
  for (let r = 0; r < m; r++) hm[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) hm[(m - 1) * m + c] = v[m - 1 - c] as number;

  // (Hⁿ)_kk = e_kᵀ·Hⁿ·e_k: binary powering that squares H and multiplies only the row vector e_kᵀ·H^(…)
  // by the squares (O(m²) instead of O(m³) per set bit). Both carry power-of-two scale exponents.
  let row = new Float64Array(m);
  row[k - 1] = 1;
  let rowExp = 0;
  let hExp = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      const next = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const ri = row[i] as number;
        if (ri === 0) continue;
        for (let j = 0; j < m; j++) next[j] = (next[j] as number) + ri * (hm[i * m + j] as number);
      }
      row = next;
      rowExp += hExp;
      let max = 0;
      for (let j = 0; j < m; j++) max = Math.max(max, Math.abs(row[j] as number));
      if (max > E128 || (max > 0 && max < EM128)) {
        const f = max > E128 ? -128 : 128;
        for (let j = 0; j < m; j++) row[j] = (row[j] as number) * 2 ** f;
        rowExp -= f;
      }
    }
    if (e > 1) {
      hm = matMul(hm, hm, m);
      hExp *= 2;
      let max = 0;
      for (let i = 0; i < hm.length; i++) max = Math.max(max, Math.abs(hm[i] as number));
      if (max > E128) {
        for (let i = 0; i < hm.length; i++) hm[i] = (hm[i] as number) * EM128;
        hExp += 128;
      }
    }
  }
  let p = row[k - 1] as number;
  let expnt = rowExp;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  return clip01(ldexp(p, expnt));
}

/**
 * P(D_n ≤ d) by Pomeranz's recursion: the points A_1 = 0, A_2 = g, A_3 = 1 − g, A_{i+2} = A_i + 1, …,
 * A_{2n+2} = n (g = min(f, 1−f), f the fractional part of t = n·d), and V_i(j) = Σ_k V_{i−1}(k)·
 * ((A_i − A_{i−1})/n)^(j−k)/(j−k)! restricted to the counts j with A_i − t < j < A_i + t.
 */
function pomeranzCdf(n: number, d: number): number {
  const t = n * d;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const len = 2 * (ll + 1);
  // Poisson-like weights for the three interval lengths g, 2g and 1−2g (divided by n)
  const wg = new Float64Array(len);
  const w2g = new Float64Array(len);
  const w12g = new Float64Array(len);
  wg[0] = w2g[0] = w12g[0] = 1;
  const gn = g / n;
  const g2n = (2 * g) / n;
  const g12n = (1 - 2 * g) / n;
  for (let m = 1; m < len; m++) {
    wg[m] = ((wg[m - 1] as number) * gn) / m;
    w2g[m] = ((w2g[m - 1] as number) * g2n) / m;
    w12g[m] = ((w12g[m - 1] as number) * g12n) / m;
  }
  // count bounds [lo, hi] of row i (1-based as in the paper)
  const bounds = (i: number): [number, number] => {
    let lo: number;
    let hi: number;
    if (i === 1) {
      lo = 0;
      hi = ll + ceilf - 1;
    } else if (i === 2 * n + 2) {
      lo = n - ll - ceilf + 1;
      hi = n;
    } else if (i % 2 === 0) {
      const k = i / 2;
      lo = k - ll - roundf;
      hi = k + ll - 2 + ceilf;
    } else {
      const k = (i - 1) / 2;
      lo = k - ll;
      hi = k + ll + roundf - 1;
    }
    return [Math.max(lo, 0), Math.min(hi, n)];
  };
  let prev = new Float64Array(len);
  let cur = new Float64Array(len);
  prev[0] = 1;
  let [prevLo, prevHi] = bounds(1);
  let expnt = 0;
  for (let i = 2; i <= 2 * n + 2; i++) {
    const [lo, hi] = bounds(i);
    const weights = i === 2 || i === 2 * n + 2 ? wg : i % 2 === 0 ? w2g : w12g;
    cur.fill(0);
    let max = 0;
    for (let j = lo; j <= hi; j++) {
      let s = 0;
      const kEnd = Math.min(j, prevHi);
      for (let k = prevLo; k <= kEnd; k++) s += (prev[k - prevLo] as number) * (weights[j - k] as number);
      cur[j - lo] = s;
      if (s > max) max = s;
    }
    if (max > 0 && max < EM128) {
      for (let j = 0; j <= hi - lo; j++) cur[j] = (cur[j] as number) * E128;
      expnt -= 128;
    }
    [prev, cur] = [cur, prev];
    prevLo = lo;
    prevHi = hi;
  }
  let ans = n >= prevLo && n <= prevHi ? (prev[n - prevLo] as number) : 0;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= m;
  }
  return clip01(ldexp(ans, expnt));
}

/** P(D_n ≤ d) by the Pelz–Good asymptotic series K0 + K1/√n + K2/n + K3/n^1.5 (series truncated as SciPy). */
function pelzGoodCdf(n: number, d: number): number {
  if (d <= 0) return 0;
  if (d >= 1) return 1;
  const z = Math.sqrt(n) * d;
  const z2 = z * z;
  const z3 = Math.pow(z, 3);
  const z4 = Math.pow(z, 4);
  const z6 = Math.pow(z, 6);
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  const q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * Math.pow(z, 8);
  // Σ_k c_k q^((2k−1)²) by Horner in q^(8k)
  const maxk = Math.ceil((16 * z) / Math.PI);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = Math.pow(q, 8 * k);
    s0 = s0 * qp + 1;
    s1 = s1 * qp + (k1a + k1b * m2);
    s2 = s2 * qp + (k2a + k2b * m2 + k2c * m4);
    s3 = s3 * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
  }
  s0 = (s0 * q * SQRT2PI) / z;
  s1 = (s1 * q * SQRT2PI) / (6 * z4);
  s2 = (s2 * q * SQRT2PI) / (72 * Math.pow(z, 7));
  s3 = (s3 * q * SQRT2PI) / (6480 * Math.pow(z, 10));
  // the terms over all integers k of K2 and K3
  const q2 = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let e2 = 0;
  let e3 = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = Math.pow(q2, k2);
    const kpi = Math.PI * k;
    e2 += k2 * qk;
    e3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  s2 += e2 * ((PI2 * SQRT2PI) / (-36 * z3));
  s3 += e3 * ((PI2 * SQRT2PI) / (216 * z6));
  return s0 + s1 / Math.sqrt(n) + s2 / n + s3 / Math.pow(n, 1.5);
}

/** P(D_n ≤ d) when `cdf`, else P(D_n > d) (SciPy's `_kolmogn`). */
function kolmogorovN(n: number, d: number, cdf: boolean): number {
  if (Number.isNaN(d)) return NaN;
  const fromCdf = (p: number): number => clip01(cdf ? p : 1 - p);
  const fromSf = (p: number): number => clip01(cdf ? 1 - p : p);
  if (d >= 1) return fromCdf(1);
  if (d <= 0) return fromCdf(0);
  const t = n * d;
  if (t <= 1) {
    // Ruben–Gambino: 1/(2n) ≤ d ≤ 1/n, cdf = n!/nⁿ (2t − 1)ⁿ
    if (t <= 0.5) return fromCdf(0);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return fromCdf(prob);
  }
  if (t >= n - 1) return fromSf(2 * Math.pow(1 - d, n)); // Ruben–Gambino
  if (d >= 0.5) return fromSf(2 * smirnovSf(n, d)); // D⁺ > d and D⁻ > d are disjoint
  const nxx = t * d;
  if (n <= 140) {
    if (nxx <= 0.754693) return fromCdf(durbinCdf(n, d));
    if (nxx <= 4) return fromCdf(pomeranzCdf(n, d));
    return fromSf(2 * smirnovSf(n, d));
  }
  if (!cdf) {
    if (nxx >= 370) return 0;
    if (nxx >= 2.2) return clip01(2 * smirnovSf(n, d));
  }
  if (nxx >= 18) return fromCdf(1);
  if (n <= 100_000 && n * Math.pow(d, 1.5) <= 1.4) return fromCdf(durbinCdf(n, d));
  return fromCdf(pelzGoodCdf(n, d));
}

function checkN(n: number, fn: string): void {
  if (!Number.isInteger(n) || n < 1) throw new MlError(`${fn}: n must be a positive integer, got ${n}`);
}

/**
 * P(D_n > d): survival function of the two-sided one-sample Kolmogorov–Smirnov statistic for a sample of
 * size n (`scipy.stats.kstwo.sf(d, n)`, SciPy 1.10). NaN d gives NaN.
 */
export function kolmogorovSf(n: number, d: number): number {
  checkN(n, "kolmogorovSf");
  return kolmogorovN(n, d, false);
}

/** P(D_n ≤ d) (`scipy.stats.kstwo.cdf(d, n)`, SciPy 1.10, same algorithm choices). NaN d gives NaN. */
export function kolmogorovCdf(n: number, d: number): number {
  checkN(n, "kolmogorovCdf");
  return kolmogorovN(n, d, true);
}
