/**
 * Minimum-norm linear least squares by Householder QR with column pivoting and a complete orthogonal
 * decomposition (Golub & Van Loan, "Matrix Computations", 4th ed., §5.4), the same solution LAPACK's
 * `gelsd` (SciPy's `lstsq`, which scikit-learn's LinearRegression calls) returns:
 * - full column rank: the unique x minimising ‖A·x − b‖;
 * - rank deficient: among the minimisers, the one of smallest ‖x‖.
 * The numerical rank counts the diagonal entries of R with |R_kk| > rcond · |R_11|, rcond = ε · max(m, n) by
 * default (numpy.linalg.lstsq's default; gelsd cuts singular values instead of R's diagonal, which can only
 * differ for nearly rank-deficient problems).
 *
 * QR never forms AᵀA, so the condition number is not squared as with the normal equations.
 */

export interface LeastSquaresResult {
  /** n × t, column j of the solution for column j of B, row-major (n rows of t values). */
  x: Float64Array;
  /** Numerical rank of A. */
  rank: number;
}

/**
 * Solves min ‖A·X − B‖ for A m × n and B m × t, both row-major; neither is modified.
 */
export function leastSquares(
  A: Float64Array,
  m: number,
  n: number,
  B: Float64Array,
  t: number,
  rcond = 2 ** -52 * Math.max(m, n),
): LeastSquaresResult {
  // column-major copies: Householder steps walk down columns
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[j * m + i] = A[i * n + j] as number;
  const b = new Float64Array(m * t);
  for (let i = 0; i < m; i++) for (let j = 0; j < t; j++) b[j * m + i] = B[i * t + j] as number;
  const perm = Int32Array.from({ length: n }, (_, j) => j);
  const steps = Math.min(m, n);
  const v = new Float64Array(m);
  let rank = 0;
  let r11 = 0;

  for (let k = 0; k < steps; k++) {
    // pivot: the remaining column of largest norm (rows k..m)
    let best = k;
    let bestNorm = -1;
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += (a[j * m + i] as number) ** 2;
      if (s > bestNorm) {
        bestNorm = s;
        best = j;
      }
    }
    if (best !== k) {
      for (let i = 0; i < m; i++) {
        const tmp = a[k * m + i] as number;
        a[k * m + i] = a[best * m + i] as number;
        a[best * m + i] = tmp;
      }
      const p = perm[k] as number;
      perm[k] = perm[best] as number;
      perm[best] = p;
    }
    const norm = Math.sqrt(bestNorm);
    if (k === 0) r11 = norm;
    if (!(norm > rcond * r11) || norm === 0) break;
    rank++;
    // Householder reflector H = I − 2vvᵀ/vᵀv mapping column k (rows k..m) onto −sign(a_kk)·norm·e_k
    const akk = a[k * m + k] as number;
    const alpha = akk >= 0 ? -norm : norm;
    let vv = 0;
    for (let i = k; i < m; i++) {
      const vi = i === k ? akk - alpha : (a[k * m + i] as number);
      v[i] = vi;
      vv += vi * vi;
    }
    a[k * m + k] = alpha;
    for (let i = k + 1; i < m; i++) a[k * m + i] = 0;
    if (vv === 0) continue;
    const reflect = (col: Float64Array, offset: number): void => {
      let s = 0;
      for (let i = k; i < m; i++) s += (v[i] as number) * (col[offset + i] as number);
      const f = (2 * s) / vv;
      for (let i = k; i < m; i++) col[offset + i] = (col[offset + i] as number) - f * (v[i] as number);
    };
    for (let j = k + 1; j < n; j++) reflect(a, j * m);
    for (let j = 0; j < t; j++) reflect(b, j * m);
  }

  // z solves [R11 R12]·z = c (c = first `rank` entries of Qᵀb), minimum norm when rank < n
  const z = new Float64Array(n * t);
  if (rank === n) {
    for (let j = 0; j < t; j++) {
      for (let i = n - 1; i >= 0; i--) {
        let s = b[j * m + i] as number;
        for (let k = i + 1; k < n; k++) s -= (a[k * m + i] as number) * (z[k * t + j] as number);
        z[i * t + j] = s / (a[i * m + i] as number);
      }
    }
  } else if (rank > 0) {
    minimumNormTrapezoid(a, m, n, rank, b, t, z);
  }
  const x = new Float64Array(n * t);
  for (let i = 0; i < n; i++) {
    const target = perm[i] as number;
    for (let j = 0; j < t; j++) x[target * t + j] = z[i * t + j] as number;
  }
  return { x, rank };
}

/**
 * Minimum-norm z of the r × n upper-trapezoidal system M·z = c, M = rows 0..r of the column-major `a`
 * (leading dimension m), c = rows 0..r of `b`: with Mᵀ = W·T (W n × r orthonormal, T r × r upper triangular),
 * z = W·T⁻ᵀ·c.
 */
function minimumNormTrapezoid(
  a: Float64Array,
  m: number,
  n: number,
  r: number,
  b: Float64Array,
  t: number,
  z: Float64Array,
): void {
  // mt: Mᵀ, n × r, column-major (column i of mt is row i of M)
  const mt = new Float64Array(n * r);
  for (let i = 0; i < r; i++) for (let j = i; j < n; j++) mt[i * n + j] = a[j * m + i] as number;
  const vs: Float64Array[] = [];
  const vvs: number[] = [];
  for (let k = 0; k < r; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += (mt[k * n + i] as number) ** 2;
    norm = Math.sqrt(norm);
    const akk = mt[k * n + k] as number;
    const alpha = akk >= 0 ? -norm : norm;
    const v = new Float64Array(n);
    let vv = 0;
    for (let i = k; i < n; i++) {
      const vi = i === k ? akk - alpha : (mt[k * n + i] as number);
      v[i] = vi;
      vv += vi * vi;
    }
    vs.push(v);
    vvs.push(vv);
    mt[k * n + k] = alpha;
    for (let i = k + 1; i < n; i++) mt[k * n + i] = 0;
    if (vv === 0) continue;
    for (let j = k + 1; j < r; j++) {
      let s = 0;
      for (let i = k; i < n; i++) s += (v[i] as number) * (mt[j * n + i] as number);
      const f = (2 * s) / vv;
      for (let i = k; i < n; i++) mt[j * n + i] = (mt[j * n + i] as number) - f * (v[i] as number);
    }
  }
  const u = new Float64Array(n);
  for (let j = 0; j < t; j++) {
    // Tᵀ·u = c by forward substitution (T upper triangular: T[i][k] = mt[k * n + i])
    u.fill(0);
    for (let i = 0; i < r; i++) {
      let s = b[j * m + i] as number;
      for (let k = 0; k < i; k++) s -= (mt[i * n + k] as number) * (u[k] as number);
      u[i] = s / (mt[i * n + i] as number);
    }
    // z = W·[u; 0] = H_0·H_1·…·H_{r−1}·[u; 0]
    for (let k = r - 1; k >= 0; k--) {
      const v = vs[k] as Float64Array;
      const vv = vvs[k] as number;
      if (vv === 0) continue;
      let s = 0;
      for (let i = k; i < n; i++) s += (v[i] as number) * (u[i] as number);
      const f = (2 * s) / vv;
      for (let i = k; i < n; i++) u[i] = (u[i] as number) - f * (v[i] as number);
    }
    for (let i = 0; i < n; i++) z[i * t + j] = u[i] as number;
  }
}
