/**
 * Gated promotion: is the candidate model better than the baseline, on the same rows, by at least the
 * margin asked, and fast enough? Both models are loaded in process exactly as the model server loads
 * them (`loadServedModel`: the registry, the verified cache, the same predictors, warm-up) and predict
 * through `ServedModel.predict` (the signature check and the batcher). The rows are a data file, or by
 * default the candidate package's `reference_data.jsonl` (held-out rows with their labels).
 *
 * The report gives every metric of the task for both models, the gated metric's delta with a paired
 * bootstrap confidence interval, optional single-row latency percentiles, the checks and a verdict; with
 * `promote`, a passing candidate gets the alias, the reason recorded in the alias history.
 *
 * Usage problems (a bad URI, a missing label column, a metric that does not apply, models with different
 * signatures) throw `GateUsageError`; a candidate that fails is a report with `passed: false`.
 */
import type { Label, Table } from "@slipway/ml";
import { parseModelUri, withReason, type LoadedModelPackage, type TrackingClient } from "@slipway/sdk";
import { pairedBootstrap, type BootstrapOptions, type ConfidenceInterval } from "./bootstrap.js";
import {
  inputColumns,
  labelKind,
  modelPredictions,
  packageClasses,
  rawRows,
  readTruth,
  toLabel,
  type RawPredictions,
} from "./gate-data.js";
import { GateUsageError } from "./gate-error.js";
import {
  GATE_METRICS,
  higherIsBetter,
  isGateMetric,
  metricUnavailable,
  metricsOf,
  tryMetric,
  type GateMetric,
  type GateTask,
  type MetricOptions,
  type ModelPredictions,
  type Truth,
} from "./gate-metrics.js";
import {
  asUsage,
  checkSignatures,
  loadBaselinePackage,
  loadPackage,
  predictAll,
  referenceData,
  serve,
  type Loaded,
  type ModelLoadOptions,
} from "./gate-models.js";
import {
  gateChecks,
  promotionReason,
  verdictLine,
  type GateLatency,
  type GateMetricRow,
  type GateModelInfo,
  type GatePromotion,
  type GateReport,
} from "./gate-report.js";
import { measureLatency } from "./latency.js";

export interface GateOptions extends ModelLoadOptions {
  /** The model to judge: any model URI. */
  readonly candidate: string;
  /** The model to beat (`models:/spam@champion`); none, or one whose alias is unset, means no baseline. */
  readonly baseline?: string;
  readonly metric: string;
  /** The improvement the candidate must show (default 0: not worse). Negative values tolerate a loss. */
  readonly minDelta?: number;
  /** A value the candidate's metric must reach (at most, for lower-is-better metrics). */
  readonly minValue?: number;
  /** Rows to evaluate on (default: the candidate package's reference data). */
  readonly data?: { readonly table: Table; readonly source: string };
  /** Default `label`. */
  readonly labelColumn?: string;
  /** Score precision, recall and f1 for this class (as text, converted to the labels' kind). */
  readonly positiveLabel?: string;
  /** Fail unless the delta's confidence interval clears `minDelta`. */
  readonly requireSignificant?: boolean;
  readonly bootstrap?: BootstrapOptions;
  /** Measure single-row latency over this many requests per model, and fail above `maxP99Ms`. */
  readonly latency?: { readonly requests: number; readonly maxP99Ms?: number };
  /** When the candidate passes, point this alias of its registered model at it. */
  readonly promote?: string;
}

const ALIAS = /^[A-Za-z0-9_-]+$/;

function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || /^v\d+$/i.test(alias) || alias.toLowerCase() === "latest") {
    throw new GateUsageError(
      `--promote: '${alias}' is not an alias name (letters, digits, '_' and '-'; not 'latest' or v<number>)`,
    );
  }
}

function positiveLabelOf(text: string, kind: "string" | "number", known: readonly Label[]): Label {
  const label = toLabel(text, kind);
  if (label === undefined || !known.includes(label)) {
    const list = [...new Set(known)].map(String).sort().join(", ");
    throw new GateUsageError(`--positive-label: '${text}' is not a label of the data or the models (labels: ${list})`);
  }
  return label;
}

const taskName = (task: GateTask) => (task === "classification" ? "classifier" : "regressor");

interface Settled {
  readonly task: GateTask;
  readonly truth: Truth;
  readonly candidate: ModelPredictions;
  readonly baseline?: ModelPredictions;
  readonly notes: string[];
}

/** Both models' outputs and the label column read as one task, with labels of one kind. */
function settle(
  raw: { candidate: RawPredictions; baseline?: RawPredictions },
  packages: { candidate: LoadedModelPackage; baseline?: LoadedModelPackage },
  data: { table: Table; source: string; labelColumn: string },
): Settled {
  const { candidate, baseline } = raw;
  if (baseline && baseline.task !== candidate.task) {
    throw new GateUsageError(
      `the candidate is a ${taskName(candidate.task)} and the baseline a ${taskName(baseline.task)}: they cannot be gated on one metric`,
    );
  }
  const classes = packageClasses(packages.candidate.mlmodel);
  const kind = candidate.task === "classification" ? labelKind(candidate.labels, classes) : ("number" as const);
  if (baseline?.task === "classification" && labelKind(baseline.labels, undefined) !== kind) {
    throw new GateUsageError(
      `the candidate predicts ${kind === "number" ? "numbers" : "strings"} and the baseline does not: their labels cannot be compared`,
    );
  }
  const truth = readTruth(data.table, data.labelColumn, candidate.task, kind, data.source);
  const c = modelPredictions(candidate, classes, truth);
  const b =
    baseline && packages.baseline && modelPredictions(baseline, packageClasses(packages.baseline.mlmodel), truth);
  return {
    task: candidate.task,
    truth,
    candidate: c.predictions,
    ...(b ? { baseline: b.predictions } : {}),
    notes: [c.note, b?.note].filter((n): n is string => n !== undefined),
  };
}

/** How precision, recall and f1 are scored: for `--positive-label`, else the macro average. */
function scoring(settled: Settled, positiveLabel: string | undefined): { options: MetricOptions; average?: string } {
  const { truth, candidate } = settled;
  if (truth.task !== "classification" || candidate.task !== "classification") {
    if (positiveLabel !== undefined) throw new GateUsageError("--positive-label goes with classifiers");
    return { options: {} };
  }
  if (positiveLabel === undefined) {
    return { options: {}, average: `macro over ${new Set([...truth.labels, ...candidate.labels]).size} labels` };
  }
  const kind = typeof truth.labels[0] === "number" ? "number" : "string";
  const known = [...truth.labels, ...candidate.labels, ...(candidate.probabilities?.classes ?? [])];
  const label = positiveLabelOf(positiveLabel, kind, known);
  return { options: { positiveLabel: label }, average: `binary, positive label ${JSON.stringify(label)}` };
}

/** The gated metric must apply to both models and be defined on the rows. */
function checkApplies(metric: GateMetric, settled: Settled, options: MetricOptions, source: string): void {
  const { task, truth } = settled;
  if (!metricsOf(task).includes(metric)) {
    throw new GateUsageError(
      `--metric ${metric} does not apply: the models are ${taskName(task)}s (metrics: ${metricsOf(task).join(", ")})`,
    );
  }
  for (const [role, predictions] of [
    ["candidate", settled.candidate],
    ["baseline", settled.baseline],
  ] as const) {
    if (!predictions) continue;
    const why = metricUnavailable(metric, truth, predictions);
    if (why !== undefined) throw new GateUsageError(`--metric ${metric} does not apply to the ${role}: ${why}`);
    const result = tryMetric(metric, truth, predictions, options);
    if (result.value === null) {
      throw new GateUsageError(`--metric ${metric} is not defined on ${source} for the ${role}: ${result.reason}`);
    }
  }
}

async function measure(
  latency: NonNullable<GateOptions["latency"]>,
  models: readonly Loaded[],
  data: { table: Table; labelColumn: string },
): Promise<GateLatency> {
  const { table, labelColumn } = data;
  const columns = inputColumns(models[0]!.model.signature, table, labelColumn);
  const rows = Array.from({ length: Math.min(table.rowCount, latency.requests) }, (_, i) =>
    rawRows(table, columns, i, i + 1),
  );
  const [candidate, baseline] = await measureLatency(
    models.map((m) => m.model),
    { requests: latency.requests, rows },
  );
  return {
    requests: latency.requests,
    ...(latency.maxP99Ms === undefined ? {} : { maxP99Ms: latency.maxP99Ms }),
    candidate: candidate!,
    ...(baseline ? { baseline } : {}),
  };
}

/** Evaluates the gate (see the file comment). Closes the models it loaded. */
export async function runGate(options: GateOptions): Promise<GateReport> {
  if (!isGateMetric(options.metric)) {
    throw new GateUsageError(`--metric: '${options.metric}' is not one of ${GATE_METRICS.join(", ")}`);
  }
  const metric: GateMetric = options.metric;
  const minDelta = options.minDelta ?? 0;
  if (options.promote !== undefined) checkAlias(options.promote);
  const labelColumn = options.labelColumn ?? "label";
  const say = options.onProgress ?? (() => undefined);
  const notes: string[] = [];

  try {
    parseModelUri(options.candidate);
  } catch (error) {
    asUsage(error, "--candidate");
  }
  const candidatePkg = await loadPackage(options, options.candidate, "--candidate");
  if (options.promote !== undefined && !candidatePkg.modelVersion) {
    throw new GateUsageError(
      `--promote needs a registered candidate (models:/NAME/VERSION); ${options.candidate} is not a model version`,
    );
  }
  const baselinePkg = options.baseline === undefined ? undefined : await loadBaselinePackage(options, options.baseline);
  const data = options.data ?? (await referenceData(candidatePkg, options.candidate));
  const table = data.table;
  if (table.rowCount === 0) throw new GateUsageError(`${data.source} has no rows to evaluate on`);
  if (!table.columns.has(labelColumn)) {
    throw new GateUsageError(
      `${data.source} has no label column '${labelColumn}' (its columns: ${table.columnNames.join(", ")}); name it with --label-column`,
    );
  }
  if (!options.data) {
    notes.push(
      `the rows are the candidate's own held-out reference data; the baseline may have been trained on some of them (give --data for a neutral test set)`,
    );
  }
  if (!baselinePkg) {
    if (minDelta !== 0) notes.push("--min-delta has no effect without a baseline");
    if (options.requireSignificant) notes.push("--require-significant has no effect without a baseline");
  }

  const loaded: Loaded[] = [];
  try {
    const candidate = await serve(options, candidatePkg, options.candidate, "candidate");
    loaded.push(candidate);
    const baseline = baselinePkg && (await serve(options, baselinePkg, options.baseline!, "baseline"));
    if (baseline) {
      loaded.push(baseline);
      checkSignatures(candidate, baseline);
      if (baseline.info.pinnedUri === candidate.info.pinnedUri) {
        notes.push(`the candidate and the baseline are the same model (${candidate.info.pinnedUri})`);
      }
    }
    say(`predicting ${table.rowCount} rows of ${data.source}`);
    const rawCandidate = await predictAll(candidate, table, labelColumn, data.source);
    const rawBaseline = baseline && (await predictAll(baseline, table, labelColumn, data.source));
    const settled = settle(
      { candidate: rawCandidate, ...(rawBaseline ? { baseline: rawBaseline } : {}) },
      { candidate: candidatePkg, ...(baselinePkg ? { baseline: baselinePkg } : {}) },
      { table, source: data.source, labelColumn },
    );
    notes.push(...settled.notes);
    const { options: metricOptions, average } = scoring(settled, options.positiveLabel);
    checkApplies(metric, settled, metricOptions, data.source);

    const ci = settled.baseline ? bootstrapDelta(metric, settled, metricOptions, options.bootstrap) : null;
    const rows: GateMetricRow[] = metricsOf(settled.task).map((m) =>
      metricRow(m, settled, metricOptions, m === metric ? ci : undefined),
    );
    if (options.latency) say(`measuring single-row latency over ${options.latency.requests} requests per model`);
    const latency = options.latency && (await measure(options.latency, loaded, { table, labelColumn }));

    const gated = rows.find((r) => r.metric === metric)!;
    const checks = gateChecks({
      metric,
      higherIsBetter: higherIsBetter(metric),
      candidate: gated.candidate!,
      ...(gated.baseline === null ? {} : { baseline: { value: gated.baseline, ci } }),
      ...(options.baseline === undefined ? {} : { baselineUri: options.baseline }),
      minDelta,
      ...(options.minValue === undefined ? {} : { minValue: options.minValue }),
      requireSignificant: options.requireSignificant === true,
      ...(latency?.maxP99Ms === undefined
        ? {}
        : { latency: { p99Ms: latency.candidate.p99Ms, maxP99Ms: latency.maxP99Ms } }),
    });
    const passed = checks.every((c) => c.pass);
    const body = {
      candidate: candidate.info,
      baseline: baseline ? baseline.info : null,
      ...(options.baseline === undefined ? {} : { baselineUri: options.baseline }),
      data: {
        source: data.source,
        fromCandidatePackage: options.data === undefined,
        rows: table.rowCount,
        labelColumn,
      },
      task: settled.task,
      metric,
      ...(average === undefined ? {} : { average }),
      minDelta,
      ...(options.minValue === undefined ? {} : { minValue: options.minValue }),
      requireSignificant: options.requireSignificant === true,
      metrics: rows,
      ...(latency ? { latency } : {}),
      checks,
      notes,
    };
    const promotion =
      passed && options.promote !== undefined
        ? await promote(options.client, candidate.info, options.promote, promotionReason(body))
        : undefined;
    return {
      passed,
      verdict: verdictLine(checks, table.rowCount),
      ...body,
      ...(promotion ? { promotion } : {}),
    };
  } finally {
    await Promise.allSettled(loaded.map((l) => l.model.close()));
  }
}

function bootstrapDelta(
  metric: GateMetric,
  settled: Settled,
  options: MetricOptions,
  bootstrap: BootstrapOptions | undefined,
): ConfidenceInterval | null {
  const { truth, candidate, baseline } = settled;
  const rows = truth.task === "classification" ? truth.labels.length : truth.values.length;
  return pairedBootstrap(
    rows,
    (weights) => {
      const a = tryMetric(metric, truth, candidate, { ...options, weights });
      const b = tryMetric(metric, truth, baseline!, { ...options, weights });
      return a.value === null || b.value === null ? null : a.value - b.value;
    },
    bootstrap,
  );
}

function metricRow(
  metric: GateMetric,
  settled: Settled,
  options: MetricOptions,
  ci: ConfidenceInterval | null | undefined,
): GateMetricRow {
  const { truth } = settled;
  const value = (predictions: ModelPredictions): { value: number | null; note?: string } => {
    const why = metricUnavailable(metric, truth, predictions);
    if (why !== undefined) return { value: null, note: why };
    const result = tryMetric(metric, truth, predictions, options);
    return result.value === null ? { value: null, note: result.reason } : { value: result.value };
  };
  const c = value(settled.candidate);
  const b = settled.baseline ? value(settled.baseline) : { value: null };
  const note = c.note ?? b.note;
  return {
    metric,
    higherIsBetter: higherIsBetter(metric),
    baseline: b.value,
    candidate: c.value,
    delta: c.value === null || b.value === null ? null : c.value - b.value,
    ...(ci === undefined ? {} : { ci }),
    ...(note === undefined ? {} : { note }),
  };
}

async function promote(
  client: TrackingClient,
  candidate: GateModelInfo,
  alias: string,
  reason: string,
): Promise<GatePromotion> {
  const model = candidate.name!;
  const version = candidate.version!;
  const { registered_model: registered } = await client.getRegisteredModel({ name: model });
  const previous = (registered.aliases ?? []).find((a) => a.alias === alias)?.version;
  await client.setRegisteredModelAlias({ name: model, alias, version }, withReason(reason));
  return { model, alias, version, ...(previous === undefined ? {} : { previous }), reason };
}
