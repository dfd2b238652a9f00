/**
 * Input checks shared by the estimators, with the messages scikit-learn's `check_X_y`, `_check_sample_weight`
 * and `_check_n_features` give in spirit: the message names the problem and the numbers involved.
 */
import { MlError } from "../core/errors.js";
import { checkCsr, checkFinite } from "../core/matrix.js";
import type { Matrix } from "../core/matrix.js";

/** Checks a training matrix: non-empty, at least one feature, CSR structure, finite values. */
export function checkTrainingX(X: Matrix, model: string): void {
  if (X.rows === 0) throw new MlError(`${model}: empty training set (X has 0 rows)`);
  if (X.cols === 0) throw new MlError(`${model}: X has 0 features; at least 1 is required`);
  if (X.kind === "csr") checkCsr(X);
  checkFinite(X, "X");
}

/** Checks that X and y have the same number of rows. */
export function checkSameLength(X: Matrix, yLength: number): void {
  if (X.rows !== yLength) throw new MlError(`X has ${X.rows} rows but y has ${yLength} values`);
}

/** The sample weights as a Float64Array (ones when absent); checks length, finiteness and sign. */
export function checkSampleWeight(sampleWeight: ArrayLike<number> | undefined, n: number): Float64Array {
  if (sampleWeight === undefined) return new Float64Array(n).fill(1);
  if (sampleWeight.length !== n) {
    throw new MlError(`sampleWeight has ${sampleWeight.length} values but X has ${n} rows`);
  }
  const out = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = sampleWeight[i] as number;
    if (!Number.isFinite(w)) throw new MlError(`sampleWeight[${i}] is ${String(w)}: weights must be finite`);
    if (w < 0) throw new MlError(`sampleWeight[${i}] is ${w}: weights must not be negative`);
    out[i] = w;
    total += w;
  }
  if (!(total > 0)) throw new MlError("sampleWeight sums to 0: at least one sample needs a positive weight");
  return out;
}

/** Checks a matrix to predict on: the fitted feature count, CSR structure, finite values. */
export function checkPredictX(X: Matrix, nFeatures: number): void {
  if (X.cols !== nFeatures) {
    throw new MlError(`X has ${X.cols} features, but the model was fitted with ${nFeatures}`);
  }
  if (X.kind === "csr") checkCsr(X);
  checkFinite(X, "X");
}

/** The error for using a model before fit(). */
export function notFitted(model: string): MlError {
  return new MlError(`${model} is not fitted yet: call fit() first`);
}
