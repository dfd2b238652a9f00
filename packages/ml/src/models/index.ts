/**
 * Estimators of `@slipway/ml`: logistic regression (L-BFGS, as scikit-learn's lbfgs solver), multinomial
 * naive Bayes and linear / ridge regression, each with `linearParams()` for exporters and `toJSON()` /
 * `fromJSON()`; plus the reusable L-BFGS solver, least squares and label helpers.
 */
export { LogisticRegression } from "./logistic-regression.js";
export type {
  ClassWeight,
  LogisticRegressionFitOptions,
  LogisticRegressionJson,
  LogisticRegressionOptions,
} from "./logistic-regression.js";
export { MultinomialNB } from "./naive-bayes.js";
export type { MultinomialNBJson, MultinomialNBOptions } from "./naive-bayes.js";
export { LinearRegression } from "./linear-regression.js";
export type { LinearRegressionJson, LinearRegressionOptions, RegressionTarget } from "./linear-regression.js";
export { minimizeLbfgs, wolfeLineSearch } from "./lbfgs.js";
export type { IterationInfo, LbfgsOptions, LbfgsResult, LbfgsStatus, LineSearchResult, Objective } from "./lbfgs.js";
export { leastSquares } from "./least-squares.js";
export type { LeastSquaresResult } from "./least-squares.js";
export { compareLabels, encodeLabels, uniqueLabels } from "./labels.js";
