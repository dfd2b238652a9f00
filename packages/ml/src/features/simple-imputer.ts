/**
 * SimpleImputer: replaces missing values column by column, equal to scikit-learn's
 * `sklearn.impute.SimpleImputer` on numeric data with `missing_values=np.nan`.
 *
 * Input: a DenseMatrix, in which NaN is missing, or rows of numbers in which NaN, null and undefined are
 * missing. Infinite values are refused (as scikit-learn's input check does). Output: a DenseMatrix.
 *
 * How it matches scikit-learn:
 * - strategies "mean", "median" (mean of the two middle values for an even count), "most_frequent" (ties
 *   go to the smallest value) and "constant" (`fillValue`, default 0), over the non-missing values seen by fit;
 * - a column with no observed value at fit has no statistic (NaN); unless `keepEmptyFeatures` is true such
 *   columns are *dropped* from the output, as scikit-learn does (with a warning there), except with the
 *   "constant" strategy; with `keepEmptyFeatures` they are kept and filled with 0 (or `fillValue`).
 */
import { MlError } from "../core/errors.js";
import { dense, type DenseMatrix } from "../core/matrix.js";
import {
  describe,
  FORMAT_VERSION,
  JsonReader,
  notFittedError,
  numbersToJson,
  type JsonObject,
} from "./serialization.js";

export type ImputeStrategy = "mean" | "median" | "most_frequent" | "constant";

/** A numeric cell that may be missing. */
export type MaybeNumber = number | null | undefined;

/** What the imputer accepts: a dense matrix (NaN = missing) or rows of numbers, NaN, null or undefined. */
export type ImputerInput = DenseMatrix | readonly (readonly MaybeNumber[])[];

export interface SimpleImputerOptions {
  /** How to fill (default "mean"). */
  strategy?: ImputeStrategy;
  /** The value of the "constant" strategy (default 0). */
  fillValue?: number;
  /** Keep columns without any observed value (filled with 0, or fillValue) instead of dropping them (default false). */
  keepEmptyFeatures?: boolean;
}

export interface SimpleImputerJson extends JsonObject {
  type: "SimpleImputer";
  version: 1;
  options: { strategy: ImputeStrategy; fillValue: number; keepEmptyFeatures: boolean };
  /** The fill value of each column; null for a column with no observed value (NaN). */
  statistics: (number | null)[];
}

const STRATEGIES: readonly ImputeStrategy[] = ["mean", "median", "most_frequent", "constant"];

/** The input as a DenseMatrix with NaN for missing cells; throws on infinities and ragged rows. */
function toMatrix(X: ImputerInput, owner: string): DenseMatrix {
  let m: DenseMatrix;
  if (Array.isArray(X)) {
    const rows = X as readonly (readonly MaybeNumber[])[];
    const cols = rows[0]?.length ?? 0;
    const data = new Float64Array(rows.length * cols);
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== cols) {
        throw new MlError(`${owner}: row ${i} has ${describe(row?.length)} values, expected ${cols}`);
      }
      row.forEach((v, j) => {
        if (v === null || v === undefined) data[i * cols + j] = Number.NaN;
        else if (typeof v === "number") data[i * cols + j] = v;
        else throw new MlError(`${owner}: row ${i}, column ${j} is ${describe(v)}, expected a number or null`);
      });
    });
    m = dense(rows.length, cols, data);
  } else if (typeof X === "object" && X !== null && (X as DenseMatrix).kind === "dense") {
    m = X as DenseMatrix;
  } else {
    throw new MlError(`${owner}: X must be a DenseMatrix or an array of rows`);
  }
  for (let k = 0; k < m.data.length; k++) {
    const v = m.data[k] as number;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw new MlError(`${owner}: X has ${String(v)} at row ${Math.floor(k / m.cols)}, column ${k % m.cols}`);
    }
  }
  return m;
}

/** The statistic of the observed (non-empty) values of a column, in row order. */
function statistic(observed: readonly number[], strategy: Exclude<ImputeStrategy, "constant">): number {
  const n = observed.length;
  if (strategy === "mean") {
    let sum = 0;
    for (const v of observed) sum += v; // row order, as numpy's masked mean adds them
    return sum / n;
  }
  const sorted = Float64Array.from(observed).sort();
  if (strategy === "median") {
    const mid = n >> 1;
    return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }
  // most_frequent: the longest run in sorted order; the first (smallest) wins ties.
  let best = sorted[0] as number;
  let bestCount = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      best = sorted[i] as number;
    }
    i = j;
  }
  return best;
}

/** Imputes missing values with a per-column statistic or a constant. */
export class SimpleImputer {
  readonly strategy: ImputeStrategy;
  readonly fillValue: number;
  readonly keepEmptyFeatures: boolean;
  private stats: Float64Array | null = null;

  constructor(options: SimpleImputerOptions = {}) {
    this.strategy = options.strategy ?? "mean";
    if (!STRATEGIES.includes(this.strategy)) {
      throw new MlError(
        `SimpleImputer: strategy must be one of ${STRATEGIES.join(", ")}, got ${describe(this.strategy)}`,
      );
    }
    this.fillValue = options.fillValue ?? 0;
    if (typeof this.fillValue !== "number" || !Number.isFinite(this.fillValue)) {
      throw new MlError(`SimpleImputer: fillValue must be a finite number, got ${describe(this.fillValue)}`);
    }
    this.keepEmptyFeatures = options.keepEmptyFeatures ?? false;
  }

  get isFitted(): boolean {
    return this.stats !== null;
  }

  /** The fill value of each column (a copy); NaN for a column with no observed value. */
  get statistics(): Float64Array {
    if (this.stats === null) throw notFittedError("SimpleImputer");
    return this.stats.slice();
  }

  fit(X: ImputerInput): this {
    const m = toMatrix(X, "SimpleImputer");
    const stats = new Float64Array(m.cols);
    for (let j = 0; j < m.cols; j++) {
      if (this.strategy === "constant") {
        stats[j] = this.fillValue;
        continue;
      }
      const observed: number[] = [];
      for (let i = 0; i < m.rows; i++) {
        const v = m.data[i * m.cols + j] as number;
        if (!Number.isNaN(v)) observed.push(v);
      }
      if (observed.length === 0) {
        stats[j] = this.keepEmptyFeatures ? 0 : Number.NaN;
        continue;
      }
      stats[j] = statistic(observed, this.strategy);
    }
    this.stats = stats;
    return this;
  }

  /** X with missing cells filled; columns without statistic are dropped (see the file comment). */
  transform(X: ImputerInput): DenseMatrix {
    const stats = this.stats;
    if (stats === null) throw notFittedError("SimpleImputer");
    const m = toMatrix(X, "SimpleImputer");
    if (m.cols !== stats.length) {
      throw new MlError(`SimpleImputer: X has ${m.cols} features, but the imputer was fitted on ${stats.length}`);
    }
    const kept: number[] = [];
    for (let j = 0; j < stats.length; j++) if (!Number.isNaN(stats[j])) kept.push(j);
    const out = new Float64Array(m.rows * kept.length);
    for (let i = 0; i < m.rows; i++) {
      kept.forEach((j, c) => {
        const v = m.data[i * m.cols + j] as number;
        out[i * kept.length + c] = Number.isNaN(v) ? (stats[j] as number) : v;
      });
    }
    return dense(m.rows, kept.length, out);
  }

  fitTransform(X: ImputerInput): DenseMatrix {
    return this.fit(X).transform(X);
  }

  toJSON(): SimpleImputerJson {
    if (this.stats === null) throw notFittedError("SimpleImputer");
    return {
      type: "SimpleImputer",
      version: FORMAT_VERSION,
      options: { strategy: this.strategy, fillValue: this.fillValue, keepEmptyFeatures: this.keepEmptyFeatures },
      statistics: numbersToJson(this.stats),
    };
  }

  static fromJSON(obj: unknown): SimpleImputer {
    const reader = JsonReader.forType(obj, "SimpleImputer");
    const o = reader.object("options");
    const imputer = new SimpleImputer({
      strategy: o.oneOf("strategy", STRATEGIES),
      fillValue: o.number("fillValue"),
      keepEmptyFeatures: o.boolean("keepEmptyFeatures"),
    });
    const stats = reader.numberArray("statistics");
    if ((imputer.strategy === "constant" || imputer.keepEmptyFeatures) && stats.some(Number.isNaN)) {
      reader.fail("statistics", "numbers only (no column is dropped with these options)");
    }
    imputer.stats = stats;
    return imputer;
  }
}
