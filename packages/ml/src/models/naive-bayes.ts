/**
 * Multinomial naive Bayes, equal to scikit-learn's `MultinomialNB`.
 *
 * fit: with Y the one-hot class matrix times the sample weights,
 * - `featureCount` = Yᵀ·X (per class, the weighted sum of each feature) and `classCount` = Σ weights per class;
 * - `featureLogProb`[c][j] = log(featureCount[c][j] + α) − log(Σⱼ featureCount[c][j] + α·nFeatures);
 * - `classLogPrior`: log(classPrior) when given, else log(classCount / Σ classCount) when `fitPrior`, else
 *   −log(nClasses).
 * predict: the joint log likelihood X·featureLogProbᵀ + classLogPrior, normalised with log-sum-exp for
 * probabilities; the class with the largest one (the first on ties, as numpy.argmax).
 *
 * It is a linear model in log space, so `linearParams()` is a `softmax` model with weights featureLogProb and
 * bias classLogPrior (for 2 classes too: one row per class, as scikit-learn's feature_log_prob_).
 *
 * α: scikit-learn ≥ 1.4 keeps α as given (`force_alpha=True`); an α of 0 then gives log(0) = −∞ for features a
 * class never shows, which JSON cannot hold, so here α = 0 is an error unless `forceAlpha: false`, which (as
 * scikit-learn's `force_alpha=False`) raises any α below 1e-10 to 1e-10. Negative feature values are an error
 * at fit, as in scikit-learn (which does not check them at predict time, and neither does this).
 */
import { MlError } from "../core/errors.js";
import type { Label, LinearModelParams } from "../core/linear.js";
import type { Matrix } from "../core/matrix.js";
import { addScaledRow, rowDot } from "../core/matrix.js";
import { checkLabels, encodeLabels, labelText, uniqueLabels } from "./labels.js";
import { argmaxRows, logSumExp } from "./link.js";
import {
  readBoolean,
  readClasses,
  readCount,
  readModelObject,
  readNumber,
  readNumbers,
  readRows,
  toRowArrays,
} from "./serialization.js";
import { checkPredictX, checkSameLength, checkSampleWeight, checkTrainingX, notFitted } from "./validation.js";

export interface MultinomialNBOptions {
  /** Additive (Laplace/Lidstone) smoothing (default 1.0). */
  alpha?: number;
  /** Learn class priors from the data (default true); false: uniform priors. */
  fitPrior?: boolean;
  /** Prior probabilities of the classes, in the order of the sorted classes; overrides fitPrior. */
  classPrior?: readonly number[];
  /** Keep alpha as given (default true, scikit-learn ≥ 1.4); false: raise alpha below 1e-10 to 1e-10. */
  forceAlpha?: boolean;
}

interface Fitted {
  classes: Label[];
  nFeatures: number;
  classCount: Float64Array;
  /** nClasses × nFeatures row-major. */
  featureCount: Float64Array;
  classLogPrior: Float64Array;
  featureLogProb: Float64Array;
}

const TYPE = "MultinomialNB";
const MIN_ALPHA = 1e-10;

export class MultinomialNB {
  readonly alpha: number;
  readonly fitPrior: boolean;
  readonly classPrior: readonly number[] | undefined;
  readonly forceAlpha: boolean;
  private state: Fitted | undefined;

  constructor(options: MultinomialNBOptions = {}) {
    this.alpha = options.alpha ?? 1;
    this.fitPrior = options.fitPrior ?? true;
    this.classPrior = options.classPrior === undefined ? undefined : [...options.classPrior];
    this.forceAlpha = options.forceAlpha ?? true;
    if (!Number.isFinite(this.alpha) || this.alpha < 0) {
      throw new MlError(`alpha must be a finite number ≥ 0, got ${this.alpha}`);
    }
    if (this.alpha === 0 && this.forceAlpha) {
      throw new MlError("alpha = 0 gives log(0) for unseen features; use alpha > 0, or forceAlpha: false for 1e-10");
    }
    this.classPrior?.forEach((p, i) => {
      if (!Number.isFinite(p) || p <= 0) throw new MlError(`classPrior[${i}] must be a positive number, got ${p}`);
    });
  }

  private get fitted(): Fitted {
    if (this.state === undefined) throw notFitted(TYPE);
    return this.state;
  }

  get classes(): readonly Label[] {
    return this.fitted.classes;
  }
  get nFeatures(): number {
    return this.fitted.nFeatures;
  }
  /** Σ sample weights per class. */
  get classCount(): Float64Array {
    return this.fitted.classCount;
  }
  /** nClasses × nFeatures, row-major: the weighted sum of each feature per class. */
  get featureCount(): Float64Array {
    return this.fitted.featureCount;
  }
  get classLogPrior(): Float64Array {
    return this.fitted.classLogPrior;
  }
  /** nClasses × nFeatures, row-major: log P(feature | class). */
  get featureLogProb(): Float64Array {
    return this.fitted.featureLogProb;
  }

  fit(X: Matrix, y: readonly Label[], options: { sampleWeight?: ArrayLike<number> } = {}): this {
    checkTrainingX(X, TYPE);
    checkSameLength(X, y.length);
    checkLabels(y);
    checkNonNegative(X);
    const weights = checkSampleWeight(options.sampleWeight, X.rows);
    const classes = uniqueLabels(y);
    if (classes.length < 2) {
      throw new MlError(`${TYPE} needs samples of at least 2 classes, but y has only ${labelText(classes[0] ?? "")}`);
    }
    if (this.classPrior !== undefined && this.classPrior.length !== classes.length) {
      throw new MlError(`classPrior has ${this.classPrior.length} values but y has ${classes.length} classes`);
    }
    const encoded = encodeLabels(y, classes);
    const nC = classes.length;
    const nF = X.cols;
    const classCount = new Float64Array(nC);
    const featureCount = new Float64Array(nC * nF);
    for (let i = 0; i < X.rows; i++) {
      const c = encoded[i] as number;
      const w = weights[i] as number;
      if (w === 0) continue;
      classCount[c] = (classCount[c] as number) + w;
      addScaledRow(X, i, w, featureCount, c * nF);
    }
    this.state = {
      classes,
      nFeatures: nF,
      classCount,
      featureCount,
      ...this.logProbabilities(classCount, featureCount, nF),
    };
    return this;
  }

  private logProbabilities(
    classCount: Float64Array,
    featureCount: Float64Array,
    nF: number,
  ): { classLogPrior: Float64Array; featureLogProb: Float64Array } {
    const nC = classCount.length;
    const alpha = this.forceAlpha ? this.alpha : Math.max(this.alpha, MIN_ALPHA);
    const featureLogProb = new Float64Array(nC * nF);
    for (let c = 0; c < nC; c++) {
      let total = 0;
      for (let j = 0; j < nF; j++) total += (featureCount[c * nF + j] as number) + alpha;
      const logTotal = Math.log(total);
      for (let j = 0; j < nF; j++) {
        featureLogProb[c * nF + j] = Math.log((featureCount[c * nF + j] as number) + alpha) - logTotal;
      }
    }
    const classLogPrior = new Float64Array(nC);
    if (this.classPrior !== undefined) {
      for (let c = 0; c < nC; c++) classLogPrior[c] = Math.log(this.classPrior[c] as number);
    } else if (this.fitPrior) {
      let total = 0;
      for (const n of classCount) total += n;
      const logTotal = Math.log(total);
      for (let c = 0; c < nC; c++) classLogPrior[c] = Math.log(classCount[c] as number) - logTotal;
    } else {
      classLogPrior.fill(-Math.log(nC));
    }
    return { classLogPrior, featureLogProb };
  }

  /** The joint log likelihood X·featureLogProbᵀ + classLogPrior, n × nClasses row-major. */
  jointLogLikelihood(X: Matrix): Float64Array {
    const { featureLogProb, classLogPrior, nFeatures } = this.fitted;
    checkPredictX(X, nFeatures);
    const nC = classLogPrior.length;
    const out = new Float64Array(X.rows * nC);
    for (let i = 0; i < X.rows; i++) {
      for (let c = 0; c < nC; c++) {
        out[i * nC + c] = rowDot(X, i, featureLogProb, c * nFeatures) + (classLogPrior[c] as number);
      }
    }
    return out;
  }

  /** log P(class | x), n × nClasses row-major. */
  predictLogProba(X: Matrix): Float64Array {
    const jll = this.jointLogLikelihood(X);
    const nC = this.fitted.classes.length;
    for (let start = 0; start < jll.length; start += nC) {
      const lse = logSumExp(jll, start, nC);
      for (let c = 0; c < nC; c++) jll[start + c] = (jll[start + c] as number) - lse;
    }
    return jll;
  }

  /** P(class | x), n × nClasses row-major, columns in the order of `classes`. */
  predictProba(X: Matrix): Float64Array {
    return this.predictLogProba(X).map(Math.exp);
  }

  predict(X: Matrix): Label[] {
    return argmaxRows(this.jointLogLikelihood(X), this.fitted.classes);
  }

  linearParams(): LinearModelParams {
    const f = this.fitted;
    return {
      link: "softmax",
      nFeatures: f.nFeatures,
      nOutputs: f.classes.length,
      weights: f.featureLogProb.slice(),
      bias: f.classLogPrior.slice(),
      classes: [...f.classes],
    };
  }

  toJSON(): MultinomialNBJson {
    const f = this.fitted;
    const nC = f.classes.length;
    return {
      type: TYPE,
      version: 1,
      params: {
        alpha: this.alpha,
        fitPrior: this.fitPrior,
        forceAlpha: this.forceAlpha,
        ...(this.classPrior === undefined ? {} : { classPrior: [...this.classPrior] }),
      },
      classes: [...f.classes],
      nFeatures: f.nFeatures,
      classCount: Array.from(f.classCount),
      featureCount: toRowArrays(f.featureCount, nC, f.nFeatures),
      classLogPrior: Array.from(f.classLogPrior),
      featureLogProb: toRowArrays(f.featureLogProb, nC, f.nFeatures),
    };
  }

  static fromJSON(value: unknown): MultinomialNB {
    const obj = readModelObject(value, TYPE);
    const params = obj.params;
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      throw new MlError(`${TYPE}.fromJSON: params must be an object`);
    }
    const p = params as Record<string, unknown>;
    const model = new MultinomialNB({
      alpha: readNumber(p, "alpha", TYPE),
      fitPrior: readBoolean(p, "fitPrior", TYPE),
      forceAlpha: readBoolean(p, "forceAlpha", TYPE),
      ...(p.classPrior === undefined ? {} : { classPrior: Array.from(readNumbers(p.classPrior, "classPrior", TYPE)) }),
    });
    const classes = readClasses(obj.classes, TYPE);
    const nC = classes.length;
    const nFeatures = readCount(obj, "nFeatures", TYPE, 1);
    if (model.classPrior !== undefined && model.classPrior.length !== nC) {
      throw new MlError(`${TYPE}.fromJSON: classPrior has ${model.classPrior.length} values, expected ${nC}`);
    }
    model.state = {
      classes,
      nFeatures,
      classCount: readNumbers(obj.classCount, "classCount", TYPE, nC),
      featureCount: readRows(obj.featureCount, "featureCount", TYPE, nC, nFeatures),
      classLogPrior: readNumbers(obj.classLogPrior, "classLogPrior", TYPE, nC),
      featureLogProb: readRows(obj.featureLogProb, "featureLogProb", TYPE, nC, nFeatures),
    };
    return model;
  }
}

export interface MultinomialNBJson {
  type: "MultinomialNB";
  version: 1;
  params: { alpha: number; fitPrior: boolean; forceAlpha: boolean; classPrior?: number[] };
  classes: Label[];
  nFeatures: number;
  classCount: number[];
  featureCount: number[][];
  classLogPrior: number[];
  featureLogProb: number[][];
}

function checkNonNegative(X: Matrix): void {
  const fail = (value: number, row: number, column: number): MlError =>
    new MlError(`Negative values in data passed to ${TYPE} (X has ${value} at row ${row}, column ${column})`);
  if (X.kind === "dense") {
    for (let k = 0; k < X.data.length; k++) {
      const v = X.data[k] as number;
      if (v < 0) throw fail(v, Math.floor(k / X.cols), k % X.cols);
    }
    return;
  }
  for (let i = 0; i < X.rows; i++) {
    for (let k = X.indptr[i] as number; k < (X.indptr[i + 1] as number); k++) {
      const v = X.data[k] as number;
      if (v < 0) throw fail(v, i, X.indices[k] as number);
    }
  }
}
