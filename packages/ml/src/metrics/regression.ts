/**
 * Regression metrics, as scikit-learn's `mean_absolute_error`, `mean_squared_error`,
 * `root_mean_squared_error` and `r2_score` (single target, optional sample weights).
 *
 * R² = 1 − Σ w·(y − ŷ)² / Σ w·(y − ȳ_w)². When y is constant the denominator is 0 and, like scikit-learn's
 * default `force_finite=True`, R² is 1 for a perfect prediction and 0 otherwise (not NaN or −∞). With fewer
 * than 2 samples R² is undefined: NaN and a warning, as scikit-learn.
 */
import { MlError } from "../core/errors.js";
import { Warnings, checkLengths, finiteNumbers, sampleWeights } from "./checks.js";

export interface RegressionMetricOptions {
  sampleWeight?: ArrayLike<number>;
}

function prepare(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: RegressionMetricOptions,
): { t: Float64Array; p: Float64Array; w: Float64Array; total: number } {
  const n = checkLengths({ yTrue, yPred });
  const t = finiteNumbers(yTrue, "yTrue");
  const p = finiteNumbers(yPred, "yPred");
  const w = sampleWeights(options.sampleWeight, n);
  let total = 0;
  for (const v of w) total += v;
  if (!(total > 0)) throw new MlError("the sample weights sum to 0");
  return { t, p, w, total };
}

export function meanAbsoluteError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: RegressionMetricOptions = {},
): number {
  const { t, p, w, total } = prepare(yTrue, yPred, options);
  let sum = 0;
  for (let i = 0; i < t.length; i++) sum += (w[i] as number) * Math.abs((t[i] as number) - (p[i] as number));
  return sum / total;
}

export function meanSquaredError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: RegressionMetricOptions = {},
): number {
  const { t, p, w, total } = prepare(yTrue, yPred, options);
  let sum = 0;
  for (let i = 0; i < t.length; i++) sum += (w[i] as number) * ((t[i] as number) - (p[i] as number)) ** 2;
  return sum / total;
}

export function rootMeanSquaredError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: RegressionMetricOptions = {},
): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred, options));
}

export function r2Score(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: RegressionMetricOptions & { onWarning?: (message: string) => void } = {},
): number {
  const { t, p, w, total } = prepare(yTrue, yPred, options);
  if (t.length < 2) {
    new Warnings(options.onWarning).add("R² is not well-defined with fewer than two samples");
    return Number.NaN;
  }
  let mean = 0;
  for (let i = 0; i < t.length; i++) mean += (w[i] as number) * (t[i] as number);
  mean /= total;
  let residual = 0;
  let spread = 0;
  for (let i = 0; i < t.length; i++) {
    residual += (w[i] as number) * ((t[i] as number) - (p[i] as number)) ** 2;
    spread += (w[i] as number) * ((t[i] as number) - mean) ** 2;
  }
  if (spread === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / spread;
}
