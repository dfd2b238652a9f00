/**
 * The parameters of a fitted linear model, as exporters and predictors see them: logistic regression,
 * multinomial naive Bayes (linear in log space) and linear regression all reduce to scores = X · Wᵀ + b
 * followed by a link.
 */

/** A class label as scikit-learn keeps it in `classes_`: numbers or strings, never mixed. */
export type Label = string | number;

export interface LinearModelParams {
  /**
   * How scores become outputs:
   * - `sigmoid`: binary classifier, one row of weights scoring `classes[1]`; P(classes[0]) = 1 − P(classes[1]);
   * - `softmax`: one row of weights per class, probabilities = softmax(scores);
   * - `identity`: regression, one row per target, outputs = scores.
   */
  link: "sigmoid" | "softmax" | "identity";
  /** Number of input features (columns of X). */
  nFeatures: number;
  /** Number of output rows: 1 for `sigmoid`, the class count for `softmax`, the target count for `identity`. */
  nOutputs: number;
  /** nOutputs × nFeatures, row-major. */
  weights: Float64Array;
  /** nOutputs biases. */
  bias: Float64Array;
  /** The class labels, sorted as scikit-learn sorts them (classifiers only; 2 for `sigmoid`). */
  classes?: readonly Label[];
}
