/**
 * Drift of a whole table: every column of the reference compared with the current data, then the
 * dataset verdict (share of drifted columns ≥ `driftShare`, 0.5 by default, as Evidently decides).
 * Method and threshold per column resolve like Evidently's: per-column → per-type → all → the chosen
 * method's default. A column that cannot be tested (absent, all missing) is reported with its finding
 * and left out of the share; nothing here throws on bad data, only on bad options.
 */
import { MlError } from "../core/errors.js";
import type { Table } from "../data/table.js";
import {
  columnDrift,
  driftColumnType,
  textColumnDrift,
  untestedColumn,
  type ColumnDrift,
  type ColumnDriftOptions,
  type DriftColumnType,
  type DriftDefaults,
  type DriftFinding,
} from "./column-drift.js";
import { driftMethod } from "./methods.js";
import type { TextDriftOptions } from "./text-drift.js";
import { fitReconstructionDrift } from "./multivariate-drift.js";
import { Random } from "../core/random.js";

export interface DatasetDriftOptions {
  defaults?: DriftDefaults;
  /** method for every column */
  method?: string;
  /** method per column type */
  methods?: Partial<Record<DriftColumnType, string>>;
  /** method per column */
  columnMethods?: Readonly<Record<string, string>>;
  threshold?: number;
  thresholds?: Partial<Record<DriftColumnType, number>>;
  columnThresholds?: Readonly<Record<string, number>>;
  /** dataset drift when at least this share of tested columns drifted (default 0.5) */
  driftShare?: number;
  /** significance of the findings' tests (default 0.05) */
  alpha?: number;
  /** columns to compare (default: every column of the reference) */
  columns?: readonly string[];
  /** columns left out (ids, timestamps) */
  exclude?: readonly string[];
  text?: TextDriftOptions;
  /**
   * Multivariate drift by PCA reconstruction over the tested numeric columns (default true; needs at
   * least 2 of them and 50 rows a side). Reported beside the per-column verdicts, not counted in the share.
   */
  multivariate?: boolean;
  /** called after each column (progress bars) */
  onColumn?: (done: number, total: number, column: string) => void;
}

export interface DatasetDrift {
  readonly reference_rows: number;
  readonly current_rows: number;
  readonly columns: readonly ColumnDrift[];
  /** findings of every column, plus the table's own (columns absent on one side) */
  readonly findings: readonly DriftFinding[];
  readonly tested_columns: number;
  readonly drifted_columns: number;
  readonly share: number;
  readonly drift_share: number;
  readonly dataset_drift: boolean;
  /** PCA reconstruction drift over the numeric columns, when computed (see `multivariate`) */
  readonly multivariate?: MultivariateDrift;
}

/** The reconstruction error of current against the band of the reference's chunks (`multivariate-drift.ts`). */
export interface MultivariateDrift {
  readonly method: "pca_reconstruction";
  readonly columns: readonly string[];
  readonly components: number;
  /** rows compared per side (a seeded sample beyond 100,000) */
  readonly reference_rows: number;
  readonly current_rows: number;
  readonly chunk_size: number;
  readonly error: number;
  readonly lower: number;
  readonly upper: number;
  readonly drift: boolean;
}

function checkShare(x: number | undefined, what: string, fallback: number): number {
  if (x === undefined) return fallback;
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new MlError(`${what} must be between 0 and 1, got ${x}`);
  return x;
}

function checkThreshold(x: number | undefined, what: string): number | undefined {
  if (x !== undefined && !Number.isFinite(x)) throw new MlError(`${what} must be a finite number, got ${x}`);
  return x;
}

export function datasetDrift(reference: Table, current: Table, options: DatasetDriftOptions = {}): DatasetDrift {
  const driftShare = checkShare(options.driftShare, "driftShare", 0.5);
  const alpha = checkShare(options.alpha, "alpha", 0.05);
  for (const name of [
    options.method,
    ...Object.values(options.methods ?? {}),
    ...Object.values(options.columnMethods ?? {}),
  ]) {
    if (name !== undefined && name !== "domain_classifier") driftMethod(name);
  }
  const exclude = new Set(options.exclude ?? []);
  const names = (options.columns ?? reference.columnNames).filter((c) => !exclude.has(c));
  for (const name of options.columns ?? []) {
    if (!reference.columns.has(name)) throw new MlError(`columns: '${name}' is not a column of the reference`);
  }
  const findings: DriftFinding[] = [];
  for (const name of current.columnNames) {
    if (!reference.columns.has(name) && !exclude.has(name)) {
      findings.push({
        column: name,
        kind: "column_missing_in_reference",
        message: `column '${name}' is in current but not in reference: not compared`,
      });
    }
  }
  const results: ColumnDrift[] = [];
  names.forEach((name, i) => {
    const refType = reference.types.get(name)!;
    const type = driftColumnType(refType) ?? driftColumnType(current.types.get(name) ?? "missing");
    const result = ((): ColumnDrift => {
      if (!current.columns.has(name)) {
        return untestedColumn(name, type ?? "categorical", [
          {
            column: name,
            kind: "column_missing_in_current",
            message: `column '${name}' is in reference but not in current: not compared`,
          },
        ]);
      }
      if (type === undefined) {
        return untestedColumn(name, "categorical", [
          {
            column: name,
            kind: "no_values_in_reference",
            message: `column '${name}' has no values in reference or current: not compared`,
          },
        ]);
      }
      const columnOptions: ColumnDriftOptions = {
        defaults: options.defaults,
        method: options.columnMethods?.[name] ?? options.methods?.[type] ?? options.method,
        threshold: checkThreshold(
          options.columnThresholds?.[name] ?? options.thresholds?.[type] ?? options.threshold,
          `threshold of column '${name}'`,
        ),
        alpha,
        text: options.text,
      };
      const ref = reference.columns.get(name)!;
      const cur = current.columns.get(name)!;
      return type === "text"
        ? textColumnDrift(name, ref, cur, columnOptions)
        : columnDrift(name, type, ref, cur, columnOptions);
    })();
    results.push(result);
    findings.push(...result.findings);
    options.onColumn?.(i + 1, names.length, name);
  });
  const tested = results.filter((r) => r.drift !== null);
  const drifted = tested.filter((r) => r.drift === true).length;
  const share = tested.length === 0 ? 0 : drifted / tested.length;
  const numeric = results.filter((r) => r.type === "numeric" && r.drift !== null).map((r) => r.column);
  const multivariate =
    options.multivariate === false ? undefined : multivariateDrift(reference, current, numeric, findings);
  return {
    reference_rows: reference.rowCount,
    current_rows: current.rowCount,
    columns: results,
    findings,
    tested_columns: tested.length,
    drifted_columns: drifted,
    share,
    drift_share: driftShare,
    dataset_drift: tested.length > 0 && share >= driftShare,
    ...(multivariate === undefined ? {} : { multivariate }),
  };
}

/** Rows compared by the multivariate check, per side: a seeded uniform sample beyond this. */
const MULTIVARIATE_MAX_ROWS = 100_000;
const MULTIVARIATE_MIN_ROWS = 50;

function sampledColumns(table: Table, names: readonly string[], seed: number): Record<string, Float64Array> {
  let rows = Array.from(table.columns.get(names[0]!)!.keys());
  if (rows.length > MULTIVARIATE_MAX_ROWS) {
    rows = new Random(seed).shuffle(rows).slice(0, MULTIVARIATE_MAX_ROWS);
  }
  const out: Record<string, Float64Array> = {};
  for (const name of names) {
    const values = table.columns.get(name)!;
    out[name] = Float64Array.from(rows, (i) => {
      const v = values[i];
      return typeof v === "number" && Number.isFinite(v) ? v : NaN;
    });
  }
  return out;
}

function multivariateDrift(
  reference: Table,
  current: Table,
  columns: readonly string[],
  findings: DriftFinding[],
): MultivariateDrift | undefined {
  if (columns.length < 2 || reference.rowCount < MULTIVARIATE_MIN_ROWS || current.rowCount < MULTIVARIATE_MIN_ROWS) {
    return undefined;
  }
  const ref = sampledColumns(reference, columns, 1);
  const cur = sampledColumns(current, columns, 2);
  const nRef = ref[columns[0]!]!.length;
  const nCur = cur[columns[0]!]!.length;
  // reference chunks as large as the current sample (at least 5 of them), so the band fits its mean
  const chunkSize = Math.max(1, Math.min(nCur, Math.floor(nRef / 5)));
  let model;
  try {
    model = fitReconstructionDrift({ columns: ref }, { chunkSize });
  } catch (error) {
    findings.push({
      column: "(table)",
      kind: "multivariate_not_tested",
      message: `multivariate drift not tested: ${error instanceof Error ? error.message : String(error)}`,
    });
    return undefined;
  }
  if (model.columns.length < 2) return undefined;
  if (model.nComponents >= model.columns.length) {
    // every component kept: the reconstruction is exact and its "error" is round-off, whose band means nothing
    findings.push({
      column: "(table)",
      kind: "multivariate_not_tested",
      message: `multivariate drift not tested: the ${model.columns.length} numeric columns are too weakly correlated (all ${model.nComponents} principal components are needed to explain the variance), so there is no joint structure to reconstruct`,
    });
    return undefined;
  }
  const result = model.evaluate({ columns: cur });
  const out: MultivariateDrift = {
    method: "pca_reconstruction",
    columns: model.columns,
    components: model.nComponents,
    reference_rows: nRef,
    current_rows: nCur,
    chunk_size: model.chunkSize,
    error: result.error,
    lower: result.lower,
    upper: result.upper,
    drift: result.drift,
  };
  if (result.drift) {
    findings.push({
      column: "(table)",
      kind: "multivariate_drift",
      message: `the joint distribution of ${model.columns.length} numeric columns changed: PCA reconstruction error ${result.error.toPrecision(3)} outside the reference band [${result.lower.toPrecision(3)}, ${result.upper.toPrecision(3)}]`,
      details: { error: result.error, lower: result.lower, upper: result.upper },
    });
  }
  return out;
}
