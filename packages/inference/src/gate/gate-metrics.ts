/**
 * The metrics a gate compares, computed with `@slipway/ml` (scikit-learn's definitions), optionally
 * weighted: a bootstrap resample is the same rows with weights (how many times each row was drawn), so
 * one code path serves the point estimate and the resamples.
 *
 * - classifiers: accuracy, precision, recall, f1 (of `positiveLabel` when given, else the macro average
 *   over the labels of the data and the predictions), roc_auc and log_loss (only when the model outputs
 *   class probabilities whose classes are known; columns in sorted class order);
 * - regressors: rmse, mae, r2.
 *
 * rmse, mae and log_loss are lower-is-better; the others higher-is-better.
 */
import {
  accuracyScore,
  f1Score,
  logLoss,
  meanAbsoluteError,
  MlError,
  precisionScore,
  r2Score,
  recallScore,
  rocAucScore,
  rootMeanSquaredError,
  type Label,
  type ScoreOptions,
} from "@slipway/ml";

export const CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"] as const;
export const REGRESSION_METRICS = ["rmse", "mae", "r2"] as const;
export const GATE_METRICS = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS] as const;

export type GateMetric = (typeof GATE_METRICS)[number];
export type GateTask = "classification" | "regression";

const LOWER_IS_BETTER: ReadonlySet<GateMetric> = new Set<GateMetric>(["rmse", "mae", "log_loss"]);

export function isGateMetric(name: string): name is GateMetric {
  return (GATE_METRICS as readonly string[]).includes(name);
}

export function higherIsBetter(metric: GateMetric): boolean {
  return !LOWER_IS_BETTER.has(metric);
}

export function metricsOf(task: GateTask): readonly GateMetric[] {
  return task === "classification" ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
}

/** Class probabilities, `n × classes.length`, row-major, columns in the (sorted) order of `classes`. */
export interface ClassProbabilities {
  readonly classes: readonly Label[];
  readonly values: Float64Array;
}

/** What one model predicted for the gate's rows. */
export type ModelPredictions =
  | {
      readonly task: "classification";
      readonly labels: readonly Label[];
      readonly probabilities?: ClassProbabilities;
    }
  | { readonly task: "regression"; readonly values: Float64Array };

/** The true values of the gate's rows. */
export type Truth =
  | { readonly task: "classification"; readonly labels: readonly Label[] }
  | { readonly task: "regression"; readonly values: Float64Array };

export interface MetricOptions {
  /** Score precision, recall and f1 for this class only (else the macro average). */
  readonly positiveLabel?: Label;
  /** One weight per row (a bootstrap resample's draw counts). */
  readonly weights?: Float64Array;
}

/** Why a metric has no value for these predictions, or undefined when it has one. */
export function metricUnavailable(metric: GateMetric, truth: Truth, predictions: ModelPredictions): string | undefined {
  if (!metricsOf(truth.task).includes(metric)) {
    return `${metric} is a ${truth.task === "classification" ? "regression" : "classification"} metric`;
  }
  if ((metric === "roc_auc" || metric === "log_loss") && predictions.task === "classification") {
    if (!predictions.probabilities) return `${metric} needs class probabilities, which the model does not output`;
    const known = new Set(predictions.probabilities.classes);
    const unknown = truth.task === "classification" ? truth.labels.find((l) => !known.has(l)) : undefined;
    if (unknown !== undefined) {
      return `${metric} needs every true label among the model's classes, and ${JSON.stringify(unknown)} is not`;
    }
  }
  return undefined;
}

function scoreOptions(options: MetricOptions): ScoreOptions {
  return {
    zeroDivision: 0,
    ...(options.positiveLabel === undefined
      ? { average: "macro" as const }
      : { average: "macro" as const, labels: [options.positiveLabel] }),
    ...(options.weights ? { sampleWeight: options.weights } : {}),
  };
}

/**
 * The metric's value; throws (an `MlError`) when it is not defined on these rows (ROC AUC with one class
 * present). Call `metricUnavailable` first for the reasons that do not depend on the rows drawn.
 */
export function computeMetric(
  metric: GateMetric,
  truth: Truth,
  predictions: ModelPredictions,
  options: MetricOptions = {},
): number {
  const weights = options.weights ? { sampleWeight: options.weights } : {};
  if (truth.task === "regression" || predictions.task === "regression") {
    if (truth.task !== "regression" || predictions.task !== "regression") {
      throw new Error(`a ${truth.task} truth with ${predictions.task} predictions`);
    }
    switch (metric) {
      case "rmse":
        return rootMeanSquaredError(truth.values, predictions.values, weights);
      case "mae":
        return meanAbsoluteError(truth.values, predictions.values, weights);
      case "r2":
        return r2Score(truth.values, predictions.values, weights);
      default:
        throw new Error(`${metric} is not a regression metric`);
    }
  }
  const y = truth.labels;
  const p = predictions.labels;
  switch (metric) {
    case "accuracy":
      return accuracyScore(y, p, weights);
    case "precision":
      return precisionScore(y, p, scoreOptions(options));
    case "recall":
      return recallScore(y, p, scoreOptions(options));
    case "f1":
      return f1Score(y, p, scoreOptions(options));
    case "roc_auc":
    case "log_loss": {
      const probabilities = predictions.probabilities;
      if (!probabilities) throw new Error(`${metric} needs class probabilities`);
      const labels = { labels: probabilities.classes };
      return metric === "roc_auc"
        ? rocAucScore(y, probabilities.values, probabilities.classes.length > 2 ? { ...labels, ...weights } : weights)
        : logLoss(y, probabilities.values, { ...labels, ...weights });
    }
    default:
      throw new Error(`${metric} is not a classification metric`);
  }
}

export type MetricResult = { value: number } | { value: null; reason: string };

/**
 * `computeMetric`, or null with the reason when the metric is not defined on these rows (one class
 * present, R² of one row); errors other than `@slipway/ml`'s are thrown.
 */
export function tryMetric(
  metric: GateMetric,
  truth: Truth,
  predictions: ModelPredictions,
  options: MetricOptions = {},
): MetricResult {
  let value: number;
  try {
    value = computeMetric(metric, truth, predictions, options);
  } catch (error) {
    if (error instanceof MlError) return { value: null, reason: error.message };
    throw error;
  }
  return Number.isFinite(value) ? { value } : { value: null, reason: `${metric} is not defined on these rows` };
}
