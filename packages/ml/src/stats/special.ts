/**
 * Special functions for the statistical tests: log-gamma, regularized incomplete gamma and beta,
 * erf/erfc and the normal tails, and the chi-square, Student t and hypergeometric distributions
 * built on them. Written from the mathematical definitions (series, continued fractions, Stirling
 * and Loader's saddle-point forms); relative accuracy is about 1e-14 in the ranges the drift tests
 * use. Domain errors give NaN, as `Math` functions do; the tests that call these validate input.
 *
 * Also `numpySum`, which adds numbers in exactly NumPy's order, so that sums and means agree
 * with NumPy bit for bit.
 */

/** ln(2π)/2 */
const LN_SQRT_2PI = 0.9189385332046728;
/** 1/√(2π) */
const INV_SQRT_2PI = 0.3989422804014327;
/** 2/√π */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
/** Euler–Mascheroni constant γ */
const EULER_GAMMA = 0.5772156649015329;
const EPS = 2.220446049250313e-16;
/** Continued fractions and series stop after this many terms at the latest (≈ 30·√a are needed). */
const MAX_ITERATIONS = 1_000_000;
/** Lentz's method replaces an exact zero denominator by this. */
const TINY = 1e-300;

// ------------------------------------------------------------------------------------------------
// NumPy-order summation

/** NumPy's ufunc buffer: `np.add.reduce` adds blocks of this many elements one after another. */
const NUMPY_BLOCK = 8192;

/**
 * Σ values[start..end) in exactly NumPy's order (`np.sum` of a contiguous float64 array): blocks of
 * 8192 elements added left to right, each block summed pairwise with 8 accumulators below 128.
 */
export function numpySum(values: ArrayLike<number>, start = 0, end = values.length): number {
  let total = 0;
  for (let lo = start; lo < end; lo += NUMPY_BLOCK) {
    total += pairwiseSum(values, lo, Math.min(NUMPY_BLOCK, end - lo));
  }
  return total;
}

function pairwiseSum(a: ArrayLike<number>, lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[lo]!;
    let r1 = a[lo + 1]!;
    let r2 = a[lo + 2]!;
    let r3 = a[lo + 3]!;
    let r4 = a[lo + 4]!;
    let r5 = a[lo + 5]!;
    let r6 = a[lo + 6]!;
    let r7 = a[lo + 7]!;
    const full = n - (n % 8);
    let i = 8;
    for (; i < full; i += 8) {
      const j = lo + i;
      r0 += a[j]!;
      r1 += a[j + 1]!;
      r2 += a[j + 2]!;
      r3 += a[j + 3]!;
      r4 += a[j + 4]!;
      r5 += a[j + 5]!;
      r6 += a[j + 6]!;
      r7 += a[j + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[lo + i]!;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, lo, half) + pairwiseSum(a, lo + half, n - half);
}

// ------------------------------------------------------------------------------------------------
// Logarithms

/**
 * log(1+u) − u without cancellation. For |u| ≤ 0.5 it uses log(1+u) = 2·atanh(w), w = u/(2+u):
 * log(1+u) − u = −u·w + 2·(w³/3 + w⁵/5 + …), a fast series in w² (|w| ≤ 1/3).
 */
export function log1pmx(u: number): number {
  if (!(Math.abs(u) <= 0.5)) return Math.log1p(u) - u;
  const w = u / (2 + u);
  const w2 = w * w;
  let term = w * w2;
  let sum = 0;
  for (let k = 3; k < 200; k += 2) {
    const t = term / k;
    sum += t;
    if (Math.abs(t) <= Math.abs(sum) * 1e-17) break;
    term *= w2;
  }
  return -u * w + 2 * sum;
}

// ------------------------------------------------------------------------------------------------
// Log-gamma

/**
 * (ζ(k) − 1)/k for k = 2…33 (computed with mpmath at 50 digits), the coefficients of
 * lnΓ(2+z) = (1−γ)z + Σ_{k≥2} (−1)^k (ζ(k)−1)/k · z^k, which converges for |z| < 2.
 */
const ZETA_M1_OVER_K = [
  0.3224670334241132, 0.0673523010531981, 0.020580808427784546, 0.007385551028673986, 0.0028905103307415234,
  0.001192753911703261, 0.0005096695247430425, 0.00022315475845357939, 9.945751278180853e-5, 4.492623673813314e-5,
  2.050721277567069e-5, 9.439488275268397e-6, 4.374866789907488e-6, 2.039215753801366e-6, 9.55141213040742e-7,
  4.492469198764566e-7, 2.1207184805554665e-7, 1.0043224823968099e-7, 4.7698101693639804e-8, 2.2711094608943164e-8,
  1.0838659214896955e-8, 5.183475041970047e-9, 2.4836745438024785e-9, 1.1921401405860912e-9, 5.731367241678862e-10,
  2.7595228851242334e-10, 1.330476437424449e-10, 6.4229645638381e-11, 3.1044247747322276e-11, 1.5021384080754142e-11,
  7.275974480239079e-12, 3.527742476575915e-12,
];

/** lnΓ(2+z) for |z| ≤ 0.5 (Taylor series about 2). */
function lnGammaNear2(z: number): number {
  const w = -z;
  let p = ZETA_M1_OVER_K[ZETA_M1_OVER_K.length - 1]!;
  for (let i = ZETA_M1_OVER_K.length - 2; i >= 0; i--) p = p * w + ZETA_M1_OVER_K[i]!;
  return (1 - EULER_GAMMA) * z + w * w * p;
}

/**
 * B_{2k} / (2k(2k−1)) for k = 1…9: the Stirling series lnΓ(x) − [(x−½)ln x − x + ½ln 2π]
 * = Σ c_k / x^{2k−1}.
 */
const STIRLING = [
  1 / 12,
  -1 / 360,
  1 / 1260,
  -1 / 1680,
  1 / 1188,
  -691 / 360360,
  1 / 156,
  -3617 / 122400,
  43867 / 244188,
];

/**
 * Stirling's correction δ(x) = lnΓ(x) − [(x−½)·ln x − x + ½·ln 2π] for x > 0 (δ(x) ≈ 1/(12x)).
 * It is the small remainder that keeps log-gamma differences of large arguments exact.
 */
export function stirlingCorrection(x: number): number {
  if (x >= 10) {
    const y = 1 / (x * x);
    let p = STIRLING[STIRLING.length - 1]!;
    for (let i = STIRLING.length - 2; i >= 0; i--) p = p * y + STIRLING[i]!;
    return p / x;
  }
  return lnGamma(x) - ((x - 0.5) * Math.log(x) - x + LN_SQRT_2PI);
}

/**
 * ln|Γ(x)|. Series about 2 on [0.5, 2.5] (and for x < 0.5 via Γ(x) = Γ(x+2)/(x(x+1))), upward
 * recurrence below 10, Stirling's series from 10; reflection for negative x. +∞ at 0, −1, −2, ….
 */
export function lnGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity;
    // Γ(x)Γ(1−x) = π / sin(πx); reduce the argument of sin to [−1, 1] first.
    const r = x - 2 * Math.round(x / 2);
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * r))) - lnGamma(1 - x);
  }
  if (x < 0.5) return lnGammaNear2(x) - Math.log(x) - Math.log1p(x);
  if (x < 1.5) return lnGammaNear2(x - 1) - Math.log1p(x - 1);
  if (x <= 2.5) return lnGammaNear2(x - 2);
  if (x < 10) {
    // Γ(x) = Γ(z)·z(z+1)…(x−1) with z in [1.5, 2.5); every z+k is exact.
    const n = Math.floor(x - 1.5);
    const z = x - n;
    let prod = 1;
    for (let k = 0; k < n; k++) prod *= z + k;
    return lnGammaNear2(z - 2) + Math.log(prod);
  }
  return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
}

// ------------------------------------------------------------------------------------------------
// Incomplete gamma

/** x^a·e^(−x)/Γ(a), with the large-a form exp(a·(log(1+d) − d) − δ(a))·√(a/2π), d = (x−a)/a. */
function gammaPrefix(a: number, x: number): number {
  if (a < 10) return Math.exp(a * Math.log(x) - x - lnGamma(a));
  const d = (x - a) / a;
  // a·(ln(x/a) + 1 − x/a); log1pmx keeps it exact near x = a, far away ln(x/a) is the safer form
  const e = Math.abs(d) <= 0.5 ? a * log1pmx(d) : a * Math.log(x / a) + (a - x);
  return Math.exp(e - stirlingCorrection(a)) * Math.sqrt(a) * INV_SQRT_2PI;
}

/** P(a,x)/prefix by its power series Σ x^n/(a(a+1)…(a+n)). */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}

/**
 * Q(a,x)/prefix by Legendre's continued fraction 1/(x+1−a− 1(1−a)/(x+3−a− 2(2−a)/(x+5−a− …)))
 * (modified Lentz); NaN when it has not converged within `maxIterations`.
 */
function gammaFraction(a: number, x: number, maxIterations: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < maxIterations; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPS) return h;
  }
  return NaN;
}

/**
 * [P(a,x), Q(a,x)]: the series for P when x < a+1, else the continued fraction for Q; the other is
 * 1 minus it, unless that would cancel (value > 0.9), when the other method is tried directly.
 */
function incompleteGamma(a: number, x: number): [number, number] {
  if (Number.isNaN(a) || Number.isNaN(x) || !(a > 0) || x < 0 || a === Infinity) return [NaN, NaN];
  if (x === 0) return [0, 1];
  if (x === Infinity) return [1, 0];
  const prefix = gammaPrefix(a, x);
  if (x < a + 1) {
    const p = prefix * gammaSeries(a, x);
    if (p > 0.9) {
      const q = prefix * gammaFraction(a, x, 5000);
      if (!Number.isNaN(q)) return [p, q];
    }
    return [p, 1 - p];
  }
  const q = prefix * gammaFraction(a, x, MAX_ITERATIONS);
  if (q > 0.9) return [prefix * gammaSeries(a, x), q];
  return [1 - q, q];
}

/** Regularized lower incomplete gamma P(a, x) = γ(a,x)/Γ(a), a > 0, x ≥ 0. */
export function gammaP(a: number, x: number): number {
  return incompleteGamma(a, x)[0];
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a,x)/Γ(a) = 1 − P(a, x), a > 0, x ≥ 0. */
export function gammaQ(a: number, x: number): number {
  return incompleteGamma(a, x)[1];
}

/** Survival function of the chi-square distribution, P(X > x) for `dof` > 0 degrees of freedom. */
export function chi2Sf(x: number, dof: number): number {
  if (Number.isNaN(x) || !(dof > 0)) return NaN;
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

// ------------------------------------------------------------------------------------------------
// Incomplete beta

/**
 * x^a·y^b / B(a,b) with y = 1−x given separately (so x near 1 keeps its precision). Stirling form
 * for every a, b: exp(a·ln(xc/a) + b·ln(yc/b) + ½ln(ab/c) − ½ln 2π − δ(a) − δ(b) + δ(c)), c = a+b;
 * when xc/a and yc/b are near 1 their linear terms cancel exactly and log1pmx keeps the rest.
 */
function betaPrefix(a: number, b: number, x: number, y: number): number {
  const c = a + b;
  const dev = x * b - a * y; // x·c − a = −(y·c − b)
  const u = dev / a;
  const v = -dev / b;
  let main: number;
  if (Math.abs(u) <= 0.5 && Math.abs(v) <= 0.5) {
    main = a * log1pmx(u) + b * log1pmx(v);
  } else {
    const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
    const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
    const l1 = Math.abs(u) <= 0.5 ? Math.log1p(u) : lnX + Math.log1p(b / a);
    const l2 = Math.abs(v) <= 0.5 ? Math.log1p(v) : lnY + Math.log1p(a / b);
    main = a * l1 + b * l2;
  }
  const corr = stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(c);
  return Math.exp(main + 0.5 * Math.log((a / c) * b) - LN_SQRT_2PI - corr);
}

/**
 * I_x(a,b) = prefix / (b0 + a1/(b1 + a2/(b2 + …))), the even contraction of the classical continued
 * fraction 1/(1 + d1/(1 + d2/…)). Its terms use a·y − b·x (= a − (a+b)x, computed from the exact
 * y) and never subtract nearly equal numbers, so it stays accurate near the mean even when a ≫ b.
 * Converges fast for x < (a+1)/(a+b+2); NaN when not converged within `maxIterations`.
 */
function betaContinuedFraction(a: number, b: number, x: number, y: number, maxIterations: number): number {
  const prefix = betaPrefix(a, b, x, y);
  if (prefix === 0) return 0;
  const lambda = a * y - b * x;
  let f = (a * (lambda + 1)) / (a + 1);
  if (Math.abs(f) < TINY) f = TINY;
  let c = f;
  let d = 0;
  for (let m = 1; m < maxIterations; m++) {
    const s = a + 2 * m - 1;
    const an = ((a + m - 1) * (a + b + m - 1) * m * (b - m) * x * x) / (s * s);
    const bn = m + (m * (b - m) * x) / s + ((a + m) * (lambda + 1 + m * (2 - x))) / (a + 2 * m + 1);
    d = bn + an * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = bn + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) <= EPS) return prefix / f;
  }
  return NaN;
}

/**
 * [I_x(a,b), 1 − I_x(a,b)] with y = 1 − x passed in exactly. The continued fraction runs on the side
 * where it converges (I_x(a,b) = 1 − I_y(b,a)); when the value it gives exceeds 0.9, the complement
 * is also computed directly instead of as 1 minus it.
 */
function betaIncPair(a: number, b: number, x: number, y: number): [number, number] {
  if (x <= 0) return [0, 1];
  if (y <= 0) return [1, 0];
  const direct = x < (a + 1) / (a + b + 2);
  const v = direct
    ? betaContinuedFraction(a, b, x, y, MAX_ITERATIONS)
    : betaContinuedFraction(b, a, y, x, MAX_ITERATIONS);
  let w = 1 - v;
  if (v > 0.9) {
    const other = direct ? betaContinuedFraction(b, a, y, x, 5000) : betaContinuedFraction(a, b, x, y, 5000);
    if (!Number.isNaN(other)) w = other;
  }
  return direct ? [v, w] : [w, v];
}

/** Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function betaInc(a: number, b: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(x)) return NaN;
  if (!(a > 0 && b > 0 && a < Infinity && b < Infinity) || x < 0 || x > 1) return NaN;
  return betaIncPair(a, b, x, 1 - x)[0];
}

/** Survival function of Student's t distribution, P(T > t), for df > 0 (df = ∞ is the normal). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || !(df > 0)) return NaN;
  if (df === Infinity) return normalSf(t);
  if (t === 0) return 0.5;
  const t2 = t * t;
  let x: number;
  let y: number;
  if (t2 === Infinity) {
    x = 0;
    y = 1;
  } else {
    x = df / (df + t2);
    y = t2 / (df + t2);
  }
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df/(df+t²)
  const [tail, central] = betaIncPair(df / 2, 0.5, x, y);
  return t > 0 ? 0.5 * tail : 0.5 + 0.5 * central;
}

/** Two-sided p-value of Student's t: P(|T| ≥ |t|) = 2·P(T > |t|) (SciPy's `2·stdtr(df, −|t|)`). */
export function studentTTwoSided(t: number, df: number): number {
  return 2 * studentTSf(Math.abs(t), df);
}

// ------------------------------------------------------------------------------------------------
// erf, erfc and the normal distribution

/** e^(−x²) with x² split exactly (x = hi + lo, hi with 24 significant bits), so large x stay exact. */
function expMinusSquare(x: number): number {
  const hi = Math.fround(x);
  const lo = x - hi;
  return Math.exp(-hi * hi) * Math.exp(-(2 * hi + lo) * lo);
}

/** e^(−x²/2), exact split as in expMinusSquare. */
function expMinusHalfSquare(x: number): number {
  const hi = Math.fround(x);
  const lo = x - hi;
  return Math.exp(-0.5 * (hi * hi)) * Math.exp(-0.5 * (2 * hi + lo) * lo);
}

/** Σ_{n≥0} s^n / (1·3·5·…·(2n+1)) — all terms positive; erf and Φ − ½ are multiples of it. */
function oddFactorialSeries(s: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 500; n++) {
    term *= s / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}

/**
 * 1/(s+1 − 1·2/(s+5 − 3·4/(s+9 − …))), the even part of Laplace's continued fraction for the
 * Mills ratio: Φ̄(x) = φ(x)·x·F(x²) and erfc(x) = (2/√π)·e^(−x²)·x·F(2x²). Used for s ≥ 4.
 */
function millsFraction(s: number): number {
  let f = s + 1;
  let c = f;
  let d = 0;
  for (let k = 1; k < 10_000; k++) {
    const an = -(2 * k - 1) * (2 * k);
    const bn = s + 4 * k + 1;
    d = bn + an * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = bn + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) <= EPS) break;
  }
  return 1 / f;
}

/** Complementary error function erfc(x) = 1 − erf(x), accurate relative to its value in both tails. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x > 27.3) return 0; // erfc(27.3) < 2^−1074
  const s = 2 * x * x;
  if (s < 4) return 1 - TWO_OVER_SQRT_PI * expMinusSquare(x) * x * oddFactorialSeries(s);
  return TWO_OVER_SQRT_PI * expMinusSquare(x) * x * millsFraction(s);
}

/** Error function erf(x). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (2 * ax * ax < 4) return TWO_OVER_SQRT_PI * expMinusSquare(x) * x * oddFactorialSeries(2 * x * x);
  return x > 0 ? 1 - erfc(ax) : erfc(ax) - 1;
}

/** Upper tail of the standard normal for x ≥ 0. */
function normalUpper(x: number): number {
  if (x > 38.5) return 0; // Φ̄(38.5) < 2^−1074
  const s = x * x;
  const phi = INV_SQRT_2PI * expMinusHalfSquare(x);
  if (s < 4) return 0.5 - phi * x * oddFactorialSeries(s);
  return phi * x * millsFraction(s);
}

/** Standard normal survival function P(Z > x), accurate relative to its value far into the tail. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? normalUpper(x) : 1 - normalUpper(-x);
}

/** Standard normal cumulative distribution function P(Z ≤ x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x <= 0 ? normalUpper(-x) : 1 - normalUpper(x);
}

// ------------------------------------------------------------------------------------------------
// Hypergeometric distribution (Loader's saddle-point form: relative accuracy independent of size)

/** Deviance term x·ln(x/m) + m − x, computed without cancellation when x ≈ m. */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    const v = (x - m) / (x + m);
    const v2 = v * v;
    let s = (x - m) * v;
    let ej = 2 * x * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v2;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/** Binomial pmf C(n,k)·p^k·q^(n−k) with q = 1−p given separately. */
function binomialPmf(k: number, n: number, p: number, q: number): number {
  if (k === 0) return n === 0 ? 1 : p < 0.1 ? Math.exp(-bd0(n, n * q) - n * p) : Math.exp(n * Math.log(q));
  if (k === n) return q < 0.1 ? Math.exp(-bd0(n, n * p) - n * q) : Math.exp(n * Math.log(p));
  if (k < 0 || k > n) return 0;
  const lc =
    stirlingCorrection(n) - (stirlingCorrection(k) + stirlingCorrection(n - k)) - (bd0(k, n * p) + bd0(n - k, n * q));
  return Math.exp(lc) * Math.sqrt(n / (2 * Math.PI * (k * (n - k))));
}

/**
 * Hypergeometric pmf P(X = x): `draws` items taken without replacement from `total` items of which
 * `successes` are successes (SciPy's `hypergeom.pmf(x, M=total, n=successes, N=draws)`).
 * Computed as b(x; K, p)·b(N−x; M−K, p)/b(N; M, p), p = N/M, so terms that are equal by symmetry
 * come out bit-identical.
 */
export function hypergeometricPmf(x: number, total: number, successes: number, draws: number): number {
  const failures = total - successes;
  if (x < Math.max(0, draws - failures) || x > Math.min(draws, successes)) return 0;
  if (draws === 0 || draws === total) return 1;
  const p = draws / total;
  const q = (total - draws) / total;
  const p1 = binomialPmf(x, successes, p, q);
  const p2 = binomialPmf(draws - x, failures, p, q);
  const p3 = binomialPmf(draws, total, p, q);
  return (p1 * p2) / p3;
}
