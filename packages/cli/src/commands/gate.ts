/**
 * `slipway gate --candidate URI --baseline URI --metric f1 --min-delta 0.005`: evaluates both models in
 * process, as the model server loads them, on the same rows (`--data FILE`, or the candidate package's
 * reference data), prints every metric with the deltas, the gated metric's bootstrap confidence interval,
 * optional latency percentiles and a verdict, and with `--promote ALIAS` moves the alias to a passing
 * candidate. Exit 0 when the candidate passes, 1 when it fails, 2 on usage errors. See docs/gate.md.
 */
import type { Command } from "commander";
import {
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_LATENCY_REQUESTS,
  DEFAULT_RESAMPLES,
  GATE_METRICS,
  GateUsageError,
  formatGateCi as formatCi,
  formatGateDelta as formatDelta,
  formatGateMs as formatMs,
  formatGateValue as formatValue,
  runGate,
  type GateCheck,
  type GateOptions,
  type GateReport,
  type LatencyStats,
} from "@slipway/inference";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError, parseDuration } from "../errors.js";
import { stdoutOutput, table } from "../output.js";
import { readData } from "./data.js";

interface GateFlags extends ClientFlags {
  candidate: string;
  baseline?: string;
  metric: string;
  minDelta?: string;
  minValue?: string;
  data?: string;
  format?: string;
  types?: string;
  labelColumn?: string;
  positiveLabel?: string;
  maxLatencyP99?: string;
  latencyRequests?: string;
  requireSignificant?: boolean;
  resamples?: string;
  seed?: string;
  promote?: string;
}

function numberArg(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag}: '${text}' is not a number`);
  return n;
}

function wholeArg(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag}: '${text}' is not a whole number ≥ ${min}`);
  }
  return n;
}

/** The options of `runGate` from the flags; every flag is checked before anything is loaded. */
export function gateOptions(flags: GateFlags): Omit<GateOptions, "client" | "data"> {
  const minDelta = numberArg(flags.minDelta, "--min-delta");
  const minValue = numberArg(flags.minValue, "--min-value");
  let maxP99Ms: number | undefined;
  if (flags.maxLatencyP99 !== undefined) {
    maxP99Ms = parseDuration(flags.maxLatencyP99, "--max-latency-p99");
    if (!(maxP99Ms > 0)) throw new UsageError(`--max-latency-p99: '${flags.maxLatencyP99}' must be more than 0`);
  }
  const requests = wholeArg(flags.latencyRequests, "--latency-requests", 1);
  const resamples = wholeArg(flags.resamples, "--resamples", 100);
  const seed = wholeArg(flags.seed, "--seed", 0);
  if (flags.labelColumn !== undefined && flags.labelColumn.trim() === "") {
    throw new UsageError("--label-column: give the name of the column that holds the true labels");
  }
  if (flags.requireSignificant && flags.baseline === undefined) {
    throw new UsageError("--require-significant compares with a baseline: give --baseline URI");
  }
  return {
    candidate: flags.candidate,
    ...(flags.baseline === undefined ? {} : { baseline: flags.baseline }),
    metric: flags.metric,
    ...(minDelta === undefined ? {} : { minDelta }),
    ...(minValue === undefined ? {} : { minValue }),
    ...(flags.labelColumn === undefined ? {} : { labelColumn: flags.labelColumn }),
    ...(flags.positiveLabel === undefined ? {} : { positiveLabel: flags.positiveLabel }),
    requireSignificant: flags.requireSignificant === true,
    bootstrap: { resamples: resamples ?? DEFAULT_RESAMPLES, seed: seed ?? DEFAULT_BOOTSTRAP_SEED },
    ...(maxP99Ms !== undefined || requests !== undefined
      ? {
          latency: {
            requests: requests ?? DEFAULT_LATENCY_REQUESTS,
            ...(maxP99Ms === undefined ? {} : { maxP99Ms }),
          },
        }
      : {}),
    ...(flags.promote === undefined ? {} : { promote: flags.promote }),
  };
}

function modelLine(info: GateReport["candidate"]): string {
  const pinned = info.pinnedUri === info.uri ? "" : ` → ${info.pinnedUri}`;
  return `${info.uri}${pinned} (${info.predictor})`;
}

function ruleOf(checks: readonly GateCheck[]): { rule: string; pass: string } {
  if (checks.length === 0) return { rule: "", pass: "" };
  return { rule: checks.map((c) => c.rule).join(", "), pass: checks.every((c) => c.pass) ? "pass" : "FAIL" };
}

function latencyRows(report: GateReport): string[][] {
  const latency = report.latency;
  if (!latency) return [];
  const cell = (s: LatencyStats | undefined, key: "p50Ms" | "p99Ms") => (s ? formatMs(s[key]) : "-");
  const delta = (key: "p50Ms" | "p99Ms") => {
    if (!latency.baseline) return "-";
    const d = latency.candidate[key] - latency.baseline[key];
    return `${d < 0 ? "-" : "+"}${formatMs(Math.abs(d))}`;
  };
  const p99 = ruleOf(report.checks.filter((c) => c.kind === "latency_p99"));
  return [
    ["latency p50 (ms)", cell(latency.baseline, "p50Ms"), cell(latency.candidate, "p50Ms"), delta("p50Ms"), "", ""],
    [
      "latency p99 (ms)",
      cell(latency.baseline, "p99Ms"),
      cell(latency.candidate, "p99Ms"),
      delta("p99Ms"),
      p99.rule,
      p99.pass,
    ],
  ];
}

/** The human report: what was compared, the table, notes and the verdict. */
export function gateText(report: GateReport): string {
  const metricChecks = report.checks.filter((c) => c.kind !== "latency_p99");
  const rows = report.metrics.map((m) => {
    const gated = m.metric === report.metric;
    const { rule, pass } = gated ? ruleOf(metricChecks) : { rule: "", pass: "" };
    const delta = gated && m.ci ? `${formatDelta(m.delta)} (${formatCi(m.ci)})` : formatDelta(m.delta);
    return [gated ? `${m.metric} *` : m.metric, formatValue(m.baseline), formatValue(m.candidate), delta, rule, pass];
  });
  const lines = [
    `candidate: ${modelLine(report.candidate)}`,
    `baseline:  ${report.baseline ? modelLine(report.baseline) : report.baselineUri === undefined ? "none given" : `${report.baselineUri} (does not exist yet)`}`,
    `data:      ${report.data.source}: ${report.data.rows} rows, labels in '${report.data.labelColumn}'`,
    `metric:    ${report.metric} (${report.average ? `${report.average}; ` : ""}${report.metrics.find((m) => m.metric === report.metric)?.higherIsBetter === false ? "lower" : "higher"} is better)`,
  ];
  if (report.latency) {
    lines.push(`latency:   ${report.latency.requests} single-row requests per model, in process, after a warm-up`);
  }
  lines.push(
    "",
    table(["METRIC", "BASELINE", "CANDIDATE", "DELTA", "RULE", "PASS"], [...rows, ...latencyRows(report)]),
  );
  const ci = report.metrics.find((m) => m.metric === report.metric)?.ci;
  if (ci) {
    lines.push(
      `* gated; the interval is a paired bootstrap of the delta (${ci.valid} of ${ci.resamples} resamples, seed ${ci.seed})`,
    );
  }
  const unavailable = report.metrics.filter((m) => m.note !== undefined).map((m) => `${m.metric}: ${m.note}`);
  for (const note of [...report.notes, ...unavailable]) lines.push(`note: ${note}`);
  lines.push("", `${report.passed ? "✓" : "✗"} ${report.verdict}`);
  if (report.promotion) {
    const p = report.promotion;
    lines.push(
      `promoted: models:/${p.model}@${p.alias} → v${p.version}${p.previous === undefined ? "" : ` (was v${p.previous})`}; reason: ${p.reason}`,
    );
  } else if (!report.passed) {
    lines.push("not promoted");
  }
  return lines.join("\n");
}

function latencyJson(s: LatencyStats) {
  return { requests: s.requests, p50_ms: s.p50Ms, p99_ms: s.p99Ms, mean_ms: s.meanMs, max_ms: s.maxMs };
}

/** The `--json` document. */
export function gateJson(report: GateReport): unknown {
  const model = (m: GateReport["candidate"]) => ({
    uri: m.uri,
    pinned_uri: m.pinnedUri,
    ...(m.name === undefined ? {} : { name: m.name }),
    ...(m.version === undefined ? {} : { version: m.version }),
    predictor: m.predictor,
  });
  return {
    passed: report.passed,
    verdict: report.verdict,
    candidate: model(report.candidate),
    baseline: report.baseline ? model(report.baseline) : null,
    ...(report.baselineUri === undefined ? {} : { baseline_uri: report.baselineUri }),
    data: {
      source: report.data.source,
      from_candidate_package: report.data.fromCandidatePackage,
      rows: report.data.rows,
      label_column: report.data.labelColumn,
    },
    task: report.task,
    metric: report.metric,
    ...(report.average === undefined ? {} : { average: report.average }),
    min_delta: report.minDelta,
    ...(report.minValue === undefined ? {} : { min_value: report.minValue }),
    require_significant: report.requireSignificant,
    metrics: report.metrics.map((m) => ({
      metric: m.metric,
      higher_is_better: m.higherIsBetter,
      gated: m.metric === report.metric,
      baseline: m.baseline,
      candidate: m.candidate,
      delta: m.delta,
      ...(m.ci === undefined
        ? {}
        : {
            ci:
              m.ci === null
                ? null
                : {
                    level: m.ci.level,
                    low: m.ci.low,
                    high: m.ci.high,
                    resamples: m.ci.resamples,
                    valid: m.ci.valid,
                    seed: m.ci.seed,
                  },
          }),
      ...(m.note === undefined ? {} : { note: m.note }),
    })),
    ...(report.latency
      ? {
          latency: {
            requests: report.latency.requests,
            ...(report.latency.maxP99Ms === undefined ? {} : { max_p99_ms: report.latency.maxP99Ms }),
            candidate: latencyJson(report.latency.candidate),
            baseline: report.latency.baseline ? latencyJson(report.latency.baseline) : null,
          },
        }
      : {}),
    checks: report.checks.map((c) => ({
      kind: c.kind,
      rule: c.rule,
      actual: c.actual,
      pass: c.pass,
      summary: c.summary,
    })),
    notes: report.notes,
    promotion: report.promotion
      ? {
          model: report.promotion.model,
          alias: report.promotion.alias,
          version: report.promotion.version,
          previous: report.promotion.previous ?? null,
          reason: report.promotion.reason,
        }
      : null,
  };
}

async function gateAction(flags: GateFlags): Promise<void> {
  const options = gateOptions(flags);
  const data = flags.data === undefined ? undefined : { table: await readData(flags.data, flags), source: flags.data };
  if (data === undefined && (flags.format !== undefined || flags.types !== undefined)) {
    throw new UsageError("--format and --types describe the --data file: give --data FILE");
  }
  let report: GateReport;
  try {
    report = await runGate({
      ...options,
      client: clientFor(flags),
      ...(data ? { data } : {}),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof GateUsageError) throw new UsageError(error.message);
    throw error;
  }
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(gateJson(report)) : gateText(report));
  if (!report.passed) {
    const failed = report.checks.filter((c) => !c.pass).map((c) => c.summary);
    throw new Error(`gate failed: ${failed.join("; ")}`);
  }
}

export function registerGate(program: Command): void {
  program
    .command("gate")
    .description("Compare a candidate model with a baseline on the same rows; exit 1 unless the candidate passes")
    .requiredOption(
      "--candidate <uri>",
      "the model to judge: models:/NAME/VERSION, runs:/RUN_ID/PATH or a local package",
    )
    .option("--baseline <uri>", "the model to beat, e.g. models:/NAME@champion (no baseline while the alias is unset)")
    .requiredOption("--metric <name>", `the gated metric: ${GATE_METRICS.join(", ")}`)
    .option("--min-delta <x>", "improvement the candidate must show (lower-is-better metrics: decrease)", "0")
    .option("--min-value <x>", "value the candidate must reach (at most, for rmse, mae, log_loss)")
    .option(
      "--data <file>",
      "rows to evaluate on: CSV, JSON Lines, JSON or Parquet (default: the candidate's reference data)",
    )
    .option("--format <format>", "csv | jsonl | json | parquet (default: from the extension)")
    .option("--types <list>", "column types instead of inferred ones, e.g. text=text")
    .option("--label-column <name>", "the column holding the true labels or values", "label")
    .option("--positive-label <label>", "precision, recall and f1 of this class (default: macro average)")
    .option("--require-significant", "fail unless the delta's confidence interval clears --min-delta")
    .option("--resamples <n>", `bootstrap resamples (default ${DEFAULT_RESAMPLES})`)
    .option("--seed <n>", `bootstrap seed (default ${DEFAULT_BOOTSTRAP_SEED})`)
    .option("--max-latency-p99 <duration>", "fail when the candidate's single-row p99 latency exceeds it, e.g. 20ms")
    .option("--latency-requests <n>", `single-row requests per model for latency (default ${DEFAULT_LATENCY_REQUESTS})`)
    .option("--promote <alias>", "when the candidate passes, point this alias of its model at it, with the reason")
    .option("--json", "print the report as JSON")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(gateAction);
}
