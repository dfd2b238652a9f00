/**
 * Log loss (cross-entropy), as scikit-learn's `log_loss` from version 1.5 on (where its `eps` argument is gone):
 * - probabilities are clipped to [ε, 1 − ε] with ε = 2⁻⁵² (numpy's float64 eps), so a probability of exactly 0
 *   on the true class costs −log ε ≈ 36.04 instead of ∞;
 * - rows that do not sum to 1 (within √ε relative) are not renormalised (scikit-learn < 1.5 renormalised them):
 *   a warning is reported and the loss computed as given; values outside [0, 1] are an error;
 * - the columns are the classes in sorted order (or `labels`); a vector of n values is P(the larger class)
 *   of a binary problem; `normalize` (default true) gives the weighted mean, false the weighted sum.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { checkLabels, uniqueLabels } from "../models/labels.js";
import { Warnings, finiteNumbers, sampleWeights } from "./checks.js";
import type { ScoreMatrix } from "./ranking.js";

const EPSILON = 2 ** -52;

export interface LogLossOptions {
  /** The classes of the probability columns (default: the sorted labels of yTrue); needed when yTrue lacks some. */
  labels?: readonly Label[];
  /** Mean (default) or sum. */
  normalize?: boolean;
  sampleWeight?: ArrayLike<number>;
  onWarning?: (message: string) => void;
}

export function logLoss(yTrue: readonly Label[], yProb: ScoreMatrix, options: LogLossOptions = {}): number {
  const n = yTrue.length;
  if (n === 0) throw new MlError("yTrue is empty");
  checkLabels(yTrue, "yTrue");
  const classes = options.labels === undefined ? uniqueLabels(yTrue) : uniqueLabels(options.labels);
  if (classes.length < 2) {
    throw new MlError(
      options.labels === undefined
        ? `yTrue has only the label ${JSON.stringify(classes[0])}: pass labels to name the classes of the columns`
        : "labels must hold at least 2 classes",
    );
  }
  const index = new Map<Label, number>();
  classes.forEach((c, k) => index.set(c, k));
  const { data, cols } = probabilityMatrix(yProb, n);
  if (cols !== classes.length) {
    throw new MlError(`yProb has ${cols} columns but there are ${classes.length} classes (${JSON.stringify(classes)})`);
  }
  const weights = sampleWeights(options.sampleWeight, n);
  const warnings = new Warnings(options.onWarning);
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let k = 0; k < cols; k++) {
      const p = data[i * cols + k] as number;
      if (p < 0 || p > 1) throw new MlError(`yProb has ${p} at row ${i}, column ${k}: probabilities must be in [0, 1]`);
      rowSum += p;
    }
    if (!(Math.abs(rowSum - 1) <= Math.sqrt(EPSILON) * Math.abs(rowSum))) {
      warnings.add("The yProb values do not sum to one. Make sure to pass probabilities.");
    }
    const k = index.get(yTrue[i] as Label);
    if (k === undefined) throw new MlError(`yTrue[${i}] = ${JSON.stringify(yTrue[i])} is not one of the labels`);
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, data[i * cols + k] as number));
    const w = weights[i] as number;
    total -= w * Math.log(p);
    weightSum += w;
  }
  if (options.normalize === false) return total;
  if (!(weightSum > 0)) throw new MlError("the sample weights sum to 0");
  return total / weightSum;
}

/** n × k probabilities; a vector of n values becomes the two columns [1 − p, p]. */
function probabilityMatrix(yProb: ScoreMatrix, n: number): { data: Float64Array; cols: number } {
  const first: unknown = yProb[0];
  if (Array.isArray(first)) {
    const rows = yProb as readonly (readonly number[])[];
    if (rows.length !== n) throw new MlError(`yProb has ${rows.length} rows but yTrue has ${n} values`);
    const cols = first.length;
    const data = new Float64Array(n * cols);
    rows.forEach((row, i) => {
      if (row.length !== cols) throw new MlError(`yProb row ${i} has ${row.length} values, expected ${cols}`);
      data.set(finiteNumbers(row, `yProb row ${i}`), i * cols);
    });
    return cols === 1 ? twoColumns(data) : { data, cols };
  }
  const flat = finiteNumbers(yProb as ArrayLike<number>, "yProb");
  if (flat.length === n) return twoColumns(flat);
  if (flat.length % n !== 0) {
    throw new MlError(`yProb has ${flat.length} values, which is not a multiple of the ${n} values of yTrue`);
  }
  return { data: flat, cols: flat.length / n };
}

function twoColumns(p: Float64Array): { data: Float64Array; cols: number } {
  const data = new Float64Array(p.length * 2);
  p.forEach((v, i) => {
    data[2 * i] = 1 - v;
    data[2 * i + 1] = v;
  });
  return { data, cols: 2 };
}
