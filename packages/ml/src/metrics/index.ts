/**
 * Metrics of `@slipway/ml`, equal to scikit-learn's: classification scores on labels, ranking metrics and
 * curves on scores, log loss on probabilities, regression errors and R².
 */
export type { ZeroDivision } from "./checks.js";
export {
  accuracyScore,
  confusionMatrix,
  f1Score,
  fbetaScore,
  precisionRecallFscore,
  precisionRecallFscoreSupport,
  precisionScore,
  recallScore,
} from "./classification.js";
export type {
  AveragedScores,
  Average,
  ConfusionMatrixOptions,
  PerLabelScores,
  ScoreOptions,
} from "./classification.js";
export { classificationReport } from "./classification-report.js";
export type { ClassificationReport, ClassificationReportOptions, ReportRow } from "./classification-report.js";
export { auc, averagePrecisionScore, precisionRecallCurve, rocAucScore, rocCurve } from "./ranking.js";
export type { AucOptions, CurveOptions, PrecisionRecallCurve, RocCurve, ScoreMatrix } from "./ranking.js";
export { logLoss } from "./log-loss.js";
export type { LogLossOptions } from "./log-loss.js";
export { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from "./regression.js";
export type { RegressionMetricOptions } from "./regression.js";
