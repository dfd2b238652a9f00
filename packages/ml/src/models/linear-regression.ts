/**
 * Ordinary least squares, equal to scikit-learn's `LinearRegression`, and with `alpha > 0` ridge regression,
 * equal to scikit-learn's `Ridge(alpha)`.
 *
 * As scikit-learn does, the intercept comes from centring: X and y are centred on their (sample-weighted)
 * means, rows are scaled by √weight, the coefficients solve the centred problem and
 * intercept = ȳ − x̄·coef. The solve is Householder QR with column pivoting (`least-squares.ts`), never the
 * normal equations:
 * - OLS: min ‖√s·(y − X·w − b)‖²; a rank-deficient design (collinear or constant columns, more features than
 *   rows) is no error: like scikit-learn (SciPy's lstsq) the result is the minimum-norm solution, and `rank`
 *   reports the numerical rank of the centred design (scikit-learn's `rank_`);
 * - ridge: min ‖√s·(y − X·w − b)‖² + alpha·‖w‖², solved as the least-squares problem [√s·Xc; √alpha·I]·w ≈
 *   [√s·yc; 0], which always has full rank.
 * CSR input is densified (the solve is dense); matrices over 50 million cells are refused with an MlError.
 * Targets: one (y a number array; `predict` gives n values) or several (y as rows of targets; `predict`
 * gives n × nTargets row-major), as scikit-learn's 1-D and 2-D y.
 */
import { MlError } from "../core/errors.js";
import type { LinearModelParams } from "../core/linear.js";
import type { Matrix } from "../core/matrix.js";
import { rowDot } from "../core/matrix.js";
import { leastSquares } from "./least-squares.js";
import {
  readBoolean,
  readCount,
  readModelObject,
  readNumber,
  readNumbers,
  readRows,
  toRowArrays,
} from "./serialization.js";
import { checkPredictX, checkSameLength, checkSampleWeight, checkTrainingX, notFitted } from "./validation.js";

export interface LinearRegressionOptions {
  /** Fit an intercept by centring (default true). */
  fitIntercept?: boolean;
  /** Ridge penalty alpha·‖w‖² (default 0: ordinary least squares). */
  alpha?: number;
}

/** One target per row (numbers), or rows of several targets. */
export type RegressionTarget = ArrayLike<number> | readonly (readonly number[])[];

interface Fitted {
  nFeatures: number;
  nTargets: number;
  /** True when y was given as rows of targets. */
  multiTarget: boolean;
  /** nTargets × nFeatures row-major. */
  coef: Float64Array;
  intercept: Float64Array;
  rank: number;
}

const TYPE = "LinearRegression";
const MAX_DENSE_CELLS = 50_000_000;

export class LinearRegression {
  readonly fitIntercept: boolean;
  readonly alpha: number;
  private state: Fitted | undefined;

  constructor(options: LinearRegressionOptions = {}) {
    this.fitIntercept = options.fitIntercept ?? true;
    this.alpha = options.alpha ?? 0;
    if (!Number.isFinite(this.alpha) || this.alpha < 0) {
      throw new MlError(`alpha must be a finite number ≥ 0, got ${this.alpha}`);
    }
  }

  private get fitted(): Fitted {
    if (this.state === undefined) throw notFitted(TYPE);
    return this.state;
  }

  /** nTargets × nFeatures, row-major (nFeatures values for one target). */
  get coef(): Float64Array {
    return this.fitted.coef;
  }
  /** One intercept per target. */
  get intercept(): Float64Array {
    return this.fitted.intercept;
  }
  get nFeatures(): number {
    return this.fitted.nFeatures;
  }
  get nTargets(): number {
    return this.fitted.nTargets;
  }
  /** Numerical rank of the (centred, weighted) design; for ridge, the rank of the augmented design. */
  get rank(): number {
    return this.fitted.rank;
  }

  fit(X: Matrix, y: RegressionTarget, options: { sampleWeight?: ArrayLike<number> } = {}): this {
    checkTrainingX(X, TYPE);
    checkSameLength(X, y.length);
    const { values: Y, nTargets, multiTarget } = readTarget(y);
    const weights = checkSampleWeight(options.sampleWeight, X.rows);
    const n = X.rows;
    const p = X.cols;
    if (n * p > MAX_DENSE_CELLS) {
      throw new MlError(`${TYPE} densifies X, and ${n} × ${p} is over ${MAX_DENSE_CELLS} cells`);
    }
    const A = toDense(X);
    let total = 0;
    for (const w of weights) total += w;
    const xMean = new Float64Array(p);
    const yMean = new Float64Array(nTargets);
    if (this.fitIntercept) {
      for (let i = 0; i < n; i++) {
        const w = (weights[i] as number) / total;
        for (let j = 0; j < p; j++) xMean[j] = (xMean[j] as number) + w * (A[i * p + j] as number);
        for (let t = 0; t < nTargets; t++) yMean[t] = (yMean[t] as number) + w * (Y[i * nTargets + t] as number);
      }
    }
    const ridge = this.alpha > 0;
    const rows = ridge ? n + p : n;
    const design = new Float64Array(rows * p);
    const rhs = new Float64Array(rows * nTargets);
    for (let i = 0; i < n; i++) {
      const s = Math.sqrt(weights[i] as number);
      for (let j = 0; j < p; j++) design[i * p + j] = s * ((A[i * p + j] as number) - (xMean[j] as number));
      for (let t = 0; t < nTargets; t++) {
        rhs[i * nTargets + t] = s * ((Y[i * nTargets + t] as number) - (yMean[t] as number));
      }
    }
    if (ridge) {
      const root = Math.sqrt(this.alpha);
      for (let j = 0; j < p; j++) design[(n + j) * p + j] = root;
    }
    const { x, rank } = leastSquares(design, rows, p, rhs, nTargets);
    const coef = new Float64Array(nTargets * p);
    const intercept = new Float64Array(nTargets);
    for (let t = 0; t < nTargets; t++) {
      let b = yMean[t] as number;
      for (let j = 0; j < p; j++) {
        const w = x[j * nTargets + t] as number;
        coef[t * p + j] = w;
        b -= (xMean[j] as number) * w;
      }
      intercept[t] = this.fitIntercept ? b : 0;
    }
    this.state = { nFeatures: p, nTargets, multiTarget, coef, intercept, rank };
    return this;
  }

  /** X·coefᵀ + intercept: n values for one target, n × nTargets row-major for several. */
  predict(X: Matrix): Float64Array {
    const { coef, intercept, nFeatures, nTargets } = this.fitted;
    checkPredictX(X, nFeatures);
    const out = new Float64Array(X.rows * nTargets);
    for (let i = 0; i < X.rows; i++) {
      for (let t = 0; t < nTargets; t++) {
        out[i * nTargets + t] = rowDot(X, i, coef, t * nFeatures) + (intercept[t] as number);
      }
    }
    return out;
  }

  linearParams(): LinearModelParams {
    const f = this.fitted;
    return {
      link: "identity",
      nFeatures: f.nFeatures,
      nOutputs: f.nTargets,
      weights: f.coef.slice(),
      bias: f.intercept.slice(),
    };
  }

  toJSON(): LinearRegressionJson {
    const f = this.fitted;
    return {
      type: TYPE,
      version: 1,
      params: { fitIntercept: this.fitIntercept, alpha: this.alpha },
      nFeatures: f.nFeatures,
      nTargets: f.nTargets,
      multiTarget: f.multiTarget,
      coef: toRowArrays(f.coef, f.nTargets, f.nFeatures),
      intercept: Array.from(f.intercept),
      rank: f.rank,
    };
  }

  static fromJSON(value: unknown): LinearRegression {
    const obj = readModelObject(value, TYPE);
    const params = obj.params;
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      throw new MlError(`${TYPE}.fromJSON: params must be an object`);
    }
    const p = params as Record<string, unknown>;
    const model = new LinearRegression({
      fitIntercept: readBoolean(p, "fitIntercept", TYPE),
      alpha: readNumber(p, "alpha", TYPE),
    });
    const nFeatures = readCount(obj, "nFeatures", TYPE, 1);
    const nTargets = readCount(obj, "nTargets", TYPE, 1);
    const multiTarget = readBoolean(obj, "multiTarget", TYPE);
    if (!multiTarget && nTargets !== 1)
      throw new MlError(`${TYPE}.fromJSON: one target expected, nTargets is ${nTargets}`);
    model.state = {
      nFeatures,
      nTargets,
      multiTarget,
      coef: readRows(obj.coef, "coef", TYPE, nTargets, nFeatures),
      intercept: readNumbers(obj.intercept, "intercept", TYPE, nTargets),
      rank: readCount(obj, "rank", TYPE),
    };
    return model;
  }
}

export interface LinearRegressionJson {
  type: "LinearRegression";
  version: 1;
  params: { fitIntercept: boolean; alpha: number };
  nFeatures: number;
  nTargets: number;
  multiTarget: boolean;
  coef: number[][];
  intercept: number[];
  rank: number;
}

function readTarget(y: RegressionTarget): { values: Float64Array; nTargets: number; multiTarget: boolean } {
  const first: unknown = y[0];
  if (Array.isArray(first)) {
    const rows = y as readonly (readonly number[])[];
    const nTargets = first.length;
    if (nTargets === 0) throw new MlError("y rows have no targets");
    const values = new Float64Array(rows.length * nTargets);
    rows.forEach((row, i) => {
      if (row.length !== nTargets) throw new MlError(`y row ${i} has ${row.length} targets, expected ${nTargets}`);
      row.forEach((v, t) => {
        if (typeof v !== "number" || !Number.isFinite(v))
          throw new MlError(`y has ${String(v)} at row ${i}, target ${t}`);
        values[i * nTargets + t] = v;
      });
    });
    return { values, nTargets, multiTarget: true };
  }
  const values = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = (y as ArrayLike<unknown>)[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new MlError(`y has ${String(v)} at index ${i}`);
    values[i] = v;
  }
  return { values, nTargets: 1, multiTarget: false };
}

function toDense(X: Matrix): Float64Array {
  if (X.kind === "dense") return X.data;
  const out = new Float64Array(X.rows * X.cols);
  for (let i = 0; i < X.rows; i++) {
    for (let k = X.indptr[i] as number; k < (X.indptr[i + 1] as number); k++) {
      out[i * X.cols + (X.indices[k] as number)] = X.data[k] as number;
    }
  }
  return out;
}
