/**
 * Row normalisation of CSR matrices, as `sklearn.preprocessing.normalize(X, norm)` on a CSR matrix:
 * each row is divided by its l2 norm (square root of the sum of squares) or its l1 norm (sum of absolute
 * values); rows whose norm is zero are left as they are. Values are divided (not multiplied by a
 * reciprocal) in stored order, as scikit-learn's Cython loops do, so results agree to the last bit.
 */
import type { CsrMatrix } from "../core/matrix.js";

export type RowNorm = "l1" | "l2";

/** Normalises the rows of `m` in place (its `data` array is modified) and returns it. */
export function normalizeRowsInPlace(m: CsrMatrix, norm: RowNorm): CsrMatrix {
  const { indptr, data } = m;
  for (let i = 0; i < m.rows; i++) {
    const start = indptr[i] as number;
    const end = indptr[i + 1] as number;
    let sum = 0;
    if (norm === "l2") {
      for (let k = start; k < end; k++) {
        const v = data[k] as number;
        sum += v * v;
      }
      if (sum === 0) continue;
      sum = Math.sqrt(sum);
    } else {
      for (let k = start; k < end; k++) sum += Math.abs(data[k] as number);
      if (sum === 0) continue;
    }
    for (let k = start; k < end; k++) data[k] = (data[k] as number) / sum;
  }
  return m;
}
