/**
 * `slipway drift`: compare a current data file with a reference one, column by column, offline. Prints
 * a table (or `--json`), writes a self-contained HTML report with `--html`, and with `--fail-on-drift`
 * exits 1 when the dataset drifted (a CI step). Exit 2 on usage errors (unreadable files, bad flags).
 */
import type { Command } from "commander";
import {
  datasetDrift,
  DRIFT_METHOD_NAMES,
  driftReportHtml,
  writeTextFile,
  type ColumnDrift,
  type DatasetDrift,
  type DatasetDriftOptions,
  type DriftColumnType,
} from "@slipway/sdk";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";
import { formatNumber, readData } from "./data.js";

interface DriftFlags {
  reference: string;
  current: string;
  format?: string;
  types?: string;
  json?: boolean;
  html?: string;
  defaults?: string;
  method?: string;
  numericMethod?: string;
  categoricalMethod?: string;
  columnMethod?: string;
  threshold?: string;
  columnThreshold?: string;
  driftShare?: string;
  columns?: string;
  exclude?: string;
  failOnDrift?: boolean;
}

function methodArg(text: string | undefined, flag: string): string | undefined {
  if (text === undefined) return undefined;
  if (!DRIFT_METHOD_NAMES.includes(text) && text !== "domain_classifier") {
    throw new UsageError(`${flag}: '${text}' is not a drift method (${DRIFT_METHOD_NAMES.join(", ")})`);
  }
  return text;
}

function numberArg(text: string | undefined, flag: string, range?: [number, number]): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || (range && (n < range[0] || n > range[1]))) {
    throw new UsageError(`${flag}: '${text}' is not a number${range ? ` between ${range[0]} and ${range[1]}` : ""}`);
  }
  return n;
}

/** `a=x,b=y` into pairs, each value checked by `parse`. */
function pairsArg<T>(text: string | undefined, flag: string, parse: (v: string) => T): Record<string, T> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, T> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(.+?)=(.+)$/.exec(part);
    if (!m) throw new UsageError(`${flag}: '${part}' is not COLUMN=VALUE`);
    out[m[1]!] = parse(m[2]!);
  }
  return out;
}

function listArg(text: string | undefined): string[] | undefined {
  return text
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function driftOptions(flags: DriftFlags): DatasetDriftOptions {
  const defaults = flags.defaults;
  if (defaults !== undefined && defaults !== "slipway" && defaults !== "evidently") {
    throw new UsageError(`--defaults: '${defaults}' is not slipway or evidently`);
  }
  const methods: Partial<Record<DriftColumnType, string>> = {};
  const numeric = methodArg(flags.numericMethod, "--numeric-method");
  const categorical = methodArg(flags.categoricalMethod, "--categorical-method");
  if (numeric) methods.numeric = numeric;
  if (categorical) methods.categorical = categorical;
  const options: DatasetDriftOptions = { methods };
  if (defaults) options.defaults = defaults;
  const method = methodArg(flags.method, "--method");
  if (method) options.method = method;
  const columnMethods = pairsArg(flags.columnMethod, "--column-method", (v) => methodArg(v, "--column-method")!);
  if (columnMethods) options.columnMethods = columnMethods;
  const threshold = numberArg(flags.threshold, "--threshold");
  if (threshold !== undefined) options.threshold = threshold;
  const columnThresholds = pairsArg(flags.columnThreshold, "--column-threshold", (v) =>
    numberArg(v, "--column-threshold")!,
  );
  if (columnThresholds) options.columnThresholds = columnThresholds;
  const driftShare = numberArg(flags.driftShare, "--drift-share", [0, 1]);
  if (driftShare !== undefined) options.driftShare = driftShare;
  const columns = listArg(flags.columns);
  if (columns) options.columns = columns;
  const exclude = listArg(flags.exclude);
  if (exclude) options.exclude = exclude;
  return options;
}

function scoreText(c: ColumnDrift): string {
  return c.score === null ? "-" : formatNumber(c.score);
}

export function driftText(report: DatasetDrift, reference: string, current: string): string {
  const rows = report.columns.map((c) => [
    c.column,
    c.type,
    c.test ?? "-",
    scoreText(c),
    c.threshold === null ? "-" : `${c.comparison} ${formatNumber(c.threshold)}`,
    c.drift === null ? "not tested" : c.drift ? "DRIFT" : "ok",
  ]);
  const lines = [
    `Compared ${current} (${report.current_rows} rows) with ${reference} (${report.reference_rows} rows)`,
    "",
    table(["COLUMN", "TYPE", "TEST", "SCORE", "DRIFT WHEN", "RESULT"], rows),
  ];
  if (report.findings.length > 0) {
    lines.push("", "Findings:");
    for (const f of report.findings) lines.push(`  ${f.column}: ${f.message}`);
  }
  const m = report.multivariate;
  if (m !== undefined) {
    lines.push(
      "",
      `Multivariate (PCA reconstruction, ${m.columns.length} numeric columns, ${m.components} components): error ${formatNumber(m.error)}, reference band [${formatNumber(m.lower)}, ${formatNumber(m.upper)}]: ${m.drift ? "CHANGED" : "ok"}`,
    );
  }
  lines.push(
    "",
    `${report.dataset_drift ? "✗ dataset drift" : "✓ no dataset drift"}: ${report.drifted_columns} of ${report.tested_columns} tested columns drifted (${formatNumber(report.share * 100)}%, threshold ${formatNumber(report.drift_share * 100)}%)`,
  );
  return lines.join("\n");
}

/** The `--json` document: the report without the chart data. */
export function driftJson(report: DatasetDrift, reference: string, current: string): unknown {
  return {
    reference,
    current,
    reference_rows: report.reference_rows,
    current_rows: report.current_rows,
    dataset_drift: report.dataset_drift,
    share: report.share,
    drift_share: report.drift_share,
    drifted_columns: report.drifted_columns,
    tested_columns: report.tested_columns,
    columns: report.columns.map((c) => ({
      column: c.column,
      type: c.type,
      test: c.test,
      score: c.score,
      threshold: c.threshold,
      drift: c.drift,
      statistics: c.statistics,
      findings: c.findings.map((f) => ({
        kind: f.kind,
        message: f.message,
        ...(f.details ? { details: f.details } : {}),
      })),
    })),
    ...(report.multivariate === undefined ? {} : { multivariate: report.multivariate }),
    findings: report.findings,
  };
}

async function driftAction(flags: DriftFlags): Promise<void> {
  const options = driftOptions(flags);
  const [reference, current] = await Promise.all([readData(flags.reference, flags), readData(flags.current, flags)]);
  const tty = process.stderr.isTTY === true && flags.json !== true;
  if (tty) {
    options.onColumn = (done, total, column) =>
      process.stderr.write(`\r\x1b[2Kdrift: ${done}/${total} columns (${column})${done === total ? "\n" : ""}`);
  }
  let report: DatasetDrift;
  try {
    report = datasetDrift(reference, current, options);
  } catch (error) {
    // option errors (an unknown column, a method that does not fit a column's type) are usage errors
    if (error instanceof Error && error.name === "MlError") throw new UsageError(error.message);
    throw error;
  }
  if (flags.html !== undefined) {
    await writeTextFile(
      flags.html,
      driftReportHtml(report, {
        title: `Drift: ${flags.current} vs ${flags.reference}`,
        referenceName: "reference",
        currentName: "current",
      }),
    );
  }
  const out = stdoutOutput(flags.json === true);
  if (out.json) out.write(JSON.stringify(driftJson(report, flags.reference, flags.current)));
  else {
    const text = driftText(report, flags.reference, flags.current);
    out.write(flags.html === undefined ? text : `${text}\n\nWrote the HTML report to ${flags.html}`);
  }
  if (flags.failOnDrift === true && report.dataset_drift) {
    throw new Error(`dataset drift: ${report.drifted_columns} of ${report.tested_columns} columns drifted`);
  }
}

export function registerDrift(program: Command): void {
  program
    .command("drift")
    .description("Compare current data with reference data column by column: drift tests, findings, HTML report")
    .requiredOption("--reference <file>", "reference data (CSV, JSON Lines, JSON, Parquet), e.g. the training set")
    .requiredOption("--current <file>", "current data, e.g. recent traffic")
    .option("--json", "print the report as JSON")
    .option("--html <file>", "write a self-contained HTML report here")
    .option("--defaults <rules>", "slipway (calibrated, default) or evidently (Evidently's choice of tests)")
    .option("--method <name>", `method for every column: ${DRIFT_METHOD_NAMES.join(", ")}`)
    .option("--numeric-method <name>", "method for numeric columns")
    .option("--categorical-method <name>", "method for categorical columns")
    .option("--column-method <list>", "method per column, e.g. age=psi,plan=chi2")
    .option("--threshold <x>", "threshold for every column's score (default: the method's)")
    .option("--column-threshold <list>", "threshold per column, e.g. age=0.2")
    .option("--drift-share <share>", "dataset drift when at least this share of columns drifted (default 0.5)")
    .option("--columns <list>", "only these columns")
    .option("--exclude <list>", "leave these columns out (ids, timestamps)")
    .option("--format <format>", "csv | jsonl | json | parquet (default: from the extension)")
    .option("--types <list>", "column types instead of inferred ones, e.g. review=text,zip=string")
    .option("--fail-on-drift", "exit 1 when the dataset drifted (for CI)")
    .action(driftAction);
}
