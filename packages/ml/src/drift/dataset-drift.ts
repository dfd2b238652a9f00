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
  type ColumnDrift,
  type ColumnDriftOptions,
  type DriftColumnType,
  type DriftDefaults,
  type DriftFinding,
} from "./column-drift.js";
import { driftMethod } from "./methods.js";
import type { TextDriftOptions } from "./text-drift.js";

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
        return untestedColumn(name, type ?? "categorical", {
          column: name,
          kind: "column_missing_in_current",
          message: `column '${name}' is in reference but not in current: not compared`,
        });
      }
      if (type === undefined) {
        return untestedColumn(name, "categorical", {
          column: name,
          kind: "no_values_in_reference",
          message: `column '${name}' has no values in reference or current: not compared`,
        });
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
  };
}

function untestedColumn(column: string, type: DriftColumnType, finding: DriftFinding): ColumnDrift {
  return {
    column,
    type,
    test: null,
    score: null,
    threshold: null,
    comparison: null,
    drift: null,
    statistics: {},
    findings: [finding],
  };
}
