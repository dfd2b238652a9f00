/**
 * Logistic regression with an L2 penalty, equal to scikit-learn's `LogisticRegression(solver="lbfgs")`
 * (the default solver and penalty).
 *
 * It minimises  C · Σᵢ sᵢ · logloss(yᵢ, xᵢ·Wᵀ + b) + ½‖W‖²  (the intercept b is not penalised), where sᵢ is the
 * sample weight times the class weight of yᵢ:
 * - two classes: one weight row scoring `classes[1]` (scikit-learn's `coef_` of shape (1, n_features)),
 *   P(classes[1]) = sigmoid(score);
 * - three or more: the multinomial (softmax) model with one row per class; the intercepts are centred to sum 0
 *   (the objective only fixes them up to a common shift; L-BFGS started at 0 keeps them centred, and so does
 *   scikit-learn's solution). The weight rows sum to 0 at the optimum by themselves.
 * The objective is strictly convex, so its minimiser is unique and any solver that converges reaches
 * scikit-learn's converged coefficients. As scikit-learn does, the solver works on the objective divided by
 * C · S (S = Σ of the final weights): the mean weighted log loss + ‖W‖² / (2·C·S), so that `tol` (SciPy's pgtol:
 * the largest absolute gradient component) means the same thing; `loss`, `lossHistory` and `onIteration` report
 * that scaled objective.
 *
 * Works on dense and CSR matrices: the gradient loops over rows with `rowDot` / `addScaledRow`, touching only the
 * non-zeros of sparse rows. Losses use log1p(exp(−|z|)) and log-sum-exp forms so that they never overflow.
 * Deterministic: the start is all zeros and the solver uses no randomness.
 */
import { MlError } from "../core/errors.js";
import type { Label, LinearModelParams } from "../core/linear.js";
import type { Matrix } from "../core/matrix.js";
import { addScaledRow, rowDot } from "../core/matrix.js";
import { checkLabels, encodeLabels, labelText, uniqueLabels } from "./labels.js";
import { argmaxRows, sigmoid, softmaxRows, softplus } from "./link.js";
import type { IterationInfo } from "./lbfgs.js";
import { minimizeLbfgs } from "./lbfgs.js";
import {
  readBoolean,
  readClasses,
  readCount,
  readModelObject,
  readNumber,
  readRows,
  readNumbers,
  toRowArrays,
} from "./serialization.js";
import { checkPredictX, checkSameLength, checkSampleWeight, checkTrainingX, notFitted } from "./validation.js";

export type ClassWeight = "balanced" | Readonly<Record<string, number>>;

export interface LogisticRegressionOptions {
  /** Inverse of the regularisation strength (default 1.0). */
  C?: number;
  /** Fit an unpenalised intercept (default true). */
  fitIntercept?: boolean;
  /** Stop when the largest absolute gradient component of the scaled objective is ≤ tol (default 1e-4). */
  tol?: number;
  /** Maximum L-BFGS iterations (default 100). */
  maxIter?: number;
  /** SciPy's ftol on the relative reduction of the objective (default 64 · 2⁻⁵², as scikit-learn passes). */
  ftol?: number;
  /**
   * `balanced`: weight n / (nClasses · count(class)); a record: weight per label (keyed by the label's text,
   * e.g. "1" for the number 1), 1 for labels not in it.
   */
  classWeight?: ClassWeight;
}

export interface LogisticRegressionFitOptions {
  sampleWeight?: ArrayLike<number>;
  onIteration?: (info: IterationInfo) => void;
}

interface Fitted {
  classes: Label[];
  nFeatures: number;
  coef: Float64Array;
  intercept: Float64Array;
  nIter: number;
  converged: boolean;
  lossHistory: number[];
  warning: string | undefined;
}

const TYPE = "LogisticRegression";

export class LogisticRegression {
  readonly C: number;
  readonly fitIntercept: boolean;
  readonly tol: number;
  readonly maxIter: number;
  readonly ftol: number | undefined;
  readonly classWeight: ClassWeight | undefined;
  private state: Fitted | undefined;

  constructor(options: LogisticRegressionOptions = {}) {
    this.C = options.C ?? 1;
    this.fitIntercept = options.fitIntercept ?? true;
    this.tol = options.tol ?? 1e-4;
    this.maxIter = options.maxIter ?? 100;
    this.ftol = options.ftol;
    this.classWeight = options.classWeight;
    if (!(this.C > 0) || !Number.isFinite(this.C)) throw new MlError(`C must be a positive number, got ${this.C}`);
    if (!(this.tol >= 0)) throw new MlError(`tol must be ≥ 0, got ${this.tol}`);
    if (!Number.isInteger(this.maxIter) || this.maxIter < 0) {
      throw new MlError(`maxIter must be a non-negative integer, got ${this.maxIter}`);
    }
  }

  private get fitted(): Fitted {
    if (this.state === undefined) throw notFitted(TYPE);
    return this.state;
  }

  /** The sorted class labels. */
  get classes(): readonly Label[] {
    return this.fitted.classes;
  }
  /** nOutputs × nFeatures, row-major: 1 row (scoring classes[1]) for 2 classes, one per class otherwise. */
  get coef(): Float64Array {
    return this.fitted.coef;
  }
  get intercept(): Float64Array {
    return this.fitted.intercept;
  }
  get nFeatures(): number {
    return this.fitted.nFeatures;
  }
  get nIter(): number {
    return this.fitted.nIter;
  }
  get converged(): boolean {
    return this.fitted.converged;
  }
  /** The scaled objective at the start (index 0) and after each iteration. */
  get lossHistory(): readonly number[] {
    return this.fitted.lossHistory;
  }
  /** scikit-learn's ConvergenceWarning as text when the solver stopped without meeting a tolerance. */
  get convergenceWarning(): string | undefined {
    return this.fitted.warning;
  }

  fit(X: Matrix, y: readonly Label[], options: LogisticRegressionFitOptions = {}): this {
    checkTrainingX(X, TYPE);
    checkSameLength(X, y.length);
    checkLabels(y);
    const sampleWeight = checkSampleWeight(options.sampleWeight, X.rows);
    const classes = uniqueLabels(y);
    if (classes.length < 2) {
      throw new MlError(`${TYPE} needs samples of at least 2 classes, but y has only ${labelText(classes[0] ?? "")}`);
    }
    const encoded = encodeLabels(y, classes);
    const weights = applyClassWeight(sampleWeight, encoded, classes, this.classWeight);
    let total = 0;
    for (const w of weights) total += w;
    if (!(total > 0)) throw new MlError("the sample weights times the class weights sum to 0");
    for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] as number) / total;

    const binary = classes.length === 2;
    const nOutputs = binary ? 1 : classes.length;
    const nF = X.cols;
    const penalty = 1 / (this.C * total);
    const objective = binary
      ? binaryObjective(X, encoded, weights, penalty, this.fitIntercept)
      : multinomialObjective(X, encoded, weights, penalty, this.fitIntercept, nOutputs);
    const x0 = new Float64Array(nOutputs * nF + (this.fitIntercept ? nOutputs : 0));
    const result = minimizeLbfgs(objective, x0, {
      maxIter: this.maxIter,
      pgtol: this.tol,
      ...(this.ftol === undefined ? {} : { ftol: this.ftol }),
      maxLineSearch: 50,
      ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
    });
    const coef = result.x.slice(0, nOutputs * nF);
    const intercept = this.fitIntercept ? result.x.slice(nOutputs * nF) : new Float64Array(nOutputs);
    if (!binary && this.fitIntercept) {
      let mean = 0;
      for (const b of intercept) mean += b / nOutputs;
      for (let k = 0; k < nOutputs; k++) intercept[k] = (intercept[k] as number) - mean;
    }
    this.state = {
      classes,
      nFeatures: nF,
      coef,
      intercept,
      nIter: result.nIter,
      converged: result.converged,
      lossHistory: result.lossHistory,
      warning: result.converged
        ? undefined
        : `lbfgs failed to converge after ${result.nIter} iterations (${result.message}; gradient norm ` +
          `${result.gradientNorm.toExponential(2)} > tol ${this.tol}): increase maxIter or scale the data`,
    };
    return this;
  }

  /** Scores X·Wᵀ + b: n values for 2 classes (the score of classes[1]), else n × nClasses row-major. */
  decisionFunction(X: Matrix): Float64Array {
    const { coef, intercept, nFeatures } = this.fitted;
    checkPredictX(X, nFeatures);
    const nOutputs = intercept.length;
    const out = new Float64Array(X.rows * nOutputs);
    for (let i = 0; i < X.rows; i++) {
      for (let k = 0; k < nOutputs; k++) {
        out[i * nOutputs + k] = rowDot(X, i, coef, k * nFeatures) + (intercept[k] as number);
      }
    }
    return out;
  }

  /** Class probabilities, n × nClasses row-major, columns in the order of `classes`. */
  predictProba(X: Matrix): Float64Array {
    const scores = this.decisionFunction(X);
    const nClasses = this.fitted.classes.length;
    if (nClasses === 2) {
      const out = new Float64Array(X.rows * 2);
      for (let i = 0; i < X.rows; i++) {
        const p = sigmoid(scores[i] as number);
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
      }
      return out;
    }
    softmaxRows(scores, nClasses);
    return scores;
  }

  /** The most probable class of each row (ties: the first class, as numpy.argmax). */
  predict(X: Matrix): Label[] {
    const scores = this.decisionFunction(X);
    const classes = this.fitted.classes;
    if (classes.length === 2) {
      return Array.from(scores, (s) => classes[s > 0 ? 1 : 0] as Label);
    }
    return argmaxRows(scores, classes);
  }

  linearParams(): LinearModelParams {
    const { coef, intercept, nFeatures, classes } = this.fitted;
    return {
      link: classes.length === 2 ? "sigmoid" : "softmax",
      nFeatures,
      nOutputs: intercept.length,
      weights: coef.slice(),
      bias: intercept.slice(),
      classes: [...classes],
    };
  }

  toJSON(): LogisticRegressionJson {
    const f = this.fitted;
    return {
      type: TYPE,
      version: 1,
      params: {
        C: this.C,
        fitIntercept: this.fitIntercept,
        tol: this.tol,
        maxIter: this.maxIter,
        ...(this.classWeight === undefined ? {} : { classWeight: this.classWeight }),
      },
      classes: [...f.classes],
      nFeatures: f.nFeatures,
      coef: toRowArrays(f.coef, f.intercept.length, f.nFeatures),
      intercept: Array.from(f.intercept),
      nIter: f.nIter,
      converged: f.converged,
    };
  }

  static fromJSON(value: unknown): LogisticRegression {
    const obj = readModelObject(value, TYPE);
    const params = readModelParams(obj.params);
    const model = new LogisticRegression({
      C: readNumber(params, "C", TYPE),
      fitIntercept: readBoolean(params, "fitIntercept", TYPE),
      tol: readNumber(params, "tol", TYPE),
      maxIter: readCount(params, "maxIter", TYPE),
      ...(params.classWeight === undefined ? {} : { classWeight: readClassWeight(params.classWeight) }),
    });
    const classes = readClasses(obj.classes, TYPE);
    const nFeatures = readCount(obj, "nFeatures", TYPE, 1);
    const nOutputs = classes.length === 2 ? 1 : classes.length;
    model.state = {
      classes,
      nFeatures,
      coef: readRows(obj.coef, "coef", TYPE, nOutputs, nFeatures),
      intercept: readNumbers(obj.intercept, "intercept", TYPE, nOutputs),
      nIter: readCount(obj, "nIter", TYPE),
      converged: readBoolean(obj, "converged", TYPE),
      lossHistory: [],
      warning: undefined,
    };
    return model;
  }
}

export interface LogisticRegressionJson {
  type: "LogisticRegression";
  version: 1;
  params: { C: number; fitIntercept: boolean; tol: number; maxIter: number; classWeight?: ClassWeight };
  classes: Label[];
  nFeatures: number;
  /** nOutputs rows of nFeatures numbers. */
  coef: number[][];
  intercept: number[];
  nIter: number;
  converged: boolean;
}

function readModelParams(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MlError(`${TYPE}.fromJSON: params must be an object`);
  }
  return value as Record<string, unknown>;
}

function readClassWeight(value: unknown): ClassWeight {
  if (value === "balanced") return value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MlError(`${TYPE}.fromJSON: classWeight must be "balanced" or an object of numbers`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new MlError(`${TYPE}.fromJSON: classWeight[${JSON.stringify(k)}] must be a number ≥ 0`);
    }
  }
  return value as Record<string, number>;
}

/** Sample weights times class weights (scikit-learn's compute_class_weight). */
function applyClassWeight(
  sampleWeight: Float64Array,
  encoded: Int32Array,
  classes: readonly Label[],
  classWeight: ClassWeight | undefined,
): Float64Array {
  if (classWeight === undefined) return sampleWeight;
  const perClass = new Float64Array(classes.length).fill(1);
  if (classWeight === "balanced") {
    const counts = new Float64Array(classes.length);
    for (const k of encoded) counts[k] = (counts[k] as number) + 1;
    for (let k = 0; k < classes.length; k++) {
      perClass[k] = encoded.length / (classes.length * (counts[k] as number));
    }
  } else {
    const known = new Set(classes.map(labelText));
    for (const [key, w] of Object.entries(classWeight)) {
      if (!known.has(key)) throw new MlError(`classWeight names ${JSON.stringify(key)}, which is not a class of y`);
      if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
        throw new MlError(`classWeight[${JSON.stringify(key)}] must be a number ≥ 0, got ${String(w)}`);
      }
    }
    classes.forEach((c, k) => {
      const w = classWeight[labelText(c)];
      if (w !== undefined) perClass[k] = w;
    });
  }
  const out = new Float64Array(sampleWeight.length);
  for (let i = 0; i < out.length; i++)
    out[i] = (sampleWeight[i] as number) * (perClass[encoded[i] as number] as number);
  return out;
}

/** Binary objective: parameters [w (nF), b?]; y = 1 for classes[1]. Weights already sum to 1. */
function binaryObjective(
  X: Matrix,
  encoded: Int32Array,
  weights: Float64Array,
  penalty: number,
  fitIntercept: boolean,
): (x: Float64Array, gradient: Float64Array) => number {
  const nF = X.cols;
  return (x, gradient) => {
    gradient.fill(0);
    const b = fitIntercept ? (x[nF] as number) : 0;
    let loss = 0;
    let compensation = 0; // Kahan summation: the loss is compared across line-search steps
    let gradB = 0;
    for (let i = 0; i < X.rows; i++) {
      const s = weights[i] as number;
      if (s === 0) continue;
      const z = rowDot(X, i, x) + b;
      const yi = encoded[i] as number;
      // log loss = softplus(−z) for y = 1, softplus(z) for y = 0: no cancellation near the optimum
      const term = s * softplus(yi === 1 ? -z : z) - compensation;
      const sum = loss + term;
      compensation = sum - loss - term;
      loss = sum;
      const r = s * (sigmoid(z) - yi);
      if (r !== 0) addScaledRow(X, i, r, gradient);
      gradB += r;
    }
    let norm = 0;
    for (let j = 0; j < nF; j++) {
      const w = x[j] as number;
      norm += w * w;
      gradient[j] = (gradient[j] as number) + penalty * w;
    }
    if (fitIntercept) gradient[nF] = gradB;
    return loss + 0.5 * penalty * norm;
  };
}

/** Multinomial objective: parameters [W (K × nF, row-major), b (K)?]. Weights already sum to 1. */
function multinomialObjective(
  X: Matrix,
  encoded: Int32Array,
  weights: Float64Array,
  penalty: number,
  fitIntercept: boolean,
  nClasses: number,
): (x: Float64Array, gradient: Float64Array) => number {
  const nF = X.cols;
  const biasOffset = nClasses * nF;
  const scores = new Float64Array(nClasses);
  return (x, gradient) => {
    gradient.fill(0);
    let loss = 0;
    let compensation = 0; // Kahan summation: the loss is compared across line-search steps
    for (let i = 0; i < X.rows; i++) {
      const s = weights[i] as number;
      if (s === 0) continue;
      let max = -Infinity;
      for (let k = 0; k < nClasses; k++) {
        const z = rowDot(X, i, x, k * nF) + (fitIntercept ? (x[biasOffset + k] as number) : 0);
        scores[k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < nClasses; k++) sum += Math.exp((scores[k] as number) - max);
      const logSum = Math.log(sum);
      const lse = max + logSum;
      const yi = encoded[i] as number;
      const term = s * (max - (scores[yi] as number) + logSum) - compensation;
      const total = loss + term;
      compensation = total - loss - term;
      loss = total;
      for (let k = 0; k < nClasses; k++) {
        const r = s * (Math.exp((scores[k] as number) - lse) - (k === yi ? 1 : 0));
        if (r !== 0) addScaledRow(X, i, r, gradient, k * nF);
        if (fitIntercept) gradient[biasOffset + k] = (gradient[biasOffset + k] as number) + r;
      }
    }
    let norm = 0;
    for (let j = 0; j < biasOffset; j++) {
      const w = x[j] as number;
      norm += w * w;
      gradient[j] = (gradient[j] as number) + penalty * w;
    }
    return loss + 0.5 * penalty * norm;
  };
}
