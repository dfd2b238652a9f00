/**
 * The classification report as data, equal to scikit-learn's `classification_report(..., output_dict=True)`:
 * precision, recall, F1 and support per label, then `accuracy` (when every label present is reported) or else
 * a `microAvg` row, and the `macroAvg` and `weightedAvg` rows, whose support is the total support.
 * Undefined ratios follow `zeroDivision` (default "warn": 0 and a warning in `warnings`).
 */
import type { Label } from "../core/linear.js";
import { uniqueLabels } from "../models/labels.js";
import type { ZeroDivision } from "./checks.js";
import { precisionRecallFscore, precisionRecallFscoreSupport } from "./classification.js";

export interface ReportRow {
  precision: number;
  recall: number;
  f1Score: number;
  support: number;
}

export interface ClassificationReport {
  /** One row per label, in the order of `labels` (default: sorted union of yTrue and yPred). */
  perLabel: (ReportRow & { label: Label })[];
  /** Present when every label of yTrue and yPred is reported (then micro averages equal accuracy). */
  accuracy?: number;
  /** Present instead of accuracy when `labels` leaves out labels that occur. */
  microAvg?: ReportRow;
  macroAvg: ReportRow;
  weightedAvg: ReportRow;
  warnings: string[];
}

export interface ClassificationReportOptions {
  labels?: readonly Label[];
  sampleWeight?: ArrayLike<number>;
  zeroDivision?: ZeroDivision;
  onWarning?: (message: string) => void;
}

export function classificationReport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: ClassificationReportOptions = {},
): ClassificationReport {
  const common = {
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    ...(options.sampleWeight === undefined ? {} : { sampleWeight: options.sampleWeight }),
    zeroDivision: options.zeroDivision ?? "warn",
  };
  const warnings: string[] = [];
  const collect = (message: string): void => {
    if (warnings.includes(message)) return;
    warnings.push(message);
    options.onWarning?.(message);
  };
  const per = precisionRecallFscoreSupport(yTrue, yPred, { ...common, onWarning: collect });
  const totalSupport = per.support.reduce((a, b) => a + b, 0);
  const average = (kind: "micro" | "macro" | "weighted"): ReportRow => {
    const r = precisionRecallFscore(yTrue, yPred, { ...common, average: kind, onWarning: collect });
    return { precision: r.precision, recall: r.recall, f1Score: r.fScore, support: totalSupport };
  };
  const present = uniqueLabels(yTrue, yPred);
  const microIsAccuracy = options.labels === undefined || present.every((l) => per.labels.includes(l));
  const micro = average("micro");
  return {
    perLabel: per.labels.map((label, k) => ({
      label,
      precision: per.precision[k] as number,
      recall: per.recall[k] as number,
      f1Score: per.fScore[k] as number,
      support: per.support[k] as number,
    })),
    ...(microIsAccuracy ? { accuracy: micro.f1Score } : { microAvg: micro }),
    macroAvg: average("macro"),
    weightedAvg: average("weighted"),
    warnings,
  };
}
