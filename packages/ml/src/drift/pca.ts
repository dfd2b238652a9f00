/**
 * Principal component analysis on a dense matrix, as scikit-learn's `PCA` with its default `whiten=False`:
 * centre the columns, take the eigenvectors of the sample covariance (ddof = 1) in decreasing order of
 * eigenvalue, and keep the leading ones.
 *
 * - `explainedVariance` are the covariance eigenvalues (scikit-learn's `explained_variance_`, negatives from
 *   round-off clipped to 0) and `explainedVarianceRatio` their shares of the total variance.
 * - `varianceToKeep: v` keeps the fewest leading components whose ratios add up to *more than* v, exactly
 *   scikit-learn's rule for a float `n_components` (`searchsorted(cumsum, v, side="right") + 1`), capped at
 *   the number of columns; `nComponents: k` keeps k. Without either, every component is kept.
 * - Component signs follow {@link symmetricEigen} (largest-magnitude loading positive), not scikit-learn's
 *   `svd_flip`; projections may differ in sign, reconstructions do not.
 * - The covariance is d × d, so fitting costs O(n·d² + d³): meant for up to a few hundred columns.
 *
 * NaN and infinite values are refused: impute before fitting (see `multivariate-drift.ts`).
 */
import { symmetricEigen } from "../core/eigen.js";
import { MlError } from "../core/errors.js";
import { dense, type DenseMatrix } from "../core/matrix.js";
import { FORMAT_VERSION, JsonReader, type JsonObject } from "../features/serialization.js";

export interface PcaOptions {
  /** Keep this many leading components (an integer in [1, number of columns]). */
  nComponents?: number;
  /** Keep the fewest leading components explaining more than this share of the variance, in (0, 1]. */
  varianceToKeep?: number;
}

export interface PcaJson extends JsonObject {
  type: "PCA";
  version: 1;
  nSamples: number;
  mean: number[];
  /** nComponents rows of nFeatures loadings. */
  components: number[][];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
}

interface PcaState {
  nSamples: number;
  mean: Float64Array;
  /** k × d, row-major; the rows are orthonormal. */
  components: Float64Array;
  nComponents: number;
  explainedVariance: Float64Array;
  explainedVarianceRatio: Float64Array;
}

const TYPE = "PCA";

function checkX(X: DenseMatrix, what: string): void {
  if (X === null || typeof X !== "object" || X.kind !== "dense")
    throw new MlError(`${TYPE}: ${what} must be a DenseMatrix`);
  for (let k = 0; k < X.data.length; k++) {
    const v = X.data[k] as number;
    if (!Number.isFinite(v)) {
      throw new MlError(
        `${TYPE}: ${what} has ${String(v)} at row ${Math.floor(k / X.cols)}, column ${k % X.cols} (impute first)`,
      );
    }
  }
}

/** The number of components to keep out of `d`, from the options and the cumulative variance ratios. */
function componentCount(options: PcaOptions, ratio: Float64Array, d: number): number {
  const { nComponents, varianceToKeep } = options;
  if (nComponents !== undefined && varianceToKeep !== undefined) {
    throw new MlError(`${TYPE}: give nComponents or varianceToKeep, not both`);
  }
  if (nComponents !== undefined) {
    if (!Number.isInteger(nComponents) || nComponents < 1 || nComponents > d) {
      throw new MlError(`${TYPE}: nComponents must be an integer in [1, ${d}], got ${nComponents}`);
    }
    return nComponents;
  }
  if (varianceToKeep === undefined) return d;
  if (!(varianceToKeep > 0 && varianceToKeep <= 1)) {
    throw new MlError(`${TYPE}: varianceToKeep must be in (0, 1], got ${varianceToKeep}`);
  }
  let cumulative = 0;
  let atOrBelow = 0;
  for (let j = 0; j < d; j++) {
    cumulative += ratio[j] as number;
    if (cumulative <= varianceToKeep) atOrBelow++;
  }
  return Math.min(atOrBelow + 1, d);
}

/** A fitted PCA; build one with {@link Pca.fit} or {@link Pca.fromJSON}. */
export class Pca {
  private constructor(private readonly state: PcaState) {}

  /** Fits on the rows of `X` (at least 2 rows, finite values, some variance). */
  static fit(X: DenseMatrix, options: PcaOptions = {}): Pca {
    checkX(X, "X");
    const { rows: n, cols: d } = X;
    if (d === 0) throw new MlError(`${TYPE}: X has no columns`);
    if (n < 2) throw new MlError(`${TYPE}: X needs at least 2 rows to estimate a covariance, got ${n}`);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (X.data[i * d + j] as number);
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / n;
    const covariance = new Float64Array(d * d);
    const centred = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) centred[j] = (X.data[i * d + j] as number) - (mean[j] as number);
      for (let a = 0; a < d; a++) {
        const ca = centred[a] as number;
        if (ca === 0) continue;
        for (let b = a; b < d; b++)
          covariance[a * d + b] = (covariance[a * d + b] as number) + ca * (centred[b] as number);
      }
    }
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        const v = (covariance[a * d + b] as number) / (n - 1);
        covariance[a * d + b] = v;
        covariance[b * d + a] = v;
      }
    }
    const { values, vectors } = symmetricEigen(dense(d, d, covariance));
    const variance = values.map((v) => Math.max(v, 0));
    const total = variance.reduce((s, v) => s + v, 0);
    if (!(total > 0)) throw new MlError(`${TYPE}: every column of X is constant; there is no variance to explain`);
    const ratio = variance.map((v) => v / total);
    const k = componentCount(options, ratio, d);
    const components = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) components[c * d + j] = vectors.data[j * d + c] as number;
    return new Pca({
      nSamples: n,
      mean,
      components,
      nComponents: k,
      explainedVariance: variance.slice(0, k),
      explainedVarianceRatio: ratio.slice(0, k),
    });
  }

  get nFeatures(): number {
    return this.state.mean.length;
  }
  get nComponents(): number {
    return this.state.nComponents;
  }
  /** The column means of the training data (a copy). */
  get mean(): Float64Array {
    return this.state.mean.slice();
  }
  /** nComponents × nFeatures: the principal axes as orthonormal rows (a copy). */
  get components(): DenseMatrix {
    return dense(this.nComponents, this.nFeatures, this.state.components.slice());
  }
  /** The variance along each kept component (a copy). */
  get explainedVariance(): Float64Array {
    return this.state.explainedVariance.slice();
  }
  /** The share of the total variance along each kept component (a copy). */
  get explainedVarianceRatio(): Float64Array {
    return this.state.explainedVarianceRatio.slice();
  }

  /** Coordinates of the rows of `X` on the components: n × nComponents. */
  transform(X: DenseMatrix): DenseMatrix {
    this.checkWidth(X, "X", this.nFeatures);
    const { mean, components, nComponents: k } = this.state;
    const d = this.nFeatures;
    const out = new Float64Array(X.rows * k);
    for (let i = 0; i < X.rows; i++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          s += ((X.data[i * d + j] as number) - (mean[j] as number)) * (components[c * d + j] as number);
        }
        out[i * k + c] = s;
      }
    }
    return dense(X.rows, k, out);
  }

  /** Points of the original space from component coordinates: n × nFeatures. */
  inverseTransform(Z: DenseMatrix): DenseMatrix {
    this.checkWidth(Z, "Z", this.nComponents);
    const { mean, components, nComponents: k } = this.state;
    const d = this.nFeatures;
    const out = new Float64Array(Z.rows * d);
    for (let i = 0; i < Z.rows; i++) {
      out.set(mean, i * d);
      for (let c = 0; c < k; c++) {
        const z = Z.data[i * k + c] as number;
        for (let j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] as number) + z * (components[c * d + j] as number);
      }
    }
    return dense(Z.rows, d, out);
  }

  /** ‖x − inverseTransform(transform(x))‖₂ of each row of `X`, without building the intermediate matrices. */
  reconstructionErrors(X: DenseMatrix): Float64Array {
    this.checkWidth(X, "X", this.nFeatures);
    const { mean, components, nComponents: k } = this.state;
    const d = this.nFeatures;
    const centred = new Float64Array(d);
    const residual = new Float64Array(d);
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < d; j++) centred[j] = (X.data[i * d + j] as number) - (mean[j] as number);
      residual.set(centred);
      for (let c = 0; c < k; c++) {
        let z = 0;
        for (let j = 0; j < d; j++) z += (centred[j] as number) * (components[c * d + j] as number);
        for (let j = 0; j < d; j++) residual[j] = (residual[j] as number) - z * (components[c * d + j] as number);
      }
      let sum = 0;
      for (let j = 0; j < d; j++) sum += (residual[j] as number) ** 2;
      out[i] = Math.sqrt(sum);
    }
    return out;
  }

  toJSON(): PcaJson {
    const { nSamples, mean, components, nComponents: k, explainedVariance, explainedVarianceRatio } = this.state;
    const d = this.nFeatures;
    return {
      type: TYPE,
      version: FORMAT_VERSION,
      nSamples,
      mean: Array.from(mean),
      components: Array.from({ length: k }, (_, c) => Array.from(components.subarray(c * d, (c + 1) * d))),
      explainedVariance: Array.from(explainedVariance),
      explainedVarianceRatio: Array.from(explainedVarianceRatio),
    };
  }

  static fromJSON(value: unknown): Pca {
    const reader: JsonReader = JsonReader.forType(value, TYPE);
    const nSamples = reader.number("nSamples", { integer: true, min: 2 });
    const mean = finite(reader, "mean", reader.numberArray("mean"));
    const d = mean.length;
    if (d === 0) reader.fail("mean", "a non-empty array");
    const rows = reader.raw("components");
    if (!Array.isArray(rows) || rows.length === 0 || rows.length > d) {
      reader.fail("components", `1 to ${d} rows of ${d} numbers`);
    }
    const k = rows.length;
    const components = new Float64Array(k * d);
    rows.forEach((row: unknown, c) => {
      if (!Array.isArray(row) || row.length !== d || !row.every((x) => typeof x === "number" && Number.isFinite(x))) {
        reader.fail("components", `${k} rows of ${d} finite numbers`);
      }
      components.set(row as number[], c * d);
    });
    return new Pca({
      nSamples,
      mean,
      components,
      nComponents: k,
      explainedVariance: finite(reader, "explainedVariance", reader.numberArray("explainedVariance", k)),
      explainedVarianceRatio: finite(reader, "explainedVarianceRatio", reader.numberArray("explainedVarianceRatio", k)),
    });
  }

  private checkWidth(X: DenseMatrix, what: string, width: number): void {
    checkX(X, what);
    if (X.cols !== width) throw new MlError(`${TYPE}: ${what} has ${X.cols} columns, expected ${width}`);
  }
}

function finite(reader: JsonReader, key: string, values: Float64Array): Float64Array {
  if (!values.every((v) => Number.isFinite(v))) reader.fail(key, "an array of finite numbers");
  return values;
}
