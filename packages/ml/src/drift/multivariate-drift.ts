/**
 * Multivariate drift by data reconstruction with PCA (NannyML's `DataReconstructionDriftCalculator`).
 *
 * Fit on the reference: impute missing values by the column means, standardise every column by its mean and
 * population standard deviation (computed after imputation, as scikit-learn's `SimpleImputer` followed by
 * `StandardScaler` does), and fit a {@link Pca} keeping the fewest components that explain more than
 * `varianceToKeep` (default 0.65) of the variance. The error of a row is ‖x − x̂‖₂ in the standardised space,
 * x̂ its projection on the kept components; the value of a batch is the mean error of its rows.
 * The reference is cut into consecutive chunks of `chunkSize` rows (default ⌊n / 10⌋, so 10 chunks; the
 * remainder joins the last chunk); the thresholds are mean ± `sigmas`·σ (default 3, σ the population
 * standard deviation) of the chunk values, the lower one clipped at 0. A batch drifts when its value falls
 * outside them.
 *
 * What it catches: a change in the correlation structure (the "butterfly": two correlated features whose
 * joint distribution turns by 90° while each marginal stays the same) that no univariate test sees.
 *
 * Things to know:
 * - the reference chunk values are in-sample (the PCA was fitted on them), a little lower than the error of
 *   fresh data; with many rows per column this bias is negligible, with few it can raise false alarms;
 * - the thresholds describe batches of `chunkSize` rows: a much smaller current batch has a noisier mean and
 *   crosses them more often (use {@link ReconstructionDriftModel.evaluateChunks} to cut a long batch);
 * - σ is estimated from only 10 chunk values by default, so the band is often too narrow: on fresh samples of
 *   the reference distribution (3 columns, 5,000 reference rows, 300 fits × 20 chunks of 500) 2.3% of the
 *   chunks fell outside mean ± 3σ, not the 0.3% a known σ would give. More reference chunks (a smaller
 *   `chunkSize`) or a larger `sigmas` lower that rate;
 * - columns that are constant or entirely missing in the reference carry no information for the
 *   standardisation and are left out of the model (listed with a reason in `excludedColumns`); a column that
 *   later varies is a univariate drift, for the univariate detectors to report;
 * - with a single modelled column (or `varianceToKeep: 1`) every component is kept and the error is always 0:
 *   the method needs correlated columns to have anything to reconstruct.
 *
 * The model serialises to JSON (`toJSON` / {@link ReconstructionDriftModel.fromJSON}) so a monitor can store
 * it and evaluate later batches.
 */
import { MlError } from "../core/errors.js";
import { dense, type DenseMatrix } from "../core/matrix.js";
import { describe, FORMAT_VERSION, JsonReader, type JsonObject } from "../features/serialization.js";
import { Pca, type PcaJson } from "./pca.js";

/** Numeric columns by name, all of one length; null, undefined and NaN are missing values. */
export interface NumericColumns {
  readonly columns: Readonly<Record<string, ArrayLike<number | null | undefined>>>;
}

export interface ReconstructionDriftOptions {
  /** Share of the standardised variance the kept components explain, in (0, 1] (default 0.65). */
  varianceToKeep?: number;
  /** Rows per reference chunk (default ⌊n / 10⌋, at least 1); at least 2 chunks are needed. */
  chunkSize?: number;
  /** Width of the thresholds in standard deviations of the reference chunk values (default 3). */
  sigmas?: number;
}

export interface ReconstructionDriftResult {
  /** Rows evaluated. */
  rows: number;
  /** Mean reconstruction error of the rows, in standardised units. */
  error: number;
  /** Standard deviation of the row errors (ddof = 1; 0 for a single row). */
  errorStd: number;
  lower: number;
  upper: number;
  /** error < lower or error > upper. */
  drift: boolean;
}

export interface ExcludedColumn {
  name: string;
  reason: string;
}

export interface ReconstructionDriftJson extends JsonObject {
  type: "ReconstructionDriftModel";
  version: 1;
  options: { varianceToKeep: number; chunkSize: number; sigmas: number };
  /** The modelled columns, in order, with their reference mean (the imputed value) and standard deviation. */
  columns: { name: string; mean: number; std: number }[];
  excludedColumns: { name: string; reason: string }[];
  pca: PcaJson;
  /** Mean reconstruction error of each reference chunk. */
  referenceChunkErrors: number[];
}

const TYPE = "ReconstructionDriftModel";

interface ColumnScale {
  name: string;
  mean: number;
  std: number;
}

interface ModelState {
  options: { varianceToKeep: number; chunkSize: number; sigmas: number };
  columns: ColumnScale[];
  excluded: ExcludedColumn[];
  pca: Pca;
  chunkErrors: Float64Array;
  lower: number;
  upper: number;
}

/** Fits the reconstruction-error drift model on the reference columns; see the file comment. */
export function fitReconstructionDrift(
  reference: NumericColumns,
  options: ReconstructionDriftOptions = {},
): ReconstructionDriftModel {
  return ReconstructionDriftModel.fit(reference, options);
}

/** A fitted reconstruction-error drift model (from {@link fitReconstructionDrift} or `fromJSON`). */
export class ReconstructionDriftModel {
  private constructor(private readonly state: ModelState) {}

  /** The same as {@link fitReconstructionDrift}. */
  static fit(reference: NumericColumns, options: ReconstructionDriftOptions = {}): ReconstructionDriftModel {
    const names = columnNames(reference, "reference");
    const n = rowCount(reference, names, "reference");
    if (n < 2) throw new MlError(`${TYPE}: the reference needs at least 2 rows, got ${n}`);
    const varianceToKeep = options.varianceToKeep ?? 0.65;
    if (!(varianceToKeep > 0 && varianceToKeep <= 1)) {
      throw new MlError(`${TYPE}: varianceToKeep must be in (0, 1], got ${describe(options.varianceToKeep)}`);
    }
    const sigmas = options.sigmas ?? 3;
    if (!(sigmas >= 0) || !Number.isFinite(sigmas)) {
      throw new MlError(`${TYPE}: sigmas must be a finite number ≥ 0, got ${describe(options.sigmas)}`);
    }
    const chunkSize = options.chunkSize ?? Math.max(1, Math.floor(n / 10));
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new MlError(`${TYPE}: chunkSize must be a positive integer, got ${describe(chunkSize)}`);
    }
    if (n < 2 * chunkSize) {
      throw new MlError(
        `${TYPE}: ${n} reference rows make fewer than 2 chunks of ${chunkSize}; pass a smaller chunkSize or more rows`,
      );
    }

    const columns: ColumnScale[] = [];
    const excluded: ExcludedColumn[] = [];
    for (const name of names) {
      const values = reference.columns[name] as ArrayLike<number | null | undefined>;
      const { mean, std, observed } = columnStatistics(values, name, n);
      if (observed === 0) excluded.push({ name, reason: "no values in the reference" });
      else if (isConstant(std, mean, n)) excluded.push({ name, reason: `constant in the reference (${mean})` });
      else columns.push({ name, mean, std });
    }
    if (columns.length === 0) {
      throw new MlError(
        `${TYPE}: no column varies in the reference (${excluded.map((c) => `${c.name}: ${c.reason}`).join("; ")})`,
      );
    }
    const x = standardise(reference, columns, n, "reference");
    const pca = Pca.fit(x, { varianceToKeep });
    const rowErrors = pca.reconstructionErrors(x);
    const chunks = Math.floor(n / chunkSize);
    const chunkErrors = new Float64Array(chunks);
    for (let c = 0; c < chunks; c++) {
      chunkErrors[c] = mean(rowErrors, c * chunkSize, c === chunks - 1 ? n : (c + 1) * chunkSize);
    }
    return ReconstructionDriftModel.build({ varianceToKeep, chunkSize, sigmas }, columns, excluded, pca, chunkErrors);
  }

  private static build(
    options: ModelState["options"],
    columns: ColumnScale[],
    excluded: ExcludedColumn[],
    pca: Pca,
    chunkErrors: Float64Array,
  ): ReconstructionDriftModel {
    const m = mean(chunkErrors, 0, chunkErrors.length);
    let sum = 0;
    for (const e of chunkErrors) sum += (e - m) ** 2;
    const std = Math.sqrt(sum / chunkErrors.length);
    return new ReconstructionDriftModel({
      options,
      columns,
      excluded,
      pca,
      chunkErrors,
      lower: Math.max(0, m - options.sigmas * std),
      upper: m + options.sigmas * std,
    });
  }

  /** The modelled columns, in order. */
  get columns(): readonly string[] {
    return this.state.columns.map((c) => c.name);
  }
  /** Reference columns left out of the model (constant or without values), with the reason. */
  get excludedColumns(): readonly ExcludedColumn[] {
    return this.state.excluded.map((c) => ({ ...c }));
  }
  /** Principal components kept. */
  get nComponents(): number {
    return this.state.pca.nComponents;
  }
  get chunkSize(): number {
    return this.state.options.chunkSize;
  }
  /** The mean reconstruction error of each reference chunk (a copy). */
  get referenceChunkErrors(): Float64Array {
    return this.state.chunkErrors.slice();
  }
  get lower(): number {
    return this.state.lower;
  }
  get upper(): number {
    return this.state.upper;
  }

  /**
   * The reconstruction error of `current` (every modelled column must be there; other columns are ignored)
   * against the thresholds.
   */
  evaluate(current: NumericColumns): ReconstructionDriftResult {
    const errors = this.rowErrors(current);
    return this.result(errors, 0, errors.length);
  }

  /**
   * `current` cut into consecutive chunks of `chunkSize` rows (default the model's), one result per chunk; the
   * remainder joins the last chunk, and a batch shorter than one chunk gives one result.
   */
  evaluateChunks(current: NumericColumns, chunkSize: number = this.chunkSize): ReconstructionDriftResult[] {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new MlError(`${TYPE}: chunkSize must be a positive integer, got ${describe(chunkSize)}`);
    }
    const errors = this.rowErrors(current);
    const chunks = Math.max(1, Math.floor(errors.length / chunkSize));
    return Array.from({ length: chunks }, (_, c) =>
      this.result(errors, c * chunkSize, c === chunks - 1 ? errors.length : (c + 1) * chunkSize),
    );
  }

  toJSON(): ReconstructionDriftJson {
    const { options, columns, excluded, pca, chunkErrors } = this.state;
    return {
      type: TYPE,
      version: FORMAT_VERSION,
      options: { ...options },
      columns: columns.map((c) => ({ ...c })),
      excludedColumns: excluded.map((c) => ({ ...c })),
      pca: pca.toJSON(),
      referenceChunkErrors: Array.from(chunkErrors),
    };
  }

  static fromJSON(value: unknown): ReconstructionDriftModel {
    const reader: JsonReader = JsonReader.forType(value, TYPE);
    const o = reader.object("options");
    const options = {
      varianceToKeep: o.number("varianceToKeep", { min: 0, max: 1 }),
      chunkSize: o.number("chunkSize", { integer: true, min: 1 }),
      sigmas: o.number("sigmas", { min: 0 }),
    };
    const columns = readColumns(reader);
    const excluded = readExcluded(reader);
    const pca = Pca.fromJSON(reader.raw("pca"));
    if (pca.nFeatures !== columns.length) reader.fail("pca", `a PCA over the ${columns.length} columns`);
    const chunkErrors = reader.numberArray("referenceChunkErrors");
    if (chunkErrors.length < 2 || !chunkErrors.every((e) => Number.isFinite(e) && e >= 0)) {
      reader.fail("referenceChunkErrors", "at least 2 finite numbers ≥ 0");
    }
    return ReconstructionDriftModel.build(options, columns, excluded, pca, chunkErrors);
  }

  private rowErrors(current: NumericColumns): Float64Array {
    if (
      current === null ||
      typeof current !== "object" ||
      typeof current.columns !== "object" ||
      current.columns === null
    ) {
      throw new MlError(`${TYPE}: current must be { columns: { name: values } }, got ${describe(current)}`);
    }
    const missing = this.columns.filter((name) => !Object.hasOwn(current.columns, name));
    if (missing.length > 0) {
      throw new MlError(`${TYPE}: current lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    }
    const n = rowCount(current, this.columns, "current");
    if (n === 0) throw new MlError(`${TYPE}: current has no rows`);
    return this.state.pca.reconstructionErrors(standardise(current, this.state.columns, n, "current"));
  }

  private result(errors: Float64Array, start: number, end: number): ReconstructionDriftResult {
    const m = mean(errors, start, end);
    let sum = 0;
    for (let i = start; i < end; i++) sum += ((errors[i] as number) - m) ** 2;
    const rows = end - start;
    const { lower, upper } = this.state;
    return {
      rows,
      error: m,
      errorStd: rows > 1 ? Math.sqrt(sum / (rows - 1)) : 0,
      lower,
      upper,
      drift: m < lower || m > upper,
    };
  }
}

function columnNames(table: NumericColumns, what: string): string[] {
  if (table === null || typeof table !== "object" || typeof table.columns !== "object" || table.columns === null) {
    throw new MlError(`${TYPE}: ${what} must be { columns: { name: values } }, got ${describe(table)}`);
  }
  const names = Object.keys(table.columns);
  if (names.length === 0) throw new MlError(`${TYPE}: ${what} has no columns`);
  return names;
}

function rowCount(table: NumericColumns, names: readonly string[], what: string): number {
  let n: number | undefined;
  for (const name of names) {
    const values = table.columns[name];
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new MlError(`${TYPE}: ${what} column ${JSON.stringify(name)} is not an array of numbers`);
    }
    if (n === undefined) n = values.length;
    else if (values.length !== n) {
      throw new MlError(
        `${TYPE}: ${what} column ${JSON.stringify(name)} has ${values.length} rows, column ${JSON.stringify(names[0])} has ${n}`,
      );
    }
  }
  return n ?? 0;
}

/** The value at row i, NaN when missing; throws on anything but a finite number, null, undefined or NaN. */
function cell(values: ArrayLike<number | null | undefined>, i: number, name: string, what: string): number {
  const v = values[i];
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v !== "number" || v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
    throw new MlError(`${TYPE}: ${what} column ${JSON.stringify(name)} has ${describe(v)} at row ${i}`);
  }
  return v;
}

/** Mean of the observed values and population std after mean imputation. */
function columnStatistics(
  values: ArrayLike<number | null | undefined>,
  name: string,
  n: number,
): { mean: number; std: number; observed: number } {
  let sum = 0;
  let observed = 0;
  for (let i = 0; i < n; i++) {
    const v = cell(values, i, name, "reference");
    if (!Number.isNaN(v)) {
      sum += v;
      observed++;
    }
  }
  if (observed === 0) return { mean: Number.NaN, std: Number.NaN, observed };
  const m = sum / observed;
  // imputed rows sit at the mean and add only to the count, as after SimpleImputer
  let squares = 0;
  let offset = 0; // Σ(x − m), zero up to round-off: the correction term of a two-pass variance
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === "number" && !Number.isNaN(v)) {
      squares += (v - m) ** 2;
      offset += v - m;
    }
  }
  const variance = Math.max(0, (squares - (offset * offset) / n) / n);
  return { mean: m, std: Math.sqrt(variance), observed };
}

/** scikit-learn's `_is_constant_feature`: a variance indistinguishable from round-off. */
function isConstant(std: number, mean: number, n: number): boolean {
  const eps = 2 ** -52;
  const variance = std * std;
  return variance <= n * eps * variance + (n * mean * eps) ** 2;
}

function standardise(table: NumericColumns, columns: readonly ColumnScale[], n: number, what: string): DenseMatrix {
  const d = columns.length;
  const out = new Float64Array(n * d);
  columns.forEach(({ name, mean: m, std }, j) => {
    const values = table.columns[name] as ArrayLike<number | null | undefined>;
    for (let i = 0; i < n; i++) {
      const v = cell(values, i, name, what);
      out[i * d + j] = Number.isNaN(v) ? 0 : (v - m) / std;
    }
  });
  return dense(n, d, out);
}

function mean(values: Float64Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += values[i] as number;
  return sum / (end - start);
}

function readColumns(reader: JsonReader): ColumnScale[] {
  const raw = reader.raw("columns");
  const ok =
    Array.isArray(raw) &&
    raw.length > 0 &&
    raw.every(
      (c: unknown) =>
        isRecord(c) &&
        typeof c.name === "string" &&
        typeof c.mean === "number" &&
        Number.isFinite(c.mean) &&
        typeof c.std === "number" &&
        Number.isFinite(c.std) &&
        c.std > 0,
    );
  if (!ok) reader.fail("columns", "a non-empty array of { name, mean, std > 0 }");
  return (raw as ColumnScale[]).map(({ name, mean: m, std }) => ({ name, mean: m, std }));
}

function readExcluded(reader: JsonReader): ExcludedColumn[] {
  const raw = reader.raw("excludedColumns");
  const ok =
    Array.isArray(raw) &&
    raw.every((c: unknown) => isRecord(c) && typeof c.name === "string" && typeof c.reason === "string");
  if (!ok) reader.fail("excludedColumns", "an array of { name, reason }");
  return (raw as ExcludedColumn[]).map(({ name, reason }) => ({ name, reason }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
