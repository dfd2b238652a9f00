/**
 * Eigendecomposition of a real symmetric matrix: A = V · diag(λ) · Vᵀ with V orthogonal.
 *
 * Two classical stages, both O(d³) and backward stable:
 * 1. Householder reduction to tridiagonal form, A = Q · T · Qᵀ. Step k reflects the column below the
 *    diagonal onto its first entry with H = I − 2·v·vᵀ and updates the trailing block as
 *    H·A·H = A − 2·v·wᵀ − 2·w·vᵀ, where p = A·v and w = p − (vᵀp)·v. Q = H₀·H₁·…, accumulated backwards.
 * 2. The implicit symmetric QR algorithm on T with Wilkinson shifts: each sweep starts a Givens rotation
 *    from the first column of T − μ·I and chases the bulge down the unreduced block; an off-diagonal entry
 *    is taken as zero once |e_i| ≤ ε·(|d_i| + |d_{i+1}|). Rotations are accumulated into Q, so the columns
 *    of the result are eigenvectors of A.
 *
 * Meant for covariance matrices of up to a few hundred columns (d = 300 takes well under a second).
 * Results are deterministic: eigenvalues sorted in decreasing order, and each eigenvector's sign fixed so
 * that its largest-magnitude component (the first of equal ones) is positive.
 */
import { MlError } from "./errors.js";
import { dense, type DenseMatrix } from "./matrix.js";

export interface SymmetricEigen {
  /** The eigenvalues, in decreasing order. */
  readonly values: Float64Array;
  /** d × d: column j is the unit eigenvector of `values[j]`; the columns are orthonormal. */
  readonly vectors: DenseMatrix;
}

export interface SymmetricEigenOptions {
  /**
   * Largest accepted |a_ij − a_ji| relative to max|a| (default 1e-10); the matrix is then symmetrised as
   * (A + Aᵀ) / 2. Anything less symmetric is refused with an MlError.
   */
  symmetryTolerance?: number;
}

const EPS = 2 ** -52;
/** Sweeps allowed per eigenvalue before giving up (Wilkinson shifts usually need two or three). */
const MAX_SWEEPS_PER_VALUE = 60;

/** Eigenvalues and orthonormal eigenvectors of the symmetric square matrix `a`; see the file comment. */
export function symmetricEigen(a: DenseMatrix, options: SymmetricEigenOptions = {}): SymmetricEigen {
  const n = checkSymmetric(a, options.symmetryTolerance ?? 1e-10);
  const work = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      work[i * n + j] = 0.5 * ((a.data[i * n + j] as number) + (a.data[j * n + i] as number));
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const q = tridiagonalize(work, n, d, e);
  tridiagonalQr(d, e, q, n);
  return sortedAndSigned(d, q, n);
}

function checkSymmetric(a: DenseMatrix, tolerance: number): number {
  if (a === null || typeof a !== "object" || a.kind !== "dense") {
    throw new MlError("symmetricEigen: the matrix must be a DenseMatrix");
  }
  if (a.rows !== a.cols) throw new MlError(`symmetricEigen: the matrix must be square, got ${a.rows} × ${a.cols}`);
  const n = a.rows;
  let max = 0;
  for (let k = 0; k < a.data.length; k++) {
    const v = a.data[k] as number;
    if (!Number.isFinite(v)) {
      throw new MlError(`symmetricEigen: the matrix has ${String(v)} at row ${Math.floor(k / n)}, column ${k % n}`);
    }
    max = Math.max(max, Math.abs(v));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const gap = Math.abs((a.data[i * n + j] as number) - (a.data[j * n + i] as number));
      if (gap > tolerance * max) {
        throw new MlError(
          `symmetricEigen: the matrix is not symmetric: entries (${i}, ${j}) and (${j}, ${i}) differ by ${gap}`,
        );
      }
    }
  }
  return n;
}

/**
 * Reduces the symmetric n × n row-major `w` (overwritten) to tridiagonal form: fills the diagonal `d` and the
 * off-diagonal `e` (e[i] couples i and i + 1) and returns Q (row-major) with A = Q·T·Qᵀ.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array): Float64Array {
  const reflectors: (Float64Array | null)[] = [];
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const first = w[(k + 1) * n + k] as number;
    let tail = 0;
    for (let i = k + 2; i < n; i++) tail += (w[i * n + k] as number) ** 2;
    if (tail === 0) {
      // already tridiagonal in this column: H = I
      reflectors.push(null);
      continue;
    }
    const norm = Math.sqrt(first * first + tail);
    const alpha = first > 0 ? -norm : norm;
    // v = x − α·e₁, normalised (no cancellation: α has the sign opposite to x₀)
    const v = new Float64Array(n);
    v[k + 1] = first - alpha;
    for (let i = k + 2; i < n; i++) v[i] = w[i * n + k] as number;
    const vNorm = Math.sqrt((first - alpha) ** 2 + tail);
    for (let i = k + 1; i < n; i++) v[i] = (v[i] as number) / vNorm;
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += (w[i * n + j] as number) * (v[j] as number);
      p[i] = s;
      vp += (v[i] as number) * s;
    }
    // p becomes w = p − (vᵀp)·v
    for (let i = k + 1; i < n; i++) p[i] = (p[i] as number) - vp * (v[i] as number);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i] as number;
      const pi = p[i] as number;
      for (let j = k + 1; j < n; j++) {
        w[i * n + j] = (w[i * n + j] as number) - 2 * (vi * (p[j] as number) + pi * (v[j] as number));
      }
    }
    w[(k + 1) * n + k] = alpha;
    w[k * n + k + 1] = alpha;
    for (let i = k + 2; i < n; i++) {
      w[i * n + k] = 0;
      w[k * n + i] = 0;
    }
    reflectors.push(v);
  }
  for (let i = 0; i < n; i++) d[i] = w[i * n + i] as number;
  for (let i = 0; i + 1 < n; i++) e[i] = w[(i + 1) * n + i] as number;

  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = reflectors.length - 1; k >= 0; k--) {
    const v = reflectors[k];
    if (v === null || v === undefined) continue;
    // Q ← H_k·Q; rows and columns before k + 1 of Q are still those of the identity
    for (let j = k + 1; j < n; j++) {
      let t = 0;
      for (let i = k + 1; i < n; i++) t += (v[i] as number) * (q[i * n + j] as number);
      if (t === 0) continue;
      t *= 2;
      for (let i = k + 1; i < n; i++) q[i * n + j] = (q[i * n + j] as number) - t * (v[i] as number);
    }
  }
  return q;
}

function negligible(d: Float64Array, e: Float64Array, i: number): boolean {
  const off = Math.abs(e[i] as number);
  return off <= EPS * (Math.abs(d[i] as number) + Math.abs(d[i + 1] as number)) || off < Number.MIN_VALUE * 1e16;
}

/** Diagonalises the tridiagonal (d, e) in place, rotating the columns of the row-major n × n `z` along. */
function tridiagonalQr(d: Float64Array, e: Float64Array, z: Float64Array, n: number): void {
  let sweeps = 0;
  const maxSweeps = MAX_SWEEPS_PER_VALUE * Math.max(n, 1);
  let l = 0;
  while (l < n - 1) {
    // the unreduced block starting at l ends at m
    let m = l;
    while (m < n - 1 && !negligible(d, e, m)) m++;
    if (m === l) {
      e[l] = 0;
      l++;
      continue;
    }
    if (++sweeps > maxSweeps) {
      throw new MlError(`symmetricEigen: the QR iteration did not converge after ${maxSweeps} sweeps`);
    }
    // Wilkinson shift: the eigenvalue of the trailing 2 × 2 of the block closer to its last diagonal entry
    const em = e[m - 1] as number;
    const half = ((d[m - 1] as number) - (d[m] as number)) / 2;
    const mu = (d[m] as number) - (em * em) / (half + (half >= 0 ? 1 : -1) * Math.hypot(half, em));
    let x = (d[l] as number) - mu;
    let y = e[l] as number;
    for (let k = l; k < m; k++) {
      const r = Math.hypot(x, y);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : y / r;
      if (k > l) e[k - 1] = r;
      const dk = d[k] as number;
      const dk1 = d[k + 1] as number;
      const ek = e[k] as number;
      d[k] = c * c * dk + 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk1 - dk) + (c * c - s * s) * ek;
      if (k + 1 < m) {
        // the rotation pushes a bulge at (k, k + 2), removed by the next rotation
        const next = e[k + 1] as number;
        y = s * next;
        e[k + 1] = c * next;
        x = e[k] as number;
      }
      // Z ← Z·Rᵀ: columns k and k + 1
      for (let i = 0; i < n; i++) {
        const zk = z[i * n + k] as number;
        const zk1 = z[i * n + k + 1] as number;
        z[i * n + k] = c * zk + s * zk1;
        z[i * n + k + 1] = c * zk1 - s * zk;
      }
    }
  }
}

function sortedAndSigned(d: Float64Array, z: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (d[j] as number) - (d[i] as number) || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = d[from] as number;
    let best = 0;
    let sign = 1;
    for (let i = 0; i < n; i++) {
      const v = z[i * n + from] as number;
      if (Math.abs(v) > best) {
        best = Math.abs(v);
        sign = v < 0 ? -1 : 1;
      }
    }
    for (let i = 0; i < n; i++) vectors[i * n + to] = sign * (z[i * n + from] as number);
  });
  return { values, vectors: dense(n, n, vectors) };
}
