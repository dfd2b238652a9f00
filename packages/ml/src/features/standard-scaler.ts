/**
 * StandardScaler: standardises the columns of a dense matrix, equal to scikit-learn's
 * `sklearn.preprocessing.StandardScaler` on dense input.
 *
 * How it matches scikit-learn:
 * - the mean and the *population* variance (ddof = 0) of each column, computed as scikit-learn's
 *   `_incremental_mean_and_var` does for one batch (two passes with a correction term):
 *   var = (Σ(x − m)² − (Σ(x − m))² / n) / n;
 * - `scale` is √var, except for columns indistinguishable from a constant, whose scale is 1 — the test is
 *   scikit-learn's `_is_constant_feature`: var ≤ n·ε·var + (n·mean·ε)², ε the float64 machine epsilon;
 * - NaN values are ignored when fitting (each column has its own sample count) and kept by transform;
 *   infinite values are refused;
 * - `withMean: false` skips the centring, `withStd: false` the scaling (then `variance` and `scale` are null;
 *   when both are false `mean` is null too).
 */
import { MlError } from "../core/errors.js";
import { dense, type DenseMatrix } from "../core/matrix.js";
import { FORMAT_VERSION, JsonReader, notFittedError, numbersToJson, type JsonObject } from "./serialization.js";

export interface StandardScalerOptions {
  /** Subtract the column means (default true). */
  withMean?: boolean;
  /** Divide by the column standard deviations (default true). */
  withStd?: boolean;
}

export interface StandardScalerJson extends JsonObject {
  type: "StandardScaler";
  version: 1;
  options: { withMean: boolean; withStd: boolean };
  nFeatures: number;
  /** Non-NaN values seen per column. */
  nSamplesSeen: number[];
  /** Column means, null where not computed; a null inside stands for NaN (an all-NaN column). */
  mean: (number | null)[] | null;
  variance: (number | null)[] | null;
  scale: (number | null)[] | null;
}

interface ScalerState {
  nSamplesSeen: Float64Array;
  mean: Float64Array | null;
  variance: Float64Array | null;
  scale: Float64Array | null;
}

function checkDense(X: DenseMatrix, owner: string): void {
  if (X === null || typeof X !== "object" || X.kind !== "dense") {
    throw new MlError(`${owner}: X must be a DenseMatrix`);
  }
  for (let k = 0; k < X.data.length; k++) {
    const v = X.data[k] as number;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw new MlError(`${owner}: X has ${String(v)} at row ${Math.floor(k / X.cols)}, column ${k % X.cols}`);
    }
  }
}

/** Standardises features by removing the mean and scaling to unit variance. */
export class StandardScaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  private state: ScalerState | null = null;

  constructor(options: StandardScalerOptions = {}) {
    this.withMean = options.withMean ?? true;
    this.withStd = options.withStd ?? true;
    if (typeof this.withMean !== "boolean" || typeof this.withStd !== "boolean") {
      throw new MlError("StandardScaler: withMean and withStd must be booleans");
    }
  }

  get isFitted(): boolean {
    return this.state !== null;
  }

  /** Column means (a copy), or null when neither centring nor scaling is asked for. */
  get mean(): Float64Array | null {
    return this.fitted().mean?.slice() ?? null;
  }

  /** Column population variances (a copy), or null when `withStd` is false. */
  get variance(): Float64Array | null {
    return this.fitted().variance?.slice() ?? null;
  }

  /** Column scales (√variance, 1 for constant columns; a copy), or null when `withStd` is false. */
  get scale(): Float64Array | null {
    return this.fitted().scale?.slice() ?? null;
  }

  /** Number of non-NaN values seen in each column (a copy). */
  get nSamplesSeen(): Float64Array {
    return this.fitted().nSamplesSeen.slice();
  }

  fit(X: DenseMatrix): this {
    checkDense(X, "StandardScaler");
    const { rows, cols, data } = X;
    const count = new Float64Array(cols);
    const sum = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j] as number;
        if (Number.isNaN(v)) continue;
        count[j] = (count[j] as number) + 1;
        sum[j] = (sum[j] as number) + v;
      }
    }
    const mean = sum.map((s, j) => s / (count[j] as number));
    let variance: Float64Array | null = null;
    let scale: Float64Array | null = null;
    if (this.withStd) {
      const correction = new Float64Array(cols);
      const squares = new Float64Array(cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const v = data[i * cols + j] as number;
          if (Number.isNaN(v)) continue;
          const d = v - (mean[j] as number);
          correction[j] = (correction[j] as number) + d;
          squares[j] = (squares[j] as number) + d * d;
        }
      }
      variance = squares.map((s, j) => {
        const n = count[j] as number;
        return (s - (correction[j] as number) ** 2 / n) / n;
      });
      const eps = Number.EPSILON;
      scale = variance.map((v, j) => {
        const n = count[j] as number;
        const m = mean[j] as number;
        const constant = v <= n * eps * v + (n * m * eps) ** 2;
        return constant ? 1 : Math.sqrt(v);
      });
    }
    this.state = {
      nSamplesSeen: count,
      mean: this.withMean || this.withStd ? mean : null,
      variance,
      scale,
    };
    return this;
  }

  transform(X: DenseMatrix): DenseMatrix {
    const s = this.fitted();
    checkDense(X, "StandardScaler");
    this.checkWidth(X);
    const out = X.data.slice();
    const cols = X.cols;
    for (let k = 0; k < out.length; k++) {
      const j = k % cols;
      let v = out[k] as number;
      if (this.withMean && s.mean !== null) v -= s.mean[j] as number;
      if (s.scale !== null) v /= s.scale[j] as number;
      out[k] = v;
    }
    return dense(X.rows, cols, out);
  }

  fitTransform(X: DenseMatrix): DenseMatrix {
    return this.fit(X).transform(X);
  }

  /** Undoes `transform`: x · scale + mean. */
  inverseTransform(X: DenseMatrix): DenseMatrix {
    const s = this.fitted();
    checkDense(X, "StandardScaler");
    this.checkWidth(X);
    const out = X.data.slice();
    const cols = X.cols;
    for (let k = 0; k < out.length; k++) {
      const j = k % cols;
      let v = out[k] as number;
      if (s.scale !== null) v *= s.scale[j] as number;
      if (this.withMean && s.mean !== null) v += s.mean[j] as number;
      out[k] = v;
    }
    return dense(X.rows, cols, out);
  }

  toJSON(): StandardScalerJson {
    const s = this.fitted();
    return {
      type: "StandardScaler",
      version: FORMAT_VERSION,
      options: { withMean: this.withMean, withStd: this.withStd },
      nFeatures: s.nSamplesSeen.length,
      nSamplesSeen: Array.from(s.nSamplesSeen),
      mean: s.mean === null ? null : numbersToJson(s.mean),
      variance: s.variance === null ? null : numbersToJson(s.variance),
      scale: s.scale === null ? null : numbersToJson(s.scale),
    };
  }

  static fromJSON(obj: unknown): StandardScaler {
    const reader = JsonReader.forType(obj, "StandardScaler");
    const o = reader.object("options");
    const scaler = new StandardScaler({ withMean: o.boolean("withMean"), withStd: o.boolean("withStd") });
    const n = reader.number("nFeatures", { integer: true, min: 0 });
    const nSamplesSeen = reader.numberArray("nSamplesSeen", n);
    if (!nSamplesSeen.every((c) => Number.isInteger(c) && c >= 0)) reader.fail("nSamplesSeen", "counts ≥ 0");
    const optional = (key: string, present: boolean): Float64Array | null => {
      if (!present) {
        if (reader.raw(key) !== null) reader.fail(key, "null for these options");
        return null;
      }
      return reader.numberArray(key, n);
    };
    const mean = optional("mean", scaler.withMean || scaler.withStd);
    const variance = optional("variance", scaler.withStd);
    const scale = optional("scale", scaler.withStd);
    if (variance?.some((v) => v < 0) === true) reader.fail("variance", "non-negative");
    if (scale?.some((v) => v <= 0) === true) reader.fail("scale", "positive");
    scaler.state = { nSamplesSeen, mean, variance, scale };
    return scaler;
  }

  private fitted(): ScalerState {
    if (this.state === null) throw notFittedError("StandardScaler");
    return this.state;
  }

  private checkWidth(X: DenseMatrix): void {
    const n = this.fitted().nSamplesSeen.length;
    if (X.cols !== n) {
      throw new MlError(`StandardScaler: X has ${X.cols} features, but the scaler was fitted on ${n}`);
    }
  }
}
