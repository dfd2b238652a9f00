/**
 * Ranking metrics on scores, as scikit-learn's `roc_curve`, `roc_auc_score`, `precision_recall_curve`,
 * `average_precision_score` and `auc` (scikit-learn ≥ 1.3: the ROC curve's first threshold is +∞).
 *
 * The curves come from one pass over the scores sorted in decreasing order, with one point per distinct score
 * (tied scores move true and false positives together, so ties make diagonal segments, exactly as scikit-learn's
 * `_binary_clf_curve`); samples of weight 0 are dropped first.
 * - ROC AUC: the trapezoidal area under (fpr, tpr). Binary y: the positive class is the larger of the two labels
 *   (scikit-learn's label_binarize); multiclass: one-vs-rest over probability columns (rows must sum to 1),
 *   averaged by `macro` (default) or `weighted` (by prevalence). One-vs-one, micro averaging and `max_fpr` are
 *   not implemented.
 * - Average precision: the step-wise Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the precision-recall curve (not the trapezoid),
 *   `posLabel` default 1; multiclass one-vs-rest as for ROC AUC.
 * Scores: a number per sample for binary problems; for multiclass, n × nClasses probabilities as rows or
 * row-major flat (e.g. `predictProba` output), columns in the order of the sorted labels (or `labels`). For a
 * binary y, a 2-column score matrix is read as its second column (scikit-learn would refuse it).
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { checkLabels, uniqueLabels } from "../models/labels.js";
import { Warnings, checkLengths, finiteNumbers, sampleWeights } from "./checks.js";

export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Decreasing; thresholds[0] = +∞ (the point (0, 0)). */
  thresholds: Float64Array;
  warnings: string[];
}

export interface PrecisionRecallCurve {
  /** Ends with 1 (the point recall 0). */
  precision: Float64Array;
  /** Decreasing, ends with 0. */
  recall: Float64Array;
  /** Increasing; one fewer than precision and recall. */
  thresholds: Float64Array;
  warnings: string[];
}

export interface CurveOptions {
  /** The positive label (default 1, which y must then contain only with 0 or −1 beside it; see rocCurve). */
  posLabel?: Label;
  sampleWeight?: ArrayLike<number>;
  onWarning?: (message: string) => void;
}

export type ScoreMatrix = ArrayLike<number> | readonly (readonly number[])[];

interface BinaryCurve {
  fps: number[];
  tps: number[];
  thresholds: number[];
}

/** scikit-learn's _check_pos_label_consistency: without posLabel, labels must be {0, 1}, {−1, 1} or a subset. */
function resolvePosLabel(yTrue: readonly Label[], posLabel: Label | undefined): Label {
  if (posLabel !== undefined) return posLabel;
  const classes = uniqueLabels(yTrue);
  const ok = classes.every((c) => c === 0 || c === 1 || c === -1) && !(classes.includes(0) && classes.includes(-1));
  if (!ok) {
    throw new MlError(
      `yTrue takes values in ${JSON.stringify(classes)} and posLabel is not given: make yTrue take values in {0, 1} or {-1, 1}, or pass posLabel`,
    );
  }
  return 1;
}

function binaryCurve(yTrue: readonly Label[], yScore: ArrayLike<number>, options: CurveOptions): BinaryCurve {
  const n = checkLengths({ yTrue, yScore });
  const kind = checkLabels(yTrue, "yTrue");
  const classes = uniqueLabels(yTrue);
  if (classes.length > 2) throw new MlError(`yTrue has ${classes.length} labels: a curve needs a binary yTrue`);
  const scores = finiteNumbers(yScore, "yScore");
  const weights = sampleWeights(options.sampleWeight, n);
  const posLabel = resolvePosLabel(yTrue, options.posLabel);
  if (kind !== typeof posLabel) throw new MlError(`posLabel ${JSON.stringify(posLabel)} is not of the kind of yTrue`);
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => (weights[i] as number) !== 0);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (yTrue[i] === posLabel) tp += weights[i] as number;
    else fp += weights[i] as number;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(scores[i] as number);
    }
  }
  return { fps, tps, thresholds };
}

/**
 * The ROC curve of a binary problem. `dropIntermediate` (default true) drops points on straight segments, as
 * scikit-learn does; the area is the same either way.
 */
export function rocCurve(
  yTrue: readonly Label[],
  yScore: ArrayLike<number>,
  options: CurveOptions & { dropIntermediate?: boolean } = {},
): RocCurve {
  const warnings = new Warnings(options.onWarning);
  let { fps, tps, thresholds } = binaryCurve(yTrue, yScore, options);
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    // keep the ends and every point where the second difference of fps or tps is non-zero
    const keep = fps.map(
      (_, k) =>
        k === 0 ||
        k === fps.length - 1 ||
        (fps[k + 1] as number) - 2 * (fps[k] as number) + (fps[k - 1] as number) !== 0 ||
        (tps[k + 1] as number) - 2 * (tps[k] as number) + (tps[k - 1] as number) !== 0,
    );
    fps = fps.filter((_, k) => keep[k]);
    tps = tps.filter((_, k) => keep[k]);
    thresholds = thresholds.filter((_, k) => keep[k]);
  }
  const fpsAll = [0, ...fps];
  const tpsAll = [0, ...tps];
  const lastF = fpsAll[fpsAll.length - 1] as number;
  const lastT = tpsAll[tpsAll.length - 1] as number;
  if (!(lastF > 0)) warnings.add("No negative samples in yTrue: the false positive rate is meaningless (NaN)");
  if (!(lastT > 0)) warnings.add("No positive samples in yTrue: the true positive rate is meaningless (NaN)");
  return {
    fpr: Float64Array.from(fpsAll, (v) => (lastF > 0 ? v / lastF : Number.NaN)),
    tpr: Float64Array.from(tpsAll, (v) => (lastT > 0 ? v / lastT : Number.NaN)),
    thresholds: Float64Array.from([Infinity, ...thresholds]),
    warnings: warnings.messages,
  };
}

/** The area under a curve by the trapezoidal rule; x must be monotonic (increasing or decreasing). */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = checkLengths({ x, y });
  if (n < 2) throw new MlError(`at least 2 points are needed to compute the area under a curve, got ${n}`);
  let increasing = true;
  let decreasing = true;
  for (let i = 1; i < n; i++) {
    const dx = (x[i] as number) - (x[i - 1] as number);
    if (dx < 0) increasing = false;
    if (dx > 0) decreasing = false;
  }
  if (!increasing && !decreasing) throw new MlError("x is neither increasing nor decreasing");
  let area = 0;
  for (let i = 1; i < n; i++) {
    area += ((x[i] as number) - (x[i - 1] as number)) * (((y[i] as number) + (y[i - 1] as number)) / 2);
  }
  return increasing ? area : -area;
}

/** The precision-recall curve of a binary problem (scikit-learn's precision_recall_curve). */
export function precisionRecallCurve(
  yTrue: readonly Label[],
  yScore: ArrayLike<number>,
  options: CurveOptions = {},
): PrecisionRecallCurve {
  const warnings = new Warnings(options.onWarning);
  const { fps, tps, thresholds } = binaryCurve(yTrue, yScore, options);
  const m = tps.length;
  const lastT = tps[m - 1] ?? 0;
  if (!(lastT > 0)) warnings.add("No positive class found in yTrue: recall is set to one for all thresholds");
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  for (let k = 0; k < m; k++) {
    const tp = tps[m - 1 - k] as number;
    const predicted = tp + (fps[m - 1 - k] as number);
    precision[k] = predicted === 0 ? 0 : tp / predicted;
    recall[k] = lastT > 0 ? tp / lastT : 1;
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds: Float64Array.from(thresholds).reverse(), warnings: warnings.messages };
}

function binaryAveragePrecision(yTrue: readonly Label[], yScore: ArrayLike<number>, options: CurveOptions): number {
  const { precision, recall } = precisionRecallCurve(yTrue, yScore, options);
  let sum = 0;
  for (let k = 0; k + 1 < recall.length; k++) {
    sum -= ((recall[k + 1] as number) - (recall[k] as number)) * (precision[k] as number);
  }
  return Math.max(0, sum);
}

function binaryRocAuc(yTrue: readonly Label[], yScore: ArrayLike<number>, options: CurveOptions): number {
  if (uniqueLabels(yTrue).length !== 2) {
    throw new MlError("Only one class present in yTrue: ROC AUC is not defined in that case");
  }
  const { fpr, tpr } = rocCurve(yTrue, yScore, options);
  return auc(fpr, tpr);
}

export interface AucOptions {
  /** Multiclass: the classes of the score columns, sorted (default: the sorted labels of yTrue). */
  labels?: readonly Label[];
  /** Multiclass averaging (default "macro"). */
  average?: "macro" | "weighted";
  sampleWeight?: ArrayLike<number>;
}

/** Reads scores as a flat row-major matrix with n rows; returns the column count (1 for a plain vector). */
function scoreMatrix(scores: ScoreMatrix, n: number): { data: Float64Array; cols: number } {
  const first: unknown = scores[0];
  if (Array.isArray(first)) {
    const rows = scores as readonly (readonly number[])[];
    if (rows.length !== n) throw new MlError(`yScore has ${rows.length} rows but yTrue has ${n} values`);
    const cols = first.length;
    const data = new Float64Array(n * cols);
    rows.forEach((row, i) => {
      if (row.length !== cols) throw new MlError(`yScore row ${i} has ${row.length} values, expected ${cols}`);
      data.set(finiteNumbers(row, `yScore row ${i}`), i * cols);
    });
    return { data, cols };
  }
  const flat = scores as ArrayLike<number>;
  if (n === 0 || flat.length % n !== 0) {
    throw new MlError(`yScore has ${flat.length} values, which is not a multiple of the ${n} values of yTrue`);
  }
  return { data: finiteNumbers(flat, "yScore"), cols: flat.length / n };
}

function column(data: Float64Array, cols: number, j: number): Float64Array {
  const out = new Float64Array(data.length / cols);
  for (let i = 0; i < out.length; i++) out[i] = data[i * cols + j] as number;
  return out;
}

/** One-vs-rest scores per class, averaged (macro or prevalence-weighted). */
function oneVsRest(
  yTrue: readonly Label[],
  yScore: ScoreMatrix,
  options: AucOptions,
  metric: (y: readonly number[], s: Float64Array, w: ArrayLike<number> | undefined) => number,
  probabilities: boolean,
): number {
  const n = yTrue.length;
  const { data, cols } = scoreMatrix(yScore, n);
  const classes = options.labels === undefined ? uniqueLabels(yTrue) : [...options.labels];
  if (options.labels !== undefined) {
    checkLabels(classes, "labels");
    const sorted = uniqueLabels(classes);
    if (sorted.length !== classes.length) throw new MlError("labels must be unique");
    if (sorted.some((l, i) => l !== classes[i])) throw new MlError("labels must be sorted");
    const unknown = uniqueLabels(yTrue).find((l) => !classes.includes(l));
    if (unknown !== undefined) throw new MlError(`yTrue contains ${JSON.stringify(unknown)}, which is not in labels`);
  }
  if (classes.length !== cols) {
    throw new MlError(`yTrue has ${classes.length} classes but yScore has ${cols} columns`);
  }
  if (probabilities) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += data[i * cols + j] as number;
      if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5 * Math.abs(sum))) {
        throw new MlError(`yScore row ${i} sums to ${sum}: multiclass ROC AUC needs probabilities that sum to 1`);
      }
    }
  }
  const weights = options.sampleWeight;
  const w = sampleWeights(weights, n);
  const scores: number[] = [];
  const prevalence: number[] = [];
  classes.forEach((c, j) => {
    const binary = yTrue.map((l) => (l === c ? 1 : 0));
    let support = 0;
    binary.forEach((b, i) => (support += b * (w[i] as number)));
    prevalence.push(support);
    scores.push(metric(binary, column(data, cols, j), weights));
  });
  if ((options.average ?? "macro") === "weighted") {
    const total = prevalence.reduce((a, b) => a + b, 0);
    return scores.reduce((acc, s, j) => acc + s * ((prevalence[j] as number) / total), 0);
  }
  if (options.average !== undefined && options.average !== "macro") {
    throw new MlError(`average must be "macro" or "weighted", got ${JSON.stringify(options.average)}`);
  }
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

/**
 * ROC AUC: binary (scores of the larger label) or multiclass one-vs-rest over probability columns.
 */
export function rocAucScore(yTrue: readonly Label[], yScore: ScoreMatrix, options: AucOptions = {}): number {
  if (yTrue.length === 0) throw new MlError("yTrue is empty");
  checkLabels(yTrue, "yTrue");
  const classes = uniqueLabels(yTrue);
  const cols = Array.isArray(yScore[0]) ? (yScore[0] as readonly number[]).length : yScore.length / yTrue.length;
  const multiclass = classes.length > 2 || (options.labels !== undefined && options.labels.length > 2) || cols > 2;
  const sampleWeight = options.sampleWeight;
  const weightOption = sampleWeight === undefined ? {} : { sampleWeight };
  if (multiclass) {
    return oneVsRest(
      yTrue,
      yScore,
      options,
      (y, s, w) => binaryRocAuc(y, s, w === undefined ? {} : { sampleWeight: w }),
      true,
    );
  }
  const scores = binaryScores(yScore, yTrue.length);
  const binary = yTrue.map((l) => (l === classes[1] ? 1 : 0));
  return binaryRocAuc(binary, scores, weightOption);
}

/**
 * Average precision (step-wise area under the precision-recall curve): binary with `posLabel` (default 1), or
 * multiclass one-vs-rest.
 */
export function averagePrecisionScore(
  yTrue: readonly Label[],
  yScore: ScoreMatrix,
  options: AucOptions & { posLabel?: Label } = {},
): number {
  checkLabels(yTrue, "yTrue");
  if (yTrue.length === 0) throw new MlError("yTrue is empty");
  const classes = uniqueLabels(yTrue);
  const cols = Array.isArray(yScore[0]) ? (yScore[0] as readonly number[]).length : yScore.length / yTrue.length;
  const sampleWeight = options.sampleWeight;
  if (classes.length > 2 || cols > 2) {
    return oneVsRest(
      yTrue,
      yScore,
      options,
      (y, s, w) => binaryAveragePrecision(y, s, w === undefined ? {} : { sampleWeight: w }),
      false,
    );
  }
  const posLabel = options.posLabel ?? 1;
  if (classes.length === 2 && !classes.includes(posLabel)) {
    throw new MlError(
      `posLabel=${JSON.stringify(posLabel)} is not a valid label: it should be one of ${JSON.stringify(classes)}`,
    );
  }
  const scores = binaryScores(yScore, yTrue.length);
  const binary = yTrue.map((l) => (l === posLabel ? 1 : 0));
  return binaryAveragePrecision(binary, scores, sampleWeight === undefined ? {} : { sampleWeight });
}

/** A score per sample: the vector itself, or the second column of an n × 2 matrix. */
function binaryScores(yScore: ScoreMatrix, n: number): Float64Array {
  const { data, cols } = scoreMatrix(yScore, n);
  if (cols === 1) return data;
  if (cols === 2) return column(data, 2, 1);
  throw new MlError(`a binary yTrue needs one score per sample, got ${cols} columns`);
}
