/**
 * Matrices of `@slipway/ml`: row-major dense matrices and CSR sparse matrices of float64.
 *
 * Every estimator takes either kind (`Matrix`); vectorizers produce CSR, tabular transformers dense.
 * Arrays are typed (`Float64Array`, `Int32Array`) so that a 6,000 × 50,000 TF-IDF matrix costs only its
 * non-zeros, and loops over it stay monomorphic.
 */
import { MlError } from "./errors.js";

/** A dense matrix, row-major: element (i, j) is `data[i * cols + j]`. */
export interface DenseMatrix {
  readonly kind: "dense";
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * A compressed sparse row matrix, as SciPy's `csr_matrix`: row i's non-zeros are
 * `data[indptr[i] .. indptr[i+1])` at columns `indices[...]`, columns ascending within a row.
 */
export interface CsrMatrix {
  readonly kind: "csr";
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float64Array;
}

export type Matrix = DenseMatrix | CsrMatrix;

export function dense(rows: number, cols: number, data?: Float64Array): DenseMatrix {
  const values = data ?? new Float64Array(rows * cols);
  if (values.length !== rows * cols) {
    throw new MlError(`a ${rows} × ${cols} matrix needs ${rows * cols} values, got ${values.length}`);
  }
  return { kind: "dense", rows, cols, data: values };
}

/** A dense matrix from rows of numbers; every row must have the same length. */
export function denseFromRows(rows: readonly (readonly number[])[], cols?: number): DenseMatrix {
  const width = cols ?? rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.length !== width) throw new MlError(`row ${i} has ${row.length} values, expected ${width}`);
    data.set(row, i * width);
  });
  return dense(rows.length, width, data);
}

/** Element (i, j) of either kind. O(log nnz(row)) for CSR. */
export function get(m: Matrix, i: number, j: number): number {
  if (m.kind === "dense") return m.data[i * m.cols + j] ?? 0;
  let lo = m.indptr[i] ?? 0;
  let hi = (m.indptr[i + 1] ?? 0) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = m.indices[mid] ?? 0;
    if (c === j) return m.data[mid] ?? 0;
    if (c < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** The matrix as rows of plain numbers (for tests and small outputs). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) {
    const row = new Array<number>(m.cols).fill(0);
    if (m.kind === "dense") {
      for (let j = 0; j < m.cols; j++) row[j] = m.data[i * m.cols + j] ?? 0;
    } else {
      for (let k = m.indptr[i] ?? 0; k < (m.indptr[i + 1] ?? 0); k++) row[m.indices[k] ?? 0] = m.data[k] ?? 0;
    }
    out.push(row);
  }
  return out;
}

/** Row i · w[offset .. offset + cols). */
export function rowDot(m: Matrix, i: number, w: Float64Array, offset = 0): number {
  let sum = 0;
  if (m.kind === "dense") {
    const base = i * m.cols;
    for (let j = 0; j < m.cols; j++) sum += (m.data[base + j] as number) * (w[offset + j] as number);
  } else {
    const end = m.indptr[i + 1] as number;
    for (let k = m.indptr[i] as number; k < end; k++) {
      sum += (m.data[k] as number) * (w[offset + (m.indices[k] as number)] as number);
    }
  }
  return sum;
}

/** out[offset + j] += scale · row i, for every column j of row i. */
export function addScaledRow(m: Matrix, i: number, scale: number, out: Float64Array, offset = 0): void {
  if (m.kind === "dense") {
    const base = i * m.cols;
    for (let j = 0; j < m.cols; j++)
      out[offset + j] = (out[offset + j] as number) + scale * (m.data[base + j] as number);
  } else {
    const end = m.indptr[i + 1] as number;
    for (let k = m.indptr[i] as number; k < end; k++) {
      const j = offset + (m.indices[k] as number);
      out[j] = (out[j] as number) + scale * (m.data[k] as number);
    }
  }
}

/** The rows `index` of m, in that order (for splits and batches). */
export function selectRows(m: Matrix, index: ArrayLike<number>): Matrix {
  if (m.kind === "dense") {
    const data = new Float64Array(index.length * m.cols);
    for (let r = 0; r < index.length; r++) {
      const i = index[r] as number;
      data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols);
    }
    return dense(index.length, m.cols, data);
  }
  let nnz = 0;
  for (let r = 0; r < index.length; r++) {
    const i = index[r] as number;
    nnz += (m.indptr[i + 1] as number) - (m.indptr[i] as number);
  }
  const indptr = new Int32Array(index.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let at = 0;
  for (let r = 0; r < index.length; r++) {
    const i = index[r] as number;
    const start = m.indptr[i] as number;
    const end = m.indptr[i + 1] as number;
    indices.set(m.indices.subarray(start, end), at);
    data.set(m.data.subarray(start, end), at);
    at += end - start;
    indptr[r + 1] = at;
  }
  return { kind: "csr", rows: index.length, cols: m.cols, indptr, indices, data };
}

/** Checks the structure of a CSR matrix (lengths, bounds, ascending columns); throws MlError naming the fault. */
export function checkCsr(m: CsrMatrix): void {
  if (m.indptr.length !== m.rows + 1)
    throw new MlError(`CSR indptr has ${m.indptr.length} entries, expected ${m.rows + 1}`);
  if (m.indptr[0] !== 0) throw new MlError("CSR indptr must start at 0");
  const nnz = m.indptr[m.rows] as number;
  if (m.indices.length !== nnz || m.data.length !== nnz) {
    throw new MlError(`CSR has ${m.indices.length} indices and ${m.data.length} values, indptr says ${nnz}`);
  }
  for (let i = 0; i < m.rows; i++) {
    let previous = -1;
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
      const c = m.indices[k] as number;
      if (c <= previous || c >= m.cols) throw new MlError(`CSR row ${i}: column ${c} is out of order or out of range`);
      previous = c;
    }
  }
}

/** Throws MlError when any value is NaN or infinite, naming the first (row, column). */
export function checkFinite(m: Matrix, what = "X"): void {
  if (m.kind === "dense") {
    for (let k = 0; k < m.data.length; k++) {
      const v = m.data[k] as number;
      if (!Number.isFinite(v)) {
        throw new MlError(`${what} has ${String(v)} at row ${Math.floor(k / m.cols)}, column ${k % m.cols}`);
      }
    }
    return;
  }
  for (let i = 0; i < m.rows; i++) {
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
      const v = m.data[k] as number;
      if (!Number.isFinite(v)) throw new MlError(`${what} has ${String(v)} at row ${i}, column ${m.indices[k]}`);
    }
  }
}
