/**
 * Evaluation of one window `[start, end)` of a monitor: which versions served it, its rows from the inference log,
 * feature drift and prediction drift against the reference (`datasetDrift` of `@slipway/ml`), performance where
 * labels arrived, latency, and the error rates of the logged requests. Drift, performance and latency use the rows
 * of successful requests (status 200) only; failed requests (4xx, 5xx) count in `rows` and in the error rates.
 *
 * Bad data never throws: an empty window is status `empty` with the finding `empty_window`; a missing or unreadable
 * reference, an unknown model or bad drift options are status `error` with a precise message; everything the drift
 * engine notices (columns missing from traffic, all-missing or constant columns, new categories) comes back as
 * findings.
 *
 * Memory: rows are read page by page; at most `maxRows` (default 100 000) successful rows are kept for the statistics,
 * a uniform sample (reservoir, seeded by the window's end) when the window has more. Counts and error rates use
 * every row, latency every successful row.
 */
import {
  Random,
  datasetDriftInWorker,
  tableFromColumns,
  tableFromRecords,
  type DatasetDrift,
  type WorkerDriftOptions,
  type Table,
  type TableColumnType,
} from "@slipway/ml";
import type { DriftSummary, ErrorSummary, MonitorFinding, WindowSummary } from "@slipway/protocol";
import type { RegistryService } from "../registry/registry-service.js";
import type { InferenceLogService } from "./inference-log-service.js";
import { followedUri, type MonitorDefinition } from "./monitor-definition.js";
import {
  evaluatePerformance,
  isPredictionColumn,
  predictionColumns,
  quantile,
  type LabelledRow,
} from "./monitor-performance.js";
import { ReferenceError, type ReferenceLoader } from "./monitor-reference.js";

export const DEFAULT_MAX_ROWS = 100_000;
const PAGE_SIZE = 5000;
const LABEL_COLUMN = "label";
/** The status of a successful prediction; rows with any other are failed requests. */
const OK_STATUS = 200;

export interface EvaluationDeps {
  inferenceLog: InferenceLogService;
  registry: RegistryService;
  references: ReferenceLoader;
  /** Rows kept for the statistics (default 100 000). */
  maxRows?: number;
}

/** What an evaluation found; the summary has no alert checks yet (the service adds them). */
export interface Evaluation {
  status: "ok" | "empty" | "error";
  error?: string;
  versions: string[];
  rows: number;
  labelled: number;
  summary: Omit<WindowSummary, "alerts" | "duration_ms">;
  /** The full results, with the distributions the HTML report draws. */
  featureDrift?: DatasetDrift;
  predictionDrift?: DatasetDrift;
  /** accuracy, f1, roc_auc, latency_p50_ms, latency_p99_ms, error_rate, client_error_rate: those computed. */
  metrics: Record<string, number>;
}

interface SampledRow {
  inputs: Record<string, unknown>;
  outputs: unknown;
  label?: unknown;
  labelled: boolean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The versions that served `[start, end)` and the one followed at its end (whose reference is used). */
export async function servedVersions(
  registry: RegistryService,
  def: MonitorDefinition,
  start: number,
  end: number,
): Promise<{ primary: string; served: string[] }> {
  if (def.model_version !== undefined) return { primary: def.model_version, served: [def.model_version] };
  const alias = def.model_alias!;
  const served = new Set<string>();
  const first = await registry.getAliasHistory({ name: def.model_name, alias, at: start, max_results: 1000 });
  const atStart = first.at?.[alias];
  if (atStart !== undefined) served.add(atStart);
  let primary = atStart;
  let page = first;
  // newest first: the first change before `end` says where the alias pointed at the end
  let endFound = false;
  for (;;) {
    for (const entry of page.history) {
      if (entry.kind !== "alias" || entry.changed_at >= end) continue;
      if (!endFound) {
        endFound = true;
        primary = entry.to_version;
      }
      if (entry.changed_at < start) break;
      if (entry.to_version !== undefined) served.add(entry.to_version);
    }
    const last = page.history.at(-1);
    if (page.next_page_token === undefined || last === undefined || last.changed_at < start) break;
    page = await registry.getAliasHistory({
      name: def.model_name,
      alias,
      max_results: 1000,
      page_token: page.next_page_token,
    });
  }
  if (primary === undefined || served.size === 0) {
    // the history says nothing about this window (e.g. a window before the alias existed): its current version
    let current: string;
    try {
      current = (await registry.getModelVersionByAlias({ name: def.model_name, alias })).model_version.version;
    } catch {
      throw new ReferenceError(`alias '${alias}' of model '${def.model_name}' points to no version`);
    }
    primary ??= current;
    if (served.size === 0) served.add(current);
  }
  return { primary, served: [...served].sort((a, b) => Number(a) - Number(b)) };
}

function driftSummary(report: DatasetDrift): DriftSummary {
  return {
    dataset_drift: report.dataset_drift,
    share: report.share,
    drift_share: report.drift_share,
    tested_columns: report.tested_columns,
    drifted_columns: report.drifted_columns,
    reference_rows: report.reference_rows,
    current_rows: report.current_rows,
    columns: report.columns.map((c) => ({
      column: c.column,
      type: c.type,
      ...(c.test === null ? {} : { test: c.test }),
      score: c.score,
      threshold: c.threshold,
      ...(c.comparison === null ? {} : { comparison: c.comparison }),
      drift: c.drift,
      statistics: { ...c.statistics },
      findings: c.findings.map((f) => ({ column: f.column, kind: f.kind, message: f.message })),
    })),
  };
}

/** The columns of `table` named in `names`, keeping their types. */
function pick(table: Table, names: readonly string[]): Table {
  const types: Record<string, TableColumnType> = {};
  for (const name of names) types[name] = table.types.get(name)!;
  return tableFromColumns(
    names.map((name) => [name, table.columns.get(name)!] as const),
    { types },
  );
}

/** A table from records, typed like the reference where the reference has a type (so stray strings are findings). */
function currentTable(records: readonly Record<string, unknown>[], reference: Table): Table {
  const loose = tableFromRecords(records);
  const types: Record<string, TableColumnType> = {};
  for (const name of loose.columnNames) {
    const type = reference.types.get(name);
    if (type !== undefined && type !== "missing") types[name] = type;
  }
  return tableFromRecords(records, { types });
}

function driftOptions(def: MonitorDefinition): WorkerDriftOptions {
  const d = def.drift;
  return {
    ...(d.defaults === undefined ? {} : { defaults: d.defaults }),
    ...(d.method === undefined ? {} : { method: d.method }),
    ...(d.threshold === undefined ? {} : { threshold: d.threshold }),
    ...(d.thresholds === undefined ? {} : { columnThresholds: d.thresholds }),
    ...(d.drift_share === undefined ? {} : { driftShare: d.drift_share }),
  };
}

interface WindowRows {
  versions: string[];
  /** Every row, failed requests included. */
  rows: number;
  /** Rows with status 200: the population the sample is drawn from. */
  successful: number;
  /** Successful rows whose label arrived. */
  labelled: number;
  /** Requests (each counted by its row 0), and those answered 5xx and 4xx. */
  requests: number;
  serverErrors: number;
  clientErrors: number;
  sample: SampledRow[];
  /** Of the successful rows. */
  latencies: number[];
}

async function readWindow(
  inferenceLog: InferenceLogService,
  def: MonitorDefinition,
  served: readonly string[],
  range: { start: number; end: number; maxRows: number },
): Promise<WindowRows> {
  const random = new Random(range.end % 2 ** 32);
  const out: WindowRows = {
    versions: [],
    rows: 0,
    successful: 0,
    labelled: 0,
    requests: 0,
    serverErrors: 0,
    clientErrors: 0,
    sample: [],
    latencies: [],
  };
  for (const version of served) {
    let seen = false;
    for await (const page of inferenceLog.window({
      model_name: def.model_name,
      model_version: version,
      start_ms: range.start,
      end_ms: range.end,
      page_size: PAGE_SIZE,
    })) {
      seen = true;
      for (const record of page) {
        out.rows++;
        const status = record.status;
        if (record.row_index === 0) {
          out.requests++;
          if (status >= 500) out.serverErrors++;
          else if (status >= 400) out.clientErrors++;
        }
        if (status !== OK_STATUS) continue;
        const labelled = Object.hasOwn(record, "label");
        const row: SampledRow = { inputs: record.inputs, outputs: record.outputs, labelled };
        if (labelled) row.label = record.label;
        if (labelled) out.labelled++;
        if (record.latency_ms !== undefined && Number.isFinite(record.latency_ms))
          out.latencies.push(record.latency_ms);
        if (out.sample.length < range.maxRows) out.sample.push(row);
        else {
          const j = Math.floor((random.nextUint32() / 2 ** 32) * (out.successful + 1));
          if (j < range.maxRows) out.sample[j] = row;
        }
        out.successful++;
      }
    }
    if (seen) out.versions.push(version);
  }
  return out;
}

/** The window's requests by outcome; undefined when no request was logged. */
function errorSummary(window: WindowRows): ErrorSummary | undefined {
  if (window.requests === 0) return undefined;
  return {
    requests: window.requests,
    server_errors: window.serverErrors,
    client_errors: window.clientErrors,
    error_rate: window.serverErrors / window.requests,
    client_error_rate: window.clientErrors / window.requests,
  };
}

/** Evaluates one window of a monitor; never throws for bad data or a bad reference (see the file comment). */
export async function evaluateWindow(
  deps: EvaluationDeps,
  def: MonitorDefinition,
  start: number,
  end: number,
): Promise<Evaluation> {
  const findings: MonitorFinding[] = [];
  const metrics: Record<string, number> = {};
  const base: Evaluation["summary"] = { model_uri: followedUri(def), findings };
  const fail = (error: string, partial: Partial<Evaluation> = {}): Evaluation => ({
    status: "error",
    error,
    versions: [],
    rows: 0,
    labelled: 0,
    summary: base,
    metrics,
    ...partial,
  });

  let primary: string;
  let served: string[];
  try {
    ({ primary, served } = await servedVersions(deps.registry, def, start, end));
  } catch (error) {
    return fail(`model ${followedUri(def)}: ${message(error)}`);
  }
  base.reference_version = primary;

  const maxRows = deps.maxRows ?? DEFAULT_MAX_ROWS;
  const window = await readWindow(deps.inferenceLog, def, served, { start, end, maxRows });
  const counts = { versions: window.versions, rows: window.rows, labelled: window.labelled };
  if (window.latencies.length > 0) {
    const sorted = Float64Array.from(window.latencies).sort();
    const latency = { rows: sorted.length, p50_ms: quantile([...sorted], 0.5), p99_ms: quantile([...sorted], 0.99) };
    base.latency = latency;
    metrics.latency_p50_ms = latency.p50_ms;
    metrics.latency_p99_ms = latency.p99_ms;
  }
  const errors = errorSummary(window);
  if (errors !== undefined) {
    base.errors = errors;
    metrics.error_rate = errors.error_rate;
    metrics.client_error_rate = errors.client_error_rate;
  }
  if (window.rows === 0) {
    findings.push({
      kind: "empty_window",
      message: `no inference-log rows for ${followedUri(def)} (versions ${served.join(", ")}) between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}`,
    });
    return { status: "empty", ...counts, summary: base, metrics };
  }
  if (window.successful === 0) {
    findings.push({
      kind: "no_successful_rows",
      message: `every one of the window's ${window.rows} rows is a failed request: no drift, performance or latency`,
    });
    return { status: "ok", ...counts, summary: base, metrics };
  }
  if (window.successful > window.sample.length) {
    base.sampled_rows = window.sample.length;
    findings.push({
      kind: "sampled",
      message: `the window has ${window.successful} successful rows; the statistics use a uniform sample of ${window.sample.length}`,
    });
  }

  let reference: Table;
  try {
    const loaded = await deps.references.load(def, primary);
    reference = loaded.table;
    base.reference = { uri: loaded.uri, rows: reference.rowCount, columns: [...reference.columnNames] };
  } catch (error) {
    return fail(`reference: ${message(error)}`, counts);
  }

  const inputColumns = reference.columnNames.filter((c) => c !== LABEL_COLUMN && !isPredictionColumn(c));
  const predictionCols = reference.columnNames.filter(isPredictionColumn);
  const options = driftOptions(def);

  let featureDrift: DatasetDrift;
  try {
    const current = currentTable(
      window.sample.map((r) => r.inputs),
      reference,
    );
    featureDrift = await datasetDriftInWorker(pick(reference, inputColumns), current, {
      ...options,
      ...(def.drift.columns === undefined ? {} : { columns: def.drift.columns }),
      ...(def.drift.exclude === undefined ? {} : { exclude: def.drift.exclude }),
    });
  } catch (error) {
    return fail(`feature drift: ${message(error)}`, counts);
  }
  base.feature_drift = driftSummary(featureDrift);
  // the report's findings: every column's, and the table's own (columns only in traffic)
  findings.push(...featureDrift.findings.map((f) => ({ column: f.column, kind: f.kind, message: f.message })));

  let predictionDrift: DatasetDrift | undefined;
  if (predictionCols.length === 0) {
    findings.push({
      kind: "reference_without_predictions",
      message: "the reference has no prediction column: prediction drift is not computed",
    });
  } else {
    try {
      const current = currentTable(
        window.sample.map((r) => predictionColumns(r.outputs)),
        reference,
      );
      predictionDrift = await datasetDriftInWorker(pick(reference, predictionCols), current, options);
      base.prediction_drift = driftSummary(predictionDrift);
      findings.push(...predictionDrift.findings.map((f) => ({ column: f.column, kind: f.kind, message: f.message })));
    } catch (error) {
      findings.push({ kind: "prediction_drift_failed", message: `prediction drift: ${message(error)}` });
    }
  }

  const labelled: LabelledRow[] = window.sample
    .filter((r) => r.labelled)
    .map((r) => ({ label: r.label, output: r.outputs }));
  if (labelled.length === 0) {
    findings.push({
      kind: "no_labels",
      message: "no labels have arrived for this window's rows: no performance metrics",
    });
  } else {
    const baseline = await deps.references.baseline(def.model_name, primary);
    const performance = evaluatePerformance(labelled, def.metrics, baseline);
    base.performance = performance.summary;
    findings.push(...performance.findings);
    Object.assign(metrics, performance.values);
  }

  return {
    status: "ok",
    ...counts,
    summary: base,
    featureDrift,
    ...(predictionDrift === undefined ? {} : { predictionDrift }),
    metrics,
  };
}
