/**
 * Planning a batch job before any row is predicted: which input columns the output keeps (default: `id`
 * when the input has one, else a `row` column with the row number), how 2-D outputs are laid out, the
 * class names for per-class columns, and the checks that can fail fast — a kept or feature column the
 * input does not have, or a column the model requires that is missing from a CSV header or a Parquet
 * schema (JSON Lines records may differ from line to line, so there each row is checked instead).
 */
import { describeColumnType, getSlipwayFlavor, type MLmodel } from "@slipway/ml";
import type { PredictorSignature } from "../predictors/predictor.js";
import { BatchError } from "./batch-error.js";
import type { InputPlan, OutputPlan, ProbabilitiesLayout } from "./block.js";
import { featureColumns } from "./block-predictor.js";
import type { DataFormat } from "./data-format.js";
import type { InputInfo } from "./input-info.js";

export interface PlanOptions {
  readonly info: InputInfo;
  readonly outputFormat: DataFormat;
  readonly mlmodel: MLmodel;
  /** Input columns to copy to the output, or `*` for all. Default: `id` when the input has it. */
  readonly keep?: readonly string[] | "*";
  /** Add a `row` column. Default: when `keep` is not given and the input has no `id`. */
  readonly rowNumber?: boolean;
  readonly probabilities?: ProbabilitiesLayout;
  /** Tensor models: the input columns that make a row of the tensor, in order. */
  readonly features?: readonly string[];
}

export interface JobPlan {
  readonly input: InputPlan;
  readonly output: OutputPlan;
}

function listColumns(columns: readonly string[]): string {
  return columns.length === 0 ? "none" : columns.join(", ");
}

/** Whether `info.columns` can be trusted to be every row's columns (not so for JSON Lines). */
function fixedColumns(info: InputInfo): boolean {
  return info.format !== "jsonl";
}

function checkPresent(info: InputInfo, columns: readonly string[], flag: string): void {
  if (!fixedColumns(info) && info.columns.length === 0) return;
  for (const column of columns) {
    if (!info.columns.includes(column)) {
      const where = fixedColumns(info) ? "" : " (its first record)";
      throw new BatchError(
        `${flag}: the input ${info.path}${where} has no column '${column}' (its columns: ${listColumns(info.columns)})`,
      );
    }
  }
}

/** The package's class names (text-classifier packages list them), for per-class columns. */
function classesOf(mlmodel: MLmodel): string[] | undefined {
  const classes = getSlipwayFlavor(mlmodel.flavors)?.classes;
  return Array.isArray(classes) ? classes.map(String) : undefined;
}

export function planJob(options: PlanOptions): JobPlan {
  const { info } = options;
  const hasId = info.columns.includes("id");
  let keep: readonly string[];
  if (options.keep === "*") keep = info.columns;
  else if (options.keep !== undefined) {
    checkPresent(info, options.keep, "--keep");
    keep = [...new Set(options.keep)];
  } else keep = hasId ? ["id"] : [];
  if (options.features) {
    if (options.features.length === 0) throw new BatchError("--features: give at least one column");
    checkPresent(info, options.features, "--features");
  }
  const rowNumber = options.rowNumber ?? (options.keep === undefined && !hasId);
  const classes = classesOf(options.mlmodel);
  return {
    input: {
      format: info.format,
      columns: info.columns,
      ...(options.features ? { features: options.features } : {}),
    },
    output: {
      format: options.outputFormat,
      rowNumber,
      keep,
      probabilities: options.probabilities ?? "json",
      ...(classes ? { classes } : {}),
    },
  };
}

/** Fails fast when a CSV or Parquet input lacks a column the model requires. */
export function checkInputColumns(signature: PredictorSignature, plan: JobPlan, info: InputInfo): void {
  if (!fixedColumns(info)) return;
  const inputs = signature.inputs;
  if (inputs.kind === "columns") {
    const missing = inputs.columns
      .map((c, i) => ({ key: c.name ?? String(i), spec: c }))
      .filter(({ key, spec }) => spec.required && !info.columns.includes(key));
    if (missing.length > 0) {
      const named = missing.map(({ key, spec }) => `'${key}' (${describeColumnType(spec.type)})`).join(", ");
      throw new BatchError(
        `the model requires the column${missing.length === 1 ? "" : "s"} ${named}, which ${info.path} does not have ` +
          `(its columns: ${listColumns(info.columns)})`,
      );
    }
    return;
  }
  const features = featureColumns(signature, plan.input);
  if (features.length === 0) {
    throw new BatchError(
      `the model takes a tensor, but ${info.path} has no column to build it from (its columns: ${listColumns(info.columns)})`,
    );
  }
}

/** The columns to read from a Parquet input: the model's and the kept ones. */
export function columnsToRead(signature: PredictorSignature, plan: JobPlan, info: InputInfo): string[] {
  const wanted = new Set([...featureColumns(signature, plan.input), ...plan.output.keep]);
  return info.columns.filter((c) => wanted.has(c));
}

/** The names the output starts with whatever the model answers: `row` and the kept columns. */
export function baseColumnNames(output: OutputPlan): string[] {
  return [...(output.rowNumber ? ["row"] : []), ...output.keep];
}
