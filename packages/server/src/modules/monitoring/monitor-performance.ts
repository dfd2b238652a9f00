/**
 * Performance of a window's labelled rows (accuracy, F1, ROC AUC with `@slipway/ml`'s metrics) against a baseline,
 * latency quantiles, and how model outputs become columns. Pure functions: no I/O.
 *
 * Outputs as columns: a scalar output (string, number, boolean) is the column `prediction`; an object output's
 * scalar fields are the columns `prediction.<key>`; anything else (arrays, nested objects) is left out.
 *
 * The predicted class of a row is its scalar output, or the object field `prediction_key` (default: the first of
 * `label`, `prediction`, `class`, `predicted_label` present); the positive class's score, for ROC AUC, is the object
 * field `score_key` (default: the first of `probability`, `score`, `p`, `proba` that is a number).
 */
import { accuracyScore, f1Score, rocAucScore, uniqueLabels, type Label } from "@slipway/ml";
import {
  MONITOR_METRICS,
  type MetricSummary,
  type MonitorFinding,
  type MonitorMetric,
  type MonitorMetricOptions,
  type PerformanceSummary,
} from "@slipway/protocol";

export const PREDICTION_COLUMN = "prediction";
const PREDICTION_KEYS = ["label", "prediction", "class", "predicted_label"];
const SCORE_KEYS = ["probability", "score", "p", "proba"];
export const DEFAULT_MAX_DROP = 0.05;
export const DEFAULT_MIN_LABELS = 20;

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An output as prediction columns (see the file comment); `{}` when it has none. */
export function predictionColumns(output: unknown): Record<string, unknown> {
  if (isScalar(output)) return { [PREDICTION_COLUMN]: output };
  if (!isPlainObject(output)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(output)) {
    if (isScalar(value) || value === null) out[`${PREDICTION_COLUMN}.${key}`] = value;
  }
  return out;
}

/** Whether a column name is a prediction column (`prediction`, `prediction.<key>`). */
export function isPredictionColumn(name: string): boolean {
  return name === PREDICTION_COLUMN || name.startsWith(`${PREDICTION_COLUMN}.`);
}

/** The predicted class of an output, or undefined. */
export function predictedClass(output: unknown, key?: string): string | number | boolean | undefined {
  if (isScalar(output)) return output;
  if (!isPlainObject(output)) return undefined;
  for (const k of key === undefined ? PREDICTION_KEYS : [key]) {
    const value = output[k];
    if (isScalar(value)) return value;
  }
  return undefined;
}

/** The positive class's score of an output, or undefined. */
export function positiveScore(output: unknown, key?: string): number | undefined {
  if (!isPlainObject(output)) return undefined;
  for (const k of key === undefined ? SCORE_KEYS : [key]) {
    const value = output[k];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return undefined;
}

/** A metric's value in a run's metrics: `m`, else `test_m`, `eval_m`, `val_m` or `validation_m`. */
export function baselineFromRunMetrics(
  metrics: readonly { key: string; value: number }[],
): Partial<Record<MonitorMetric, number>> {
  const byKey = new Map(metrics.map((m) => [m.key, m.value]));
  const out: Partial<Record<MonitorMetric, number>> = {};
  for (const name of MONITOR_METRICS) {
    const aliases = name === "f1" ? ["f1", "f1_score"] : [name];
    for (const prefix of ["", "test_", "eval_", "val_", "validation_"]) {
      const hit = aliases.map((a) => byKey.get(prefix + a)).find((v) => v !== undefined && Number.isFinite(v));
      if (hit !== undefined) {
        out[name] = hit;
        break;
      }
    }
  }
  return out;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly (NumPy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

/** Labels as the metrics take them: numbers stay numbers; otherwise everything becomes text. */
function asLabels(values: readonly (string | number | boolean)[]): Label[] {
  if (values.every((v) => typeof v === "number")) return values as number[];
  return values.map((v) => String(v));
}

function choosePositive(classes: readonly Label[], given: string | number | boolean | undefined): Label | undefined {
  if (given !== undefined) {
    const match = classes.find((c) => String(c) === String(given));
    return match ?? (typeof classes[0] === "number" && typeof given === "number" ? given : String(given));
  }
  for (const candidate of [1, "1", "true"]) {
    const match = classes.find((c) => c === candidate);
    if (match !== undefined) return match;
  }
  return classes.length === 2 ? classes[1] : undefined;
}

export interface LabelledRow {
  label: unknown;
  output: unknown;
}

export interface PerformanceResult {
  summary: PerformanceSummary;
  findings: MonitorFinding[];
  values: Partial<Record<MonitorMetric, number>>;
}

function attempt(compute: () => number): number | null {
  try {
    const value = compute();
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Accuracy, F1 (binary on the positive class with two classes, macro-averaged with more) and ROC AUC (binary, when
 * scores are there) of the labelled rows, each compared with its baseline.
 */
export function evaluatePerformance(
  rows: readonly LabelledRow[],
  options: MonitorMetricOptions,
  baseline: Partial<Record<MonitorMetric, number>>,
): PerformanceResult {
  const findings: MonitorFinding[] = [];
  const maxDrop = options.max_drop ?? DEFAULT_MAX_DROP;
  const minLabels = options.min_labels ?? DEFAULT_MIN_LABELS;
  const truthRaw: (string | number | boolean)[] = [];
  const predRaw: (string | number | boolean)[] = [];
  const scores: (number | undefined)[] = [];
  let unusableLabels = 0;
  let noPrediction = 0;
  for (const row of rows) {
    if (!isScalar(row.label) || (typeof row.label === "number" && !Number.isFinite(row.label))) {
      unusableLabels++;
      continue;
    }
    const predicted = predictedClass(row.output, options.prediction_key);
    if (predicted === undefined) {
      noPrediction++;
      continue;
    }
    truthRaw.push(row.label);
    predRaw.push(predicted);
    scores.push(positiveScore(row.output, options.score_key));
  }
  if (unusableLabels > 0) {
    findings.push({
      kind: "unusable_labels",
      message: `${unusableLabels} label(s) are not a class (string, number or boolean): left out of the metrics`,
    });
  }
  if (noPrediction > 0) {
    findings.push({
      kind: "no_predicted_class",
      message: `${noPrediction} labelled row(s) have no predicted class in their output${options.prediction_key === undefined ? ` (looked for a scalar output or the fields ${PREDICTION_KEYS.join(", ")})` : ` (field '${options.prediction_key}')`}`,
    });
  }
  // one kind for both sides, so that the label true and the prediction "true" are the same class
  const mixed = asLabels([...truthRaw, ...predRaw]);
  const truth = mixed.slice(0, truthRaw.length);
  const pred = mixed.slice(truthRaw.length);
  const classes = truth.length === 0 ? [] : uniqueLabels(truth, pred);
  const positive = choosePositive(classes, options.positive_label);
  const values: Partial<Record<MonitorMetric, number>> = {};
  const computed: Record<MonitorMetric, number | null> = { accuracy: null, f1: null, roc_auc: null };
  if (truth.length > 0) {
    computed.accuracy = attempt(() => accuracyScore(truth, pred));
    computed.f1 =
      classes.length <= 2 && positive !== undefined
        ? attempt(() => f1Score(truth, pred, { posLabel: positive, zeroDivision: 0 }))
        : attempt(() => f1Score(truth, pred, { average: "macro", zeroDivision: 0 }));
    const scored = truth.map((t, i) => [t, scores[i]] as const).filter((p) => p[1] !== undefined);
    const truthClasses = new Set(truth.map(String));
    if (scored.length > 0 && positive !== undefined && truthClasses.size === 2 && classes.length <= 2) {
      const binary = scored.map(([t]) => (t === positive ? 1 : 0));
      if (new Set(binary).size === 2)
        computed.roc_auc = attempt(() =>
          rocAucScore(
            binary,
            scored.map((p) => p[1]!),
          ),
        );
    }
    if (computed.roc_auc === null && scored.length > 0 && truthClasses.size < 2) {
      findings.push({
        kind: "one_class_labels",
        message: `every label is ${JSON.stringify(truthRaw[0])}: ROC AUC needs both classes`,
      });
    }
  }
  const metrics: Record<string, MetricSummary> = {};
  let degraded: boolean | null = null;
  for (const name of MONITOR_METRICS) {
    const value = computed[name];
    if (value !== null) values[name] = value;
    const base = options.baseline?.[name] ?? baseline[name] ?? null;
    if (value === null && base === null) continue;
    const drop = value !== null && base !== null ? base - value : null;
    // a drop exactly at max_drop is not a degradation (1e-12 absorbs float rounding: 0.8 − 0.75 = 0.05000000000000004)
    const decided = drop !== null && truth.length >= minLabels ? drop > maxDrop + 1e-12 : null;
    if (decided !== null) degraded = (degraded ?? false) || decided;
    metrics[name] = { value, baseline: base, drop, degraded: decided };
  }
  if (truth.length > 0 && truth.length < minLabels) {
    findings.push({
      kind: "few_labels",
      message: `only ${truth.length} labelled row(s) (fewer than ${minLabels}): metrics are reported but not compared with the baseline`,
    });
  }
  if (truth.length > 0 && Object.values(metrics).every((m) => m.baseline === null)) {
    findings.push({
      kind: "no_baseline",
      message:
        "no baseline metrics: set metrics.baseline, or log accuracy / f1 / roc_auc (or test_…) in the model version's run",
    });
  }
  const summary: PerformanceSummary = {
    labelled: truth.length,
    ...(positive === undefined ? {} : { positive_label: positive }),
    max_drop: maxDrop,
    metrics,
    degraded,
  };
  return { summary, findings, values };
}
