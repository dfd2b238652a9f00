/**
 * Classification metrics on label arrays, as scikit-learn's `accuracy_score`, `confusion_matrix`,
 * `precision_recall_fscore_support`, `precision_score`, `recall_score`, `f1_score` and `fbeta_score`
 * (scikit-learn ≥ 1.3 semantics).
 *
 * - Labels are numbers or strings (not mixed) and are treated as categories; the label set is the sorted union
 *   of y_true and y_pred (numpy.unique order) unless `labels` is given.
 * - `average`: `binary` (default for the scalar scores: only `posLabel`, default 1, is scored; y must have at
 *   most 2 distinct labels), `micro` (global counts), `macro` (unweighted mean over labels), `weighted` (mean
 *   weighted by each label's support); per-label values come from `precisionRecallFscoreSupport`.
 * - F-beta = (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp); β = 0 gives precision, β = ∞ recall.
 * - zero_division: a ratio with a zero denominator (precision with no predicted samples, recall with no true
 *   samples, F with neither) takes `zeroDivision`: "warn" (default) gives 0 and a warning like scikit-learn's
 *   UndefinedMetricWarning, reported in `warnings` or through `onWarning`; 0 or 1 give that value silently;
 *   "nan" gives NaN, and averages then skip NaN entries (scikit-learn's np.nan). A weighted average whose
 *   supports are all 0 falls back to the unweighted mean, as scikit-learn's `_nanaverage`.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { checkLabels, labelText, uniqueLabels } from "../models/labels.js";
import type { ZeroDivision } from "./checks.js";
import { Warnings, checkLengths, sampleWeights, zeroDivisionValue } from "./checks.js";

export type Average = "binary" | "micro" | "macro" | "weighted";

export interface ScoreOptions {
  /** How to reduce per-label scores (default "binary"). */
  average?: Average;
  /** The positive label for average "binary" (default 1). */
  posLabel?: Label;
  /** The labels to score, in this order (default: the sorted union of yTrue and yPred). */
  labels?: readonly Label[];
  sampleWeight?: ArrayLike<number>;
  /** Value of undefined ratios (default "warn": 0 with a warning). */
  zeroDivision?: ZeroDivision;
  /** Receives each warning (scikit-learn's UndefinedMetricWarning). */
  onWarning?: (message: string) => void;
}

export interface PerLabelScores {
  labels: Label[];
  precision: number[];
  recall: number[];
  fScore: number[];
  /** Σ sample weights of each label in yTrue. */
  support: number[];
  warnings: string[];
}

export interface AveragedScores {
  precision: number;
  recall: number;
  fScore: number;
  warnings: string[];
}

/** Fraction (or, with normalize false, weighted count) of exact matches. */
export function accuracyScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: { normalize?: boolean; sampleWeight?: ArrayLike<number> } = {},
): number {
  const n = checkLengths({ yTrue, yPred });
  checkLabelPair(yTrue, yPred);
  const w = sampleWeights(options.sampleWeight, n);
  let correct = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += w[i] as number;
    if (yTrue[i] === yPred[i]) correct += w[i] as number;
  }
  return options.normalize === false ? correct : correct / total;
}

export interface ConfusionMatrixOptions {
  /** Rows and columns in this order (default: the sorted union of yTrue and yPred). */
  labels?: readonly Label[];
  sampleWeight?: ArrayLike<number>;
  /** Normalise over true labels (rows), predicted labels (columns) or everything; 0/0 becomes 0. */
  normalize?: "true" | "pred" | "all";
}

/** C[i][j]: (weighted) count of samples of true label i predicted as label j; samples of other labels are ignored. */
export function confusionMatrix(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: ConfusionMatrixOptions = {},
): { labels: Label[]; matrix: number[][] } {
  const n = checkLengths({ yTrue, yPred }, true);
  checkLabelPair(yTrue, yPred);
  let labels: Label[];
  if (options.labels === undefined) {
    labels = uniqueLabels(yTrue, yPred);
  } else {
    labels = [...options.labels];
    checkLabels(labels, "labels");
    if (labels.length === 0) throw new MlError("labels must hold at least one label");
    if (n > 0 && !labels.some((l) => yTrue.includes(l))) {
      throw new MlError("none of the labels given occurs in yTrue");
    }
  }
  const w = sampleWeights(options.sampleWeight, n);
  const index = labelIndex(labels);
  const k = labels.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    const t = index.get(yTrue[i] as Label);
    const p = index.get(yPred[i] as Label);
    if (t === undefined || p === undefined) continue;
    const row = matrix[t] as number[];
    row[p] = (row[p] as number) + (w[i] as number);
  }
  if (options.normalize !== undefined) normalizeMatrix(matrix, options.normalize);
  return { labels, matrix };
}

function normalizeMatrix(matrix: number[][], how: "true" | "pred" | "all"): void {
  const k = matrix.length;
  const divide = (v: number, d: number): number => (d === 0 ? 0 : v / d);
  if (how === "all") {
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    matrix.forEach((row, i) => (matrix[i] = row.map((v) => divide(v, total))));
  } else if (how === "true") {
    matrix.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      matrix[i] = row.map((v) => divide(v, total));
    });
  } else if (how === "pred") {
    for (let j = 0; j < k; j++) {
      let total = 0;
      for (const row of matrix) total += row[j] as number;
      for (const row of matrix) row[j] = divide(row[j] as number, total);
    }
  } else {
    throw new MlError(`normalize must be "true", "pred" or "all", got ${JSON.stringify(how)}`);
  }
}

interface Counts {
  labels: Label[];
  tp: number[];
  predicted: number[];
  actual: number[];
}

/** tp, predicted and true sums per label (the diagonal, column and row sums of the confusion matrix). */
function countsPerLabel(yTrue: readonly Label[], yPred: readonly Label[], labels: Label[], w: Float64Array): Counts {
  const index = labelIndex(labels);
  const tp = new Array<number>(labels.length).fill(0);
  const predicted = new Array<number>(labels.length).fill(0);
  const actual = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const wi = w[i] as number;
    const t = index.get(yTrue[i] as Label);
    const p = index.get(yPred[i] as Label);
    if (t !== undefined) actual[t] = (actual[t] as number) + wi;
    if (p !== undefined) predicted[p] = (predicted[p] as number) + wi;
    if (t !== undefined && t === p) tp[t] = (tp[t] as number) + wi;
  }
  return { labels, tp, predicted, actual };
}

/** The labels scored under `average`, with scikit-learn's checks of binary targets and posLabel. */
function scoredLabels(yTrue: readonly Label[], yPred: readonly Label[], options: ScoreOptions): Label[] {
  const average = options.average ?? "binary";
  const present = uniqueLabels(yTrue, yPred);
  if (average === "binary") {
    const posLabel = options.posLabel ?? 1;
    if (present.length > 2) {
      throw new MlError(
        `the target is multiclass (${present.length} labels) but average is "binary": choose "micro", "macro" or "weighted"`,
      );
    }
    if (!present.includes(posLabel) && present.length >= 2) {
      throw new MlError(
        `posLabel=${JSON.stringify(posLabel)} is not a valid label: it should be one of ${JSON.stringify(present)}`,
      );
    }
    return [posLabel];
  }
  if (average !== "micro" && average !== "macro" && average !== "weighted") {
    throw new MlError(`average must be "binary", "micro", "macro" or "weighted", got ${JSON.stringify(average)}`);
  }
  if (options.labels === undefined) return present;
  checkLabels(options.labels, "labels");
  return [...options.labels];
}

interface Ratios {
  precision: number[];
  recall: number[];
  fScore: number[];
}

function ratios(
  counts: Counts,
  beta: number,
  zeroDivision: ZeroDivision,
  warnings: Warnings,
  warnFor: Set<string>,
  average: string,
): Ratios {
  if (!(beta >= 0)) throw new MlError(`beta must be ≥ 0, got ${beta}`);
  const zero = zeroDivisionValue(zeroDivision);
  const warn = zeroDivision === "warn";
  const undefinedIn = (what: string, modifier: string): void => {
    const subject = what === "precision" ? "Precision" : what === "recall" ? "Recall" : "F-score";
    const where = average === "micro" ? "due to" : "in labels with";
    warnings.add(
      `${subject} is ill-defined and being set to 0.0 ${where} no ${modifier} samples. ` +
        "Use the zeroDivision option to control this behavior.",
    );
  };
  const divide = (num: number, den: number, what: string, modifier: string): number => {
    if (den !== 0) return num / den;
    if (warn && warnFor.has(what)) undefinedIn(what, modifier);
    return zero;
  };
  const precision = counts.tp.map((tp, k) => divide(tp, counts.predicted[k] as number, "precision", "predicted"));
  const recall = counts.tp.map((tp, k) => divide(tp, counts.actual[k] as number, "recall", "true"));
  const b2 = beta * beta;
  const fScore =
    beta === Infinity
      ? [...recall]
      : beta === 0
        ? [...precision]
        : counts.tp.map((tp, k) =>
            divide(
              (1 + b2) * tp,
              b2 * (counts.actual[k] as number) + (counts.predicted[k] as number),
              "f-score",
              "true nor predicted",
            ),
          );
  return { precision, recall, fScore };
}

/** Mean skipping NaN; weighted when weights are given and do not all vanish (scikit-learn's _nanaverage). */
function nanAverage(values: number[], weights?: number[]): number {
  const keep = values.map((v, i) => [v, weights?.[i] ?? 1] as const).filter(([v]) => !Number.isNaN(v));
  if (keep.length === 0) return Number.NaN;
  const totalWeight = keep.reduce((a, [, w]) => a + w, 0);
  if (weights === undefined || totalWeight === 0) return keep.reduce((a, [v]) => a + v, 0) / keep.length;
  return keep.reduce((a, [v, w]) => a + v * w, 0) / totalWeight;
}

/** Per-label precision, recall, F-beta and support (scikit-learn's precision_recall_fscore_support, average=None). */
export function precisionRecallFscoreSupport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: Omit<ScoreOptions, "average" | "posLabel"> & { beta?: number } = {},
): PerLabelScores {
  const n = checkLengths({ yTrue, yPred });
  checkLabelPair(yTrue, yPred);
  const labels = scoredLabels(yTrue, yPred, { ...options, average: "macro" });
  const counts = countsPerLabel(yTrue, yPred, labels, sampleWeights(options.sampleWeight, n));
  const warnings = new Warnings(options.onWarning);
  const r = ratios(
    counts,
    options.beta ?? 1,
    options.zeroDivision ?? "warn",
    warnings,
    new Set(["precision", "recall", "f-score"]),
    "none",
  );
  return { labels, ...r, support: counts.actual, warnings: warnings.messages };
}

function averaged(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: ScoreOptions,
  beta: number,
  warnFor: readonly string[],
): AveragedScores {
  const n = checkLengths({ yTrue, yPred });
  checkLabelPair(yTrue, yPred);
  const average = options.average ?? "binary";
  const labels = scoredLabels(yTrue, yPred, options);
  let counts = countsPerLabel(yTrue, yPred, labels, sampleWeights(options.sampleWeight, n));
  const support = counts.actual;
  if (average === "micro") {
    const sum = (a: number[]): number[] => [a.reduce((x, y) => x + y, 0)];
    counts = { labels, tp: sum(counts.tp), predicted: sum(counts.predicted), actual: sum(counts.actual) };
  }
  const warnings = new Warnings(options.onWarning);
  const r = ratios(counts, beta, options.zeroDivision ?? "warn", warnings, new Set(warnFor), average);
  const weights = average === "weighted" ? support : undefined;
  return {
    precision: nanAverage(r.precision, weights),
    recall: nanAverage(r.recall, weights),
    fScore: nanAverage(r.fScore, weights),
    warnings: warnings.messages,
  };
}

/** Precision, recall and F-beta reduced by `average` (default "binary"), with the warnings raised. */
export function precisionRecallFscore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: ScoreOptions & { beta?: number } = {},
): AveragedScores {
  return averaged(yTrue, yPred, options, options.beta ?? 1, ["precision", "recall", "f-score"]);
}

export function precisionScore(yTrue: readonly Label[], yPred: readonly Label[], options: ScoreOptions = {}): number {
  return averaged(yTrue, yPred, options, 1, ["precision"]).precision;
}

export function recallScore(yTrue: readonly Label[], yPred: readonly Label[], options: ScoreOptions = {}): number {
  return averaged(yTrue, yPred, options, 1, ["recall"]).recall;
}

export function fbetaScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  beta: number,
  options: ScoreOptions = {},
): number {
  return averaged(yTrue, yPred, options, beta, ["f-score"]).fScore;
}

export function f1Score(yTrue: readonly Label[], yPred: readonly Label[], options: ScoreOptions = {}): number {
  return fbetaScore(yTrue, yPred, 1, options);
}

function labelIndex(labels: readonly Label[]): Map<Label, number> {
  const index = new Map<Label, number>();
  labels.forEach((l, i) => {
    if (index.has(l)) throw new MlError(`labels has ${labelText(l)} twice`);
    index.set(l, i);
  });
  return index;
}

/** Both arrays hold labels of one kind. */
function checkLabelPair(yTrue: readonly Label[], yPred: readonly Label[]): void {
  const a = checkLabels(yTrue, "yTrue");
  const b = checkLabels(yPred, "yPred");
  if (a !== "empty" && b !== "empty" && a !== b) {
    throw new MlError(`yTrue holds ${a}s but yPred holds ${b}s: labels must be of one kind`);
  }
}
