/**
 * The shape every splitter returns: row indices of the training part and of the test part, as Int32Array, to
 * use with `selectRows` and on label arrays.
 */
import { MlError } from "../core/errors.js";

export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** Checks a fold count: an integer ≥ 2 and at most the number of samples. */
export function checkFoldCount(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 2) throw new MlError(`k must be an integer ≥ 2, got ${k}`);
  if (k > n) throw new MlError(`cannot have k=${k} folds with only ${n} samples`);
}

/** The indices 0..n−1 not in `test` (ascending) and `test` sorted ascending: scikit-learn's fold order. */
export function splitByMask(n: number, inTest: Uint8Array): Split {
  let testCount = 0;
  for (let i = 0; i < n; i++) testCount += inTest[i] as number;
  const train = new Int32Array(n - testCount);
  const test = new Int32Array(testCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (inTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}
